"""An execution that merges only the aggregates its ``WHERE`` after the ``STATS`` reads, then
the rest for the groups it keeps (``incremental.Screen``), returns the rows of the full merge.

Compared over parts (time slices) of random rows with nulls, multi-valued cells and groups
spread over several parts, on Elastic's shapes (a ratio and counts screened, ``VALUES`` of
addresses kept for the survivors), including a screen that keeps no group, one that keeps
every group, and an aggregate that does not merge exactly (it raises either way).
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from ctdetect.query.esql import incremental
from ctdetect.query.esql.incremental import NotMergeable, StatsPlan, plan_stats
from ctdetect.query.esql.parser import parse_esql

TYPES = {"user.name": "keyword", "event.action": "keyword", "source.address": "keyword", "n": "long", "@timestamp": "date"}
USERS: list[Any] = ["alice", "bob", "carol", None, ["alice", "bob"], "dave", "erin"]
ACTIONS: list[Any] = ["GetObject", "ListBuckets", "AssumeRole", None, ["GetObject", "PutObject"]]
QUERIES = [
    # Elastic's shape: counts and a ratio screen, VALUES for the alert
    'from logs-* | eval s = case(event.action in ("GetObject", "AssumeRole"), true, false) '
    "| stats total = count(*), hits = sum(case(s, 1, 0)), ips = values(source.address), acts = values(event.action), "
    "last = max(case(s, @timestamp, null)) by user.name "
    "| eval ratio = to_double(hits) / to_double(total) | where hits >= 1 and ratio <= 0.9 | keep user.name, ips, acts, ratio, last",
    'from logs-* | stats c = count(*), d = count_distinct(source.address), ips = values(source.address) by user.name | where c > 1000 | keep user.name, ips',  # keeps none
    'from logs-* | stats c = count(*), ips = values(source.address), m = min(n) by user.name, event.action | where c >= 0 | sort user.name | limit 3',  # keeps all
    'from logs-* | stats c = count(n), ips = values(source.address) by user.name | where c >= 3 and user.name != "bob"',
    # Elastic's "rare ASN" shape: cheap conditions (a stage) before a COUNT_DISTINCT and an MV_COUNT of VALUES
    'from logs-* | stats total = count(*), d = count_distinct(source.address), acts = values(event.action), '
    "ips = values(source.address), last = max(@timestamp), hits = sum(n) by user.name "
    "| eval k = mv_count(acts) | where total >= 2 and d <= 2 and k >= 1 and last >= now() - 1 hour and hits > 1 | keep user.name, ips, k",
    # a stage that keeps no group, and one whose condition an EVAL shadows (left out of the stage)
    'from logs-* | stats c = count(*), d = count_distinct(event.action), ips = values(source.address) by user.name | where c > 1000 and d >= 1',
    'from logs-* | stats c = count(*), d = count_distinct(event.action), ips = values(source.address) by user.name '
    "| eval c = c - 1000 | where c >= 0 and d >= 1 | keep user.name, ips",
]
STAGED = QUERIES[4:7]


def _docs(rng: random.Random, size: int) -> list[dict]:
    return [
        {"user.name": rng.choice(USERS), "event.action": rng.choice(ACTIONS), "n": rng.choice([1, 2, None, [3, 4], 7]),
         "source.address": rng.choice(["192.0.2.1", "198.51.100.2", None, ["203.0.113.3", "192.0.2.1"]]), "@timestamp": 1_700_000_000_000 + i}
        for i in range(size)
    ]


def _plan(text: str) -> StatsPlan:
    plan = plan_stats(parse_esql(text), lambda indices: TYPES)
    assert isinstance(plan, StatsPlan), plan
    return plan


def _result(plan: StatsPlan, parts: list[dict]) -> str:
    return json.dumps(plan.result(parts, 1_700_000_000_000, None).rows(), default=repr)


@pytest.mark.parametrize("text", QUERIES)
def test_screened_merge_gives_the_full_merges_rows(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(text)
    screened = _plan(text)
    assert screened.screen is not None
    monkeypatch.setattr(incremental, "SCREEN", False)
    full = _plan(text)
    assert full.screen is None
    for _ in range(6):
        parts = [screened.fold(screened.rows(_docs(rng, rng.randint(0, 40)))) for _ in range(rng.randint(2, 6))]
        assert _result(screened, parts) == _result(full, parts)


@pytest.mark.parametrize("text", STAGED)
def test_a_stage_drops_only_groups_the_screen_drops(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(text + "stages")
    staged = _plan(text)
    monkeypatch.setattr(incremental, "STAGES", False)
    whole = _plan(text)
    assert staged.screen is not None and whole.screen is not None and whole.screen.stages == ()
    for _ in range(6):
        parts = [staged.fold(staged.rows(_docs(rng, rng.randint(0, 40)))) for _ in range(rng.randint(2, 6))]
        assert _result(staged, parts) == _result(whole, parts)


def test_stages_hold_the_cheap_conditions_of_a_screen_reading_a_costly_aggregate() -> None:
    rare = _plan(STAGED[0]).screen
    assert rare is not None and len(rare.stages) == 1
    uses, _ = rare.stages[0]
    assert uses == {0, 4, 5}  # total, last, hits: not d (COUNT_DISTINCT), not k (an EVAL of VALUES)
    shadowed = _plan(STAGED[2]).screen
    assert shadowed is not None and shadowed.stages == ()  # c is the EVAL's, d is costly: nothing is left
    cheap = _plan(QUERIES[0]).screen
    assert cheap is not None and cheap.stages == ()  # no costly aggregate read: no stage


def test_no_screen_when_the_where_reads_every_aggregate_or_there_is_none() -> None:
    assert _plan("from logs-* | stats c = count(*), d = count_distinct(user.name) by event.action | where c > 1 and d > 1").screen is None
    assert _plan("from logs-* | stats c = count(*), ips = values(source.address) by event.action | keep event.action").screen is None
    screen = _plan("from logs-* | stats c = count(*), ips = values(source.address) by event.action | eval x = c * 2 | where x > 4 | keep ips").screen
    assert screen is not None and screen.steps == 2 and len(screen.inner) == 1


def test_an_aggregate_that_does_not_merge_still_raises_for_a_kept_group() -> None:
    plan = _plan('from logs-* | stats c = count(*), m = max(event.action) by user.name | where c >= 1')
    mixed = [plan.fold(plan.rows([{"user.name": "alice", "event.action": 1}])), plan.fold(plan.rows([{"user.name": "alice", "event.action": "x"}]))]
    assert plan.screen is not None
    with pytest.raises(NotMergeable):
        plan.result(mixed, 0, None)
