"""Speed and memory of ``ctdetect hunt`` against the floor of merely reading the input.

For each size (``--records``, default 1 million; ``--large`` adds 4 million) this:

1. generates an S3-layout archive of gzip CloudTrail log files with ``ctdetect.synth``
   into ``bench/out/hunt-<N>/`` (kept and reused on later runs);
2. measures the floor: gunzip + ``orjson.loads`` of every file, in this process;
3. runs ``ctdetect hunt`` over the archive in a child process, whole package (every rule
   and ML job), then rules only (no jobs), each timed with its own peak RSS (wait4);
4. prints one table: records, floor, hunt time, ratio hunt/floor, events/s, peak memory.

    python bench/hunt.py [--records 1000000] [--large] [--principals 50] [--content both|rules|whole]

Figures are printed, never asserted: the test suite does not time anything.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

import orjson

PROJECT = Path(__file__).resolve().parent.parent
OUT = PROJECT / "bench" / "out"


def archive(records: int, principals: int) -> Path:
    """The S3-layout archive for ``records`` (generated once, then reused)."""
    from ctdetect.synth import SynthParams, generate
    from ctdetect.synth.writers import write_s3_layout

    root = OUT / f"hunt-{records}"
    marker = OUT / f"hunt-{records}.complete.json"  # outside the archive: hunt reads all of it
    if marker.exists() and json.loads(marker.read_text()).get("records") == records:
        return root
    root.mkdir(parents=True, exist_ok=True)
    days = 30.0
    params = SynthParams(seed=7, start="2026-03-02T00:00:00Z", days=days, principals=principals, events_per_day=int(records / days * 3))
    started = time.perf_counter()
    written, files = write_s3_layout(islice(generate(params), records), root, account_id=params.account_id, seed=params.seed)
    marker.write_text(json.dumps({"records": records, "written": written, "files": files}))
    print(f"generated {written:,} records in {files:,} files under {root} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return root


def floor(root: Path) -> tuple[float, int]:
    """Seconds to gunzip and parse every log file, and the records seen."""
    files = sorted(p for p in root.rglob("*.json.gz"))
    started = time.perf_counter()
    count = 0
    for path in files:
        with open(path, "rb") as fh:
            doc = orjson.loads(gzip.decompress(fh.read()))
        count += len(doc.get("Records", ()))
    return time.perf_counter() - started, count


def run_hunt(root: Path, jobs_dir: Path | None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and the summary line of one ``ctdetect hunt`` run."""
    cmd = [sys.executable, "-m", "ctdetect", "hunt", "--package", str(PROJECT), "--format", "ndjson", "--no-progress"]
    if jobs_dir is not None:
        cmd += ["--jobs", str(jobs_dir)]
    cmd.append(str(root))
    started = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen(cmd, stdout=devnull, stderr=subprocess.PIPE, cwd=PROJECT)
        assert proc.stderr is not None
        err = proc.stderr.read().decode(errors="replace")
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ctdetect hunt failed:\n{err}")
    first = next((line for line in err.splitlines() if line.startswith("events read")), "")
    return elapsed, usage.ru_maxrss / 1024.0, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--large", action="store_true", help="also 4 million records")
    parser.add_argument("--principals", type=int, default=50)
    parser.add_argument("--content", choices=("both", "rules", "whole"), default="both", help="rules only (no ML jobs), the whole package, or both (default)")
    args = parser.parse_args()
    sizes = [args.records] + ([4_000_000] if args.large and args.records != 4_000_000 else [])
    no_jobs = OUT / "no-jobs"
    no_jobs.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in sizes:
        root = archive(n, args.principals)
        floor_s, seen = floor(root)
        variants = [v for v in (("rules only", no_jobs), ("whole package", None)) if args.content == "both" or v[0].startswith(args.content)]
        for label, jobs in variants:
            hunt_s, peak, summary = run_hunt(root, jobs)
            rows.append((seen, label, floor_s, hunt_s, hunt_s / floor_s, seen / hunt_s, peak, summary))
    print(f"{'records':>10} {'content':>14} {'floor s':>8} {'hunt s':>8} {'ratio':>6} {'events/s':>10} {'peak MB':>8}")
    for seen, label, floor_s, hunt_s, ratio, rate, peak, _ in rows:
        print(f"{seen:>10,} {label:>14} {floor_s:>8.1f} {hunt_s:>8.1f} {ratio:>6.2f} {rate:>10,.0f} {peak:>8.0f}")
    for row in rows:
        print(f"  {row[1]} @ {row[0]:,}: {row[7]}")


if __name__ == "__main__":
    main()
