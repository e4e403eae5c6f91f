"""The ES|QL expressions' fast paths give what their general forms give, cell for cell.

``LIKE`` patterns that are a prefix, suffix, infix or exact string are tested with string
methods instead of the pattern's regex; ``STARTS_WITH``/``ENDS_WITH`` with a literal call the
string method on string cells; ``IN`` over computed items tests string and boolean operands
with one membership test. Each is compared here with the general form over random cells.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from ctdetect.query.esql.evaluate import Program
from ctdetect.query.esql.parser import parse_esql
from ctdetect.query.values import simple_wildcard_test as _plain_wildcards, wildcard_regex

ALPHABET = "ab*?\\\n"


def test_plain_wildcards_match_as_the_regex_does() -> None:
    rng = random.Random(5)
    checked = 0
    for _ in range(4000):
        patterns = tuple("".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 5))) for _ in range(rng.randint(1, 3)))
        plain = _plain_wildcards(patterns)
        if plain is None:
            continue
        regexes = [wildcard_regex(p) for p in patterns]
        for _ in range(10):
            text = "".join(rng.choice("ab\n") for _ in range(rng.randint(0, 6)))
            assert plain(text) == any(r.match(text) for r in regexes), (patterns, text)
            checked += 1
    assert checked > 5000


CELLS: list[Any] = ["ListBuckets", "DescribeInstances", "Get", "", "xList", None, ["ListA", "ListB"], 5, 1.5, True, "a\nList"]
QUERIES = [
    'from logs-* | where event.action like "List*" | keep event.action',
    'from logs-* | where event.action like "*List" or event.action like "*st*" | keep event.action',
    'from logs-* | where event.action not like "Get" | keep event.action',
    'from logs-* | eval s = starts_with(event.action, "List"), e = ends_with(event.action, "s") | keep s, e',
    'from logs-* | eval x = true in (starts_with(event.action, "Describe"), starts_with(event.action, "List")) | keep x',
    'from logs-* | eval x = false not in (starts_with(event.action, "Get"), ends_with(event.action, "t")) | keep x',
    'from logs-* | eval x = event.action in (user.name, "Get") | keep x',
]


def _run(text: str, docs: list[dict]) -> str:
    program = Program.prepare(parse_esql(text), lambda indices: {"event.action": "keyword", "user.name": "keyword"})
    return json.dumps(program.run(docs, 0).rows(), default=repr)


@pytest.mark.parametrize("text", QUERIES)
def test_fast_paths_agree_with_the_general_forms(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from ctdetect.query.esql import expressions

    rng = random.Random(text)
    docs = [{"event.action": rng.choice(CELLS), "user.name": rng.choice(CELLS)} for _ in range(300)]
    fast = _run(text, docs)
    monkeypatch.setattr(expressions, "FAST_PATHS", False)  # the general forms, cell by cell
    assert _run(text, docs) == fast
