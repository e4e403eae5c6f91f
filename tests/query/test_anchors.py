"""Every query in Elastic's own rules and ML datafeeds (../shared/anchors) parses.

Skipped when ../shared is absent (a user's clone).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from conftest import shared_path
from ctdetect.query import parse_query
from ctdetect.query.errors import QueryParseError

pytestmark = pytest.mark.shared


def _rule_queries() -> list[tuple[Path, str, str]]:
    root = shared_path("anchors", "detection-rules", "rules")
    out = []
    for path in sorted(root.rglob("*.toml")):
        rule = tomllib.loads(path.read_text(encoding="utf-8")).get("rule", {})
        language = rule.get("language")
        if language in ("kuery", "eql", "lucene") and rule.get("query"):
            out.append((path, language, rule["query"]))
    return out


def test_every_anchor_rule_query_parses() -> None:
    from ctdetect.query import LANGUAGES

    queries = _rule_queries()
    assert len(queries) > 150
    failures = []
    for path, language, text in queries:
        if language not in LANGUAGES:
            continue
        try:
            parse_query(text, language)
        except QueryParseError as exc:
            failures.append(f"{path.name}: {exc}")
    assert not failures, "\n".join(failures)


def test_every_anchor_datafeed_query_parses() -> None:
    root = shared_path("anchors", "kibana-ml-modules")
    feeds = sorted(root.rglob("datafeed_*.json"))
    assert feeds
    for path in feeds:
        body = json.loads(path.read_text(encoding="utf-8"))
        parse_query(body["query"], "dsl")
