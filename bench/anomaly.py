"""Benchmark of the embedded anomaly engine: events/s per job and memory per modelled entity.

Prints, for each function, the throughput of ``AnomalyJobRunner`` over generated
CloudTrail-like events (datafeed ``match_all``, so only the engine is measured), the
memory held by its models per modelled entity, and, as the floor to beat, the rate at
which ``orjson`` parses the same events from NDJSON. Memory per entity is what the
timed run's models and normalisers hold at its end, divided by the entities they model. Also runs the package's own jobs
and datafeeds (``ml_jobs/``, ``datafeeds/``) together over the same events, as ``hunt``
does. Nothing is asserted; figures only.

    python bench/anomaly.py [--events 200000] [--entities 2000] [--days 14]
    python bench/anomaly.py --scores      # score behaviour of the count family only
    python bench/anomaly.py --only count  # the jobs whose name holds "count" only
    python bench/anomaly.py --only package  # the package's jobs together only
    python bench/anomaly.py --per-event   # feed event by event (``runner.feed``), not in batches
    python bench/anomaly.py --memory traced  # memory by tracemalloc over a second run (slow)

Events are fed as ``hunt`` feeds them: in batches of the embedded backend's ``JOB_BATCH``
through one ``SharedSelection`` (each datafeed clause once per batch, each job's rows a
bucket's run at a time); ``--per-event`` feeds each runner one event at a time instead.

``--scores`` prints what the count family makes of generated counts (30 days of 15-minute
buckets, seeded): the share of buckets of log-normal counts that score 75 or more (Elastic's
normaliser aims at about 0.1 % of buckets from 90 up and 0.25 % a 10-point band below,
ml-cpp ``CAnomalyScoreTest`` ``testNoiseForDifferentBucketLengths``), the scores of the true
outliers of a bursty mixture, and a nightly burst's score night after night.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
import tracemalloc
import types
from pathlib import Path
from typing import Any

import orjson

from ctdetect.backends.embedded import JOB_BATCH
from ctdetect.catalogue import load_catalogue
from ctdetect.engine.anomaly import AnomalyJobRunner
from ctdetect.engine.anomaly.selection import SharedSelection

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_767_225_600_000
ACTIONS = [f"Action{i}" for i in range(40)]


def make_events(n: int, entities: int, seed: int = 1, days: float = 14.0) -> list[dict[str, Any]]:
    """``n`` events over ``days`` days, ``entities`` users, 40 actions, some errors."""
    rng = random.Random(seed)
    span = int(days * 86400 * 1000)
    times = sorted(T0 + rng.randrange(span) for _ in range(n))
    out = []
    for t in times:
        user = f"user-{min(int(rng.paretovariate(1.2)) - 1, entities - 1)}" if rng.random() < 0.7 else f"user-{rng.randrange(entities)}"
        ev = {
            "_ts": t,
            "@timestamp": "",
            "event.dataset": "aws.cloudtrail",
            "event.module": "aws",
            "event.provider": "s3.amazonaws.com",
            "event.action": ACTIONS[min(int(rng.expovariate(0.25)), len(ACTIONS) - 1)],
            "user.name": user,
            "source.ip": f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(256)}",
            "source.geo.country_iso_code": rng.choice(["IE", "FR", "US", "DE"]),
            "source.geo.city_name": rng.choice(["Dublin", "Paris", "New York", "Berlin"]),
            "aws.cloudtrail.user_identity.arn": f"arn:aws:iam::123456789012:user/{user}",
        }
        if rng.random() < 0.05:
            ev["aws.cloudtrail.error_code"] = rng.choice(["AccessDenied", "ThrottlingException", "NoSuchBucket"])
            ev["aws.cloudtrail.error_message"] = f"denied on resource-{rng.randrange(50)}"
        out.append(ev)
    return out


def job(function: str, **detector: Any) -> dict[str, Any]:
    return {
        "job_id": "bench_" + function + "".join(f"_{k[:1]}" for k in detector),
        "analysis_config": {
            "bucket_span": "15m",
            "detectors": [{"function": function, **detector}],
            "influencers": ["user.name", "source.ip"],
        },
    }


JOBS = [
    ("rare by action", job("rare", by_field_name="event.action")),
    ("rare by action partition user", job("rare", by_field_name="event.action", partition_field_name="user.name")),
    ("rare by action over user", job("rare", by_field_name="event.action", over_field_name="user.name")),
    ("freq_rare by action over user", job("freq_rare", by_field_name="event.action", over_field_name="user.name")),
    ("count", job("count")),
    ("high_count by user", job("high_count", by_field_name="user.name")),
    ("non_zero_count partition user", job("non_zero_count", partition_field_name="user.name")),
    ("distinct_count(source.ip) by user", job("distinct_count", field_name="source.ip", by_field_name="user.name")),
    ("high_distinct_count(error_message)", job("high_distinct_count", field_name="aws.cloudtrail.error_message")),
]


def feed_all(runners: list[AnomalyJobRunner], events: list[dict[str, Any]], per_event: bool) -> None:
    """Feed ``events`` to ``runners`` as ``hunt`` does (batches through one ``SharedSelection``),
    or each event to each runner in turn (``per_event``)."""
    if per_event:
        for e in events:
            for r in runners:
                r.feed(e)
        return
    shared = SharedSelection(runners)
    for start in range(0, len(events), JOB_BATCH):
        shared.feed(events[start : start + JOB_BATCH])


# not memory a job holds: code, classes and modules its objects point to
NOT_HELD = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.CodeType)


def held_bytes(roots: list[Any], exclude: list[Any]) -> int:
    """Bytes of every object reachable from ``roots`` (``sys.getsizeof``, each object once,
    following ``gc.get_referents``), not counting ``exclude`` and what only they reach, nor
    code, classes and modules. Dicts and lists count with their spare capacity, numpy
    arrays with the data they own: within a few per cent of what ``tracemalloc`` sees the
    same models allocate (``--memory traced``), at a fraction of a second instead of a
    second run several times slower than the timed one."""
    seen = {id(x) for x in exclude}
    stack = list(roots)
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, NOT_HELD):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def model_bytes(runner: AnomalyJobRunner) -> int:
    """What a job's models and normalisers hold (its results are not model memory)."""
    return held_bytes([runner.detectors, runner.normalizers], [runner.spec, *runner.spec.detectors])


