"""Which ``event.action`` (or ``event.provider``) values a query can match: the rule index.

Most detection rules name the API calls they care about (``event.action:
ModifySnapshotAttribute``, ``event.action: Invoke*``) or at least the service
(``event.provider: lambda.amazonaws.com``). Routing each event only to the rules that can
match its action and provider — one cached dict lookup per event — is what keeps a
package of hundreds of rules nearly as cheap as a handful (the inverted index of rsigma,
DESIGN "Models to learn from").

``route_values(node, field)`` is conservative: it returns the values (exact or wildcard
patterns) a document's ``field`` must match for the query to possibly match, or ``None``
when the query does not pin the field (the rule then sees every event). Which values a
query needs is ``ctdetect.query.exact``'s analysis (the one the predicate compiler uses
too); over-approximation is safe (the compiled predicate still decides). Case-insensitive
comparisons (EQL ``:``, ``in~``, DSL ``case_insensitive``) and patterns (``*``, ``?``) are
marked so the index compares them the same way.

A rule that pins neither field would see every event. ``rule_gate`` gives such a rule a
*gate*: other fields the query needs one of a few values of (``user.name: BedrockAPIKey-*``,
``user_agent.original: *Cyberduck*``), chosen among fields that split CloudTrail events
(not ``data_stream.dataset`` or ``event.outcome``, which nearly every event shares). The
engine tests the gate with a per-value cached look-up before calling the predicate: the
same necessary condition as the index, so it never drops an event the predicate would keep.
"""

from __future__ import annotations

from typing import Mapping

from ctdetect.query import ast
from ctdetect.query.exact import Needs, Required, needs
from ctdetect.query.fields import FieldAccess
from ctdetect.query.predicate import selectivity_rank

ROUTE_FIELD = "event.action"
ROUTE_FIELDS = ("event.action", "event.provider")

#: One value a routing field may take (exact or pattern, case-sensitive or not): ``exact.Required``.
RouteValue = Required
Route = frozenset[Required] | None
#: (field, values) pairs an event must all meet, or ``None``: see ``rule_gate``.
Gate = tuple[tuple[str, frozenset[Required]], ...] | None


def route_values(node: ast.Node, field: str = ROUTE_FIELD, field_types: Mapping[str, str] | None = None) -> Route:
    """Values of ``field`` the query needs, or ``None`` if it does not pin the field."""
    return _needs(node, field_types).get(field)


def rule_route(node: ast.Node, field_types: Mapping[str, str] | None = None) -> tuple[str, frozenset[Required]] | None:
    """The field to index a rule by (action first, then provider) and its values."""
    found = _needs(node, field_types)
    for field in ROUTE_FIELDS:
        values = found.get(field)
        if values is not None and _plainly_read(field, field_types):
            return field, values
    return None


#: Fields a gate tests at most (each a dict look-up per event): the most selective ones.
GATE_FIELDS = 3


def rule_gate(node: ast.Node, field_types: Mapping[str, str] | None = None) -> Gate:
    """For a rule ``rule_route`` cannot index: the most selective other fields it needs, with their values.

    Each is a necessary condition, so the event must meet them all. ``None`` when the
    query needs no value of a field worth testing (only near-constant fields, or fields
    read through a getter the gate could not mirror).
    """
    found = _needs(node, field_types)
    if found.never:
        return None
    ranked: list[tuple[tuple[int, int, str], str, frozenset[Required]]] = []
    for name, values in found.fields.items():
        rank = selectivity_rank(name)
        if rank > 1 or not values or not _plainly_read(name, field_types):
            continue
        ranked.append(((rank, len(values), name), name, values))
    ranked.sort(key=lambda item: item[0])
    return tuple((name, values) for _, name, values in ranked[:GATE_FIELDS]) or None


def _needs(node: ast.Node, field_types: Mapping[str, str] | None) -> Needs:
    return needs(node, FieldAccess(field_types or {}).kind)


def _plainly_read(field: str, field_types: Mapping[str, str] | None) -> bool:
    """The index compares ``event[field]`` itself: only sound when queries read the field that way."""
    return FieldAccess(field_types or {}).getter(field) is None
