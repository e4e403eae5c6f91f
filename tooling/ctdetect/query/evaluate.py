"""Compile an AST into a fast predicate over flat ECS documents, with Elasticsearch's semantics.

``compile_query(node, field_types)`` returns ``match(doc) -> bool``. Everything that can be
decided once is decided at compile time: each field's type, how its value is read (plain
key, multi-field read from its parent, flattened object, wildcard field name), the
query value coerced to that type, lower-cased sets, compiled regular expressions. The
returned closures do only dictionary look-ups and comparisons per event. Conjunctions
and disjunctions of exact keyword values (the bulk of detection rules) are fused into one
closure of set look-ups, tried most selective field first (``event.action`` before
near-constant fields such as ``data_stream.dataset``); ``*lit*``-style wildcards become
plain substring tests. ``FAST_PATHS = False`` turns these off (a property test checks both
compilations agree).

Rules of behaviour (each pinned by a test in tests/query/test_evaluate_semantics.py):

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

import re
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from ctdetect.query import ast
from ctdetect.timeutil import DateError, parse_es_date as parse_date
from ctdetect.query.values import (
    DATE_TYPES,
    MULTI_FIELD_SUFFIXES,
    NUMERIC_TYPES,
    OBJECT_TYPES,
    TEXT_TYPES,
    analyze,
    contains_sequence,
    doc_date,
    ip_in,
    keyword_str,
    to_bool,
    to_ip,
    to_network,
    to_number,
    wildcard_regex,
)

Doc = Mapping[str, Any]
Predicate = Callable[[Doc], bool]
ValueTest = Callable[[Any], bool]

__all__ = ["compile_query", "required_terms", "field_kind", "Predicate"]


def _false(_doc: Doc) -> bool:
    return False


def _true(_doc: Doc) -> bool:
    return True


# --------------------------------------------------------------------------- field types


def field_kind(field: str, field_types: Mapping[str, str]) -> str:
    """The semantic kind of ``field``: keyword, caseless, text, number, date, ip, boolean, object, flattened_root.

    Unknown fields are keyword; an unknown ``x.text`` is text and ``x.caseless`` a
    lower-cased keyword (ECS multi-fields); a field under a flattened field is keyword.
    """
    ftype = field_types.get(field)
    if ftype is None:
        parent, _, suffix = field.rpartition(".")
        if parent and suffix in MULTI_FIELD_SUFFIXES:
            ftype = {"text": "text", "keyword": "keyword", "caseless": "caseless", "wildcard": "keyword"}[suffix]
        else:
            ftype = "keyword"
    if ftype in TEXT_TYPES:
        return "text"
    if ftype in NUMERIC_TYPES:
        return "number"
    if ftype in DATE_TYPES:
        return "date"
    if ftype == "ip":
        return "ip"
    if ftype == "boolean":
        return "boolean"
    if ftype == "caseless":
        return "caseless"
    if ftype == "flattened":
        return "flattened_root"
    if ftype in OBJECT_TYPES:
        return "object"
    return "keyword"


def _is_plain(field: str, kind: str) -> bool:
    """True when the field's value is simply ``doc[field]`` (no multi-field or object gathering)."""
    return kind not in ("flattened_root", "object") and field.rpartition(".")[2] not in MULTI_FIELD_SUFFIXES


def _getter(field: str, field_types: Mapping[str, str]) -> Callable[[Doc], Any]:
    """How to read ``field``'s value(s) from a flat document."""
    kind = field_kind(field, field_types)
    if kind in ("flattened_root", "object"):
        prefix = field + "."

        def get_tree(doc: Doc) -> Any:
            own = doc.get(field)
            out = [] if own is None else (list(own) if isinstance(own, list) else [own])
            for key, value in doc.items():
                if key.startswith(prefix) and value is not None:
                    out.extend(value if isinstance(value, list) else (value,))
            return out or None

        return get_tree
    parent, _, suffix = field.rpartition(".")
    if parent and suffix in MULTI_FIELD_SUFFIXES:

        def get_multi(doc: Doc) -> Any:
            value = doc.get(field)
            return doc.get(parent) if value is None else value

        return get_multi
    return lambda doc: doc.get(field)


# --------------------------------------------------------------------------- value tests
# Each builder returns a test over a *non-None* document value (scalar or list), or None
# when the query value can never match a field of that kind.


