"""Bytes held by one 15-minute count series after 29 days, with the weekly profile at one slot per
bucket (15 min, main before issue 12's cap) and at the cap (30 min, ``timeseries.WEEKLY_SLOT_MS``).

Why: the weekly profile is most of what a count series holds once it has three weeks of
data; this measures its share directly on one series, in seconds, where ``bench/anomaly.py
--only "count by"`` measures whole jobs in minutes. The slot is set through the module's
constant, so both figures come from the same build. Figures are printed, never asserted.

    python bench/series_memory.py
"""
from __future__ import annotations

import random
import time
import tracemalloc

import ctdetect.engine.anomaly.timeseries as ts


def run(slot_min: int) -> tuple[int, int, float]:
    """(bytes held, weekly slots, CPU s) of one series stepped through 29 days at this weekly slot."""
    ts.WEEKLY_SLOT_MS = slot_min * 60_000
    rng = random.Random(11)
    t0 = 1_767_225_600_000
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    s = ts.CountSeries(t0)
    cpu = time.process_time()
    for i in range(29 * 96):
        s.buckets += 1
        s.step(float(rng.randint(8, 12) + (20 if (i // 96) % 7 < 5 and 36 <= i % 96 < 68 else 0)), t0 + i * 900_000, i, 1.0, 900, 0.0005, 0.024, "two")
    cpu = time.process_time() - cpu
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return held, len(s.weekly.means), cpu


if __name__ == "__main__":
    run(30)  # warm-up: scipy and caches load on first use
    for m in (15, 30, 15):
        held, slots, cpu = run(m)
        print(f"weekly slot {m} min: {slots} weekly slots, {held:,} bytes held by the series, {cpu:.2f} CPU s (tracemalloc on)")
