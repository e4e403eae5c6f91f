"""Small deterministic event generators for the anomaly tests (no files, no ../shared)."""

from __future__ import annotations

import random
from typing import Any, Iterator

HOUR_MS = 3600 * 1000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a multiple of every bucket span used


def rare_history(
    span_ms: int,
    buckets: int,
    values: list[str],
    field: str = "event.action",
    extra: dict[str, Any] | None = None,
    seed: int = 7,
    start: int = T0,
) -> Iterator[dict[str, Any]]:
    """Every value of ``values`` once or twice in every bucket, at random offsets."""
    rng = random.Random(seed)
    for b in range(buckets):
        base = start + b * span_ms
        times = []
        for v in values:
            for _ in range(rng.randint(1, 2)):
                times.append((base + rng.randrange(span_ms), v))
        for t, v in sorted(times):
            ev = {"_ts": t, field: v}
            if extra:
                ev.update(extra)
            yield ev


def job(function: str, span: str = "15m", **detector: Any) -> dict[str, Any]:
    """A put-job body with one detector."""
    influencers = detector.pop("influencers", [])
    return {
        "job_id": f"test_{function}",
        "analysis_config": {"bucket_span": span, "detectors": [{"function": function, **detector}], "influencers": influencers},
        "data_description": {"time_field": "@timestamp"},
    }


def records(runner: Any) -> list[dict[str, Any]]:
    return [d for d in runner.results() if d["result_type"] == "record"]


GOLDEN_PROPERTY = "golden"


def record_golden(record_property: Any, source: str, expected: str, ours: str, result: str | None = None) -> None:
    """Note a golden case's figures on its test (pytest's ``record_property``), before it
    asserts: ``bench/golden_table.py`` runs the golden tests with a JUnit report and prints
    these beside each outcome, so the table of ml-cpp cases can be regenerated. ``result``
    replaces the outcome in the table when the test checks something else than the case
    (``"not held"``: a case of ml-cpp's file that ours cannot be held to, ``ours`` says why)."""
    import json

    figures = {"source": source, "expected": expected, "ours": ours}
    if result is not None:
        figures["result"] = result
    record_property(GOLDEN_PROPERTY, json.dumps(figures))
