"""One test per rule of Elasticsearch behaviour the evaluator reproduces (KQL and DSL leaves)."""

from __future__ import annotations

from typing import Any, Mapping

from ctdetect.query import ast
from ctdetect.query.dsl import parse_dsl
from ctdetect.query.exact import required_terms
from ctdetect.query.predicate import compile_query
from ctdetect.query.kql import parse_kql

TYPES: Mapping[str, str] = {
    "message": "text",
    "bytes": "long",
    "ratio": "float",
    "@timestamp": "date",
    "source.ip": "ip",
    "flag": "boolean",
    "user.name": "keyword",
    "aws.cloudtrail.flattened.request_parameters": "flattened",
    "user_agent.original": "keyword",
    "aws.cloudtrail": "object",
}
NOW = "2024-07-31T12:00:00.000Z"


def kql(query: str, doc: dict[str, Any]) -> bool:
    return compile_query(parse_kql(query), TYPES, now=NOW)(doc)


def dsl(query: dict[str, Any], doc: dict[str, Any]) -> bool:
    return compile_query(parse_dsl(query), TYPES, now=NOW)(doc)


# ----------------------------------------------------------------- keyword


def test_keyword_is_exact_and_case_sensitive() -> None:
    doc = {"user.name": "Alice"}
    assert kql("user.name: Alice", doc)
    assert not kql("user.name: alice", doc)
    assert not kql("user.name: Ali", doc)
    assert not dsl({"term": {"user.name": "alice"}}, doc)
    assert dsl({"match": {"user.name": "Alice"}}, doc)


def test_term_case_insensitive_flag() -> None:
    assert dsl({"term": {"user.name": {"value": "ALICE", "case_insensitive": True}}}, {"user.name": "alice"})


def test_unknown_field_defaults_to_keyword() -> None:
    assert kql("event.action: ListBuckets", {"event.action": "ListBuckets"})
    assert not kql("event.action: listbuckets", {"event.action": "ListBuckets"})
    assert not kql("event.action: List", {"event.action": "ListBuckets"})


def test_keyword_phrase_is_whole_value() -> None:
    assert kql('user.name: "Alice Smith"', {"user.name": "Alice Smith"})
    assert not kql('user.name: "Alice"', {"user.name": "Alice Smith"})


def test_number_or_boolean_in_keyword_field_compares_as_text() -> None:
    assert kql("code: 200", {"code": 200})
    assert kql("code: true", {"code": True})


# ----------------------------------------------------------------- text


def test_text_match_uses_standard_analyser_tokens() -> None:
    doc = {"message": "User ALICE logged-in from Paris"}
    assert kql("message: alice", doc)
    assert kql("message: LOGGED", doc)
    assert kql("message: bob paris", doc)  # any token (operator or)
    assert not dsl({"match": {"message": {"query": "bob paris", "operator": "and"}}}, doc)
    assert dsl({"match": {"message": {"query": "alice paris", "operator": "and"}}}, doc)


def test_text_phrase_needs_consecutive_tokens() -> None:
    doc = {"message": "User ALICE logged-in from Paris"}
    assert kql('message: "alice logged in"', doc)
    assert not kql('message: "alice from"', doc)


def test_text_phrase_does_not_span_array_elements() -> None:
    assert not kql('message: "alice paris"', {"message": ["hello alice", "paris calling"]})


def test_text_term_is_unanalysed_token() -> None:
    doc = {"message": "User ALICE"}
    assert dsl({"term": {"message": "alice"}}, doc)
    assert not dsl({"term": {"message": "ALICE"}}, doc)
    assert not dsl({"term": {"message": "User ALICE"}}, doc)


def test_tokenizer_keeps_dotted_words_and_numbers() -> None:
    assert kql("message: example.com", {"message": "visit example.com now"})
    assert kql("message: 3.14", {"message": "pi is 3.14"})
    assert not kql("message: example", {"message": "visit example.com now"})


def test_text_multi_field_reads_parent_value() -> None:
    doc = {"user_agent.original": "Mozilla/5.0 Boto3/1.2 kali"}
    assert kql("user_agent.original.text: boto3", doc)
    assert not kql("user_agent.original: boto3", doc)


def test_wildcard_on_text_matches_lowercased_tokens() -> None:
    assert kql("message: ALI*", {"message": "User ALICE"})


# ----------------------------------------------------------------- wildcards


def test_kql_wildcard_on_keyword_is_case_sensitive() -> None:
    doc = {"event.action": "AddPermission20150331"}
    assert kql("event.action: AddPermission*", doc)
    assert not kql("event.action: addpermission*", doc)
    assert kql("event.action: *Permission2015*", doc)


