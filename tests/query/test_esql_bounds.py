"""A screen's ``MAX(...) >= <constant>`` or ``COUNT(...) > 0`` gathers only the groups one of
whose parts passes it (``query.esql.bounds``), and the execution returns the rows of the screen
over every group.

Compared over parts (time slices) of random rows spread over a day, executions at times that
keep some, none or all of the groups, with nulls and multi-valued keys; a bound is used only
when it can be used exactly (an int threshold, int maxima, a count above 0 or at least 1, one
kind per MIN/MAX), else every group is screened as before.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from ctdetect.query.esql import incremental
from ctdetect.query.esql.bounds import candidate_groups
from ctdetect.query.esql.expressions import Context
from ctdetect.query.esql.incremental import NotMergeable, StatsPlan, plan_stats
from ctdetect.query.esql.parser import parse_esql

TYPES = {"user.name": "keyword", "event.action": "keyword", "source.address": "keyword", "n": "long", "@timestamp": "date", "label": "keyword"}
USERS: list[Any] = ["alice", "bob", "carol", None, ["alice", "bob"], "dave", "erin", "frank", "grace"]
ACTIONS: list[Any] = ["GetObject", "ListBuckets", "AssumeRole", None, ["GetObject", "PutObject"]]
HOUR = 3_600_000
START = 1_700_000_000_000
QUERIES = [
    # Elastic's GitHub Actions shape: MAX flags, a masked MAX of @timestamp, VALUES for the alert
    'from logs-* | eval s = event.action in ("GetObject", "AssumeRole") '
    "| stats f = max(case(s, 1, 0)), last = max(case(s, @timestamp, null)), ips = values(source.address) by user.name "
    "| where f == 1 and last >= now() - 1 hour | keep user.name, ips, last",
    # Elastic's rare-ASN shape: a stage, a COUNT_DISTINCT and the bound, mirrored and strict
    'from logs-* | stats total = count(*), d = count_distinct(source.address), acts = values(event.action), '
    "last = max(@timestamp), ips = values(source.address) by user.name, event.action "
    "| eval k = mv_count(acts) | where total >= 1 and d <= 3 and k >= 1 and now() - 2 hours < last | keep user.name, event.action, k, last, ips",
    # a bound with no other condition, and one on a MAX of a number with a literal threshold
    "from logs-* | stats last = max(@timestamp), ips = values(source.address) by user.name | where last > now() - 30 minutes",
    "from logs-* | stats top = max(n), c = count(*), ips = values(source.address) by user.name | where top >= 4 and c >= 1",
    # Elastic's "self-created access key subsequently used" shape: masked counts above 0, MINs compared
    'from logs-* | eval made = event.action == "AssumeRole", used = event.action == "GetObject" '
    "| stats c = count(*) where made, u = count(n) where used, first = min(@timestamp) where made, "
    "later = min(@timestamp) where used, ips = values(source.address) by user.name "
    "| where c > 0 and 0 < u and later > first | keep user.name, ips, c, u",
    # a count bound above 1 is never used (parts below it add up), the MAX beside it is
    "from logs-* | stats c = count(*), last = max(@timestamp), ips = values(source.address) by user.name | where c >= 2 and last >= now() - 1 hour",
]


def _docs(rng: random.Random, size: int, start: int, span: int) -> list[dict]:
    stamps = sorted(rng.randrange(start, start + span) for _ in range(size))
    return [
        {"user.name": rng.choice(USERS), "event.action": rng.choice(ACTIONS), "n": rng.choice([1, 2, None, [3, 4], 7]),
         "source.address": rng.choice(["192.0.2.1", "198.51.100.2", None, ["203.0.113.3", "192.0.2.1"]]), "@timestamp": ts}
        for ts in stamps
    ]


def _plan(text: str) -> StatsPlan:
    plan = plan_stats(parse_esql(text), lambda indices: TYPES)
    assert isinstance(plan, StatsPlan), plan
    return plan


def _parts(plan: StatsPlan, rng: random.Random) -> list[dict]:
    """One part per hour of a day, each with a random number of rows (some none)."""
    return [plan.fold(plan.rows(_docs(rng, rng.randint(0, 12), START + h * HOUR, HOUR))) for h in range(24)]


def _result(plan: StatsPlan, parts: list[dict], now: int, summaries: list | None = None) -> str:
    return json.dumps(plan.result(parts, now, None, summaries).rows(), default=repr)


@pytest.mark.parametrize("text", QUERIES)
def test_bounded_gathering_gives_the_rows_of_every_groups_screen(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(text)
    bounded = _plan(text)
    assert bounded.screen is not None and len(bounded.screen.bounds) >= 1
    monkeypatch.setattr(incremental, "BOUNDS", False)
    every = _plan(text)
    assert every.screen is not None and every.screen.bounds == ()
    kept = set()
    for _ in range(8):
        parts = _parts(bounded, rng)
        summaries = [bounded.summarise(p) for p in parts]
        for now in (START + 24 * HOUR, START + 23 * HOUR + HOUR // 2, START + 30 * HOUR, START):
            expected = _result(every, parts, now)
            assert _result(bounded, parts, now) == expected
            assert _result(bounded, parts, now, summaries) == expected  # summaries kept by the caller
            kept.add(expected != "[]")
    assert kept == ({True, False} if "now()" in text else {True})  # executions that keep groups, and ones that keep none


def test_only_the_groups_of_parts_whose_greatest_maximum_passes_are_gathered() -> None:
    plan = _plan(QUERIES[2])
    screen = plan.screen
    assert screen is not None
    old = plan.fold(plan.rows([{"user.name": "alice", "@timestamp": START}, {"user.name": "bob", "@timestamp": START + 1}]))
    new = plan.fold(plan.rows([{"user.name": "carol", "@timestamp": START + 5 * HOUR}, {"user.name": "alice", "@timestamp": START + 5 * HOUR + 1}]))
    parts = [old, new]
    found = candidate_groups(parts, [plan.summarise(p) for p in parts], screen.checked, screen.bounds, Context(START + 5 * HOUR + 10, []))
    assert found is not None
    assert list(found) == [("alice",), ("carol",)]  # bob is only in the old part; alice's first row is first
    assert found[("alice",)] == [old[("alice",)], new[("alice",)]]


def test_the_bound_is_not_used_when_it_could_not_be_used_exactly() -> None:
    plan = _plan("from logs-* | stats m = max(label), c = count(*), ips = values(source.address) by user.name | where m >= 3 and c >= 3")
    screen = plan.screen
    assert screen is not None and len(screen.bounds) == 2  # c >= 3 is planned, never usable
    parts = [plan.fold(plan.rows([{"user.name": "alice", "label": 5}])), plan.fold(plan.rows([{"user.name": "bob", "label": "x"}]))]
    ctx = Context(0, [])
    assert candidate_groups(parts, [plan.summarise(p) for p in parts], screen.checked, screen.bounds, ctx) is None  # a str maximum
    mixed = [parts[0], plan.fold(plan.rows([{"user.name": "alice", "label": "x"}]))]
    with pytest.raises(NotMergeable):  # the full screen still merges alice's two kinds, and raises
        plan.result(mixed, 0, None)
    text = _plan("from logs-* | stats m = max(@timestamp), c = count(*), ips = values(source.address) by user.name "
                 '| where m >= "2023-11-14T22:13:20Z" and c >= 1 and c > 0')
    assert text.screen is not None
    stamped = [text.fold(text.rows([{"user.name": "alice", "@timestamp": START}])), text.fold(text.rows([{"user.name": "bob", "@timestamp": START + 1}]))]
    # a date string threshold is cast by the comparison, not by the bound's EVAL: not an int, not
    # used; the counts' bounds are, and gather both groups
    found = candidate_groups(stamped, [text.summarise(p) for p in stamped], text.screen.checked, text.screen.bounds, ctx)
    assert found is not None and list(found) == [("alice",), ("bob",)]
    assert candidate_groups(stamped, [text.summarise(p) for p in stamped], text.screen.checked, text.screen.bounds[:1], ctx) is None
    assert json.loads(_result(text, stamped, 0)) != []


def test_no_bound_on_what_is_not_a_plain_max_of_the_stats() -> None:
    for text in (
        "from logs-* | stats m = max(n) + 1, ips = values(source.address) by user.name | where m >= 3",  # an outer expression
        "from logs-* | stats m = min(n), ips = values(source.address) by user.name | where m >= 3",  # MIN grows down
        "from logs-* | stats m = max(n), ips = values(source.address) by user.name | eval m = 0 | where m >= 3",  # shadowed
        "from logs-* | stats m = max(n), c = count(*), ips = values(source.address) by user.name | where m >= c",  # reads a column
        "from logs-* | stats m = max(n), ips = values(source.address) by user.name | where m <= 3",  # the other direction
        "from logs-* | stats m = sum(n), ips = values(source.address) by user.name | where m > 0",  # a sum may fall
        "from logs-* | stats m = count(*) + 1, ips = values(source.address) by user.name | where m > 0",  # an outer expression
    ):
        screen = _plan(text).screen
        assert screen is not None and screen.bounds == (), text
