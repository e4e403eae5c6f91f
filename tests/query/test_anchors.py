"""Every query in Elastic's own rules and ML datafeeds (../shared/anchors) parses.

Skipped when ../shared is absent (a user's clone).
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest

from ctdetect.query import LANGUAGES, parse_query
from ctdetect.query.errors import QueryParseError
from conftest import shared_path

pytestmark = pytest.mark.shared


def rule_queries(shared_dir: Path) -> list[tuple[Path, str, str]]:
    """(file, language, query) of every KQL, EQL and Lucene rule in Elastic's anchors."""
    root = shared_path("anchors", "detection-rules", "rules")
    out = []
    for path in sorted(root.rglob("*.toml")):
        rule = tomllib.loads(path.read_text(encoding="utf-8")).get("rule", {})
        language = rule.get("language")
        if language in ("kuery", "eql", "lucene") and rule.get("query"):
            out.append((path, language, rule["query"]))
    return out


@pytest.fixture(scope="module")
def anchor_queries() -> list[tuple[Path, str, str]]:
    # Same location as the shared_dir fixture (a module-scoped fixture cannot use that
    # function-scoped one, and importing ``conftest`` is unsafe under xdist).
    shared = Path(os.environ.get("CTDETECT_SHARED_DIR", Path(__file__).resolve().parents[2].parent / "shared"))
    if not shared.exists():
        pytest.skip(f"{shared} is absent (../shared is not part of a user's clone)")
    return rule_queries(shared)


def test_every_anchor_rule_query_parses(anchor_queries: list[tuple[Path, str, str]]) -> None:
    queries = anchor_queries
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


def test_every_anchor_datafeed_query_parses(shared_dir: Path) -> None:
    root = shared_path("anchors", "kibana-ml-modules")
    feeds = sorted(root.rglob("datafeed_*.json"))
    assert feeds
    for path in feeds:
        body = json.loads(path.read_text(encoding="utf-8"))
        parse_query(body["query"], "dsl")


def test_every_anchor_rule_translates_or_is_an_eql_script(anchor_queries: list[tuple[Path, str, str]]) -> None:
    """Every non-sequence anchor query translates to ES DSL that parses back, or is refused only for an EQL script."""
    from ctdetect.query import ast
    from ctdetect.query.dsl import parse_dsl
    from ctdetect.query.translate import TranslationError, to_es_dsl

    translated = refused = 0
    for path, language, text in anchor_queries:
        node = parse_query(text, language)
        if isinstance(node, ast.Sequence):
            continue
        try:
            parse_dsl(to_es_dsl(node))
            translated += 1
        except TranslationError:
            assert language == "eql", path.name
            refused += 1
    assert translated > 130 and refused <= 2
