"""Typed model of the content a package holds: rules, ML jobs, datafeeds, playbooks,
hunting queries and scenarios.

Every object keeps the file it came from and, through ``Located.line_of``, the line of
each of its keys, so a check can point a rule author at the exact line to fix. The raw
mapping (``raw``) is kept unchanged: deploy and export send Elastic exactly what the
author wrote, and the typed attributes are a convenient, validated view of it.

Loaders (``ctdetect.content.loaders``) build these objects; they never raise on bad
content, they return ``LoadProblem``s and load what they can.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

Severity = Literal["error", "warning", "info"]


@dataclass(slots=True)
class LoadProblem:
    """A problem found while reading a file: the same shape as a validation problem."""

    file: Path
    line: int | None
    column: int | None
    check: str
    severity: Severity
    message: str


@dataclass(slots=True)
class Located:
    """Where an object came from. ``lines`` maps dotted keys (``rule.threat.0.tactic.id``) to 1-based lines.

    For TOML string values the loader also records ``<key>@line`` / ``<key>@column``: where
    the string's text starts, so a position inside a query maps to the file
    (``ctdetect.content.positions.value_start``).
    """

    path: Path
    lines: Mapping[str, int] = field(default_factory=dict)  # a dict, or a LazyKeyLines filled on first use

    def line_of(self, key: str) -> int | None:
        """Line of ``key``, else of its closest parent key, else ``None``."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key.rpartition(".")[0]
        return None


# --------------------------------------------------------------------------- rules


@dataclass(slots=True)
class ThreatEntry:
    """An ATT&CK reference: ``id`` (TA0001 / T1078 / T1078.004), ``name``, ``reference``."""

    id: str
    name: str
    reference: str = ""


@dataclass(slots=True)
class Threat:
    framework: str
    tactic: ThreatEntry
    techniques: list[ThreatEntry] = field(default_factory=list)
    # sub-techniques keyed by the parent technique id
    subtechniques: dict[str, list[ThreatEntry]] = field(default_factory=dict)


@dataclass(slots=True)
class ThresholdSpec:
    field: list[str]
    value: int
    cardinality: list[tuple[str, int]] = field(default_factory=list)  # (field, value)


@dataclass(slots=True)
class NewTermsSpec:
    fields: list[str]
    history_window_start: str  # date math, e.g. "now-14d"


RuleType = Literal["query", "eql", "threshold", "new_terms", "esql", "machine_learning", "saved_query", "threat_match"]


@dataclass(slots=True)
class Rule:
    """A detection rule in Elastic's detection-rules TOML format (``[metadata]`` + ``[rule]``)."""

    source: Located
    raw: dict[str, Any]  # the whole TOML document, unchanged
    rule_id: str
    name: str
    type: str
    description: str = ""
    language: str | None = None  # kuery | lucene | eql | esql (None for machine_learning)
    query: str | None = None
    index: list[str] = field(default_factory=list)
    severity: str = ""
    risk_score: int | None = None
    from_: str = "now-6m"  # TOML key ``from``
    interval: str = "5m"
    max_signals: int = 100
    enabled: bool = True
    timestamp_override: str | None = None
    tags: list[str] = field(default_factory=list)
    note: str | None = None
    threat: list[Threat] = field(default_factory=list)
    investigation_fields: list[str] = field(default_factory=list)
    threshold: ThresholdSpec | None = None
    new_terms: NewTermsSpec | None = None
    machine_learning_job_id: list[str] = field(default_factory=list)
    anomaly_threshold: int | None = None
    maturity: str = ""
    creation_date: str = ""
    updated_date: str = ""

    @property
    def rule(self) -> dict[str, Any]:
        """The ``[rule]`` table as written."""
        return self.raw.get("rule", {})

    @property
    def metadata(self) -> dict[str, Any]:
        return self.raw.get("metadata", {})


def find_rule(rules: list[Rule], ref: str | None) -> Rule | None:
    """The rule a reference names: its ``rule_id``, else its exact ``name``.

    The one reading of "rule_id or name" (scenario expectations, ``--rule``, coverage), so
    an expectation written with a rule's name counts for that rule everywhere."""
    if not ref:
        return None
    return next((r for r in rules if r.rule_id == ref), None) or next((r for r in rules if r.name == ref), None)


def alert_thresholds(rules: list[Rule]) -> dict[str, int]:
    """job_id -> the lowest ``anomaly_threshold`` of the machine_learning rules reading the
    job: the record score at which the job's anomalies become alerts."""
    out: dict[str, int] = {}
    for rule in rules:
        if rule.type != "machine_learning" or rule.anomaly_threshold is None:
            continue
        for job_id in rule.machine_learning_job_id:
            out[job_id] = min(out.get(job_id, rule.anomaly_threshold), rule.anomaly_threshold)
    return out


# --------------------------------------------------------------------------- ML


@dataclass(slots=True)
class Detector:
    function: str
    field_name: str | None = None
    by_field_name: str | None = None
    over_field_name: str | None = None
    partition_field_name: str | None = None
    use_null: bool = False
    exclude_frequent: str | None = None
    detector_description: str = ""
    detector_index: int = 0