def _any(test: Callable[[Any], bool]) -> ValueTest:
    def run(value: Any) -> bool:
        if value.__class__ is list:
            for item in value:
                if item is not None and test(item):
                    return True
            return False
        return test(value)

    return run


def _text_tokens(value: Any) -> tuple[str, ...]:
    return analyze(value if value.__class__ is str else keyword_str(value))


def _equals_test(kind: str, value: Any, case_insensitive: bool) -> ValueTest | None:
    """Exact-value semantics of ``term``/KQL ``field: value`` (non-text kinds)."""
    if kind in ("keyword", "flattened_root", "object"):
        target = keyword_str(value)
        if case_insensitive:
            low = target.lower()
            return _any(lambda v: keyword_str(v).lower() == low)

        def eq(v: Any) -> bool:
            if v.__class__ is str:
                return v == target
            if v.__class__ is list:
                for item in v:
                    if item is not None and keyword_str(item) == target:
                        return True
                return False
            return keyword_str(v) == target

        return eq
    if kind == "caseless":
        low = keyword_str(value).lower()
        return _any(lambda v: keyword_str(v).lower() == low)
    if kind == "number":
        num = to_number(value)
        if num is None:
            return None
        return _any(lambda v: to_number(v) == num)
    if kind == "date":
        try:
            lo = parse_date(value, round_up=False)
            hi = parse_date(value, round_up=True)
        except DateError:
            return None

        def date_in(v: Any) -> bool:
            ms = doc_date(v)
            return ms is not None and lo <= ms <= hi

        return _any(date_in)
    if kind == "ip":
        net = to_network(keyword_str(value))
        if net is None:
            return None

        def ip_match(v: Any) -> bool:
            addr = to_ip(v)
            return addr is not None and ip_in(addr, net)

        return _any(ip_match)
    if kind == "boolean":
        flag = to_bool(value)
        if flag is None:
            return None
        return _any(lambda v: to_bool(v) == flag)
    return None


def _in_test(kind: str, values: tuple[Any, ...], case_insensitive: bool) -> ValueTest | None:
    """Any-of-several exact values (``terms``, EQL ``in``)."""
    if kind in ("keyword", "flattened_root", "object", "caseless"):
        lower = case_insensitive or kind == "caseless"
        targets = frozenset(keyword_str(v).lower() if lower else keyword_str(v) for v in values)
        if lower:
            return _any(lambda v: keyword_str(v).lower() in targets)

        def member(v: Any) -> bool:
            if v.__class__ is str:
                return v in targets
            if v.__class__ is list:
                for item in v:
                    if item is not None and keyword_str(item) in targets:
                        return True
                return False
            return keyword_str(v) in targets

        return member
    if kind == "text":
        toks = frozenset(keyword_str(v).lower() if case_insensitive else keyword_str(v) for v in values)
        return _any(lambda v: any(t in toks for t in _text_tokens(v)))
    tests = [t for t in (_equals_test(kind, v, case_insensitive) for v in values) if t is not None]
    if not tests:
        return None
    return lambda v: any(t(v) for t in tests)


def _match_test(kind: str, value: Any, operator: str) -> ValueTest | None:
    if kind == "text":
        wanted = _text_tokens(value)
        if not wanted:
            return None
        wanted_set = frozenset(wanted)
        if operator == "and" and len(wanted_set) > 1:

            def all_tokens(v: Any) -> bool:
                have: set[str] = set()
                for item in v if v.__class__ is list else (v,):
                    if item is not None:
                        have.update(_text_tokens(item))
                return wanted_set <= have

            return all_tokens
        return _any(lambda v: not wanted_set.isdisjoint(_text_tokens(v)))
    return _equals_test(kind, value, False)


def _phrase_test(kind: str, text: str) -> ValueTest | None:
    if kind == "text":
        phrase = analyze(text)
        if not phrase:
            return None
        return _any(lambda v: contains_sequence(_text_tokens(v), phrase))
    return _equals_test(kind, text, False)


def _term_test(kind: str, value: Any, case_insensitive: bool) -> ValueTest | None:
    if kind == "text":
        token = keyword_str(value)
        if case_insensitive:
            token = token.lower()
        return _any(lambda v: token in _text_tokens(v))
    return _equals_test(kind, value, case_insensitive)


