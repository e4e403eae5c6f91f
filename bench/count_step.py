"""CPU per step of the count series model, on the buckets that dominate a replay: empty ones.

Why: a replay's count series steps are ~30 % of its CPU and 98.5-99 % of them are empty
buckets of known ``high_count`` series (bench/README.md, issue 11a). A whole replay's
CPU moves by ±15 % run to run on this shared machine, so a change of a few microseconds
a step cannot be read there; this steps 20 series through 30 days of 15-minute buckets,
2 % of them non-empty, in-process, and prints microseconds a step. It also prints a
digest of every result and of the series' final states: two builds whose digests
differ do not give the same results (the figure is then meaningless).

    python bench/count_step.py [--days 30] [--series 20] [--repeat 3]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import time

from ctdetect.engine.anomaly.accelerated import compiled_modules
from ctdetect.engine.anomaly.timeseries import CountSeries

T0_MS = 1_767_225_600_000
SPAN_S = 900
DECAY_RATE = 0.0005
TREND_RATE = 0.024


def run(days: int, n_series: int) -> tuple[float, int, str]:
    """(CPU s, steps, digest of results and states) of ``n_series`` series stepped over ``days``."""
    rng = random.Random(11)
    series = [CountSeries(T0_MS) for _ in range(n_series)]
    digest = hashlib.sha256()
    steps = 0
    cpu = time.process_time()
    for i in range(days * 86400 // SPAN_S):
        t_mid = T0_MS + i * SPAN_S * 1000 + SPAN_S * 500
        for s in series:
            x = float(rng.randint(1, 6)) if rng.random() < 0.02 else 0.0
            s.buckets += 1
            r = s.step(x, t_mid, i, 1.0, SPAN_S, DECAY_RATE, TREND_RATE, "high")
            digest.update(repr(tuple(r)).encode())
            steps += 1
    cpu = time.process_time() - cpu
    for s in series:
        digest.update(json.dumps(s.to_state(), default=repr).encode())
    return cpu, steps, digest.hexdigest()[:16]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--series", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"compiled: {', '.join(compiled_modules()) or 'none (pure Python)'}")
    for _ in range(args.repeat):
        cpu, steps, digest = run(args.days, args.series)
        print(f"{steps} steps, {cpu:.2f} CPU s, {cpu / steps * 1e6:.1f} us a step, digest {digest}")


if __name__ == "__main__":
    main()