@dataclass(slots=True)
class MLJob:
    """An anomaly-detection job: the body of ES put-job plus ``job_id``.

    For Elastic's module layout (``ml/<job_id>.json`` without a ``job_id`` key) the loader
    takes the id from the file name.
    """

    source: Located
    raw: dict[str, Any]
    job_id: str
    description: str = ""
    groups: list[str] = field(default_factory=list)
    bucket_span: str = "5m"
    bucket_span_seconds: int = 300
    detectors: list[Detector] = field(default_factory=list)
    influencers: list[str] = field(default_factory=list)
    summary_count_field_name: str | None = None
    model_prune_window: str | None = None
    time_field: str = "@timestamp"
    model_memory_limit: str | None = None
    # ML filters of the folder the job was loaded from (``ml_jobs/filters/``): filter id ->
    # items, what the detectors' ``custom_rules`` scopes name
    filters: dict[str, list[str]] = field(default_factory=dict)


@dataclass(slots=True)
class MLFilter:
    """An ML filter (``ml_jobs/filters/<filter_id>.json``): the body of ES put-filter,
    ``PUT _ml/filters/<filter_id>``, a list of values for ``custom_rules`` scopes."""

    source: Located
    raw: dict[str, Any]
    filter_id: str
    items: list[str] = field(default_factory=list)
    description: str = ""


@dataclass(slots=True)
class Datafeed:
    """The body of ES put-datafeed, with ``datafeed_id`` and ``job_id``."""

    source: Located
    raw: dict[str, Any]
    datafeed_id: str
    job_id: str
    indices: list[str] = field(default_factory=list)
    query: dict[str, Any] = field(default_factory=lambda: {"match_all": {}})
    query_delay: str | None = None
    frequency: str | None = None


# --------------------------------------------------------------------------- playbooks


@dataclass(slots=True)
class Playbook:
    """An investigation guide (Markdown with a small YAML front matter naming its rules).

    The rule's ``note`` is generated from ``body``: one source of truth.
    """

    source: Located
    rule_ids: list[str]
    title: str
    body: str  # Markdown without the front matter
    sections: dict[str, str] = field(default_factory=dict)  # heading -> text


@dataclass(slots=True)
class HuntingQuery:
    """A threat-hunting query: KQL/Lucene deploy as Kibana saved queries, ES|QL as Discover sessions."""

    source: Located
    raw: dict[str, Any]
    id: str
    name: str
    description: str
    query: str
    language: str = "kuery"
    normal: str = ""  # what benign results look like
    tags: list[str] = field(default_factory=list)
    threat: list[Threat] = field(default_factory=list)


# --------------------------------------------------------------------------- scenarios


@dataclass(slots=True)
class EventSource:
    """Events of a scenario: a file or folder (raw CloudTrail, or ECS NDJSON)."""

    path: Path
    format: str = "auto"  # auto | cloudtrail | ecs


@dataclass(slots=True)
class SynthSpec:
    """A generated benign baseline: parameters handed to ``ctdetect.synth`` unchanged."""

    params: dict[str, Any]


@dataclass(slots=True)
class Expectation:
    """One thing a scenario asserts about the findings.

    Exactly one of ``rule`` (rule_id or name) and ``job`` (job_id). ``fires`` false means
    the rule/job must stay silent (within ``entity`` when given). ``entity`` maps field
    names to values the finding must carry (alert source fields; for anomalies the
    partition/by/over field values or influencers). Counts are inclusive bounds.
    """

    source: Located
    index: int
    rule: str | None = None
    job: str | None = None
    fires: bool = True
    entity: dict[str, Any] = field(default_factory=dict)
    min_count: int | None = None
    max_count: int | None = None
    min_score: float | None = None
    after: str | None = None  # only findings at or after this time count
    before: str | None = None
    waits_for: str | None = None  # an issue/feature this expectation waits for (reported, not failed)
    description: str = ""


@dataclass(slots=True)
class Scenario:
    source: Located  # path of scenario.toml
    name: str
    description: str
    events: list[EventSource] = field(default_factory=list)
    synth: list[SynthSpec] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # scenario.toml as written

    @property
    def folder(self) -> Path:
        return self.source.path.parent


# --------------------------------------------------------------------------- package


@dataclass(slots=True)
class Package:
    """Everything loaded from a package root (or from a bare folder of rules)."""

    root: Path
    rules: list[Rule] = field(default_factory=list)
    jobs: list[MLJob] = field(default_factory=list)
    datafeeds: list[Datafeed] = field(default_factory=list)
    filters: list[MLFilter] = field(default_factory=list)  # ml_jobs/filters/
    playbooks: list[Playbook] = field(default_factory=list)
    hunting_queries: list[HuntingQuery] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    # job ids that rules may reference without the job being in ml_jobs/ (Elastic's prebuilt jobs)
    external_job_ids: set[str] = field(default_factory=set)
    # content folders present under ``root`` (rules, ml_jobs, datafeeds, playbooks, scenarios);
    # empty for a bare folder or file of rules. Checks that need a folder apply only when it exists.
    components: set[str] = field(default_factory=set)

    @property
    def is_package(self) -> bool:
        return bool(self.components)

    def datafeed_for(self, job_id: str) -> Datafeed | None:
        return next((d for d in self.datafeeds if d.job_id == job_id), None)

    def job(self, job_id: str) -> MLJob | None:
        return next((j for j in self.jobs if j.job_id == job_id), None)
