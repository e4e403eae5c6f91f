"""Leaf semantics: how one query value tests one document value, by field kind.

Each builder takes a field kind (``fields.field_kind``) and the query's value and returns a
test over a *non-None* document value (scalar or list; an array matches when any element
does), or None when the query value can never match a field of that kind (a date that
does not parse, a number query on a word). The predicate compiler binds these tests to
fields; keeping them apart means the meaning of ``term``, ``match``, ``match_phrase``,
``terms``, ``wildcard``/``prefix``/``regexp`` and ``range`` on each kind is written once:

- keyword-like fields match exactly and case-sensitively; a document number or boolean
  is compared as the text Elasticsearch indexes for it (``keyword_str``);
- text fields match on standard-analyser tokens (``match``: any token, or all with
  ``operator=and``; ``phrase``: consecutive tokens within one array element; ``term``:
  one un-analysed token);
- numeric fields coerce numeric strings on both sides; date fields take ISO strings, epoch
  millis and date math, and an exact date matches its whole period; ip fields compare
  addresses and accept CIDR blocks in exact-match leaves.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from ctdetect.query import ast
from ctdetect.query.values import (
    DateError,
    analyze,
    contains_sequence,
    doc_date,
    ip_in,
    keyword_str,
    parse_date,
    to_bool,
    to_ip,
    to_network,
    to_number,
)

ValueTest = Callable[[Any], bool]

__all__ = [
    "ValueTest",
    "any_item",
    "bounds_check",
    "equals_test",
    "in_test",
    "match_test",
    "pattern_test",
    "phrase_test",
    "range_test",
    "substring_matcher",
    "term_test",
]




def any_item(test: Callable[[Any], bool]) -> ValueTest:
    """``test`` over a value or, for an array, over its non-None elements (any may match)."""
    def run(value: Any) -> bool:
        if value.__class__ is list:
            for item in value:
                if item is not None and test(item):
                    return True
            return False
        return test(value)

    return run


def _text_tokens(value: Any) -> tuple[str, ...]:
    """Standard-analyser tokens of one document value, as a text field indexes it."""
    return analyze(value if value.__class__ is str else keyword_str(value))


def equals_test(kind: str, value: Any, case_insensitive: bool) -> ValueTest | None:
    """Exact-value semantics of ``term``/KQL ``field: value`` (non-text kinds)."""
    if kind in ("keyword", "flattened_root", "object"):
        target = keyword_str(value)
        if case_insensitive:
            low = target.lower()
            return any_item(lambda v: keyword_str(v).lower() == low)

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
        return any_item(lambda v: keyword_str(v).lower() == low)
    if kind == "number":
        num = to_number(value)
        if num is None:
            return None
        return any_item(lambda v: to_number(v) == num)
    if kind == "date":
        try:
            lo = parse_date(value, round_up=False)
            hi = parse_date(value, round_up=True)
        except DateError:
            return None

        def date_in(v: Any) -> bool:
            ms = doc_date(v)
            return ms is not None and lo <= ms <= hi

        return any_item(date_in)
    if kind == "ip":
        net = to_network(keyword_str(value))
        if net is None:
            return None

        def ip_match(v: Any) -> bool:
            addr = to_ip(v)
            return addr is not None and ip_in(addr, net)

        return any_item(ip_match)
    if kind == "boolean":
        flag = to_bool(value)
        if flag is None:
            return None
        return any_item(lambda v: to_bool(v) == flag)
    return None


def in_test(kind: str, values: tuple[Any, ...], case_insensitive: bool) -> ValueTest | None:
    """Any-of-several exact values (``terms``, EQL ``in``)."""
    if kind in ("keyword", "flattened_root", "object", "caseless"):
        lower = case_insensitive or kind == "caseless"
        targets = frozenset(keyword_str(v).lower() if lower else keyword_str(v) for v in values)
        if lower:
            return any_item(lambda v: keyword_str(v).lower() in targets)

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
        return any_item(lambda v: any(t in toks for t in _text_tokens(v)))
    tests = [t for t in (equals_test(kind, v, case_insensitive) for v in values) if t is not None]
    if not tests:
        return None
    return lambda v: any(t(v) for t in tests)


def match_test(kind: str, value: Any, operator: str) -> ValueTest | None:
    """``match``: analysed on text fields (any token, or all with ``operator=and``), exact elsewhere."""
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
        return any_item(lambda v: not wanted_set.isdisjoint(_text_tokens(v)))
    return equals_test(kind, value, False)


def phrase_test(kind: str, text: str) -> ValueTest | None:
    """``match_phrase``: consecutive tokens within one array element on text fields, exact elsewhere."""
    if kind == "text":
        phrase = analyze(text)
        if not phrase:
            return None
        return any_item(lambda v: contains_sequence(_text_tokens(v), phrase))
    return equals_test(kind, text, False)


def term_test(kind: str, value: Any, case_insensitive: bool) -> ValueTest | None:
    """``term``: one un-analysed token on text fields, exact elsewhere."""
    if kind == "text":
        token = keyword_str(value)
        if case_insensitive:
            token = token.lower()
        return any_item(lambda v: token in _text_tokens(v))
    return equals_test(kind, value, case_insensitive)


def pattern_test(kind: str, regex: re.Pattern[str], text_regex: re.Pattern[str] | None, plain: Callable[[str], bool] | None = None) -> ValueTest | None:
    """``wildcard``/``prefix``/``regexp``: the whole value on keyword-like fields, each token on text fields."""
    if kind in ("keyword", "caseless", "flattened_root", "object"):
        if plain is not None and kind != "caseless":
            return any_item(lambda v: plain(v if v.__class__ is str else keyword_str(v)))
        fm = regex.match
        if kind == "caseless":
            return any_item(lambda v: fm(keyword_str(v).lower()) is not None)

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
        return any_item(lambda v: any(tm(t) is not None for t in _text_tokens(v)))
    return None


def range_test(kind: str, node: ast.Range, now_ms: int) -> ValueTest | None:
    """``range``: bounds coerced to the kind (date math from ``now_ms``; ``gt``/``lte`` round up)."""
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
        check = bounds_check(parsed)
        return any_item(lambda v: any(check(t) for t in _text_tokens(v)))
    else:
        lower = kind == "caseless"
        conv = (lambda v: keyword_str(v).lower()) if lower else keyword_str
        parsed = [(op, keyword_str(b).lower() if lower else keyword_str(b)) for op, b in bounds]
    check = bounds_check(parsed)

    def in_range(v: Any) -> bool:
        x = conv(v)
        if x is None:
            return False
        try:
            return check(x)
        except TypeError:
            return False

    return any_item(in_range)


def bounds_check(parsed: list[tuple[str, Any]]) -> Callable[[Any], bool]:
    """All of the (operator, bound) pairs, as one test over an already-coerced value."""
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



def substring_matcher(pattern: str) -> Callable[[str], bool] | None:
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
