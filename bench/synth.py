"""Throughput and memory of ``ctdetect synth``.

Prints, for N records (default 4 million): generation alone (records/s), generation +
NDJSON serialisation, and peak RSS growth, so "memory flat in the number of records" can
be read off by running two sizes.

    python bench/synth.py [--records 4000000] [--serialise]
"""

from __future__ import annotations

import argparse
import resource
import time
from itertools import islice

import orjson

from ctdetect.synth import SynthParams, generate


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=4_000_000)
    parser.add_argument("--events-per-day", type=int, default=500_000)
    parser.add_argument("--principals", type=int, default=60)
    parser.add_argument("--serialise", action="store_true", help="also time orjson serialisation")
    args = parser.parse_args()
    days = args.records / args.events_per_day * 1.3 + 1  # weekends are quieter: over-provision the span
    params = SynthParams(seed=1, start="2026-03-02T00:00:00Z", days=days, principals=args.principals,
                         events_per_day=args.events_per_day)
    base = _rss_mb()
    start = time.perf_counter()
    cpu = time.process_time()
    count = 0
    size = 0
    if args.serialise:
        dumps = orjson.dumps
        for record in islice(generate(params), args.records):
            size += len(dumps(record))
            count += 1
    else:
        for _ in islice(generate(params), args.records):
            count += 1
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    label = "generate+orjson" if args.serialise else "generate"
    print(f"records            {count}")
    print(f"{label:<18} {count / elapsed:12,.0f} records/s wall  ({elapsed:.1f} s)")
    print(f"{label:<18} {count / cpu:12,.0f} records/s CPU   ({cpu:.1f} s; differs from wall on a loaded machine)")
    if size:
        print(f"bytes/record       {size / count:12.0f}")
    print(f"peak RSS growth    {_rss_mb() - base:12.1f} MB")


if __name__ == "__main__":
    main()