def measure(spec: dict[str, Any], events: list[dict[str, Any]], mem_events: int, per_event: bool = False, traced: bool = False) -> tuple[float, float, float, int]:
    """(events/s, CPU seconds, bytes per modelled entity, entities) for one job.

    CPU seconds (``time.process_time`` of the timed run) are the figure to compare between
    runs on a shared machine: events/s is wall-clock and moves with the other processes.

    Memory is what the timed run's models hold at its end (``model_bytes``), or with
    ``traced`` what ``tracemalloc`` sees a second run over the first ``mem_events`` events
    allocate and keep: tracing slows Python down several times, so it is never on while
    timing, and it made a month of 15-minute buckets of a few hundred series take tens of
    minutes (every known series closes every bucket under tracing).
    """
    warm = AnomalyJobRunner.from_config(spec)
    feed_all([warm], events[:2000], per_event)  # import scipy and warm the caches outside the timing
    runner = AnomalyJobRunner.from_config(spec)
    t0 = time.perf_counter()
    c0 = time.process_time()
    feed_all([runner], events, per_event)
    runner.flush()
    cpu = time.process_time() - c0
    elapsed = time.perf_counter() - t0
    if not traced:
        entities = sum(runner.entity_counts().values())
        return len(events) / elapsed, cpu, model_bytes(runner) / max(entities, 1), entities
    del runner
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    runner = AnomalyJobRunner.from_config(spec)
    feed_all([runner], events[:mem_events], per_event)
    runner.flush()
    # results are not model memory: drop them before reading what the models hold
    runner.buckets.clear()
    runner.records.clear()
    runner.influencer_results.clear()
    runner._scored.clear()
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    entities = sum(runner.entity_counts().values())
    return len(events) / elapsed, cpu, held / max(entities, 1), entities


def orjson_floor(events: list[dict[str, Any]]) -> float:
    lines = [orjson.dumps(e) for e in events]
    t0 = time.perf_counter()
    for line in lines:
        orjson.loads(line)
    return len(lines) / (time.perf_counter() - t0)


def package_jobs(events: list[dict[str, Any]], per_event: bool = False) -> tuple[int, float, float]:
    pairs = []
    for path in sorted((ROOT / "ml_jobs").glob("*.json")):
        body = json.loads(path.read_text())
        feed_path = ROOT / "datafeeds" / f"datafeed-{body['job_id']}.json"
        feed = json.loads(feed_path.read_text()) if feed_path.exists() else None
        pairs.append((body, feed))
    types = load_catalogue().field_types()
    runners = [AnomalyJobRunner.from_config(j, f, types) for j, f in pairs]
    t0 = time.perf_counter()
    c0 = time.process_time()
    feed_all(runners, events, per_event)
    for r in runners:
        r.flush()
    return len(runners), len(events) / (time.perf_counter() - t0), time.process_time() - c0


