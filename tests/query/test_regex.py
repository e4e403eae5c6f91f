"""Lucene regular expression dialect (ES regexp query, Lucene /re/, EQL regex)."""

from __future__ import annotations

import pytest

from ctdetect.query.regex import RegexSyntaxError, lucene_regex


def full(pattern: str, text: str, ci: bool = False) -> bool:
    return lucene_regex(pattern, ci).match(text) is not None


def test_anchored_at_both_ends() -> None:
    assert full("ab.*", "abc")
    assert not full("b.*", "abc")
    assert not full("ab", "abc")
    assert not full("ab", "ab\n")


def test_caret_and_dollar_are_plain_characters() -> None:
    assert full("a^b$", "a^b$")
    assert not full("^ab$", "ab")


def test_dot_matches_newline_and_case_flag() -> None:
    assert full("a.b", "a\nb")
    assert full("abc", "ABC", ci=True)
    assert not full("abc", "ABC")


def test_lucene_operators() -> None:
    assert full('"a.b"+', "a.ba.b")  # quoted literal
    assert not full('"a.b"', "axb")
    assert full("x@", "xanything")  # @ is any string
    assert full("port<80-443>", "port443")
    assert not full("port<80-443>", "port444")
    assert not full("a#", "a")  # # is the empty language


def test_stacked_quantifiers_mean_nested_repetition() -> None:
    assert full("a*+b", "aaab")
    assert full("a+?b", "b")
    assert full(".*?x", "yyx")


def test_classes_and_escapes() -> None:
    assert full("[a-c]+\\.[^0-9]", "abc.x")
    assert not full("[a-c]+\\.[^0-9]", "abc.1")
    assert full("\\d+", "123")
    assert full("a\\*", "a*")


@pytest.mark.parametrize("bad", ["(a", "a)", "[a", "*a", "a{2,1}", "a&b", "~a", "\\", "a<1-", '"open'])
def test_rejected_patterns(bad: str) -> None:
    with pytest.raises(RegexSyntaxError):
        lucene_regex(bad)


def test_pathological_pattern_stays_linear() -> None:
    pytest.importorskip("re2", reason="google-re2 gives linear-time matching; plain re would backtrack here")
    assert not full("(a*)+b", "a" * 40 + "c")
