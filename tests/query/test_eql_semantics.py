"""EQL evaluation: categories, case rules, functions, and Elasticsearch's null semantics."""

from __future__ import annotations

from typing import Any

import pytest

from ctdetect.query.eql import parse_eql
from ctdetect.query.predicate import compile_query

TYPES = {"source.ip": "ip", "bytes": "long", "count": "long"}


def eql(query: str, doc: dict[str, Any], **kw: Any) -> bool:
    return compile_query(parse_eql(query), TYPES, **kw)(doc)


def test_category_must_be_in_event_category() -> None:
    assert eql('process where a == "x"', {"event.category": ["process", "start"], "a": "x"})
    assert not eql('process where a == "x"', {"event.category": "network", "a": "x"})
    assert not eql('process where a == "x"', {"a": "x"})
    assert eql('any where a == "x"', {"a": "x"})


def test_category_override_field() -> None:
    doc = {"event.type": ["info"], "a": "x"}
    assert eql('info where a == "x"', doc, category_field="event.type")
    assert not eql('info where a == "x"', doc)


def test_double_equals_is_case_sensitive_colon_is_not() -> None:
    doc = {"a": "PutObject"}
    assert eql('any where a == "PutObject"', doc)
    assert not eql('any where a == "putobject"', doc)
    assert eql('any where a : "putobject"', doc)
    assert eql('any where a : "put*"', doc)
    assert eql('any where a : ("x", "PUTOBJ?CT")', doc)


def test_like_and_in_case_rules() -> None:
    doc = {"a": "AddPermission20150331"}
    assert eql('any where a like "AddPermission*"', doc)
    assert not eql('any where a like "addpermission*"', doc)
    assert eql('any where a like~ "addpermission*"', doc)
    assert not eql('any where a in ("addpermission20150331")', doc)
    assert eql('any where a in~ ("addpermission20150331")', doc)
    assert eql('any where a not in ("x", "y")', doc)


def test_regex_is_anchored_and_case_rules() -> None:
    doc = {"arn": "arn:aws:s3:::bucket/HOW_TO_DECRYPT.txt"}
    assert eql(r'any where arn regex~ "arn:aws:s3:::[^/]+/.*?(how|decrypt).*"', doc)
    assert not eql(r'any where arn regex "arn:aws:s3:::[^/]+/.*?(how|decrypt).*"', doc)
    assert not eql('any where arn regex "bucket"', doc)


def test_missing_field_leaf_and_not() -> None:
    doc = {"b": "x"}
    assert not eql('any where a == "x"', doc)
    assert eql('any where not a == "x"', doc)
    assert eql('any where a != "x"', doc)  # != is must_not term: a missing field matches
    assert eql("any where a == null", doc)
    assert not eql("any where a != null", doc)


def test_folded_functions_are_two_valued() -> None:
    # Elasticsearch turns stringContains(field, "lit") into a wildcard query: not of a missing field matches.
    assert eql('any where not stringContains(a, "x")', {"b": 1})
    assert not eql('any where stringContains(a, "x")', {"b": 1})


def test_string_contains_pastes_literal_into_wildcard() -> None:
    # Elastic's rules rely on this: "valuesToAdd=[*]" matches any list, "\\*" is a literal star.
    assert eql('any where stringContains(p, "valuesToAdd=[*]")', {"p": "{valuesToAdd=[123456789012]}"})
    assert eql('any where stringContains(p, "principal=\\\\*")', {"p": "{principal=*, action=x}"})
    assert not eql('any where stringContains(p, "principal=\\\\*")', {"p": "{principal=arn:aws:iam::1:root}"})


def test_string_functions_case_and_tilde() -> None:
    doc = {"ua": "Boto3/1.2 TruffleHog", "key": "ASIAXYZ"}
    assert eql('any where stringContains(ua, "TruffleHog")', doc)
    assert not eql('any where stringContains(ua, "trufflehog")', doc)
    assert eql('any where stringContains~(ua, "trufflehog")', doc)
    assert eql('any where startsWith(key, "ASIA")', doc)
    assert not eql('any where startsWith(key, "asia")', doc)
    assert eql('any where startsWith~(key, "asia")', doc)
    assert eql('any where endsWith(key, "XYZ")', doc)
    assert eql('any where endsWith~(key, "xyz")', doc)


def test_functions_over_two_fields_use_null_semantics() -> None:
    # stringContains(field, field) runs as a script: null in, null out, and not(null) is still no match.
    q = "any where not stringContains(p, acct)"
    assert eql(q, {"p": "arn:aws:iam::111:root", "acct": "222"})
    assert not eql(q, {"p": "arn:aws:iam::111:root", "acct": "111"})
    assert not eql(q, {"p": "arn:aws:iam::111:root"})