def count_scores(counts: list[int], function: str = "high_count") -> list[float]:
    """The bucket (anomaly) score of each 15-minute bucket of one series of counts."""
    body = {"job_id": "bench_scores", "analysis_config": {"bucket_span": "15m", "detectors": [{"function": function}]}}
    runner = AnomalyJobRunner.from_config(body)
    span = 900_000
    for b, c in enumerate(counts):
        for k in range(c):
            runner.feed({"_ts": T0 + b * span + (k * span) // max(c, 1), "@timestamp": ""})
    runner.flush(T0 + len(counts) * span)
    return [d["anomaly_score"] for d in runner.results() if d["result_type"] == "bucket"]


def score_behaviour() -> None:
    import math

    rng = random.Random(12)
    buckets = 30 * 96
    lognormal = [int(math.exp(rng.gauss(3.0, 0.5))) for _ in range(buckets)]
    scores = count_scores(lognormal)
    high = sum(1 for x in scores if x >= 75)
    print(f"log-normal counts (mu 3, sigma 0.5), {buckets:,} buckets: {high} scored >= 75 ({100.0 * high / buckets:.2f} %), max {max(scores):.1f}")
    mixture = [int(math.exp(rng.gauss(2.0, 0.3))) if rng.random() < 0.9 else int(math.exp(rng.gauss(3.0, 0.3))) for _ in range(buckets)]
    outliers = sorted(rng.sample(range(7 * 96, buckets), 5))
    for b in outliers:
        mixture[b] = 90  # about a 1e-7 event: 5 sigma above the upper mode in log space
    scores = count_scores(mixture)
    print("bursty mixture (90 % mode at e^2, 10 % at e^3), true outliers of 90 (about 1e-7 each): " + ", ".join(f"{scores[b]:.1f}" for b in outliers))
    nightly = [max(0, int(rng.gauss(20.0, 3.0))) for _ in range(buckets)]
    for day in range(7, 30):
        nightly[day * 96 + 8] = 200  # 02:00 every night from the eighth day
    scores = count_scores(nightly)
    print("nightly burst of 200 at 02:00, nights 8 to 30: " + " ".join(f"{scores[day * 96 + 8]:.0f}" for day in range(7, 30)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--entities", type=int, default=2_000)
    ap.add_argument("--days", type=float, default=14.0, help="time span of the events (density per bucket)")
    ap.add_argument("--memory", choices=("held", "traced"), default="held",
                    help="held: what the timed run's models hold at its end (fast); traced: tracemalloc over a second run of --mem-events events (slow)")
    ap.add_argument("--mem-events", type=int, default=50_000, help="events fed to the traced memory run (--memory traced)")
    ap.add_argument("--scores", action="store_true", help="only the count family's score behaviour on generated counts")
    ap.add_argument("--only", default="", help="only the jobs whose name contains this text (e.g. count; skips the package run), or 'package': the package run only")
    ap.add_argument("--per-event", action="store_true", help="feed each runner one event at a time (runner.feed), not in batches")
    args = ap.parse_args()
    if args.scores:
        score_behaviour()
        return
    events = make_events(args.events, args.entities, days=args.days)
    floor = orjson_floor(events)
    buckets = int(args.days * 96)
    print(f"events: {len(events):,} over {args.days:g} days ({buckets:,} buckets of 15m, {len(events) / buckets:,.0f} events/bucket), {args.entities:,} users")
    print(f"orjson.loads floor: {floor:,.0f} events/s")
    traced = args.memory == "traced"
    memory = f"traced, first {min(args.mem_events, len(events)):,} events" if traced else f"held after all {len(events):,} events"
    print(f"{'job':40} {'events/s':>12} {'CPU s':>7} {'x floor':>8} {'entities':>9} {'bytes/entity':>13}  (memory: {memory})")
    for name, spec in JOBS:
        if args.only not in name:
            continue
        rate, cpu, per_entity, entities = measure(spec, events, args.mem_events, args.per_event, traced)
        print(f"{name:40} {rate:12,.0f} {cpu:7.1f} {rate / floor:8.2f} {entities:9,} {per_entity:13,.0f}")
    if args.only and args.only != "package":
        return
    n, rate, cpu = package_jobs(events, args.per_event)
    print(f"{'all ' + str(n) + ' package jobs, one pass':40} {rate:12,.0f} {cpu:7.1f} {rate / floor:8.2f}")


if __name__ == "__main__":
    main()
