"""What runs "inside" the fake cluster for elasticsearch-backend tests: ctdetect's own
engines, standing in for Elasticsearch's autodetect and Kibana's rule executors.

The fake stores documents exactly as the backend indexes them (nested), and hands them to
these callbacks flattened again; the callbacks find the package rule or job behind the
temporary ids and return Elastic-shaped records and alert documents. So a parity test
through the fake checks everything the backend does (mapping, indexing, time ranges,
id mapping, reading back, conversion to findings, cleanup), not the engines themselves.
"""

from __future__ import annotations

from typing import Any

from ctdetect.backends.es_ml import record_finding
from ctdetect.catalogue import load_catalogue
from ctdetect.content.model import Package
from ctdetect.ecs import flatten


def _flat_sorted(docs: list[dict]) -> list[dict]:
    flat = [flatten(d) for d in docs]
    return sorted(flat, key=lambda d: str(d.get("@timestamp", "")))


def ml_engine_for(package: Package) -> Any:
    from ctdetect.engine.anomaly import AnomalyJobRunner

    def run(job: dict, feed: dict, docs: list[dict], start_ms: int, end_ms: int) -> list[dict]:
        original = package.job(job["custom_settings"]["ctdetect_replay_of"])
        runner = AnomalyJobRunner.from_config(original, package.datafeed_for(original.job_id), load_catalogue().field_types())
        for doc in _flat_sorted(docs):
            runner.feed(doc)
        runner.flush()
        return [f.document for f in runner.to_findings() if start_ms <= int(f.document["timestamp"]) < end_ms]

    return run


def rule_engine_for(package: Package, fake: Any) -> Any:
    from ctdetect.engine.rules import RuleEngine

    def run(body: dict, docs: list[dict]) -> list[dict]:
        rule = next(r for r in package.rules if r.rule_id == body["rule_id"])
        engine = RuleEngine.build([rule], load_catalogue().field_types())
        for n, doc in enumerate(_flat_sorted(docs)):
            engine.feed(doc, n)
        anomalies = []
        for tmp in body.get("machine_learning_job_id", []):
            original = package.job(fake.state.jobs[tmp]["custom_settings"]["ctdetect_replay_of"])
            results = fake.state.indices.get(".ml-anomalies-shared", {"docs": {}})["docs"].values()
            anomalies.extend(record_finding(r, original.job_id) for r in results if r["job_id"] == tmp)
        out = []
        for alert in engine.finish(anomalies):
            out.append(alert.document)
            out.extend(alert.related)
        return out

    return run
