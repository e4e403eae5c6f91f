"""ML jobs in worker processes (``backends.job_workers``, ``EmbeddedBackend.job_processes``):
findings, problems, history and per-source counts are byte-identical for any number of
job processes, and a job worker that fails or dies is reported, never waited on forever.
"""

from __future__ import annotations

import json
import os
import signal
from itertools import islice
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from ctdetect.backends.embedded import EmbeddedBackend
from ctdetect.backends.job_workers import JobWorkerError, project, split_by_cost
from ctdetect.cli import cli
from ctdetect.ecs.stream import iter_events
from ctdetect.engine.anomaly.runner import AnomalyJobRunner
from ctdetect.engine.needed_fields import needed_fields
from ctdetect.readers import SkipCounter
from ctdetect.services.content import RunContent, load_content
from ctdetect.services.inputs import make_mapper, time_ordered
from ctdetect.services.replay import find_scenarios
from ctdetect.services.scenario_events import scenario_events
from ctdetect.synth import SynthParams, generate
from ctdetect.synth.writers import write_s3_layout

PROJECT = Path(__file__).resolve().parents[2]
SCENARIO = PROJECT / "scenarios" / "ml-cloudtrail-waf-role-lists-buckets"


@pytest.fixture(scope="module")
def content() -> RunContent:
    return load_content(PROJECT)


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """Three weeks of seeded benign history with travel: every job has records to score."""
    root = tmp_path_factory.mktemp("jobs") / "AWSLogs"
    params = SynthParams(seed=11, start="2026-03-02T00:00:00Z", days=21, principals=8, events_per_day=300, travel_rate=0.3)
    write_s3_layout(islice(generate(params), 6_000), root, account_id=params.account_id, seed=params.seed)
    return list(time_ordered(iter_events([root], mapper=make_mapper(None))))


def _run(events: list[dict], content: RunContent, processes: int) -> str:
    """Everything a run returns, as one text (findings in order, then the statistics)."""
    backend = EmbeddedBackend()
    backend.job_processes = processes
    result = backend.run(iter(events), content.rules, content.jobs)
    stats = result.stats
    lines = [json.dumps([f.kind, f.source_id, f.name, f.timestamp.isoformat(), f.score, f.document, f.entity, f.related],
                        sort_keys=False, default=str) for f in result.findings]
    lines.append(json.dumps([stats.events_read, stats.problems, stats.not_run, stats.job_history_ms, stats.findings_by_source]))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def alone(events: list[dict], content: RunContent) -> str:
    """The synthetic archive's run with every job in this process."""
    return _run(events, content, 0)


@pytest.mark.parametrize("processes", [1, 2, 3])
def test_synth_archive_same_for_any_job_processes(events: list[dict], content: RunContent, alone: str, processes: int) -> None:
    assert '"anomaly"' in alone  # benign history: the jobs' records (alerts: the scenario below)
    assert _run(events, content, processes) == alone


def test_scenario_same_with_job_processes(content: RunContent) -> None:
    """The scenario's two jobs and a third, over two processes (every rule runs)."""
    scenario = find_scenarios([str(SCENARIO)], PROJECT, [])[0]
    events = scenario_events(scenario, make_mapper(None), SkipCounter())
    wanted = {"ctdetect_cloudtrail_rare_action_for_user", "ctdetect_cloudtrail_rare_network_owner_for_user",
              "ctdetect_cloudtrail_rare_error_code"}
    content = RunContent(rules=content.rules, jobs=[(j, d) for j, d in content.jobs if j.job_id in wanted])
    assert len(content.jobs) == 3
    alone = _run(events, content, 0)
    assert '"anomaly"' in alone and '["alert"' in alone  # machine_learning rules read the records
    assert _run(events, content, 2) == alone


def test_split_by_cost_balances_and_keeps_every_job() -> None:
    groups = split_by_cost([5, 1, 4, 2, 2], 2)
    assert sorted(i for g in groups for i in g) == [0, 1, 2, 3, 4]
    assert [sum([5, 1, 4, 2, 2][i] for i in g) for g in groups] == [7, 7]
    assert split_by_cost([3, 3], 5) == [[0], [1]]  # no empty worker


def test_projection_keeps_the_fields_jobs_read(content: RunContent) -> None:
    needs = needed_fields((), content.jobs)
    assert needs.everything is None and "event.action" in needs.fields
    event = {"event.action": "ListBuckets", "user.name": None, "message": "big text", "_ts": 1}
    (projected,) = project([event], needs)
    assert projected == {"event.action": "ListBuckets", "user.name": None, "_ts": 1}  # present-but-None stays


class _Alarm(Exception):
    pass


@pytest.fixture
def no_hang() -> Iterator[None]:
    """Fail the test (instead of hanging the suite) if it takes more than 60 seconds."""
    def ring(*_: Any) -> None:
        raise _Alarm("the run did not end within 60 s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _planted_error(self: Any, *_: Any) -> None:
    raise RuntimeError(f"planted failure in {self.job_id}")


def _planted_death(self: Any, *_: Any) -> None:
    os._exit(7)


def test_failing_job_worker_is_reported(events: list[dict], content: RunContent, monkeypatch: pytest.MonkeyPatch, no_hang: None) -> None:
    monkeypatch.setattr(AnomalyJobRunner, "feed_selected", _planted_error)  # forked workers inherit it
    with pytest.raises(JobWorkerError, match="failed: RuntimeError: planted failure in ctdetect_"):
        _run(events, content, 2)


def test_dying_job_worker_is_reported(events: list[dict], content: RunContent, monkeypatch: pytest.MonkeyPatch, no_hang: None) -> None:
    monkeypatch.setattr(AnomalyJobRunner, "feed_selected", _planted_death)
    with pytest.raises(JobWorkerError, match=r"ended without results \(exit code 7\)"):
        _run(events, content, 1)


def test_hunt_reports_a_failing_job_worker_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_hang: None) -> None:
    monkeypatch.setattr(AnomalyJobRunner, "feed_selected", _planted_error)
    files = [str(p) for p in sorted(SCENARIO.glob("*.ndjson"))] or [str(SCENARIO)]
    res = CliRunner().invoke(cli, ["hunt", "--package", str(PROJECT), "--workers", "2", "--no-progress", *files])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and res.exception is None or isinstance(res.exception, SystemExit)
    assert "ctdetect hunt: the process running ML job" in res.stderr and "planted failure" in res.stderr
