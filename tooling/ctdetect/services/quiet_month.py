"""Replay the ``quiet-month`` scenario and count the alerts and anomalies it raises.

Why: anomaly detection earns its place only if it does not drown analysts. The quiet month is
30 days of benign activity of a 50-principal organisation (``ctdetect.synth``, seeded, plus
ordinary host traffic to the metadata service); every rule and job of the package runs over
it, and what fires is, by construction, a false positive. ``run`` returns the counts that
``ctdetect coverage`` writes to ``scenarios/quiet-month/results.json`` and shows in the README.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ctdetect.services.coverage import QUIET_MONTH, QuietMonthVolumes, volumes_from_findings
from ctdetect.timeutil import BadTimestamp, parse_datetime


class QuietMonthError(Exception):
    """The quiet-month scenario is missing, unreadable or read no events."""


@dataclass(slots=True)
class QuietMonthRun:
    volumes: QuietMonthVolumes
    events: int
    unmet: list[str] = field(default_factory=list)  # expectations (max_count) the run broke


def _span_days(params: list[dict]) -> tuple[int, int | None]:
    """Days covered and principals, from the scenario's ``[[synth]]`` tables."""
    days = 0.0
    principals: int | None = None
    for p in params:
        if isinstance(p.get("days"), (int, float)):
            days = max(days, float(p["days"]))
        elif isinstance(p.get("end"), str) and isinstance(p.get("start"), str):
            try:
                start, end = parse_datetime(p["start"]), parse_datetime(p["end"])
            except BadTimestamp:
                continue  # the replay reports a [[synth]] table that cannot generate
            days = max(days, (end - start).total_seconds() / 86400)
        if isinstance(p.get("principals"), int):
            principals = (principals or 0) + p["principals"]
    return round(days), principals


def run_detailed(root: Path, geoip_db: str | None = None) -> QuietMonthRun:
    """Replay ``scenarios/quiet-month`` with the whole package; raise ``QuietMonthError``."""
    from ctdetect.content.loaders import load_package
    from ctdetect.services.replay import ReplayUsageError, ReplayWorkerError, run_replay

    folder = root / "scenarios" / QUIET_MONTH
    if not (folder / "scenario.toml").is_file():
        raise QuietMonthError(f"{folder / 'scenario.toml'} does not exist")
    try:
        replay = run_replay([str(folder)], package_root=str(root), geoip_db=geoip_db)
    except (ReplayUsageError, ReplayWorkerError) as exc:  # (its ML jobs may run in processes of their own)
        raise QuietMonthError(str(exc)) from exc
    if not replay.scenarios:
        raise QuietMonthError(f"{folder}: no scenario loaded ({'; '.join(replay.problems) or 'unknown reason'})")
    result = replay.scenarios[0]
    if result.zero_events:
        raise QuietMonthError(f"{folder}: the scenario read zero events")
    days, principals = _span_days([s.params for s in result.scenario.synth])
    if days <= 0:
        raise QuietMonthError(f"{folder}: no [[synth]] table gives the number of days")
    package = load_package(root)
    volumes = volumes_from_findings(result.findings, package, days=days, principals=principals)
    unmet = [f"{o.target}: {o.detail}" for o in result.outcomes if o.status == "unmet"]
    return QuietMonthRun(volumes=volumes, events=result.events, unmet=unmet)


def refresh(root: Path, results_path: Path, geoip_db: str | None = None) -> QuietMonthRun:
    """Replay the quiet month and rewrite its results file (what ``coverage --run`` does);
    raises ``QuietMonthError`` (also when the file cannot be written)."""
    from ctdetect.services.coverage import write_volumes

    outcome = run_detailed(root, geoip_db)
    try:
        write_volumes(outcome.volumes, results_path)
    except OSError as exc:
        raise QuietMonthError(f"cannot write {results_path}: {exc.strerror or exc}") from exc
    return outcome


def run(root: Path, geoip_db: str | None = None) -> QuietMonthVolumes:
    """The counts only (what the coverage table needs)."""
    return run_detailed(root, geoip_db).volumes