def _pattern_test(kind: str, regex: re.Pattern[str], text_regex: re.Pattern[str] | None, plain: Callable[[str], bool] | None = None) -> ValueTest | None:
    if kind in ("keyword", "caseless", "flattened_root", "object"):
        if plain is not None and kind != "caseless":
            return _any(lambda v: plain(v if v.__class__ is str else keyword_str(v)))
        fm = regex.match
        if kind == "caseless":
            return _any(lambda v: fm(keyword_str(v).lower()) is not None)

        def rx(v: Any) -> bool:
            if v.__class__ is str:
                return fm(v) is not None
            if v.__class__ is list:
                for item in v:
                    if item is not None and fm(keyword_str(item)) is not None:
                        return True
                return False
            return fm(keyword_str(v)) is not None

        return rx
    if kind == "text" and text_regex is not None:
        tm = text_regex.match
        return _any(lambda v: any(tm(t) is not None for t in _text_tokens(v)))
    return None


def _range_test(kind: str, node: ast.Range, now_ms: int) -> ValueTest | None:
    bounds = [(op, getattr(node, op)) for op in ("gt", "gte", "lt", "lte") if getattr(node, op) is not None]
    if not bounds:
        return lambda v: True if v.__class__ is not list else any(x is not None for x in v)
    if kind == "number":
        conv: Callable[[Any], Any] = to_number
        try:
            parsed = [(op, to_number(b)) for op, b in bounds]
        except Exception:
            return None
        if any(b is None for _, b in parsed):
            return None
    elif kind == "date":
        conv = doc_date
        try:
            # gt and lte round up; gte and lt round down (Elasticsearch date math rules).
            parsed = [(op, parse_date(b, round_up=op in ("gt", "lte"), now_ms=now_ms)) for op, b in bounds]
        except DateError:
            return None
    elif kind == "ip":
        conv = to_ip
        parsed = [(op, to_ip(keyword_str(b))) for op, b in bounds]
        if any(b is None for _, b in parsed):
            return None
        versions = {b.version for _, b in parsed}
        if len(versions) > 1:
            return None
    elif kind == "boolean":
        conv = to_bool
        parsed = [(op, to_bool(b)) for op, b in bounds]
        if any(b is None for _, b in parsed):
            return None
    elif kind == "text":
        parsed = [(op, keyword_str(b)) for op, b in bounds]
        check = _bounds_check(parsed)
        return _any(lambda v: any(check(t) for t in _text_tokens(v)))
    else:
        lower = kind == "caseless"
        conv = (lambda v: keyword_str(v).lower()) if lower else keyword_str
        parsed = [(op, keyword_str(b).lower() if lower else keyword_str(b)) for op, b in bounds]
    check = _bounds_check(parsed)

    def in_range(v: Any) -> bool:
        x = conv(v)
        if x is None:
            return False
        try:
            return check(x)
        except TypeError:
            return False

    return _any(in_range)


def _bounds_check(parsed: list[tuple[str, Any]]) -> Callable[[Any], bool]:
    gt = [b for op, b in parsed if op == "gt"]
    gte = [b for op, b in parsed if op == "gte"]
    lt = [b for op, b in parsed if op == "lt"]
    lte = [b for op, b in parsed if op == "lte"]

    def check(x: Any) -> bool:
        for b in gt:
            if not x > b:
                return False
        for b in gte:
            if not x >= b:
                return False
        for b in lt:
            if not x < b:
                return False
        for b in lte:
            if not x <= b:
                return False
        return True

    return check


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


def _selectivity_rank(field: str) -> int:
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


def _substring_matcher(pattern: str) -> Callable[[str], bool] | None:
    """A plain-string test for ``lit``, ``lit*``, ``*lit`` and ``*lit*`` patterns (no ``?``, no escapes)."""
    if "?" in pattern or "\\" in pattern:
        return None
    core = pattern.strip("*")
    if not core or "*" in core:
        return None
    lead, trail = pattern.startswith("*"), pattern.endswith("*")
    if lead and trail:
        return lambda v: core in v
    if trail:
        return lambda v: v.startswith(core)
    if lead:
        return lambda v: v.endswith(core)
    return None


# --------------------------------------------------------------------------- compiler


def _now_ms(now: Any) -> int:
    if now is None:
        return int(datetime.now(tz=timezone.utc).timestamp() * 1000)
    if isinstance(now, datetime):
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
        return int(now.timestamp() * 1000)
    return parse_date(now)


