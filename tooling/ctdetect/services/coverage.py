"""The package's coverage table: every rule and job, its ATT&CK tactics and techniques, the
scenarios that prove it fires and stays silent, and its alert volume on the quiet month.

Why generated: a hand-kept table drifts the day a rule is added. The table is built from the
content (rules, jobs, scenario expectations) plus one results file written by a replay of the
``quiet-month`` scenario (the only part that needs a run), and written into README.md between
``<!-- coverage:start -->`` and ``<!-- coverage:end -->`` (rendered by ``reporting.coverage``). A test rebuilds it from the same
inputs and fails when the README is stale, so the table in the README is always the truth.

Public API:

- ``build_coverage(package, volumes) -> Coverage``: the rows, in a stable order.
- ``load_volumes(path) -> QuietMonthVolumes | None`` / ``volumes_from_findings(...)`` /
  ``write_volumes(volumes, path)``: the results file (JSON, below).
- ``replace_section(readme_text, section) -> str``: the README with the section replaced (or
  appended when the markers are absent).

Results file (``scenarios/quiet-month/results.json``)::

    {"scenario": "quiet-month", "days": 30, "principals": 50,
     "alerts": {"<rule_id>": 3, ...},            # alerts per rule over the whole month
     "anomalies": {"<job_id>": {"records": 41, "at_threshold": 2}, ...}}

``at_threshold`` counts anomaly records whose score reaches the lowest ``anomaly_threshold``
of the rules that use the job: the alerts the job would raise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ctdetect.content.model import MLJob, Package, Rule, Scenario
from ctdetect.findings import Finding

START_MARKER = "<!-- coverage:start -->"
END_MARKER = "<!-- coverage:end -->"
QUIET_MONTH = "quiet-month"
RESULTS_FILE = Path("scenarios") / QUIET_MONTH / "results.json"
DAILY_TARGET = 5.0


@dataclass(slots=True)
class QuietMonthVolumes:
    """Alert and anomaly counts from one replay of the quiet-month scenario."""

    days: int
    principals: int | None = None
    alerts: dict[str, int] = field(default_factory=dict)  # rule_id -> alerts
    anomalies: dict[str, dict[str, int]] = field(default_factory=dict)  # job_id -> {records, at_threshold}

    @property
    def total_alerts(self) -> int:
        return sum(self.alerts.values())

    @property
    def alerts_per_day(self) -> float:
        return self.total_alerts / self.days if self.days else 0.0


@dataclass(slots=True)
class CoverageRow:
    kind: str  # "rule" | "job"
    ident: str  # rule_id or job_id
    name: str
    rule_type: str  # query / eql / threshold / new_terms / machine_learning / job function
    tactics: list[str]
    techniques: list[str]
    fires_in: list[str]
    silent_in: list[str]
    volume: str  # quiet-month cell, already formatted


@dataclass(slots=True)
class Coverage:
    rows: list[CoverageRow]
    volumes: QuietMonthVolumes | None
    tactics: list[str]  # every tactic covered, sorted

    @property
    def missing_scenarios(self) -> list[CoverageRow]:
        """Rows that lack a firing or a silent scenario (the package promises both)."""
        return [r for r in self.rows if not r.fires_in or not r.silent_in]


# --------------------------------------------------------------------------- results file


def load_volumes(path: Path) -> QuietMonthVolumes | None:
    """Read the results file; ``None`` when it is absent or unreadable (the column then says so)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("days"), int):
        return None
    alerts = {str(k): int(v) for k, v in (doc.get("alerts") or {}).items() if isinstance(v, int)}
    anomalies: dict[str, dict[str, int]] = {}
    for job_id, counts in (doc.get("anomalies") or {}).items():
        if isinstance(counts, dict):
            anomalies[str(job_id)] = {k: int(v) for k, v in counts.items() if isinstance(v, int)}
    principals = doc.get("principals")
    return QuietMonthVolumes(days=doc["days"], principals=principals if isinstance(principals, int) else None, alerts=alerts, anomalies=anomalies)


