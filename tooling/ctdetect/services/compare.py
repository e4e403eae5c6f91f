"""``replay --compare``: the same scenarios through both backends, and where they disagree.

Parity between the embedded engine and Elastic is what users will trust or not, so the
report is about differences only: for each scenario, every expectation whose outcome
differs (met on one side, unmet on the other) and every rule or job whose findings
differ (count, and which alert times or anomaly buckets only one side has). Both runs use
the same events (mapped once per backend by the same replay code) and the same
expectation checks (``services.expectations``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ctdetect.findings import Finding
from ctdetect.services.replay import ReplayResult, ScenarioResult, run_replay

MAX_EXAMPLES = 5


@dataclass(slots=True)
class Disagreement:
    scenario: str
    kind: str  # expectation | findings | events
    subject: str  # "rule <id>" / "job <id>" / expectation description
    embedded: str
    elasticsearch: str
    examples: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "kind": self.kind,
            "subject": self.subject,
            "embedded": self.embedded,
            "elasticsearch": self.elasticsearch,
            "examples": self.examples,
        }


@dataclass(slots=True)
class CompareResult:
    embedded: ReplayResult
    elasticsearch: ReplayResult
    disagreements: list[Disagreement]

    @property
    def agree(self) -> bool:
        return not self.disagreements


def run_compare(paths: list[str], package_root: str = ".", geoip_db: str | None = None, workers: int | None = None) -> CompareResult:
    """Raises ``ReplayUsageError`` / ``BackendUnavailable`` as ``run_replay`` does."""
    es = run_replay(paths, package_root=package_root, backend="elasticsearch", geoip_db=geoip_db, workers=1)
    embedded = run_replay(paths, package_root=package_root, backend="embedded", geoip_db=geoip_db, workers=workers)
    found: list[Disagreement] = []
    for emb, other in zip(embedded.scenarios, es.scenarios):
        found.extend(compare_scenario(emb, other))
    return CompareResult(embedded, es, found)


def _key(f: Finding) -> str:
    return f.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def compare_scenario(emb: ScenarioResult, es: ScenarioResult) -> list[Disagreement]:
    name = emb.scenario.name
    out: list[Disagreement] = []
    if emb.events != es.events:
        out.append(Disagreement(name, "events", "events read", str(emb.events), str(es.events)))
    for a, b in zip(emb.outcomes, es.outcomes):
        if a.status != b.status:
            label = a.expectation.description or f"expectation {a.expectation.index + 1}"
            out.append(Disagreement(name, "expectation", f"{a.target}: {label}", f"{a.status} ({a.detail})", f"{b.status} ({b.detail})"))
    by_source_a = _group(emb.findings)
    by_source_b = _group(es.findings)
    for source in sorted(set(by_source_a) | set(by_source_b)):
        left, right = by_source_a.get(source, []), by_source_b.get(source, [])
        times_a, times_b = Counter(map(_key, left)), Counter(map(_key, right))
        if times_a == times_b:
            continue
        only_a = sorted((times_a - times_b).elements())[:MAX_EXAMPLES]
        only_b = sorted((times_b - times_a).elements())[:MAX_EXAMPLES]
        examples = [f"only embedded: {t}" for t in only_a] + [f"only elasticsearch: {t}" for t in only_b]
        kind = (left or right)[0].kind
        out.append(Disagreement(name, "findings", f"{'rule' if kind == 'alert' else 'job'} {source}", f"{len(left)} {kind}(s)", f"{len(right)} {kind}(s)", examples))
    return out


def _group(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.source_id, []).append(f)
    return out