def test_wildcard_question_mark_and_escapes() -> None:
    assert dsl({"wildcard": {"a": "b?d"}}, {"a": "bad"})
    assert not dsl({"wildcard": {"a": "b?d"}}, {"a": "bd"})
    assert kql(r"a: x\*y", {"a": "x*y"})
    assert not kql(r"a: x\*y", {"a": "xzy"})


def test_dsl_wildcard_case_insensitive_and_prefix_regexp() -> None:
    assert dsl({"wildcard": {"a": {"value": "abc*", "case_insensitive": True}}}, {"a": "ABCD"})
    assert dsl({"prefix": {"a": "AB"}}, {"a": "ABCD"})
    assert not dsl({"prefix": {"a": "ab"}}, {"a": "ABCD"})
    assert dsl({"regexp": {"a": "A[B-C]+D"}}, {"a": "ABCD"})
    assert not dsl({"regexp": {"a": "B.*"}}, {"a": "ABCD"})  # anchored


def test_field_name_wildcards() -> None:
    doc = {"aws.cloudtrail.user_identity.type": "Root", "event.action": "x"}
    assert kql("aws.cloudtrail.*: Root", doc)
    assert not kql("aws.cloudtrail.*: x", doc)
    assert kql("aws.*.type: Root", doc)
    assert kql("aws.cloudtrail.*: *", doc)


# ----------------------------------------------------------------- missing fields and arrays


def test_missing_field_never_matches_positive_leaf_and_not_matches() -> None:
    doc = {"event.action": "x"}
    for query in ("user.name: bob", "user.name: b*", 'user.name: "bob"', "bytes > 1", "user.name: *"):
        assert not kql(query, doc), query
        assert kql(f"not ({query})", doc), query


def test_null_and_empty_list_are_missing() -> None:
    assert not kql("user.name: *", {"user.name": None})
    assert not kql("user.name: *", {"user.name": []})
    assert kql("user.name: *", {"user.name": [None, "a"]})
    assert kql("user.name: *", {"user.name": ""})


def test_arrays_match_if_any_element_matches() -> None:
    doc = {"tags": ["a", "b"], "bytes": [1, 500]}
    assert kql("tags: b", doc)
    assert not kql("not tags: b", doc)
    assert kql("bytes > 100", doc)
    assert dsl({"terms": {"tags": ["z", "a"]}}, doc)


def test_object_and_flattened_exists_and_values() -> None:
    doc = {"aws.cloudtrail.flattened.request_parameters.userName": "bob", "aws.cloudtrail.error_code": "X"}
    assert dsl({"exists": {"field": "aws.cloudtrail"}}, doc)
    assert kql("aws.cloudtrail.flattened.request_parameters: bob", doc)
    assert kql("aws.cloudtrail.flattened.request_parameters.userName: bob", doc)


# ----------------------------------------------------------------- numbers, dates, ips, booleans


def test_numeric_strings_coerce() -> None:
    assert kql("bytes: 200", {"bytes": 200})
    assert kql("bytes: 200", {"bytes": "200"})
    assert dsl({"term": {"bytes": "200"}}, {"bytes": 200})
    assert kql("bytes >= 100 and bytes < 300", {"bytes": "200"})
    assert not kql("bytes: abc", {"bytes": 200})
    assert kql("ratio: 0.5", {"ratio": 0.5})


def test_keyword_range_is_lexicographic() -> None:
    assert kql("user.name > b", {"user.name": "c"})
    assert not kql("user.name > b", {"user.name": "a"})
    assert kql("user.name < 9", {"user.name": "10"})  # "10" < "9" as strings


def test_date_ranges_with_iso_and_date_math() -> None:
    doc = {"@timestamp": "2024-07-30T21:31:10.000Z"}
    assert kql("@timestamp >= now-1d", doc)
    assert not kql("@timestamp >= now-1h", doc)
    assert kql('@timestamp < "2024-07-31"', doc)
    assert dsl({"range": {"@timestamp": {"gte": "now-2d/d", "lte": "now"}}}, doc)
    assert dsl({"range": {"@timestamp": {"gte": 1722375070000}}}, doc)


def test_date_rounding_of_upper_bounds() -> None:
    doc = {"@timestamp": "2024-07-30T21:31:10.000Z"}
    assert dsl({"range": {"@timestamp": {"lte": "2024-07-30"}}}, doc)  # inclusive upper rounds up to end of day
    assert not dsl({"range": {"@timestamp": {"lt": "2024-07-30"}}}, doc)
    assert not dsl({"range": {"@timestamp": {"gt": "2024-07-30"}}}, doc)  # gt rounds up too
    assert dsl({"range": {"@timestamp": {"gt": "now-1d/d"}}}, doc) is False  # > end of 2024-07-30