def write_volumes(volumes: QuietMonthVolumes, path: Path) -> None:
    doc = {
        "scenario": QUIET_MONTH,
        "days": volumes.days,
        "principals": volumes.principals,
        "alerts": dict(sorted(volumes.alerts.items())),
        "anomalies": {k: dict(sorted(v.items())) for k, v in sorted(volumes.anomalies.items())},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def job_thresholds(package: Package) -> dict[str, int]:
    """Lowest ``anomaly_threshold`` among the machine_learning rules that use each job."""
    out: dict[str, int] = {}
    for rule in package.rules:
        if rule.type != "machine_learning" or rule.anomaly_threshold is None:
            continue
        for job_id in rule.machine_learning_job_id:
            out[job_id] = min(out.get(job_id, rule.anomaly_threshold), rule.anomaly_threshold)
    return out


def volumes_from_findings(findings: Iterable[Finding], package: Package, days: int, principals: int | None) -> QuietMonthVolumes:
    """Count a quiet-month replay's findings per rule and per job.

    Every rule and job of the package gets an entry, zero included, so the table can tell
    "ran, no alert" from "not run".
    """
    thresholds = job_thresholds(package)
    alerts = {rule.rule_id: 0 for rule in package.rules}
    anomalies = {job.job_id: {"records": 0, "at_threshold": 0} for job in package.jobs}
    for finding in findings:
        if finding.kind == "alert":
            alerts[finding.source_id] = alerts.get(finding.source_id, 0) + 1
        elif finding.kind == "anomaly":
            counts = anomalies.setdefault(finding.source_id, {"records": 0, "at_threshold": 0})
            counts["records"] += 1
            threshold = thresholds.get(finding.source_id)
            if threshold is not None and finding.score >= threshold:
                counts["at_threshold"] += 1
    return QuietMonthVolumes(days=days, principals=principals, alerts=alerts, anomalies=anomalies)


# --------------------------------------------------------------------------- table


def _scenario_refs(scenarios: list[Scenario], rules: list[Rule]) -> dict[tuple[str, str], tuple[set[str], set[str]]]:
    """(kind, id) -> (scenarios where it must fire, scenarios where it must stay silent).

    Expectations name a rule by rule_id or by name; both resolve to the rule_id. Scenarios
    waiting for a feature (``waits_for``) still count: they say what is proven once it lands.
    """
    by_name = {rule.name: rule.rule_id for rule in rules}
    refs: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    for scenario in scenarios:
        if scenario.name == QUIET_MONTH:
            continue  # the quiet month is a volume measurement, shown in its own column
        for exp in scenario.expectations:
            if exp.rule:
                key = ("rule", by_name.get(exp.rule, exp.rule))
            elif exp.job:
                key = ("job", exp.job)
            else:
                continue
            fires, silent = refs.setdefault(key, (set(), set()))
            (fires if exp.fires else silent).add(scenario.name)
    return refs


def _threat(rule: Rule) -> tuple[list[str], list[str]]:
    tactics: list[str] = []
    techniques: list[str] = []
    for threat in rule.threat:
        tactic = f"{threat.tactic.name} ({threat.tactic.id})"
        if tactic not in tactics:
            tactics.append(tactic)
        for tech in threat.techniques:
            subs = threat.subtechniques.get(tech.id, [])
            for entry in subs or [tech]:
                if entry.id not in techniques:
                    techniques.append(entry.id)
    return tactics, techniques


def _rule_volume(rule: Rule, volumes: QuietMonthVolumes | None) -> str:
    if volumes is None:
        return "not run"
    if rule.rule_id not in volumes.alerts:
        return "not run"
    count = volumes.alerts[rule.rule_id]
    return f"{count} ({count / volumes.days:.2f}/day)" if volumes.days else str(count)


def _job_volume(job: MLJob, volumes: QuietMonthVolumes | None) -> str:
    if volumes is None or job.job_id not in volumes.anomalies:
        return "not run"
    counts = volumes.anomalies[job.job_id]
    return f"{counts.get('records', 0)} records, {counts.get('at_threshold', 0)} at threshold"


def build_coverage(package: Package, volumes: QuietMonthVolumes | None) -> Coverage:
    """One row per search rule, then per machine_learning rule (each by type, then name), then per job (by id)."""
    refs = _scenario_refs(package.scenarios, package.rules)
    rows: list[CoverageRow] = []
    all_tactics: set[str] = set()
    job_threat: dict[str, tuple[list[str], list[str]]] = {}
    for rule in sorted(package.rules, key=lambda r: (r.type == "machine_learning", r.type, r.name.lower())):
        tactics, techniques = _threat(rule)
        all_tactics.update(tactics)
        for job_id in rule.machine_learning_job_id:
            seen_t, seen_q = job_threat.setdefault(job_id, ([], []))
            seen_t.extend(t for t in tactics if t not in seen_t)
            seen_q.extend(t for t in techniques if t not in seen_q)
        fires, silent = refs.get(("rule", rule.rule_id), (set(), set()))
        rows.append(CoverageRow("rule", rule.rule_id, rule.name, rule.type, tactics, techniques, sorted(fires), sorted(silent), _rule_volume(rule, volumes)))
    for job in sorted(package.jobs, key=lambda j: j.job_id):
        tactics, techniques = job_threat.get(job.job_id, ([], []))
        functions = sorted({d.function for d in job.detectors}) or ["?"]
        fires, silent = refs.get(("job", job.job_id), (set(), set()))
        rows.append(CoverageRow("job", job.job_id, job.job_id, "job: " + ", ".join(functions), list(tactics), list(techniques), sorted(fires), sorted(silent), _job_volume(job, volumes)))
    return Coverage(rows=rows, volumes=volumes, tactics=sorted(all_tactics))


# --------------------------------------------------------------------------- README


def replace_section(readme: str, section: str) -> str:
    """Put ``section`` between the markers; append a "Coverage" section when they are absent."""
    start = readme.find(START_MARKER)
    end = readme.find(END_MARKER)
    block = f"{START_MARKER}\n{section}{END_MARKER}"
    if start != -1 and end > start:
        return readme[:start] + block + readme[end + len(END_MARKER):]
    sep = "" if readme.endswith("\n") else "\n"
    return f"{readme}{sep}\n## Coverage\n\n{block}\n"


def current_section(readme: str) -> str | None:
    """The text between the markers, or ``None`` when they are absent."""
    start = readme.find(START_MARKER)
    end = readme.find(END_MARKER)
    if start == -1 or end <= start:
        return None
    return readme[start + len(START_MARKER):end].lstrip("\n")


def coverage_for_root(root: Path, results: Path | None = None) -> tuple[Package, Coverage]:
    """Load the package at ``root`` and build its coverage with the committed results file."""
    from ctdetect.content.loaders import load_package

    package = load_package(root)
    volumes = load_volumes(results if results is not None else root / RESULTS_FILE)
    return package, build_coverage(package, volumes)
