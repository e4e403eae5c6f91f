"""Replay's speed-ups change no result: rules compiled once, scenarios over workers, progress."""

from __future__ import annotations

import json

import orjson
from click.testing import CliRunner
from conftest import PROJECT_ROOT
from pkgkit import ct_record, expect, package, scenario

from ctdetect.backends.embedded import EmbeddedBackend
from ctdetect.cli import cli
from ctdetect.readers import SkipCounter
from ctdetect.services.content import load_content
from ctdetect.services.inputs import make_mapper
from ctdetect.services.replay import find_scenarios, run_replay
from ctdetect.services.scenario_events import scenario_events

# stateful rule types: an EQL sequence, a threshold, new_terms, an ES|QL aggregation
STATEFUL = [
    "rule-ec2-user-data-sequence-fires",
    "rule-console-login-failure-burst-fires",
    "rule-ec2-password-data-first-fires",
    "rule-esql-access-denied-burst-fires",
]


def _documents(result) -> bytes:
    return orjson.dumps([[f.source_id, f.document, f.related] for f in result.findings], default=str)


def test_a_prepared_backend_starts_every_run_from_empty_rule_state():
    content = load_content(str(PROJECT_ROOT))
    mapper = make_mapper(None)
    found = find_scenarios([str(PROJECT_ROOT / "scenarios" / name) for name in STATEFUL], PROJECT_ROOT, [])
    events = [scenario_events(s, mapper, SkipCounter()) for s in found]
    fresh = [_documents(EmbeddedBackend().run(e, content.rules, [])) for e in events]
    assert all(fresh), "each of these scenarios must raise alerts, or the comparison proves nothing"
    prepared = EmbeddedBackend()
    prepared.prepare(content.rules)
    # twice over, in a different order: nothing a run leaves behind may reach the next one
    for index in [0, 1, 2, 3, 3, 2, 1, 0]:
        assert _documents(prepared.run(events[index], content.rules, [])) == fresh[index], STATEFUL[index]


def _small_package(root):
    package(root)
    # scenarios of very different sizes, so workers finish them out of name order
    scenario(root, "a-big", [ct_record(m % 60, "ModifySnapshotAttribute", day=2 + m // 60) for m in range(600)], [expect(extra="min_count = 1")])
    for n in range(5):
        scenario(root, f"b-small-{n}", [ct_record(n + 1, "ModifySnapshotAttribute", user=f"u{n}")], [expect(entity=f'"user.name" = "u{n}"')])
    scenario(root, "c-quiet", [ct_record(1, "DescribeSnapshots")], [expect(fires=False)])


def test_results_and_their_order_do_not_depend_on_the_number_of_workers(tmp_path):
    _small_package(tmp_path)
    outputs = []
    for workers in ("1", "3"):
        res = CliRunner().invoke(cli, ["replay", "--package", str(tmp_path), "--format", "json", "--workers", workers], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        outputs.append(json.loads(res.stdout))
    assert outputs[0] == outputs[1]
    assert [s["name"] for s in outputs[0]["scenarios"]] == ["a-big"] + [f"b-small-{n}" for n in range(5)] + ["c-quiet"]


def test_progress_is_told_of_every_scenario_once(tmp_path):
    _small_package(tmp_path)
    ticks: list[tuple[int, int, str]] = []
    result = run_replay([], package_root=str(tmp_path), workers=2, progress=lambda *t: ticks.append(t))
    assert result.ok
    assert [t[0] for t in ticks] == list(range(1, 8)) and {t[1] for t in ticks} == {7}
    assert sorted(t[2] for t in ticks) == sorted(s.scenario.name for s in result.scenarios)


def test_no_progress_bar_off_a_terminal_or_when_asked(tmp_path):
    _small_package(tmp_path)
    for extra in ([], ["--no-progress"]):
        res = CliRunner().invoke(cli, ["replay", "--package", str(tmp_path), "--format", "json", *extra], catch_exceptions=False)
        assert res.exit_code == 0
        assert res.stderr.strip() == "7 met, 0 unmet, 0 waiting in 7 scenarios"