def test_field_to_field_comparison() -> None:
    assert eql("any where a == b", {"a": "x", "b": "x"})
    assert not eql("any where a == b", {"a": "x", "b": "y"})
    assert not eql("any where a == b", {"a": "x"})
    assert not eql("any where not a == b", {"a": "x"})  # null comparison stays null under not


def test_cidr_match() -> None:
    assert eql('any where cidrMatch(source.ip, "10.0.0.0/8", "192.168.0.0/16")', {"source.ip": "192.168.1.1"})
    assert not eql('any where cidrMatch(source.ip, "10.0.0.0/8")', {"source.ip": "11.0.0.1"})
    assert eql('any where not cidrMatch(source.ip, "10.0.0.0/8")', {})


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("length(s) == 5", True),
        ('indexOf(s, "l") == 2', True),
        ('indexOf(s, "l", 3) == 3', True),
        ('indexOf~(s, "H") == 0', True),
        ('indexOf(s, "z") == null', False),  # a null comparison never matches
        ('substring(s, 1, 3) == "el"', True),
        ('substring(s, -2) == "lo"', True),
        ('concat(s, "-", n) == "hello-42"', True),
        ('between(path, "/", "/") == "usr"', True),
        ('between(path, "/", "/", true) == "usr/bin"', True),
        ('number("ff", 16) == 255', True),
        ('number("0x1F", 16) == 31', True),
        ('number("12") + 1 == 13', True),
        ('string(n) == "42"', True),
        ("add(n, 1) == 43", True),
        ("subtract(n, 2) == 40", True),
        ("multiply(n, 2) == 84", True),
        ("divide(n, 5) == 8", True),  # integer division truncates
        ("divide(-7, 2) == -3", True),  # toward zero, as Java
        ("modulo(-7, 2) == -1", True),
        ("n % 5 == 2", True),
        ("n * 2 - 4 == 80", True),
        ("length(missing) == 0", False),
        ("length(missing) > -1", False),
    ],
)
def test_functions(expr: str, expected: bool) -> None:
    doc = {"s": "hello", "n": 42, "path": "/usr/bin/env"}
    assert eql(f"any where {expr}", doc) is expected


def test_arrays_match_any_element() -> None:
    doc = {"tags": ["alpha", "beta"]}
    assert eql('any where tags == "beta"', doc)
    assert eql('any where stringContains(tags, "lph")', doc)
    assert eql('any where tags : "BET*"', doc)


def test_numbers_compare_numerically() -> None:
    assert eql("any where bytes > 100", {"bytes": "200"})
    assert eql("any where bytes == 200", {"bytes": 200})
    assert not eql("any where bytes < 100", {"bytes": 200})


def test_filter_pipe_narrows_events() -> None:
    assert eql('any where a == "x" | filter b == 1', {"a": "x", "b": 1})
    assert not eql('any where a == "x" | filter b == 1', {"a": "x", "b": 2})


def test_sequence_is_not_a_single_event_predicate() -> None:
    with pytest.raises(TypeError):
        compile_query(parse_eql("sequence [any where true] [any where true]"))


def test_anchor_style_rule() -> None:
    rule = (
        'info where data_stream.dataset == "aws.cloudtrail" and event.provider == "s3.amazonaws.com" '
        'and event.action == "PutBucketPolicy" and stringContains(aws.cloudtrail.request_parameters, "Effect=Allow") '
        "and not stringContains(aws.cloudtrail.request_parameters, aws.cloudtrail.recipient_account_id)"
    )
    doc = {
        "event.type": "info",
        "data_stream.dataset": "aws.cloudtrail",
        "event.provider": "s3.amazonaws.com",
        "event.action": "PutBucketPolicy",
        "aws.cloudtrail.request_parameters": "{Effect=Allow, Principal={AWS=arn:aws:iam::999:root}}",
        "aws.cloudtrail.recipient_account_id": "111",
    }
    assert eql(rule, doc, category_field="event.type")
    assert not eql(rule, {**doc, "aws.cloudtrail.recipient_account_id": "999"}, category_field="event.type")


def test_numeric_fields_read_as_numbers_in_expressions() -> None:
    assert eql("any where bytes + 1 > count", {"bytes": "200", "count": 150})
    assert eql("any where bytes * 2 == 400", {"bytes": "200"})
    assert not eql("any where bytes * 2 == 400", {"bytes": "abc"})
