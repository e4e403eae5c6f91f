"""Which ``event.action`` values a query can match: the key of the rule index.

Most detection rules name the API calls they care about (``event.action:
ModifySnapshotAttribute``). Routing each event only to the rules that name its action —
one dict lookup per event — is what keeps a package of hundreds of rules as cheap as a
handful (the inverted index of rsigma, DESIGN "Models to learn from").

``route_values(node)`` is conservative: it returns the set of values a document's
``event.action`` must take for the query to possibly match, or ``None`` when the query
could match without naming one (then the rule sees every event). Over-approximation is
safe (the compiled predicate still decides); under-approximation would lose alerts, so
any construct not understood yields ``None``. Values from case-insensitive comparisons
(EQL ``:``, ``in~``, DSL ``case_insensitive``) are marked so the index compares them
lower-cased.
"""

from __future__ import annotations

from typing import Any

from ctdetect.query import ast

ROUTE_FIELD = "event.action"

# (value, case_insensitive) pairs; None = unconstrained
Route = frozenset[tuple[str, bool]] | None


def route_values(node: ast.Node, field: str = ROUTE_FIELD) -> Route:
    """Values of ``field`` the query needs, or ``None`` if it does not pin the field."""
    if isinstance(node, ast.And):
        best: Route = None
        for item in node.items:
            r = route_values(item, field)
            if r is not None and (best is None or len(r) < len(best)):
                best = r
        return best
    if isinstance(node, ast.Or):
        acc: set[tuple[str, bool]] = set()
        for item in node.items:
            r = route_values(item, field)
            if r is None:
                return None
            acc |= r
        return frozenset(acc)
    if isinstance(node, ast.MatchNone):
        return frozenset()
    if isinstance(node, ast.EventQuery):
        return route_values(node.condition, field)
    if isinstance(node, ast.Piped):
        return route_values(node.query, field)
    if isinstance(node, ast.Sequence):
        acc = set()
        for step in node.steps + ((node.until,) if node.until else ()):
            r = route_values(step.query, field)
            if r is None:
                return None
            acc |= r
        return frozenset(acc)
    if isinstance(node, ast.Term) and node.field == field:
        return _one(node.value, node.case_insensitive)
    if isinstance(node, ast.Match) and node.field == field:
        if isinstance(node.value, str) and ("*" in node.value or "?" in node.value):
            return None  # a KQL wildcard left in a Match: let the predicate decide
        return _one(node.value, False)
    if isinstance(node, ast.Phrase) and node.field == field:
        return _one(node.text, False)
    if isinstance(node, ast.Terms) and node.field == field:
        acc = set()
        for value in node.values:
            r = _one(value, node.case_insensitive)
            if r is None:
                return None
            acc |= r
        return frozenset(acc)
    if isinstance(node, ast.Wildcard) and node.field == field and not any(c in node.pattern for c in "*?\\"):
        return _one(node.pattern, node.case_insensitive)
    return None


def _one(value: Any, case_insensitive: bool) -> Route:
    if not isinstance(value, str):
        return None
    return frozenset({(value.lower() if case_insensitive else value, case_insensitive)})