class _Compiler:
    def __init__(self, field_types: Mapping[str, str], now_ms: int, category_field: str, ignore_above: Mapping[str, int]) -> None:
        self.field_types = field_types
        self.now_ms = now_ms
        self.category_field = category_field
        self.ignore_above = ignore_above
        self._kinds: dict[str, str] = {}

    def getter(self, field: str) -> Callable[[Doc], Any] | None:
        """How to read ``field``; None when it is a plain ``doc.get(field)``.

        ``@timestamp`` prefers the reader's epoch-millis ``_ts`` (no per-event date
        parsing). A keyword value longer than the field's ``ignore_above`` is not indexed
        by Elasticsearch, so no query sees it: it is dropped here.
        """
        kind = self.kind(field)
        limit = self.ignore_above.get(field) if kind in ("keyword", "caseless") else None
        if field == "@timestamp" and kind == "date":
            return lambda doc: doc.get("_ts") if doc.get("_ts") is not None else doc.get("@timestamp")
        if limit is None:
            return None if _is_plain(field, kind) else _getter(field, self.field_types)
        base = _getter(field, self.field_types)

        def indexed(doc: Doc) -> Any:
            value = base(doc)
            if value.__class__ is str:
                return None if len(value) > limit else value
            if value.__class__ is list:
                kept = [v for v in value if not (v.__class__ is str and len(v) > limit)]
                return kept or None
            return value

        return indexed

    def kind(self, field: str) -> str:
        kind = self._kinds.get(field)
        if kind is None:
            kind = self._kinds[field] = field_kind(field, self.field_types)
        return kind

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
        if not FAST_PATHS:
            return None
        if isinstance(node, (ast.Match, ast.Term, ast.Phrase, ast.Terms)):
            field = node.field
            if field is None or "*" in field or getattr(node, "case_insensitive", False):
                return None
            if self.kind(field) != "keyword" or self.getter(field) is not None:
                return None
            if isinstance(node, ast.Terms):
                return field, frozenset(keyword_str(v) for v in node.values)
            value = node.text if isinstance(node, ast.Phrase) else node.value
            return field, frozenset((keyword_str(value),))
        if isinstance(node, ast.Or) and node.items:
            parts = [self.exact(item) for item in node.items]
            if all(p is not None for p in parts) and len({p[0] for p in parts if p}) == 1:
                values: set[str] = set()
                for p in parts:
                    values |= p[1]  # type: ignore[index]
                return parts[0][0], frozenset(values)  # type: ignore[index]
        return None

    @staticmethod
    def _exact_predicate(specs: list[tuple[str, frozenset[str]]]) -> Predicate:
        # The same field twice stays two checks: with an array value each may be met by a
        # different element (``a: A and a: B`` matches ["A", "B"]), so sets must not intersect.
        ordered = sorted(specs, key=lambda fv: (_selectivity_rank(fv[0]), len(fv[1])))
        checks = tuple((field, values, _in_test("keyword", tuple(values), False)) for field, values in ordered)

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
        matcher = _substring_matcher(node.pattern)
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
        from ctdetect.query import eql_runtime

        inner_tri = eql_runtime.script_of(node.item, self)
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
        return self._leaf(node.field, lambda kind: _match_test(kind, node.value, node.operator))

    def c_Phrase(self, node: ast.Phrase) -> Predicate:
        return self._leaf(node.field, lambda kind: _phrase_test(kind, node.text))

    def c_Term(self, node: ast.Term) -> Predicate:
        return self._leaf(node.field, lambda kind: _term_test(kind, node.value, node.case_insensitive))

    def c_Terms(self, node: ast.Terms) -> Predicate:
        return self._leaf(node.field, lambda kind: _in_test(kind, node.values, node.case_insensitive))

    def c_Wildcard(self, node: ast.Wildcard) -> Predicate:
        regex = wildcard_regex(node.pattern, node.case_insensitive)
        # On text fields the pattern is normalised like the tokens (lower-cased).
        text_regex = wildcard_regex(node.pattern.lower(), True)
        plain = None if node.case_insensitive or not FAST_PATHS else _substring_matcher(node.pattern)
        return self._leaf(node.field, lambda kind: _pattern_test(kind, regex, text_regex, plain))

    def c_Prefix(self, node: ast.Prefix) -> Predicate:
        from ctdetect.query.values import escape_wildcard

        pattern = escape_wildcard(node.prefix) + "*"
        regex = wildcard_regex(pattern, node.case_insensitive)
        text_regex = wildcard_regex(pattern.lower(), True)
        return self._leaf(node.field, lambda kind: _pattern_test(kind, regex, text_regex))

    def c_Regexp(self, node: ast.Regexp) -> Predicate:
        from ctdetect.query.regex import lucene_regex

        regex = lucene_regex(node.pattern, node.case_insensitive)
        return self._leaf(node.field, lambda kind: _pattern_test(kind, regex, regex))

    def c_Range(self, node: ast.Range) -> Predicate:
        return self._leaf(node.field, lambda kind: _range_test(kind, node, self.now_ms))

    def c_Exists(self, node: ast.Exists) -> Predicate:
        field = node.field
        if "*" in field:
            name_re = wildcard_regex(field)
            return lambda doc: any(name_re.match(k) is not None and _present(v) for k, v in doc.items())
        get = self.getter(field) or (lambda doc: doc.get(field))
        return lambda doc: _present(get(doc))

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
        from ctdetect.query import eql_runtime

        return eql_runtime.as_predicate(node, self)

    def c_Predicate(self, node: ast.Predicate) -> Predicate:
        from ctdetect.query import eql_runtime

        return eql_runtime.as_predicate(node, self)

    def c_Sequence(self, node: ast.Sequence) -> Predicate:
        raise TypeError("a sequence matches ordered groups of events, not one event: use the rule engine's sequence matcher and compile each step")

    def c_Sample(self, node: ast.Sample) -> Predicate:
        raise TypeError("a sample matches groups of events sharing join keys, not one event")


