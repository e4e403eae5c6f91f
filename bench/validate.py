"""Benchmark: wall time and peak memory of ``ctdetect validate`` over the package plus all
of Elastic's detection rules (../shared/anchors/detection-rules), in one process including
Python start-up, as a user runs it.

Each run is a fresh subprocess (``python -m ctdetect validate ... --format json``); wall
time is measured around it and peak memory is the child's maximum resident set size from
``resource.getrusage(RUSAGE_CHILDREN)`` (what ``/usr/bin/time -v`` calls "Maximum resident
set size"). Prints figures; asserts nothing. Targets: < 1.5 s and < 150 MB for the package
plus the anchors; < 2 s for Elastic's whole rule repository (2,064 rules of ``rules/`` and
``rules_building_block/``, fetched from github.com/elastic/detection-rules and kept out of git):

    python bench/validate.py [--runs 5] [--shared ../shared]
    python bench/validate.py /path/to/detection-rules/rules /path/to/detection-rules/rules_building_block
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_run(paths: list[str]) -> tuple[float, float, float, dict]:
    """Wall seconds, peak RSS in MB, CPU seconds and the JSON summary of one validate process."""
    code = (
        "import resource, subprocess, sys, time;"
        "t = time.perf_counter();"
        "p = subprocess.run(sys.argv[1:], capture_output=True);"
        "wall = time.perf_counter() - t;"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN);"
        "sys.stderr.write(f'{wall} {u.ru_maxrss} {p.returncode} {u.ru_utime + u.ru_stime}\\n');"
        "sys.stdout.buffer.write(p.stdout)"
    )
    # a small wrapper process per run, so RUSAGE_CHILDREN holds exactly one validate process
    cmd = [sys.executable, "-c", code, sys.executable, "-m", "ctdetect", "validate", *paths, "--format", "json"]
    proc = subprocess.run(cmd, capture_output=True, cwd=ROOT, check=False)
    wall, peak_kb, rc, cpu = proc.stderr.decode().strip().splitlines()[-1].split()
    if int(rc) == 2:
        raise SystemExit(f"validate failed to run: {proc.stdout[:500]!r}")
    summary = json.loads(proc.stdout)["summary"]
    return float(wall), int(peak_kb) / 1024, float(cpu), summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--shared", default=os.environ.get("CTDETECT_SHARED_DIR", str(ROOT.parent / "shared")))
    parser.add_argument("paths", nargs="*", help="what to validate (default: the package and ../shared's anchored rules)")
    args = parser.parse_args()
    paths = [str(Path(p).resolve()) for p in args.paths]
    if not paths:
        paths = ["."]
        anchors = Path(args.shared) / "anchors" / "detection-rules"
        if anchors.is_dir():
            paths.append(str(anchors))
        else:
            print(f"note: {anchors} absent; benchmarking the package alone")
    one_run(paths)  # warm the file cache and .pyc files
    walls, peaks, cpus = [], [], []
    summary: dict = {}
    for _ in range(args.runs):
        wall, peak, cpu, summary = one_run(paths)
        walls.append(wall)
        peaks.append(peak)
        cpus.append(cpu)
    rules = sum(t["rules"] for t in summary["targets"])
    jobs = sum(t["jobs"] for t in summary["targets"])
    print(f"ctdetect validate {' '.join(paths)}")
    print(f"  content: {rules} rules, {jobs} jobs, {summary['files']} files; {summary['errors']} errors, {summary['warnings']} warnings, {summary['infos']} notes")
    print(f"  wall time over {args.runs} runs: median {statistics.median(walls):.2f} s, min {min(walls):.2f} s, max {max(walls):.2f} s  (target < 1.5 s; Elastic's whole repository < 2 s)")
    print(f"  CPU time (user+sys): median {statistics.median(cpus):.2f} s  (equals wall time on an idle machine; os.getloadavg() now {os.getloadavg()[0]:.1f})")
    print(f"  peak memory (max RSS): median {statistics.median(peaks):.0f} MB, max {max(peaks):.0f} MB  (target < 150 MB)")


if __name__ == "__main__":
    main()
