"""The lowering pass: an AST becomes a fast predicate over flat ECS documents, with Elasticsearch's semantics.

``compile_query(node, field_types)`` returns ``match(doc) -> bool``. Everything that can be
decided once is decided at compile time: each field's type, how its value is read (plain
key, multi-field read from its parent, flattened object, wildcard field name), the
query value coerced to that type, lower-cased sets, compiled regular expressions. The
returned closures do only dictionary look-ups and comparisons per event. Conjunctions
and disjunctions of exact keyword values (the bulk of detection rules) are fused into one
closure of set look-ups, tried most selective field first (``event.action`` before
near-constant fields such as ``data_stream.dataset``; which leaves qualify is ``exact``'s
analysis); ``*lit*``-style wildcards become plain substring tests. ``FAST_PATHS = False`` turns these off (a property test checks both
compilations agree).

How a field is read is ``fields``'; what one leaf means on each kind of field is ``leaves``';
EQL expressions that run as scripts are ``eql_runtime``'s. Rules of behaviour (each pinned by
a test in tests/query/test_evaluate_semantics.py):

- keyword-like fields (and unknown fields) match exactly and case-sensitively; a document
  number or boolean is compared as the text Elasticsearch indexes for it;
- text fields match on standard-analyser tokens (``Match``: any token, or all with
  ``operator=and``; ``Phrase``: consecutive tokens within one array element; ``Term``:
  one un-analysed token); ``<field>.text`` and ``.caseless`` multi-fields read the parent;
- a missing field never matches a positive leaf, so ``not`` of it matches;
- an array matches when any element matches;
- numeric fields coerce numeric strings both in the query and the document;
- date fields take ISO strings, epoch millis and date math relative to ``now`` (which the
  caller can fix); a date value used as an exact term matches its whole period
  (``2024-01-01`` matches the whole day), as Elasticsearch rounds the upper end;
- ip fields compare addresses and accept CIDR blocks in exact-match leaves;
- a ``*`` in a field name expands over the document's fields; a leaf without a field
  (free text) is tried on every field of the document (leniently: a value that cannot be
  coerced to a field's type just does not match there);
- EQL: ``<category> where`` requires the category in ``event.category`` (or the rule's
  ``event_category_override`` field); ``any`` matches all; expressions follow Elastic's EQL
  null semantics (see ``eql_runtime``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from ctdetect.query import ast, eql_runtime
from ctdetect.query.exact import field_values
from ctdetect.query.fields import Doc, FieldAccess, present
from ctdetect.query.leaves import (
    ValueTest,
    in_test,
    match_test,
    pattern_test,
    phrase_test,
    range_test,
    substring_matcher,
    term_test,
)
from ctdetect.query.regex import lucene_regex
from ctdetect.query.values import escape_wildcard, keyword_str, wildcard_regex
from ctdetect.timeutil import parse_es_date as parse_date

Predicate = Callable[[Doc], bool]

__all__ = ["FAST_PATHS", "Predicate", "compile_query"]


def _false(_doc: Doc) -> bool:
    return False


def _true(_doc: Doc) -> bool:
    return True


#: Fused and specialised closures (exact-match sets, substring wildcards, conjunct order).
#: Tests switch this off to check the fast paths against the plain leaf-by-leaf compilation.
FAST_PATHS = True

# --------------------------------------------------------------------------- ordering heuristics

#: Fields that nearly every event of a data source shares: checked last in a conjunction.
_LOW_SELECTIVITY = frozenset(
    {
        "data_stream.dataset", "data_stream.type", "data_stream.namespace", "event.dataset", "event.module",
        "event.kind", "event.outcome", "event.category", "event.type", "cloud.provider", "ecs.version",
    }
)


def selectivity_rank(field: str) -> int:
    """0 for the field that best splits CloudTrail events (the API call), 2 for near-constant ones."""
    if field == "event.action":
        return 0
    if field in _LOW_SELECTIVITY:
        return 2
    return 1


def _cost_rank(node: ast.Node) -> int:
    """Rough evaluation cost of a conjunct, to try cheap ones first (order never changes the answer)."""
    if isinstance(node, (ast.Match, ast.Term, ast.Terms, ast.Phrase, ast.Exists, ast.MatchNone, ast.MatchAll)):
        return 1 if getattr(node, "field", "") and "*" not in (getattr(node, "field", "") or "") else 5
    if isinstance(node, (ast.Prefix, ast.Range)):
        return 2
    if isinstance(node, (ast.Wildcard, ast.Regexp)):
        return 3 if node.field and "*" not in node.field else 5
    if isinstance(node, ast.Not):
        return _cost_rank(node.item)
    if isinstance(node, (ast.And, ast.Or, ast.AtLeast)):
        return max((_cost_rank(i) for i in node.items), default=0) + 1
    return 6  # EQL scripts, sequences, anything else


# --------------------------------------------------------------------------- compiler


def _now_ms(now: Any) -> int:
    if now is None:
        return int(datetime.now(tz=timezone.utc).timestamp() * 1000)
    if isinstance(now, datetime):
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
        return int(now.timestamp() * 1000)
    return parse_date(now)


class Compiler:
    """One lowering pass over an AST: a ``c_<Node>`` method per node type returns its predicate.

    Field kinds and readers come from ``FieldAccess`` (one per compilation, so kinds are
    worked out once per field); ``now_ms`` anchors date math; ``category_field`` is the EQL
    event-category field.
    """

    def __init__(self, access: FieldAccess, now_ms: int, category_field: str) -> None:
        self.access = access
        self.kind = access.kind
        self.getter = access.getter
        self.now_ms = now_ms
        self.category_field = category_field

    # ----------------------------------------------------------------- dispatch

    def compile(self, node: ast.Node) -> Predicate:
        method = getattr(self, "c_" + type(node).__name__, None)
        if method is None:
            raise TypeError(f"cannot evaluate {type(node).__name__} as a condition")
        return method(node)

    def c_MatchAll(self, node: ast.MatchAll) -> Predicate:
        return _true

    def c_MatchNone(self, node: ast.MatchNone) -> Predicate:
        return _false

    # ----------------------------------------------------------------- fast paths
    # Most detection rules are conjunctions of exact keyword values (``event.action: X``,
    # ``event.provider: (a or b)``). Those leaves are recognised here and fused: one
    # closure checks them all with set look-ups, the most selective field first.

    def exact(self, node: ast.Node) -> tuple[str, frozenset[str]] | None:
        """(field, accepted values) when ``node`` is a case-sensitive exact match on a plain keyword field."""
        if not FAST_PATHS or not isinstance(node, (ast.Match, ast.Term, ast.Phrase, ast.Terms, ast.Or)):
            return None
        found = field_values(node, self.kind)
        if found is None:
            return None
        field, values = found
        if self.kind(field) != "keyword" or self.getter(field) is not None or not all(v.exact for v in values):
            return None
        return field, frozenset(v.value for v in values)

    @staticmethod
    def _exact_predicate(specs: list[tuple[str, frozenset[str]]]) -> Predicate:
        # The same field twice stays two checks: with an array value each may be met by a
        # different element (``a: A and a: B`` matches ["A", "B"]), so sets must not intersect.
        ordered = sorted(specs, key=lambda fv: (selectivity_rank(fv[0]), len(fv[1])))
        checks = tuple((field, values, in_test("keyword", tuple(values), False)) for field, values in ordered)

        def exact_all(doc: Doc) -> bool:
            get = doc.get
            for field, values, slow in checks:
                v = get(field)
                if v.__class__ is str:
                    if v not in values:
                        return False
                elif v is None or not slow(v):  # type: ignore[misc]
                    return False
            return True

        return exact_all

    def c_And(self, node: ast.And) -> Predicate:
        specs: list[tuple[str, frozenset[str]]] = []
        others: list[ast.Node] = []
        for item in node.items:
            spec = self.exact(item)
            if spec is not None:
                specs.append(spec)
            else:
                others.append(item)
        # Cheap, selective checks first: the order of a conjunction does not change its answer.
        if FAST_PATHS:
            others.sort(key=_cost_rank)
        preds = ([self._exact_predicate(specs)] if specs else []) + [self.compile(item) for item in others]
        if not preds:
            return _true
        if len(preds) == 1:
            return preds[0]
        if len(preds) == 2:
            a, b = preds
            return lambda doc: a(doc) and b(doc)
        preds_t = tuple(preds)

        def all_of(doc: Doc) -> bool:
            for p in preds_t:
                if not p(doc):
                    return False
            return True

        return all_of

    def c_Or(self, node: ast.Or) -> Predicate:
        spec = self.exact(node)
        if spec is not None:
            return self._exact_predicate([spec])
        # Exact leaves on one field collapse into one set look-up; the rest stay as they are.
        by_field: dict[str, set[str]] = {}
        patterns: dict[str, list[Callable[[str], bool]]] = {}
        rest: list[ast.Node] = []
        for item in node.items:
            s = self.exact(item)
            if s is not None:
                by_field.setdefault(s[0], set()).update(s[1])
                continue
            plain = self._plain_pattern(item)
            if plain is not None:
                patterns.setdefault(plain[0], []).append(plain[1])
            else:
                rest.append(item)
        preds = [self._exact_predicate([(f, frozenset(v))]) for f, v in by_field.items()]
        # Substring-style wildcards on one field (``*terraform* or *pulumi*``) share one read of the value.
        preds += [self._patterns_predicate(f, tuple(ms)) for f, ms in patterns.items()]
        preds += [self.compile(item) for item in (sorted(rest, key=_cost_rank) if FAST_PATHS else rest)]
        if not preds:
            return _false
        if len(preds) == 1:
            return preds[0]
        preds_t = tuple(preds)

        def any_of(doc: Doc) -> bool:
            for p in preds_t:
                if p(doc):
                    return True
            return False

        return any_of

    def _plain_pattern(self, node: ast.Node) -> tuple[str, Callable[[str], bool]] | None:
        """(field, str test) for a case-sensitive ``lit*``/``*lit``/``*lit*`` wildcard on a plain keyword field."""
        if not FAST_PATHS:
            return None
        if not isinstance(node, ast.Wildcard) or node.case_insensitive or node.field is None or "*" in node.field:
            return None
        if self.kind(node.field) != "keyword" or self.getter(node.field) is not None:
            return None
        matcher = substring_matcher(node.pattern)
        return None if matcher is None else (node.field, matcher)

    @staticmethod
    def _patterns_predicate(field: str, matchers: tuple[Callable[[str], bool], ...]) -> Predicate:
        def any_pattern(doc: Doc) -> bool:
            value = doc.get(field)
            if value is None:
                return False
            for item in value if value.__class__ is list else (value,):
                if item is None:
                    continue
                text = item if item.__class__ is str else keyword_str(item)
                for m in matchers:
                    if m(text):
                        return True
            return False

        return any_pattern

    def c_AtLeast(self, node: ast.AtLeast) -> Predicate:
        preds = tuple(self.compile(item) for item in node.items)
        need = node.minimum
        return lambda doc: sum(1 for p in preds if p(doc)) >= need

    def c_Not(self, node: ast.Not) -> Predicate:
        inner_tri = eql_runtime.script_of(node.item, self.kind)
        if inner_tri is not None:
            # A negated script keeps null semantics: not(null) is null, i.e. no match.
            def not_script(doc: Doc) -> bool:
                result = inner_tri(doc)
                return result is False

            return not_script
        inner = self.compile(node.item)
        return lambda doc: not inner(doc)

    # ----------------------------------------------------------------- field leaves

    def _leaf(self, field: str | None, build: Callable[[str], ValueTest | None]) -> Predicate:
        """Bind a value test to a field: plain, wildcard field name, or free text."""
        if field is not None and "*" not in field:
            test = build(self.kind(field))
            if test is None:
                return _false
            get = self.getter(field)
            if get is None:

                def plain_leaf(doc: Doc) -> bool:
                    value = doc.get(field)
                    return value is not None and test(value)  # type: ignore[misc]

                return plain_leaf

            def leaf(doc: Doc) -> bool:
                value = get(doc)
                return value is not None and test(value)  # type: ignore[misc]

            return leaf
        name_re = wildcard_regex(field) if field is not None else None
        tests: dict[str, ValueTest | None] = {}
        selected: dict[str, bool] = {}
        kind_of = self.kind

        def test_for(key: str) -> ValueTest | None:
            if key not in tests:
                kind = kind_of(key)
                try:
                    tests[key] = build(kind)
                except Exception:  # lenient, as free text over all fields is
                    tests[key] = None
            return tests[key]

        def multi(doc: Doc) -> bool:
            for key, value in doc.items():
                ok = selected.get(key)
                if ok is None:
                    ok = selected[key] = (not key.startswith("_")) if name_re is None else (name_re.match(key) is not None)
                if not ok or value is None:
                    continue
                test = test_for(key)
                if test is not None and test(value):
                    return True
            return False

        return multi

    def c_Match(self, node: ast.Match) -> Predicate:
        return self._leaf(node.field, lambda kind: match_test(kind, node.value, node.operator))

    def c_Phrase(self, node: ast.Phrase) -> Predicate:
        return self._leaf(node.field, lambda kind: phrase_test(kind, node.text))

    def c_Term(self, node: ast.Term) -> Predicate:
        return self._leaf(node.field, lambda kind: term_test(kind, node.value, node.case_insensitive))

    def c_Terms(self, node: ast.Terms) -> Predicate:
        return self._leaf(node.field, lambda kind: in_test(kind, node.values, node.case_insensitive))

    def c_Wildcard(self, node: ast.Wildcard) -> Predicate:
        regex = wildcard_regex(node.pattern, node.case_insensitive)
        # On text fields the pattern is normalised like the tokens (lower-cased).
        text_regex = wildcard_regex(node.pattern.lower(), True)
        plain = None if node.case_insensitive or not FAST_PATHS else substring_matcher(node.pattern)
        return self._leaf(node.field, lambda kind: pattern_test(kind, regex, text_regex, plain))

    def c_Prefix(self, node: ast.Prefix) -> Predicate:
        pattern = escape_wildcard(node.prefix) + "*"
        regex = wildcard_regex(pattern, node.case_insensitive)
        text_regex = wildcard_regex(pattern.lower(), True)
        return self._leaf(node.field, lambda kind: pattern_test(kind, regex, text_regex))

    def c_Regexp(self, node: ast.Regexp) -> Predicate:
        regex = lucene_regex(node.pattern, node.case_insensitive)
        return self._leaf(node.field, lambda kind: pattern_test(kind, regex, regex))

    def c_Range(self, node: ast.Range) -> Predicate:
        return self._leaf(node.field, lambda kind: range_test(kind, node, self.now_ms))

    def c_Exists(self, node: ast.Exists) -> Predicate:
        field = node.field
        if "*" in field:
            name_re = wildcard_regex(field)
            return lambda doc: any(name_re.match(k) is not None and present(v) for k, v in doc.items())
        get = self.getter(field) or (lambda doc: doc.get(field))
        return lambda doc: present(get(doc))

    # ----------------------------------------------------------------- EQL

    def c_EventQuery(self, node: ast.EventQuery) -> Predicate:
        if node.category == "any":
            return self.compile(node.condition)
        # The category is one more exact term (Elasticsearch adds a term filter on the
        # category field), so it joins the conjunction's fused exact checks.
        category = ast.Term(self.category_field, node.category)
        items = node.condition.items if isinstance(node.condition, ast.And) else (node.condition,)
        return self.c_And(ast.And((category, *items)))

    def c_Piped(self, node: ast.Piped) -> Predicate:
        # Only ``filter`` pipes change which single events match; head/tail act on the result list.
        preds = [self.compile(node.query)]
        for pipe in node.pipes:
            if pipe.name == "filter":
                preds.extend(self.compile(arg) for arg in pipe.args)
        return self.c_And(ast.And(())) if not preds else _all(preds)

    def c_Compare(self, node: ast.Compare) -> Predicate:
        return self._eql_expression(node)

    def c_Predicate(self, node: ast.Predicate) -> Predicate:
        return self._eql_expression(node)

    def _eql_expression(self, node: ast.Node) -> Predicate:
        """A function Elasticsearch folds into a query leaf is that leaf; anything else a script."""
        folded = eql_runtime.fold_function(node)
        if folded is not None:
            return self.compile(folded)
        return eql_runtime.script_predicate(node, self.kind)

    def c_Sequence(self, node: ast.Sequence) -> Predicate:
        raise TypeError("a sequence matches ordered groups of events, not one event: use the rule engine's sequence matcher and compile each step")

    def c_Sample(self, node: ast.Sample) -> Predicate:
        raise TypeError("a sample matches groups of events sharing join keys, not one event")


def _all(preds: list[Predicate]) -> Predicate:
    preds_t = tuple(preds)
    return lambda doc: all(p(doc) for p in preds_t)


def compile_query(
    node: ast.Node,
    field_types: Mapping[str, str] | None = None,
    *,
    now: Any = None,
    category_field: str = "event.category",
    ignore_above: Mapping[str, int] | None = None,
) -> Predicate:
    """A predicate ``match(doc) -> bool`` for ``node`` over flat ECS documents.

    ``field_types`` maps field names to Elasticsearch types (unknown fields are keyword).
    ``now`` (datetime, ISO string or epoch millis) anchors date math; default: the wall
    clock at compile time. ``category_field`` is the EQL event-category field (a rule's
    ``event_category_override``). Sequences are not single-event predicates: compile their
    steps (``node.steps[i].query``) instead. ``ignore_above`` maps keyword fields to their
    mapping's ``ignore_above``: longer values are invisible to queries, as in Elasticsearch.
    """
    compiler = Compiler(FieldAccess(field_types or {}, ignore_above), _now_ms(now), category_field)
    return compiler.compile(node)


