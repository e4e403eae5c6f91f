"""Which exact values (or patterns) a query needs a field to have: one analysis, three uses.

A detection query usually pins a few fields to a handful of values (``event.action:
ModifySnapshotAttribute``, ``event.provider: (iam or sts)``, ``event.action: Invoke*``).
Knowing them lets each user skip work:

- the predicate compiler (``predicate``) fuses leaves that *are* a set test on one plain
  keyword field into one closure of set look-ups (``field_values`` with only exact,
  case-sensitive values);
- the rule index (``engine.rules.routing``) sends an event only to the rules whose
  ``event.action`` (else ``event.provider``) values it can match (``needs``);
- ``required_terms`` lists, per field, the exact values a matching event must carry.

``field_values(node, kind_of)`` is *exact*: the leaf (``term``, ``terms``, ``match``/
``match_phrase`` on a keyword field, ``wildcard``, ``prefix``, a folded EQL function, or an
``or`` of those on one field) matches an event exactly when the field's value matches one
of the returned ``Required`` values. ``needs(node, kind_of)`` is *necessary*: a
conjunction needs what each of its parts needs (per field, the narrower set is kept: with
an array value two requirements may be met by different elements, so sets never
intersect), a disjunction what all its branches need on the same field (their union), an
EQL sequence or sample what any of its steps needs. Anything not understood needs nothing,
so the analysis over-approximates, which is safe: the compiled predicate still decides.

The values are compared as a document's value is indexed (``keyword_str``) and read by a
plain ``doc[field]``; fields read otherwise (multi-fields, objects, ``ignore_above``) are
the caller's to exclude. Text fields (matched on tokens) and numeric, date, ip and boolean
fields (matched after coercion) have no exact values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from ctdetect.query import ast
from ctdetect.query.eql_runtime import fold_function
from ctdetect.query.fields import field_kind, is_plain
from ctdetect.query.values import escape_wildcard, keyword_str, wildcard_regex

KindOf = Callable[[str], str]

__all__ = ["Needs", "Required", "field_values", "needs", "required_terms"]


@dataclass(frozen=True, slots=True)
class Required:
    """One value a field may take: exact text or a Lucene wildcard pattern, case-sensitive or not."""

    value: str
    case_insensitive: bool = False
    pattern: bool = False

    def __deepcopy__(self, memo: dict) -> "Required":
        """Itself: it is immutable, so a copy could never differ (``EmbeddedBackend`` deep-copies
        the compiled rules for each run of ``replay``; copying these was a third of it)."""
        return self

    @property
    def exact(self) -> bool:
        """A case-sensitive exact value (what a set look-up can test)."""
        return not (self.pattern or self.case_insensitive)

    def matcher(self) -> Callable[[str], bool]:
        """A test of one indexed (string) value against this requirement."""
        if self.pattern:
            match = wildcard_regex(self.value, self.case_insensitive).match
            return lambda s: match(s) is not None
        if self.case_insensitive:
            folded = self.value.lower()
            return lambda s: s.lower() == folded
        value = self.value
        return lambda s: s == value


Values = frozenset[Required]


@dataclass(frozen=True, slots=True)
class Needs:
    """What an event must have for a query to match: values per field, or ``never`` (matches nothing)."""

    fields: Mapping[str, Values] = field(default_factory=dict)
    never: bool = False

    def get(self, name: str) -> Values | None:
        """The values ``name`` must take (empty when the query never matches), or None if it is free."""
        if self.never:
            return frozenset()
        return self.fields.get(name)


_NOTHING = Needs()
_NEVER = Needs(never=True)


def field_values(node: ast.Node, kind_of: KindOf) -> tuple[str, Values] | None:
    """(field, values) when ``node`` matches exactly the events whose ``field`` matches one of ``values``."""
    if isinstance(node, ast.Or):
        if not node.items:
            return None
        parts = [field_values(item, kind_of) for item in node.items]
        if any(p is None for p in parts) or len({p[0] for p in parts if p}) != 1:
            return None
        values: set[Required] = set()
        for p in parts:
            values |= p[1]  # type: ignore[index]
        return parts[0][0], frozenset(values)  # type: ignore[index]
    if isinstance(node, (ast.Predicate, ast.FunctionCall)):
        folded = fold_function(node)
        return None if folded is None else field_values(folded, kind_of)
    name = getattr(node, "field", None)
    if not isinstance(name, str) or "*" in name:
        return None
    kind = kind_of(name)
    if kind not in ("keyword", "caseless"):
        return None
    caseless = kind == "caseless"
    if isinstance(node, ast.Term):
        return name, frozenset((Required(keyword_str(node.value), node.case_insensitive or caseless),))
    if isinstance(node, ast.Terms):
        return name, frozenset(Required(keyword_str(v), node.case_insensitive or caseless) for v in node.values)
    if isinstance(node, ast.Match):
        return name, frozenset((Required(keyword_str(node.value), caseless),))
    if isinstance(node, ast.Phrase):
        return name, frozenset((Required(node.text, caseless),))
    if isinstance(node, ast.Wildcard):
        return name, frozenset((Required(node.pattern, node.case_insensitive or caseless, pattern=True),))
    if isinstance(node, ast.Prefix):
        return name, frozenset((Required(escape_wildcard(node.prefix) + "*", node.case_insensitive or caseless, pattern=True),))
    return None


def needs(node: ast.Node, kind_of: KindOf) -> Needs:
    """What any event matching ``node`` must have (a necessary condition; see the module docstring)."""
    leaf = field_values(node, kind_of)
    if leaf is not None:
        return Needs({leaf[0]: leaf[1]})
    if isinstance(node, ast.MatchNone):
        return _NEVER
    if isinstance(node, ast.And):
        return _all_of(needs(item, kind_of) for item in node.items)
    if isinstance(node, ast.Or):
        return _any_of(needs(item, kind_of) for item in node.items)
    if isinstance(node, ast.EventQuery):
        return needs(node.condition, kind_of)
    if isinstance(node, ast.Piped):
        return needs(node.query, kind_of)
    if isinstance(node, ast.Sample):
        return _any_of(needs(step.query, kind_of) for step in node.steps)
    if isinstance(node, ast.Sequence):
        steps = list(node.steps) + ([node.until] if node.until else [])
        return _any_of(needs(step.query, kind_of) for step in steps)
    return _NOTHING


def _all_of(parts: Iterable[Needs]) -> Needs:
    """A conjunction: every part's needs; on a field needed twice, the narrower set."""
    out: dict[str, Values] = {}
    for part in parts:
        if part.never:
            return _NEVER
        for name, values in part.fields.items():
            if name not in out or len(values) < len(out[name]):
                out[name] = values
    return Needs(out)


def _any_of(parts: Iterable[Needs]) -> Needs:
    """A disjunction: the fields every branch needs, with the union of their values."""
    out: dict[str, set[Required]] | None = None
    for part in parts:
        if part.never:
            continue
        if out is None:
            out = {name: set(values) for name, values in part.fields.items()}
            continue
        out = {name: values | part.fields[name] for name, values in out.items() if name in part.fields}
    if out is None:
        return _NEVER
    return Needs({name: frozenset(values) for name, values in out.items()})


def required_terms(node: ast.Node, field_types: Mapping[str, str] | None = None) -> dict[str, set[str]] | None:
    """Exact values an event must carry for ``node`` to match, by field; None if nothing is required.

    Only case-sensitive exact values on plain keyword fields are listed: an event matches
    only if its value for each returned field (as indexed, i.e. ``keyword_str``) is in the
    set. A query that can never match requires nothing listable and gives None too.
    """
    types = field_types or {}

    def kind_of(name: str) -> str:
        return field_kind(name, types)

    found = needs(node, kind_of)
    out = {
        name: {v.value for v in values}
        for name, values in found.fields.items()
        if values and all(v.exact for v in values) and kind_of(name) == "keyword" and is_plain(name, "keyword")
    }
    return out or None
