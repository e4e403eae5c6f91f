"""hunt's default score floor for anomaly records and its note on short history."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ctdetect.cli import cli
from ctdetect.content.loaders import load_package
from ctdetect.services.content import RunContent, pair_jobs
from ctdetect.services.hunt import DEFAULT_ANOMALY_FLOOR, MIN_HISTORY_DAYS, anomaly_floors, forget_floors, history_notes

ROOT = Path(__file__).resolve().parents[2]
DAY_MS = 86_400_000


def test_floor_is_the_lowest_threshold_of_the_rules_reading_the_job_else_kibana_default() -> None:
    package = load_package(ROOT)
    content = RunContent(rules=package.rules, jobs=pair_jobs(package.jobs, package.datafeeds))
    floors = anomaly_floors(content)
    assert set(floors) == {j.job_id for j in package.jobs}
    for job in package.jobs:
        readers = [r.anomaly_threshold for r in package.rules if r.type == "machine_learning" and job.job_id in r.machine_learning_job_id]
        assert floors[job.job_id] == (min(readers) if readers else DEFAULT_ANOMALY_FLOOR)
    alone = RunContent(rules=[], jobs=content.jobs)
    assert set(anomaly_floors(alone).values()) == {DEFAULT_ANOMALY_FLOOR}
    assert 25 in floors.values()  # one package rule alerts from 25: its job's floor follows it


def test_history_note_names_only_jobs_with_short_history() -> None:
    assert history_notes({"a": MIN_HISTORY_DAYS * DAY_MS, "b": 0}) == []
    (note,) = history_notes({"a": DAY_MS, "b": 20 * DAY_MS, "c": 0, "d": 2 * DAY_MS})
    assert note.startswith("2 ML jobs had less than 14 days of history: a (1.0 d), d (2.0 d)")


def test_one_day_hunt_hides_mild_records_and_says_so() -> None:
    day = ROOT / "scenarios" / "ml-cloudtrail-usual-day"
    default = CliRunner().invoke(cli, ["hunt", "--package", str(ROOT), "--format", "json", str(day)], catch_exceptions=False)
    every = CliRunner().invoke(cli, ["hunt", "--package", str(ROOT), "--format", "json", "--min-score", "0", str(day)], catch_exceptions=False)
    shown, everything = json.loads(default.stdout), json.loads(every.stdout)
    hidden = shown["summary"]["hidden_below_floor"]
    assert hidden > 0 and len(shown["findings"]) + hidden == len(everything["findings"])
    floors = shown["summary"]["anomaly_floors"]
    assert all(f["score"] >= floors[f["source_id"]] for f in shown["findings"] if f["kind"] == "anomaly")
    assert everything["summary"]["hidden_below_floor"] == 0 and everything["summary"]["anomaly_floors"] == {}
    assert any("less than 14 days of history" in n for n in shown["summary"]["notes"])


def test_forget_floors_never_pass_what_is_shown_or_alerts() -> None:
    """A settled record is forgotten only under what hunt shows and under what an ML rule alerts on."""
    package = load_package(ROOT)
    content = RunContent(rules=package.rules, jobs=pair_jobs(package.jobs, package.datafeeds))
    assert forget_floors(content, None) == anomaly_floors(content)
    assert set(forget_floors(content, 10.0).values()) == {10.0}
    thresholds = {
        job.job_id: min(r.anomaly_threshold for r in package.rules if r.type == "machine_learning" and job.job_id in r.machine_learning_job_id)
        for job in package.jobs
        if any(r.type == "machine_learning" and job.job_id in r.machine_learning_job_id for r in package.rules)
    }
    high = forget_floors(content, 90.0)
    # a job read by an ML rule keeps what could alert; the others follow --min-score
    assert high == {job.job_id: min(90.0, float(thresholds.get(job.job_id, 90.0))) for job in package.jobs}
    assert 25.0 in high.values()
