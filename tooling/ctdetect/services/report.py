"""What the HTML report of ``hunt`` and ``replay`` shows, as data: every finding ranked, and for
the highest-ranked ones the events behind them and their playbook's triage steps.

Why a service: the report needs more than the run's result. It reads the events again
(``services.evidence``) and looks up playbooks, so it belongs with the code that knows the
inputs; ``reporting.html`` only lays the data out. Only the first ``detailed`` findings get
events and triage steps (a report of ten thousand expanded findings helps nobody, and
reading events for each costs time); the report says how many it left out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ctdetect.catalogue import load_catalogue
from ctdetect.content.model import Datafeed, Package, Rule
from ctdetect.content.playbooks import split_sections
from ctdetect.ecs.stream import EventIdWindow
from ctdetect.findings import Finding
from ctdetect.readers import SkipCounter
from ctdetect.services.content import RunContent, load_content
from ctdetect.services.evidence import Evidence, collect, evidence_query
from ctdetect.services.hunt import HuntOptions, HuntResult, hunt_events, rank
from ctdetect.services.inputs import make_mapper
from ctdetect.services.replay import ReplayResult
from ctdetect.services.scenario_events import scenario_events

TRIAGE_SECTION = "Triage and analysis"
DETAILED = 200  # findings shown with their events and triage steps
EVENTS_PER_FINDING = 20


@dataclass(slots=True)
class ReportFinding:
    finding: Finding
    scenario: str | None = None  # replay: the scenario it fired in
    evidence: Evidence | None = None  # None: not among the detailed findings
    playbook: str | None = None  # the playbook's title (or "the rule's note")
    triage: str | None = None  # Markdown: the triage steps


@dataclass(slots=True)
class ExpectationRow:
    scenario: str
    expectation: str
    status: str  # met | unmet | waiting
    detail: str


@dataclass(slots=True)
class Report:
    title: str
    subtitle: str
    generated_ms: int
    summary: list[str]
    findings: list[ReportFinding]  # ranked: highest score first
    detailed: int  # how many of them carry events and triage
    expectations: list[ExpectationRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def hunt_report(result: HuntResult, opts: HuntOptions, *, detailed: int = DETAILED, per_finding: int = EVENTS_PER_FINDING) -> Report:
    """The report of a hunt: its inputs are read a second time for the events behind findings."""
    content = result.content or RunContent()
    items = [ReportFinding(f) for f in result.findings]
    top = items[:detailed]
    types = load_catalogue().field_types()
    queries = [evidence_query(i.finding, _rules(content), _feeds(content), types) for i in top]
    notes: list[str] = []
    if opts.stdin is not None:
        found = [Evidence(f"not shown: standard input is read once ({q.how})") for q in queries]
        notes.append("Events behind findings are not shown: the input was standard input, which cannot be read twice.")
    else:
        window = None if opts.keep_duplicates else EventIdWindow()
        found = collect(queries, hunt_events(opts, make_mapper(opts.geoip_db), SkipCounter(), window), per_finding)
    _fill(top, found, content)
    s = result.stats
    summary = [
        f"{s.events_read:,} events read; {s.events_duplicate:,} duplicates dropped; {s.events_skipped:,} skipped",
        f"content: {result.rules_run} rules, {result.jobs_run} ML jobs; {len(items):,} findings",
    ]
    return Report("ctdetect hunt", " ".join(str(p) for p in opts.paths), _now_ms(), summary, items, len(top),
                  notes=notes + list(result.problems))


def replay_report(result: ReplayResult, package_root: str | Path = ".", geoip_db: str | None = None, *,
                  detailed: int = DETAILED, per_finding: int = EVENTS_PER_FINDING) -> Report:
    """The report of a replay: findings of every scenario, the expectations and their outcome."""
    content = load_content(package_root)
    by_finding = {id(f): s for s in result.scenarios for f in s.findings}
    ranked = rank([f for s in result.scenarios for f in s.findings])
    items = [ReportFinding(f, scenario=by_finding[id(f)].scenario.name) for f in ranked]
    top = items[:detailed]
    rules, feeds = _rules(content), _feeds(content)
    types = load_catalogue().field_types()
    queries = [evidence_query(i.finding, rules, feeds, types) for i in top]
    found: list[Evidence | None] = [None] * len(top)
    mapper = make_mapper(geoip_db)
    for s in result.scenarios:  # one scenario's events in memory at a time
        mine = [n for n, i in enumerate(top) if by_finding[id(i.finding)] is s]
        if mine:
            events = scenario_events(s.scenario, mapper, SkipCounter())
            for n, evidence in zip(mine, collect([queries[n] for n in mine], events, per_finding)):
                found[n] = evidence
    _fill(top, [e or Evidence(q.how) for e, q in zip(found, queries)], content)
    rows = [ExpectationRow("(not loaded)", "(scenario file)", "unmet", e) for e in result.scenario_errors]
    for s in result.scenarios:
        if s.zero_events:
            rows.append(ExpectationRow(s.scenario.name, "(scenario)", "unmet", "reads zero events"))
        rows += [ExpectationRow(s.scenario.name, "(scenario)", "unmet", e) for e in s.errors]
        for o in s.outcomes:
            e = o.expectation
            what = f"{'fires' if e.fires else 'silent'}: {_target_name(e.rule, e.job, content)}"
            if e.entity:
                what += " " + " ".join(f"{k}={v}" for k, v in e.entity.items())
            rows.append(ExpectationRow(s.scenario.name, what, o.status, o.detail))
    totals = result.summary()
    summary = [
        f"{totals['scenarios']} scenario{'s' if totals['scenarios'] != 1 else ''} ({totals['scenarios_failed']} failed); "
        f"{totals['expectations']} expectations: {totals['met']} met, {totals['unmet']} unmet, {totals['waiting']} waiting",
        f"{len(items):,} findings",
    ]
    names = [s.scenario.name for s in result.scenarios]
    what = ", ".join(names) if len(names) <= 3 else f"{len(names)} scenarios"
    subtitle = f"package {Path(package_root).resolve()}: {what or 'no scenario'}"
    return Report("ctdetect replay", subtitle, _now_ms(), summary, items, len(top), rows, list(result.problems))


def triage_steps(f: Finding, package: Package | None, rules: dict[str, Rule]) -> tuple[str | None, str | None]:
    """(source, Markdown) of the triage steps for ``f``: its rule's playbook (for an anomaly, the
    playbook of a machine_learning rule using the job), else the rule's ``note``."""
    if f.kind == "anomaly":
        rule_ids = [r.rule_id for r in rules.values() if f.source_id in r.machine_learning_job_id]
    else:
        rule_ids = [f.source_id]
    for playbook in package.playbooks if package is not None else []:
        if any(rid in playbook.rule_ids for rid in rule_ids):
            steps = playbook.sections.get(TRIAGE_SECTION)
            if steps:
                return playbook.title, steps
    for rid in rule_ids:
        note = rules[rid].note if rid in rules else None
        steps = split_sections(note).get(TRIAGE_SECTION) if note else None
        if steps:
            return f"the note of {rules[rid].name}", steps
    return None, None


def _fill(items: list[ReportFinding], found: list[Evidence], content: RunContent) -> None:
    rules = _rules(content)
    for item, evidence in zip(items, found):
        item.evidence = evidence
        item.playbook, item.triage = triage_steps(item.finding, content.package, rules)


def _rules(content: RunContent) -> dict[str, Rule]:
    return {r.rule_id: r for r in content.rules}


def _feeds(content: RunContent) -> dict[str, Datafeed | None]:
    return {job.job_id: feed for job, feed in content.jobs}


def _target_name(rule: str | None, job: str | None, content: RunContent) -> str:
    if job:
        return f"job {job}"
    named = _rules(content).get(rule or "")
    return f"rule {named.name}" if named else f"rule {rule}"


def _now_ms() -> int:
    return int(time.time() * 1000)

