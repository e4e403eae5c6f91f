"""Model memory of one count job over a long trail with entity churn: flat once idle entities
are pruned (issue 12, model pruning; issue 11, "peak memory flat in the number of events").

Every day ``--per-day`` new users appear, each active for ``--active-days`` days (a few events a
day) and then never again, for ``--days`` days: the users ever seen grow without end, the
users active at once stay about ``per-day × active-days``. Each ``--every`` days the script
prints the series the job models, what its models and normalisers hold (the object-graph
walk of ``bench/anomaly.py``) and the CPU seconds of the period. Without pruning both grow
with the users ever seen; with Elasticsearch's default ``model_prune_window`` (the longer of
30 days and 20 buckets) they stop growing after about 30 + ``active-days`` days.
``--window`` sets the job's own ``model_prune_window``. Figures are printed, never asserted.

    python bench/prune_memory.py [--days 120] [--per-day 10] [--active-days 3] [--span 1h]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

from ctdetect.engine.anomaly import AnomalyJobRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from anomaly import model_bytes  # noqa: E402  (bench/anomaly.py: the same memory walk)

T0 = 1_767_225_600_000
DAY_MS = 86_400_000


def churn_events(days: int, per_day: int, active_days: int, seed: int = 5) -> list[dict[str, Any]]:
    """Users u<day>_<i>: ``per_day`` new each day, each with 2-6 events on each of its
    ``active_days`` days at random times; sorted by time."""
    rng = random.Random(seed)
    events = []
    for day in range(days):
        for i in range(per_day):
            user = f"u{day}_{i}"
            for d in range(day, min(day + active_days, days)):
                for _ in range(rng.randint(2, 6)):
                    events.append({"_ts": T0 + d * DAY_MS + rng.randrange(DAY_MS), "user.name": user, "event.action": "ConsoleLogin"})
    events.sort(key=lambda e: e["_ts"])
    return events


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--per-day", type=int, default=10, help="new users a day")
    ap.add_argument("--active-days", type=int, default=3, help="days each user is active")
    ap.add_argument("--every", type=int, default=10, help="print every this many days")
    ap.add_argument("--span", default="1h", help="bucket_span")
    ap.add_argument("--function", default="high_count", help="count-family function, partitioned by user.name")
    ap.add_argument("--window", default=None, help="the job's own model_prune_window (default: Elasticsearch's)")
    args = ap.parse_args()
    analysis: dict[str, Any] = {"bucket_span": args.span, "influencers": ["user.name"],
                                "detectors": [{"function": args.function, "partition_field_name": "user.name"}]}
    if args.window:
        analysis["model_prune_window"] = args.window
    runner = AnomalyJobRunner.from_config({"job_id": "prune_memory", "analysis_config": analysis})
    events = churn_events(args.days, args.per_day, args.active_days)
    print(f"{len(events):,} events, {args.days * args.per_day:,} users over {args.days} days, {args.per_day} new a day, "
          f"each active {args.active_days} days; {args.function} partitioned by user.name, bucket_span {args.span}, "
          f"model_prune_window {args.window or 'default'}")
    print("| day | users seen | series modelled | model bytes | CPU s (period) |\n|---|---|---|---|---|")
    i = 0
    total_cpu = 0.0
    for day in range(args.every, args.days + 1, args.every):
        end = T0 + day * DAY_MS
        j = i
        while j < len(events) and events[j]["_ts"] < end:
            j += 1
        cpu = time.process_time()
        runner.feed_many(events[i:j])
        runner.flush(end)
        cpu = time.process_time() - cpu
        total_cpu += cpu
        i = j
        modelled = sum(runner.entity_counts().values())
        print(f"| {day} | {min(day, args.days) * args.per_day:,} | {modelled:,} | {model_bytes(runner):,} | {cpu:.2f} |")
    print(f"\ntotal CPU {total_cpu:.2f} s")


if __name__ == "__main__":
    main()