def _all(preds: list[Predicate]) -> Predicate:
    preds_t = tuple(preds)
    return lambda doc: all(p(doc) for p in preds_t)


def _present(value: Any) -> bool:
    if value is None:
        return False
    if value.__class__ is list:
        return any(v is not None for v in value)
    return True


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
    compiler = _Compiler(field_types or {}, _now_ms(now), category_field, ignore_above or {})
    return compiler.compile(node)


# --------------------------------------------------------------------------- inverted index support


def required_terms(node: ast.Node, field_types: Mapping[str, str] | None = None) -> dict[str, set[str]] | None:
    """Exact values an event must carry for ``node`` to match, by field; None if nothing is required.

    For a conjunction (or a single leaf) this collects every case-sensitive exact-match leaf
    on a keyword-like field (``Term``, ``Terms``, ``Match``/``Phrase`` on keyword, an ``Or``
    of those on one field): an event matches only if its value for each returned field
    (as indexed, i.e. ``keyword_str``) is in the set. The rule engine indexes rules by one
    of these fields so an event is only tested against rules that can match it.
    """
    types = field_types or {}
    out: dict[str, set[str]] = {}
    root = node
    while isinstance(root, (ast.Piped, ast.EventQuery)):
        root = root.query if isinstance(root, ast.Piped) else root.condition
    items = root.items if isinstance(root, ast.And) else (root,)
    for item in items:
        got = _exact_values(item, types)
        if got is None:
            continue
        field, values = got
        # Two requirements on one field: either is a necessary condition on its own (with an
        # array value they may be met by different elements), so keep the narrower one.
        if field not in out or len(values) < len(out[field]):
            out[field] = set(values)
    return out or None


def _exact_values(node: ast.Node, types: Mapping[str, str]) -> tuple[str, set[str]] | None:
    def ok_field(field: str | None) -> bool:
        return field is not None and "*" not in field and field_kind(field, types) == "keyword"

    if isinstance(node, ast.Term) and not node.case_insensitive and ok_field(node.field):
        return node.field, {keyword_str(node.value)}
    if isinstance(node, ast.Terms) and not node.case_insensitive and ok_field(node.field):
        return node.field, {keyword_str(v) for v in node.values}
    if isinstance(node, ast.Match) and ok_field(node.field):
        return node.field, {keyword_str(node.value)}  # type: ignore[arg-type]
    if isinstance(node, ast.Phrase) and ok_field(node.field):
        return node.field, {node.text}  # type: ignore[arg-type]
    if isinstance(node, ast.Or) and node.items:
        parts = [_exact_values(i, types) for i in node.items]
        if all(p is not None for p in parts) and len({p[0] for p in parts if p}) == 1:
            values: set[str] = set()
            for p in parts:
                assert p is not None
                values |= p[1]
            return parts[0][0], values  # type: ignore[index]
    if isinstance(node, ast.And) and len(node.items) == 1:
        return _exact_values(node.items[0], types)
    return None
