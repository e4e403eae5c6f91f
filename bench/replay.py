"""Speed of ``ctdetect replay`` over the whole package: wall, CPU, phases, slowest scenarios.

Two measurements, printed side by side:

1. ``ctdetect replay`` itself in a child process, once per ``--workers`` value (default: 1
   and every core), timed for wall and CPU (children included, through ``wait4``) with
   its peak RSS (of its largest process, and summed over its processes: RSS and PSS,
   sampled), the load average before it: what a user waits for.
2. The same scenarios run one by one in this process (``--phases``, on by default), with
   the time of each phase: reading and mapping the scenario's events (files, ``[[synth]]``
   baselines; mapped as replay maps them, held in a list here so that the phase can be
   timed apart, where replay streams them), compiling the rules and starting the jobs, feeding the events, closing the
   anomaly buckets, and the rules' executions (alerts); then the slowest scenarios.

3. ``--timeline N``: ``run_replay`` in this process with N workers, each task (a group of
   scenarios) logged by the worker that ran it: start and end (wall, from the replay's
   start), its CPU seconds (its own and its job processes'), its scenarios; then each
   worker's busy and idle time. Where the wall time goes when the workers finish apart.

    python bench/replay.py [--workers 1,2] [--top 10] [--no-phases] [--timeline 2] [SCENARIO ...]

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


def tree_memory(root: int) -> tuple[int, int]:
    """Resident and proportional set sizes (kB) summed over ``root`` and its descendants
    (psutil; PSS where the platform gives it, else 0): forked workers share the pages they
    inherited, so the summed RSS counts those once per process and the summed PSS splits them."""
    import psutil

    try:
        top = psutil.Process(root)
        tree = [top, *top.children(recursive=True)]
    except psutil.Error:  # the replay has just ended
        return 0, 0
    rss = pss = 0
    for proc in tree:
        try:
            info = proc.memory_full_info()
        except psutil.Error:  # a worker that ended between the listing and the read
            continue
        rss += info.rss // 1024
        pss += getattr(info, "pss", 0) // 1024
    return rss, pss


def run_cli(workers: int, scenarios: list[str]) -> tuple[float, float, int, int, int, int]:
    """Wall s, CPU s (user+sys of the child and its workers), peak RSS MB of its largest
    process, peak RSS and PSS MB summed over its processes (sampled every 0.25 s), exit code."""
    import threading

    cmd = [sys.executable, "-m", "ctdetect", "replay", "--format", "json", "--no-progress",
           "--workers", str(workers), *scenarios]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peaks = [0, 0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.25):
            rss, pss = tree_memory(proc.pid)
            peaks[0], peaks[1] = max(peaks[0], rss), max(peaks[1], pss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    # Linux's wait4 reports the child plus the descendants it reaped (its worker processes)
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss // 1024, peaks[0] // 1024, peaks[1] // 1024, os.waitstatus_to_exitcode(status)


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


_TIMELINE: dict = {}  # the real task function, the log file, the start (inherited by the forked workers)


def _logged(group: list[int], *args: object) -> list:
    """``services.replay._run_task``, its task logged as one line of ``_TIMELINE["log"]``."""
    import json
    import resource

    t0, c0 = time.time(), time.process_time()
    k0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out, left = _TIMELINE["real"](group, *args)
    k1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = _TIMELINE["started"]
    line = {"pid": os.getpid(), "start": t0 - started, "end": time.time() - started, "cpu": time.process_time() - c0,
            "children": (k1.ru_utime + k1.ru_stime) - (k0.ru_utime + k0.ru_stime),
            "names": [r.scenario.name for _, r in out], "events": sum(r.events for _, r in out), "handed_back": len(left),
            "job_processes": args[0] if args else 0}
    with open(_TIMELINE["log"], "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")
    return out, left


def run_timeline(workers: int, scenarios: list[str]) -> None:
    """``run_replay`` with ``workers``, each task logged by its worker (see the docstring)."""
    import json
    import resource
    import tempfile

    from ctdetect.services import replay

    os.chdir(PROJECT)
    log = Path(tempfile.mkstemp(prefix="replay-timeline-", suffix=".ndjson")[1])
    real = replay._run_task
    _TIMELINE.update(real=real, log=log, started=time.time())
    started = _TIMELINE["started"]
    replay._run_task = _logged  # forked workers inherit the patch
    try:
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = replay.run_replay(scenarios, package_root=str(PROJECT), workers=workers)
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        replay._run_task = real
    wall = time.time() - started
    tasks = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    log.unlink()
    print(f"\ntimeline, {workers} workers: {wall:.1f} s wall, {len(result.scenarios)} scenarios, "
          f"{(c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime):.1f} CPU s in the workers, load {os.getloadavg()[0]:.1f}")
    by_pid: dict[int, list[dict]] = {}
    for task in sorted(tasks, key=lambda t: t["start"]):
        by_pid.setdefault(task["pid"], []).append(task)
    for n, (pid, mine) in enumerate(sorted(by_pid.items(), key=lambda kv: kv[1][0]["start"])):
        busy = sum(t["end"] - t["start"] for t in mine)
        cpu = sum(t["cpu"] + t["children"] for t in mine)
        print(f"  worker {n} (pid {pid}): {len(mine)} tasks, busy {busy:.1f} s, CPU {cpu:.1f} s, "
              f"first start {mine[0]['start']:.1f} s, last end {mine[-1]['end']:.1f} s, idle after it {wall - mine[-1]['end']:.1f} s")
    print("  longest tasks (wall s, CPU s own + job processes', start-end, events, job processes, handed back, scenarios):")
    for t in sorted(tasks, key=lambda t: -(t["end"] - t["start"]))[:8]:
        names = ", ".join(t["names"][:3]) + (f" +{len(t['names']) - 3}" if len(t["names"]) > 3 else "")
        print(f"    {t['end'] - t['start']:6.2f} {t['cpu']:6.2f} + {t['children']:5.2f}  {t['start']:5.1f}-{t['end']:5.1f}  {t['events']:>8,} {t['job_processes']:>2} {t['handed_back']:>2}  {names}")
    small = [t for t in tasks if t["events"] < 20000]
    if small:
        per = sum(t["cpu"] + t["children"] for t in small) / sum(len(t["names"]) for t in small)
        print(f"  tasks under 20,000 events: {len(small)} ({sum(len(t['names']) for t in small)} scenarios), "
              f"{sum(t['cpu'] + t['children'] for t in small):.1f} CPU s, {per * 1000:.0f} ms a scenario")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", help="scenario folders (default: every scenario)")
    parser.add_argument("--workers", default=f"1,{os.cpu_count() or 1}", help="comma-separated worker counts for the CLI runs")
    parser.add_argument("--top", type=int, default=10, help="slowest scenarios to list")
    parser.add_argument("--no-phases", action="store_true", help="skip the in-process per-phase run")
    parser.add_argument("--timeline", type=int, default=0, metavar="N", help="also run replay in this process with N workers and log each task")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI runs")
    args = parser.parse_args()

    counts = sorted({int(w) for w in args.workers.split(",") if w.strip()})
    print(f"ctdetect replay ({'all scenarios' if not args.scenarios else ' '.join(args.scenarios)}), {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'workers':>7} {'wall s':>8} {'cpu s':>8} {'cpu/wall':>8} {'peak MB':>8} {'sum RSS':>8} {'sum PSS':>8} {'exit':>4} {'load':>5}")
    for n in [] if args.no_cli else counts:
        load = os.getloadavg()[0]
        wall, cpu, rss, rss_sum, pss_sum, code = run_cli(n, args.scenarios)
        print(f"{n:>7} {wall:>8.1f} {cpu:>8.1f} {cpu / wall:>8.2f} {rss:>8} {rss_sum:>8} {pss_sum:>8} {code:>4} {load:>5.1f}", flush=True)
    if args.timeline:
        run_timeline(args.timeline, args.scenarios)
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
