"""Replay's scheduling changes no result: clusters of a background that share a beginning,
scenarios handed back to run beside the others, a big lone scenario's ML jobs in job
processes; progress told once per scenario; a worker or job process that dies is reported."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from conftest import PROJECT_ROOT
from pkgkit import ct_record, write_ndjson

from ctdetect.backends import embedded, job_workers
from ctdetect.cli import cli
from ctdetect.services import replay as replay_service
from ctdetect.services import shared_prefix
from ctdetect.services.replay import ReplayWorkerError, job_processes_for, prefix_clusters, run_replay

pytestmark = pytest.mark.skipif(not shared_prefix.can_fork(), reason="os.fork is not available on this platform")

# five days of a five-person organisation (as tests/replay/test_shared_prefix.py), then each scenario's own last-day events
SYNTH = '[[synth]]\nseed = 5\nstart = "2026-03-12T00:00:00Z"\ndays = {days}\nprincipals = 5\nevents_per_day = 400\n'
EXPECT = '\n[[expect]]\nrule = "Unusual AWS API Call for a User (ctdetect)"\nfires = false\n'
ATTACKS = ["ml-cloudtrail-paris-vpn-discovery", "ml-cloudtrail-usual-day"]


def _toml(name: str, synth: str, files: bool = True) -> str:
    events = '[[events]]\npath = "cloudtrail.ndjson"\nformat = "cloudtrail"\n\n' if files else ""
    return f'name = "{name}"\ndescription = "test"\ntags = ["test"]\n\n{events}{synth}{EXPECT}'


def _scenarios(root: Path) -> list[str]:
    """Two scenarios sharing their background's days; a third on it whose own events begin
    on its first day (it shares almost nothing: handed back); a bigger one on another background."""
    folders = []
    for name in ATTACKS:
        folder = root / name
        folder.mkdir(parents=True)
        shutil.copy(PROJECT_ROOT / "scenarios" / name / "cloudtrail.ndjson", folder / "cloudtrail.ndjson")
        (folder / "scenario.toml").write_text(_toml(name, SYNTH.format(days=5)))
        folders.append(folder)
    early = root / "early-own-events"
    early.mkdir()
    write_ndjson(early / "cloudtrail.ndjson", [ct_record(m, "ListBuckets", user="carol", day=12) for m in range(5)])
    (early / "scenario.toml").write_text(_toml("early-own-events", SYNTH.format(days=5)))
    big = root / "big-alone"
    big.mkdir()
    (big / "scenario.toml").write_text(_toml("big-alone", SYNTH.format(days=10).replace("seed = 5", "seed = 6"), files=False))
    return [str(f) for f in [*folders, early, big]]


def _same(result) -> bytes:
    # keys sorted: a rebuilt document's key order follows the mapper's cache (see test_shared_prefix)
    return orjson.dumps(
        [[s.scenario.name, s.events, s.skips.total, s.errors, s.problems, [(o.status, o.detail) for o in s.outcomes],
          [[f.kind, f.source_id, f.timestamp, f.score, f.document, f.related] for f in s.findings]] for s in result.scenarios],
        default=str, option=orjson.OPT_SORT_KEYS,
    )


def test_prefix_clusters_do_not_let_a_first_loner_keep_the_others_apart() -> None:
    shared = [{"n": i} for i in range(shared_prefix.MIN_SHARED_EVENTS + 5)]
    loner = [{"own": 0}, *shared]
    inputs = [loner, shared + [{"a": 1}], [dict(e) for e in shared] + [{"b": 2}], [{"other": 1}]]
    assert prefix_clusters(inputs) == [([0], 0), ([1, 2], len(shared)), ([3], 0)]
    short = [{"n": i} for i in range(shared_prefix.MIN_SHARED_EVENTS - 1)]
    assert prefix_clusters([short + [{"x": 1}], short + [{"y": 1}]]) == [([0], 0), ([1], 0)]


def test_job_processes_only_for_a_scenario_longer_than_its_share() -> None:
    assert job_processes_for(100.0, 40.0, 2) == 1  # the other worker would idle: take its core
    assert job_processes_for(100.0, 100.0, 2) == 0  # as long as the rest: both workers stay busy
    assert job_processes_for(100.0, 10.0, 3) == 2
    assert job_processes_for(100.0, 0.0, 1) == 0  # one worker: nothing idles


def test_results_do_not_depend_on_workers_with_hand_backs_and_job_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _scenarios(tmp_path / "scenarios")
    apart = tmp_path / "apart.log"
    real_workers = embedded._job_workers

    def logged_workers(runners, jobs, processes):  # type: ignore[no-untyped-def]
        if processes:
            with open(apart, "a", encoding="utf-8") as f:  # written by the forked replay worker
                f.write(f"{processes}\n")
        return real_workers(runners, jobs, processes)

    handed: list[int] = []
    real_result = replay_service._task_result

    def logged_result(future, group, scenarios):  # type: ignore[no-untyped-def]
        pairs, left = real_result(future, group, scenarios)
        handed.extend(left)
        return pairs, left

    monkeypatch.setattr(embedded, "_job_workers", logged_workers)
    monkeypatch.setattr(replay_service, "_task_result", logged_result)
    one = run_replay(paths, package_root=str(PROJECT_ROOT), workers=1)
    assert not apart.exists(), "one worker: the jobs run in it"
    assert [s.scenario.name for s in one.scenarios] == [*ATTACKS, "early-own-events", "big-alone"]
    assert any(f.kind == "anomaly" for s in one.scenarios for f in s.findings), "the jobs must find something"
    for workers in (2, 3):
        handed.clear()
        apart.unlink(missing_ok=True)
        ticks: list[tuple[int, int, str]] = []
        many = run_replay(paths, package_root=str(PROJECT_ROOT), workers=workers, progress=lambda *t: ticks.append(t))
        assert _same(many) == _same(one), f"{workers} workers"
        assert handed == [2], "the scenario sharing nothing is handed back to run beside the others"
        # the big lone scenario runs its jobs apart (and the one handed back may, if it is last)
        assert set(apart.read_text().split()) == {str(workers - 1)}
        assert [t[0] for t in ticks] == [1, 2, 3, 4] and {t[1] for t in ticks} == {4}
        assert sorted(t[2] for t in ticks) == sorted(s.scenario.name for s in one.scenarios)


def test_a_dying_job_process_stops_the_replay_naming_its_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _scenarios(tmp_path / "scenarios")
    monkeypatch.setattr(job_workers, "_serve", lambda *args: __import__("os")._exit(3))
    with pytest.raises(ReplayWorkerError, match=r"big-alone: the process running ML jobs .* \(exit code 3\)"):
        run_replay(paths, package_root=str(PROJECT_ROOT), workers=2)
    res = CliRunner().invoke(cli, ["replay", "--package", str(PROJECT_ROOT), "--format", "json", "--workers", "2", *paths])
    assert res.exit_code == 2, res.output
    assert "ctdetect replay: scenario(s) big-alone: the process running ML jobs" in res.stderr
    assert res.stdout == "", "no report without every scenario's result"


def test_a_dying_replay_worker_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _scenarios(tmp_path / "scenarios")[:1] + _scenarios(tmp_path / "more")[3:]

    def die(group, *args, **kwargs):  # type: ignore[no-untyped-def]
        if group[0].name == "big-alone":
            __import__("os")._exit(4)
        return real(group, *args, **kwargs)

    real = replay_service.run_group
    monkeypatch.setattr(replay_service, "run_group", die)
    with pytest.raises(ReplayWorkerError, match="a worker process died while running scenario"):
        run_replay(paths, package_root=str(PROJECT_ROOT), workers=2)