def test_date_term_matches_whole_period() -> None:
    assert kql("@timestamp: 2024-07-30", {"@timestamp": "2024-07-30T21:31:10.000Z"})
    assert not kql("@timestamp: 2024-07-29", {"@timestamp": "2024-07-30T21:31:10.000Z"})


def test_ip_cidr_and_equality() -> None:
    assert kql("source.ip: 10.0.0.0/8", {"source.ip": "10.1.2.3"})
    assert not kql("source.ip: 10.0.0.0/8", {"source.ip": "11.1.2.3"})
    assert dsl({"term": {"source.ip": "192.168.0.0/16"}}, {"source.ip": "192.168.3.4"})
    assert kql('source.ip: "10.1.2.3"', {"source.ip": "::ffff:10.1.2.3"})
    assert dsl({"terms": {"source.ip": ["1.1.1.1", "2001:db8::/32"]}}, {"source.ip": "2001:db8::1"})
    assert kql("source.ip >= 10.0.0.5", {"source.ip": "10.0.0.7"})


def test_boolean_field() -> None:
    assert kql("flag: true", {"flag": True})
    assert kql("flag: true", {"flag": "true"})
    assert not kql("flag: false", {"flag": True})


# ----------------------------------------------------------------- free text, bool


def test_free_text_searches_every_field() -> None:
    doc = {"user.name": "alice", "message": "Hello World", "bytes": 5}
    assert kql("alice", doc)
    assert kql("world", doc)
    assert not kql("Alice", doc)  # keyword stays case-sensitive
    assert kql("5", doc)
    assert kql('"hello world"', doc)
    assert not kql("nothing", doc)


def test_minimum_should_match() -> None:
    q = {"bool": {"should": [{"term": {"a": "1"}}, {"term": {"b": "1"}}, {"term": {"c": "1"}}], "minimum_should_match": 2}}
    assert dsl(q, {"a": "1", "c": "1"})
    assert not dsl(q, {"a": "1"})


def test_match_all_none_and_must_not() -> None:
    assert dsl({"match_all": {}}, {})
    assert not dsl({"match_none": {}}, {"a": 1})
    assert dsl({"bool": {"must_not": {"exists": {"field": "a"}}}}, {})


# ----------------------------------------------------------------- inverted index support


def test_required_terms_for_conjunction() -> None:
    node = parse_kql("event.dataset: aws.cloudtrail and event.action: (A or B) and not user.name: x and message: hi")
    assert required_terms(node, TYPES) == {"event.dataset": {"aws.cloudtrail"}, "event.action": {"A", "B"}}


def test_required_terms_none_for_disjunction_or_text() -> None:
    assert required_terms(parse_kql("a: 1 or b: 2"), TYPES) is None
    assert required_terms(parse_kql("message: hi"), TYPES) is None
    assert required_terms(ast.Term("a", "x", case_insensitive=True)) is None


# ----------------------------------------------------------------- index-time details


def test_keyword_values_longer_than_ignore_above_are_not_indexed() -> None:
    node = parse_kql("p: *Effect=Allow* or q: x")
    long_value = "{Effect=Allow, " + "a" * 9000 + "}"
    limits = {"p": 8191}
    assert compile_query(node, TYPES)({"p": long_value})
    assert not compile_query(node, TYPES, ignore_above=limits)({"p": long_value})
    assert compile_query(node, TYPES, ignore_above=limits)({"p": [long_value, "Effect=Allow"]})
    exists = compile_query(parse_kql("p: *"), TYPES, ignore_above=limits)
    assert not exists({"p": long_value})


def test_timestamp_reads_reader_epoch_millis() -> None:
    match = compile_query(parse_kql('@timestamp >= "2024-07-30T00:00:00Z"'), TYPES)
    assert match({"_ts": 1722375070000})
    assert not match({"_ts": 1000, "@timestamp": "2024-07-30T21:31:10.000Z"})  # _ts wins: it is the same instant, parsed once
    assert match({"@timestamp": "2024-07-30T21:31:10.000Z"})


def test_two_values_required_on_one_array_field() -> None:
    # each leaf may be met by a different element of the array
    node = parse_kql("tags: A and tags: B")
    assert compile_query(node)({"tags": ["A", "B"]})
    assert not compile_query(node)({"tags": ["A"]})
    assert required_terms(node) in ({"tags": {"A"}}, {"tags": {"B"}})
