"""Which events an ES|QL rule can match, read from its leading ``WHERE``: its route and gate.

Why: an ES|QL rule the rule index cannot route is offered every event, and each offer costs
a time parse and a batch slot before the vectorised filter drops it; on a package's
archive that was most of the ES|QL rules' cost. ``esql_route`` gives the ``event.action``
(else ``event.provider``) values the leading ``WHERE`` demands, so the engine's rule index
offers the rule only events that can pass (``engine.RuleEngine``); a rule without one gets an
``esql_gate``: the most selective other fields it needs a few values of (``routing.rule_gate``
does the same for the other languages), tested with a cached look-up per value before the
offer.

Conservative, as ``routing.route_values`` is: only ``field == "x"``, ``=~``, ``IN ("x", ...)``,
``LIKE "x*"``, ``STARTS_WITH(field, "x")``, and ``OR``s of them or ``true IN (...)`` of them
(true when one of them is), and ``AND``s in which one side pins it (so ``(a == "x" AND ...) OR
(a == "y" AND ...)`` pins ``a`` to x or y) pin a field; anything else leaves the field free. Every condition
of the leading ``WHERE``s must hold for a row to pass, so each one pinning a field is a
necessary condition; over-approximation is safe, the filter still decides.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ctdetect.engine.rules.routing import GATE_FIELDS, ROUTE_FIELDS, Gate, RouteValue
from ctdetect.query.esql import ast as e
from ctdetect.query.predicate import selectivity_rank

WILDCARDS = ("*", "?", "\\")
# Types whose cells are the document's strings, compared as they are (an ``ip`` or ``date``
# column compares parsed values: "2001:db8::1" equals "2001:0db8::1" there, not in an index).
STRING_TYPES = frozenset({None, "keyword", "constant_keyword", "wildcard", "text", "match_only_text"})


def esql_route(conditions: Sequence[e.Expr], types: Mapping[str, str | None]) -> tuple[str, frozenset[RouteValue]] | None:
    """The rule-index key of an ES|QL rule: the ``event.action`` (else ``event.provider``)
    values its leading ``WHERE`` demands (the fewest, when several conditions pin the field).
    ``types``: the source columns' types (a field typed other than as a string is never pinned)."""
    for route_field in ROUTE_FIELDS:
        best = _fewest(conditions, route_field) if types.get(route_field) in STRING_TYPES else None
        if best is not None:
            return route_field, best
    return None


def esql_gate(conditions: Sequence[e.Expr], types: Mapping[str, str | None]) -> Gate:
    """For a rule ``esql_route`` cannot index: up to ``GATE_FIELDS`` other fields its leading
    ``WHERE`` needs one of a few values of, most selective first (None: no such field).

    Near-constant fields (``event.dataset``, ``event.outcome``...) are left out, as
    ``routing.rule_gate`` leaves them: nearly every event passes them."""
    names = sorted({n.name for c in conditions for n in c.walk() if isinstance(n, e.FieldRef)})
    ranked: list[tuple[tuple[int, int, str], str, frozenset[RouteValue]]] = []
    for name in names:
        rank = selectivity_rank(name)
        if rank > 1 or types.get(name) not in STRING_TYPES:
            continue
        values = _fewest(conditions, name)
        if values:
            ranked.append(((rank, len(values), name), name, values))
    ranked.sort(key=lambda item: item[0])
    return tuple((name, values) for _, name, values in ranked[:GATE_FIELDS]) or None


def _fewest(conditions: Sequence[e.Expr], name: str) -> frozenset[RouteValue] | None:
    """The smallest set of values of ``name`` one of ``conditions`` demands (None: none does)."""
    best: frozenset[RouteValue] | None = None
    for condition in conditions:
        values = route_values(condition, name)
        if values is not None and (best is None or len(values) < len(best)):
            best = values
    return best


def route_values(expr: e.Expr, name: str) -> frozenset[RouteValue] | None:
    """The values of field ``name`` that ``expr`` being true demands, or None (it demands none)."""
    if isinstance(expr, e.Binary):
        if expr.op == "or":
            left, right = route_values(expr.left, name), route_values(expr.right, name)
            return left | right if left is not None and right is not None else None
        if expr.op == "and":  # both sides hold: either side's values are necessary (the fewer kept)
            left, right = route_values(expr.left, name), route_values(expr.right, name)
            if left is None or right is None:
                return left if right is None else right
            return left if len(left) <= len(right) else right
        if expr.op in ("==", "=~"):
            value = _text(expr.right) if _pinned(expr.left, name) else _text(expr.left) if _pinned(expr.right, name) else None
            if value is None or "\\" in value:
                return None
            return frozenset({RouteValue(value, case_insensitive=expr.op == "=~")})
        return None
    if isinstance(expr, e.In) and not expr.negated:
        if _pinned(expr.operand, name):
            values = [_text(i) for i in expr.items]
            if any(v is None or "\\" in v for v in values):
                return None
            return frozenset(RouteValue(v) for v in values if v is not None)
        if isinstance(expr.operand, e.Literal) and expr.operand.value is True and expr.items:
            # ``true IN (a, b)`` is true only when one of a, b is: an OR of them
            found = [route_values(i, name) for i in expr.items]
            if any(v is None for v in found):
                return None
            return frozenset().union(*(v for v in found if v is not None))
        return None
    if isinstance(expr, e.Like) and not expr.negated and not expr.regex and _pinned(expr.operand, name):
        if any("\\" in p for p in expr.patterns):
            return None  # escaped wildcards: let the filter decide
        return frozenset(RouteValue(p, pattern=True) for p in expr.patterns)
    if isinstance(expr, e.Call) and expr.name == "starts_with" and len(expr.args) == 2 and _pinned(expr.args[0], name):
        prefix = _text(expr.args[1])
        if not prefix or any(c in prefix for c in WILDCARDS):
            return None  # a wildcard character would be read as one by the pattern
        return frozenset({RouteValue(prefix + "*", pattern=True)})
    return None


def _pinned(node: Any, name: str) -> bool:
    return isinstance(node, e.FieldRef) and node.name == name


def _text(node: Any) -> str | None:
    return node.value if isinstance(node, e.Literal) and isinstance(node.value, str) else None
