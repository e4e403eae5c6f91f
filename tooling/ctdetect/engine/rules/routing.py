"""Which ``event.action`` (or ``event.provider``) values a query can match: the rule index.

Most detection rules name the API calls they care about (``event.action:
ModifySnapshotAttribute``, ``event.action: Invoke*``) or at least the service
(``event.provider: lambda.amazonaws.com``). Routing each event only to the rules that can
match its action and provider — one cached dict lookup per event — is what keeps a
package of hundreds of rules nearly as cheap as a handful (the inverted index of rsigma,
DESIGN "Models to learn from").

``route_values(node, field)`` is conservative: it returns the values (exact or wildcard
patterns) a document's ``field`` must match for the query to possibly match, or ``None``
when the query does not pin the field (the rule then sees every event). Over-approximation
is safe (the compiled predicate still decides); under-approximation would lose alerts, so
any construct not understood yields ``None``. Case-insensitive comparisons (EQL ``:``,
``in~``, DSL ``case_insensitive``) and patterns (``*``, ``?``) are marked so the index
compares them the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from ctdetect.query import ast

ROUTE_FIELD = "event.action"
ROUTE_FIELDS = ("event.action", "event.provider")


@dataclass(frozen=True, slots=True)
class RouteValue:
    """One value a field may take: exact or a ``*``/``?`` pattern, case-sensitive or not."""

    value: str
    case_insensitive: bool = False
    pattern: bool = False

    def matcher(self):  # type: ignore[no-untyped-def]
        if self.pattern:
            regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in self.value)
            compiled = re.compile(regex, re.DOTALL | (re.IGNORECASE if self.case_insensitive else 0))
            return lambda s: compiled.fullmatch(s) is not None
        if self.case_insensitive:
            folded = self.value.lower()
            return lambda s: s.lower() == folded
        value = self.value
        return lambda s: s == value


Route = frozenset[RouteValue] | None


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
        return _union(route_values(item, field) for item in node.items)
    if isinstance(node, ast.MatchNone):
        return frozenset()
    if isinstance(node, ast.EventQuery):
        return route_values(node.condition, field)
    if isinstance(node, ast.Piped):
        return route_values(node.query, field)
    if isinstance(node, ast.Sample):
        return _union(route_values(step.query, field) for step in node.steps)
    if isinstance(node, ast.Sequence):
        steps = list(node.steps) + ([node.until] if node.until else [])
        return _union(route_values(step.query, field) for step in steps)
    if isinstance(node, ast.Term) and node.field == field:
        return _one(node.value, node.case_insensitive)
    if isinstance(node, ast.Match) and node.field == field:
        return _one(node.value, False)
    if isinstance(node, ast.Phrase) and node.field == field:
        return _one(node.text, False)
    if isinstance(node, ast.Terms) and node.field == field:
        return _union(_one(value, node.case_insensitive) for value in node.values)
    if isinstance(node, ast.Wildcard) and node.field == field:
        return _one(node.pattern, node.case_insensitive, force_pattern=True)
    if isinstance(node, ast.Prefix) and node.field == field:
        return _one(node.prefix + "*", node.case_insensitive, force_pattern=True)
    return None


def rule_route(node: ast.Node) -> tuple[str, frozenset[RouteValue]] | None:
    """The field to index a rule by (action first, then provider) and its values."""
    for field in ROUTE_FIELDS:
        values = route_values(node, field)
        if values is not None:
            return field, values
    return None


def _union(routes: Iterable[Route]) -> Route:
    acc: set[RouteValue] = set()
    for r in routes:
        if r is None:
            return None
        acc |= r
    return frozenset(acc)


def _one(value: Any, case_insensitive: bool, force_pattern: bool = False) -> Route:
    if not isinstance(value, str):
        return None
    if "\\" in value:
        return None  # escaped wildcard characters: let the predicate decide
    pattern = force_pattern or "*" in value or "?" in value  # a superset is always safe
    return frozenset({RouteValue(value, case_insensitive, pattern)})
