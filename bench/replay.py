"""Speed of ``ctdetect replay`` over the whole package: wall, CPU, phases, slowest scenarios.

Two measurements, printed side by side:

1. ``ctdetect replay`` itself in a child process, once per ``--workers`` value (default: 1
   and every core), timed for wall and CPU (children included, through ``wait4``) with
   its peak RSS: what a user waits for.
2. The same scenarios run one by one in this process (``--phases``, on by default), with
   the time of each phase: reading and mapping the scenario's events (files, ``[[synth]]``
   baselines; mapped as replay maps them, held in a list here so that the phase can be
   timed apart, where replay streams them), compiling the rules and starting the jobs, feeding the events, closing the
   anomaly buckets, and the rules' executions (alerts); then the slowest scenarios.

    python bench/replay.py [--workers 1,2] [--top 10] [--no-phases] [SCENARIO ...]

Figures are printed, never asserted: the test suite does not time anything.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PHASES = ("events", "compile", "feed", "anomaly", "alerts")


def run_cli(workers: int, scenarios: list[str]) -> tuple[float, float, int, int]:
    """Wall s, CPU s (user+sys of the child and its workers), peak RSS MB, exit code."""
    cmd = [sys.executable, "-m", "ctdetect", "replay", "--format", "json", "--no-progress",
           "--workers", str(workers), *scenarios]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    # Linux's wait4 reports the child plus the descendants it reaped (its worker processes)
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss // 1024, os.waitstatus_to_exitcode(status)


def run_phases(scenarios: list[str]) -> tuple[dict[str, float], list[tuple[float, str, int]]]:
    """Per-phase seconds summed over every scenario, and (seconds, name, events) per scenario."""
    from ctdetect.backends import get_backend
    from ctdetect.readers import SkipCounter
    from ctdetect.services.content import load_content
    from ctdetect.services.hunt import hunt_mapper
    from ctdetect.services.replay import find_scenarios
    from ctdetect.services.scenario_events import scenario_events

    os.chdir(PROJECT)
    found = find_scenarios(scenarios, PROJECT, [])
    content = load_content(str(PROJECT))
    mapper = hunt_mapper(content, None, get_backend("embedded"))  # as replay maps (projected)
    totals = dict.fromkeys(PHASES, 0.0)
    per: list[tuple[float, str, int]] = []
    for scenario in found:
        started = time.perf_counter()
        events = scenario_events(scenario, mapper, SkipCounter())
        read = time.perf_counter() - started
        totals["events"] += read
        result = get_backend("embedded").run(events, content.rules, content.jobs)
        for name, seconds in result.stats.phases.items():
            totals[name] += seconds
        per.append((time.perf_counter() - started, scenario.name, len(events)))
    return totals, per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", help="scenario folders (default: every scenario)")
    parser.add_argument("--workers", default=f"1,{os.cpu_count() or 1}", help="comma-separated worker counts for the CLI runs")
    parser.add_argument("--top", type=int, default=10, help="slowest scenarios to list")
    parser.add_argument("--no-phases", action="store_true", help="skip the in-process per-phase run")
    args = parser.parse_args()

    counts = sorted({int(w) for w in args.workers.split(",") if w.strip()})
    print(f"ctdetect replay ({'all scenarios' if not args.scenarios else ' '.join(args.scenarios)}), {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'workers':>7} {'wall s':>8} {'cpu s':>8} {'cpu/wall':>8} {'peak MB':>8} {'exit':>4}")
    for n in counts:
        wall, cpu, rss, code = run_cli(n, args.scenarios)
        print(f"{n:>7} {wall:>8.1f} {cpu:>8.1f} {cpu / wall:>8.2f} {rss:>8} {code:>4}", flush=True)
    if args.no_phases:
        return
    totals, per = run_phases(args.scenarios)
    whole = sum(totals.values()) or 1.0
    print(f"\nin-process, one scenario after another: {whole:.1f} s over {len(per)} scenarios")
    for name in PHASES:
        print(f"  {name:<8} {totals[name]:>7.1f} s {100 * totals[name] / whole:>5.1f}%")
    print(f"\nslowest {args.top}:")
    for seconds, name, events in sorted(per, reverse=True)[: args.top]:
        print(f"  {seconds:>6.2f} s {events:>8,} events  {name}")


if __name__ == "__main__":
    main()
