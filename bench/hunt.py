"""Speed and memory of ``ctdetect hunt`` against the floor of merely reading the input.

For each size (``--records``, default 1 million; ``--large`` adds 4 million) this:

1. generates an S3-layout archive of gzip CloudTrail log files with ``ctdetect.synth``
   into ``bench/out/hunt-<N>/`` (kept and reused on later runs);
2. measures the floor: gunzip + ``orjson.loads`` of every file, in a child process (wall and
   CPU seconds of that work alone, without Python's start, and its peak RSS);
3. runs each stage of the hunt pipeline in its own child process, each timed (wall, and
   CPU from ``wait4``, which a busy machine does not inflate) with its own peak RSS (at
   least this process's own, ~20 MB: Linux keeps the larger high-water mark across fork
   and exec, so this process does no large work itself; see ``run_floor``):

   - ``read``: the files found, ordered and read as the map stage's mapper reads them
     (``ctdetect.readers``: a delivery file split into its records' texts, each record's few
     top-level keys decoded, as ``hunt`` reads for the projected mapper), nothing mapped;
   - ``map``: the same plus the ECS mapping and time ordering (``ecs.stream`` + ``inputs``),
     with the mapper ``hunt`` maps with for the embedded backend (``services.hunt.hunt_mapper``:
     only the fields the package's rules and jobs read, ``ecs.projected``); ``--stage
     map-full`` (by hand, not in the table) maps whole documents instead, to compare, and
     ``--stage list`` (by hand) only lists the files in delivery order (``readers.order``);
   - ``hunt`` with the content asked for (``--content``): rules only (no ML jobs), the whole
     package, or Elastic's AWS rules (``--content elastic``, from ``../shared/anchors``);

4. prints one table a run: floor, hunt wall and CPU, ratio hunt/floor (wall and CPU),
   events/s (wall), peak memory, and the share of the hunt's CPU spent setting up, reading,
   mapping, in rules and in jobs (stage differences: set-up = the map stage's CPU before its
   first file (Python's start, imports, the content loaded, the mapper built), reading = the
   read stage's CPU after its set-up, mapping = the map stage's after its set-up - reading,
   rules = rules-only hunt - map, jobs = whole hunt - rules-only hunt; a content without
   jobs has no jobs share). The stages' CPU after their set-up is printed beside the floor's:
   both leave out Python's start and the imports, so reading is compared with it like for like.

``--cores N`` pins every child (and the floor) to N CPUs (``sched_setaffinity``); without
it they may use every core. ``--workers N`` is passed to ``hunt --workers`` (N processes
decode and map, N - 1 run the ML jobs beside the rules; 1: everything in one process).

    python bench/hunt.py [--records 1000000] [--large] [--principals 50] [--per-day N]
                         [--content both|rules|whole|elastic|all] [--cores N] [--workers N]

Figures are printed, never asserted: the test suite does not time anything.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import orjson

PROJECT = Path(__file__).resolve().parent.parent
OUT = PROJECT / "bench" / "out"
ELASTIC_AWS_RULES = Path(os.environ.get("CTDETECT_SHARED_DIR", PROJECT.parent / "shared")) / "anchors" / "detection-rules" / "rules" / "integrations" / "aws"


@dataclass
class Timing:
    """One measured child process (or the in-process floor)."""

    wall: float
    cpu: float
    peak_mb: float
    summary: str = ""
    work: float | None = None  # a stage's CPU after its set-up (``WORK_CPU``): what the floor is compared with


def archive(records: int, principals: int, per_day: int | None = None) -> Path:
    """The S3-layout archive for ``records`` (generated once, then reused).

    By default every size spans about ten days (the generator's day is asked for three times
    a thirtieth of the records, and the stream is cut at ``records``), so a larger archive is
    a denser one. ``per_day``: that many records a day instead, so a larger archive is a
    longer one: what "peak memory flat in the number of events" is about (the open bucket and
    the rules' windows hold what a bucket or a window holds, at any length)."""
    from ctdetect.synth import SynthParams, generate
    from ctdetect.synth.writers import write_s3_layout

    name = f"hunt-{records}" if per_day is None else f"hunt-{records}-{per_day}-a-day"
    root = OUT / name
    marker = OUT / f"{name}.complete.json"  # outside the archive: hunt reads all of it
    if marker.exists() and json.loads(marker.read_text()).get("records") == records:
        return root
    root.mkdir(parents=True, exist_ok=True)
    days = 30.0 if per_day is None else 1.25 * records / per_day  # weekends are quieter: cut at ``records``
    daily = int(records / days * 3) if per_day is None else per_day
    params = SynthParams(seed=7, start="2026-03-02T00:00:00Z", days=days, principals=principals, events_per_day=daily)
    started = time.perf_counter()
    written, files = write_s3_layout(islice(generate(params), records), root, account_id=params.account_id, seed=params.seed)
    marker.write_text(json.dumps({"records": records, "written": written, "files": files}))
    print(f"generated {written:,} records in {files:,} files under {root} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return root


def generated(records: int, principals: int, per_day: int | None) -> Path:
    """``archive``, generated (when missing) in a child: the generator's memory is not this
    process's (see ``run_floor`` for why that matters)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--stage", "generate", "--records", str(records),
           "--principals", str(principals)] + ([] if per_day is None else ["--per-day", str(per_day)])
    subprocess.run(cmd, check=True)
    return archive(records, principals, per_day)  # complete now: only its path


def floor(root: Path, cores: int | None) -> tuple[Timing, int]:
    """Time to gunzip and parse every log file (in a child, ``run_floor``: wall and CPU of
    that work alone, without Python's start), and the records seen."""
    measured = measure([sys.executable, str(Path(__file__).resolve()), "--stage", "floor", str(root)], cores)
    wall, cpu, count = measured.summary[len(FLOOR):].split()
    return Timing(float(wall), float(cpu), measured.peak_mb), int(count)


FLOOR = "floor: "  # the floor child's line: its wall and CPU seconds, and the records seen


def run_floor(root: str) -> None:
    """Child side of ``floor``. Why a child: a process's peak memory as ``wait4`` reports it
    is at least that of the process that started it (Linux keeps the larger high-water mark
    across fork and exec), so every figure of this bench was at least this process's own
    peak; the floor's list of an archive's files (229,331 at 4M records over 250 days) was
    most of it, and showed as the read stage's and the hunt's peak."""
    files = sorted(p for p in Path(root).rglob("*.json.gz"))
    started, cpu0 = time.perf_counter(), time.process_time()
    count = 0
    for path in files:
        with open(path, "rb") as fh:
            doc = orjson.loads(gzip.decompress(fh.read()))
        count += len(doc.get("Records", ()))
    print(f"{FLOOR}{time.perf_counter() - started:.3f} {time.process_time() - cpu0:.3f} {count}", file=sys.stderr)


def _pin(cores: int | None):
    """A ``preexec_fn`` that keeps the child on the first ``cores`` CPUs it may use."""
    if cores is None:
        return None
    allowed = sorted(os.sched_getaffinity(0))[:cores]
    return lambda: os.sched_setaffinity(0, allowed)


def measure(cmd: list[str], cores: int | None, cwd: Path = PROJECT) -> Timing:
    """Run ``cmd`` in ``cwd`` (stdout discarded) and return its wall, CPU (user + system) and peak RSS."""
    started = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen(cmd, stdout=devnull, stderr=subprocess.PIPE, cwd=cwd, preexec_fn=_pin(cores))
        assert proc.stderr is not None
        err = proc.stderr.read().decode(errors="replace")
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err}")
    summary = next((line for line in err.splitlines() if line.startswith(("events read", FLOOR))), "")
    work = next((float(line[len(WORK_CPU):]) for line in err.splitlines() if line.startswith(WORK_CPU)), None)
    return Timing(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, summary, work)


WORK_CPU = "work cpu s: "  # a stage child's line: its CPU from the first file read to the last event


def stage(root: Path, name: str, cores: int | None) -> Timing:
    """Time one input stage (``read`` or ``map``) in a child process."""
    return measure([sys.executable, str(Path(__file__).resolve()), "--stage", name, str(root)], cores)


def run_stage(name: str, root: str) -> None:
    """Child side of ``stage``: read (and for ``map``, map and order) every event, print the count.

    The collector runs with the CLI's thresholds (``ctdetect.cli.COLLECTOR_THRESHOLDS``): with
    Python's defaults the stages paid collections the hunt they are a share of does not.

    Besides the process's CPU (``wait4``), the child prints its CPU from the first file read
    (``WORK_CPU``): without Python's start, the imports, loading the content and building the
    mapper (together 0.4-0.8 CPU s, which the floor, timed in this process, never pays), so
    that reading is compared with the floor like for like.
    """
    from ctdetect.cli import COLLECTOR_THRESHOLDS
    from ctdetect.readers.order import ordered_files
    from ctdetect.readers.stream import read_batches

    gc.set_threshold(*COLLECTOR_THRESHOLDS)  # the collector as a ctdetect process runs it (its shares)
    if name == "list":  # the files in delivery order, none read: what ordering alone costs and holds
        started = time.process_time()
        count = sum(1 for _ in ordered_files([root], lambda _: None))
        print(f"{WORK_CPU}{time.process_time() - started:.3f}", file=sys.stderr)
        print(f"files listed: {count:,}", file=sys.stderr)
        return
    if name == "read":  # as the map stage's mapper reads (it maps texts: delivery files split, not decoded)
        started = time.process_time()
        batches = read_batches(ordered_files([root], lambda _: None), on_skip=lambda _: None, texts=True, listed=True)
        count = sum(map(len, batches))
        print(f"{WORK_CPU}{time.process_time() - started:.3f}", file=sys.stderr)
        print(f"events read: {count:,}", file=sys.stderr)
        return
    # imported only here: the read stage does not pay for importing the mapping, the content
    # loaders and the backends (about 0.3 CPU s, which the floor it is compared with never pays)
    from ctdetect.backends import get_backend
    from ctdetect.ecs.stream import iter_events
    from ctdetect.services.content import load_content
    from ctdetect.services.hunt import hunt_mapper
    from ctdetect.services.inputs import make_mapper, time_ordered

    if name == "map-full":  # whole documents, as for a backend that indexes them
        mapper = make_mapper(None)
    else:  # mapped as hunt maps for the embedded backend (the one service function both call)
        mapper = hunt_mapper(load_content(PROJECT), None, get_backend("embedded"))
    started = time.process_time()
    count = sum(1 for _ in time_ordered(iter_events([root], mapper=mapper)))
    print(f"{WORK_CPU}{time.process_time() - started:.3f}", file=sys.stderr)
    print(f"events read: {count:,}", file=sys.stderr)


def rules_only_package() -> Path:
    """A package folder holding only the project's rules (a link), so a hunt runs no ML job.

    ``hunt`` refuses a ``--jobs`` folder with no job in it (a typo must not pass as a clean
    result), so "no jobs" is a package without an ``ml_jobs`` folder.
    """
    package = OUT / "rules-only"
    package.mkdir(parents=True, exist_ok=True)
    link = package / "rules"
    if not link.is_symlink():
        link.symlink_to(PROJECT / "rules", target_is_directory=True)
    return package


def hunt(root: Path, rules: Path | None, package: Path, cores: int | None, workers: int | None = None) -> Timing:
    """Time one ``ctdetect hunt`` run of ``package`` (``rules`` replace its rules when given;
    ``workers``: ``hunt --workers``, default hunt's own: every core)."""
    cmd = [sys.executable, "-m", "ctdetect", "hunt", "--package", str(package), "--format", "ndjson", "--no-progress"]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    if rules is not None:
        cmd += ["--rules", str(rules)]
    cmd.append(str(root))
    return measure(cmd, cores)


def shares(read: Timing, mapped: Timing, rules: Timing, whole: Timing | None) -> str:
    """Set-up / reading / mapping / rules / jobs as shares of the hunt's CPU, from stage differences
    (set-up: the map stage's CPU before its first file, ``Timing.work``)."""
    total = (whole or rules).cpu
    assert read.work is not None and mapped.work is not None
    parts = [("set-up", mapped.cpu - mapped.work), ("reading", read.work), ("mapping", mapped.work - read.work),
             ("rules", rules.cpu - mapped.cpu)]
    if whole is not None:
        parts.append(("jobs", whole.cpu - rules.cpu))
    return " ".join(f"{label} {100 * max(value, 0.0) / total:.0f}%" for label, value in parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--large", action="store_true", help="also 4 million records")
    parser.add_argument("--principals", type=int, default=50)
    parser.add_argument("--per-day", type=int, default=None,
                        help="records a day: a larger archive is then a longer one, not a denser one "
                             "(default: every size spans about ten days)")
    parser.add_argument("--content", choices=("both", "rules", "whole", "elastic", "all"), default="both",
                        help="the package's rules only (no ML jobs), the whole package, both (default), "
                             "Elastic's AWS rules (no jobs), or all three")
    parser.add_argument("--cores", type=int, default=None, help="pin each run to this many CPUs")
    parser.add_argument("--workers", type=int, default=None,
                        help="hunt --workers (default: every core; 1: decoding, rules and jobs all in one process)")
    parser.add_argument("--stage", choices=("floor", "generate", "list", "read", "map", "map-full"), help=argparse.SUPPRESS)
    parser.add_argument("root", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage == "floor":
        run_floor(args.root)
        return
    if args.stage == "generate":
        archive(args.records, args.principals, args.per_day)
        return
    if args.stage:
        run_stage(args.stage, args.root)
        return
    if args.content in ("elastic", "all") and not ELASTIC_AWS_RULES.is_dir():
        raise SystemExit(f"--content {args.content}: Elastic's AWS rules are not at {ELASTIC_AWS_RULES}")
    if args.cores is not None:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])  # and every child with it
    sizes = [args.records] + ([4_000_000] if args.large and args.records != 4_000_000 else [])
    no_jobs = rules_only_package()
    cores = args.cores or len(os.sched_getaffinity(0))
    print(f"{'records':>10} {'content':>14} {'cores':>5} {'floor s':>8} {'floor cpu':>9} {'hunt s':>7} {'hunt cpu':>8} "
          f"{'ratio':>6} {'cpu ratio':>9} {'events/s':>9} {'peak MB':>8}  share of hunt CPU")
    notes = []
    for n in sizes:
        root = generated(n, args.principals, args.per_day)
        base, seen = floor(root, args.cores)
        read, mapped = stage(root, "read", args.cores), stage(root, "map", args.cores)
        rules = hunt(root, None, no_jobs, args.cores, args.workers) if args.content in ("both", "rules", "whole", "all") else None
        runs = []
        if args.content in ("both", "rules", "all"):
            runs.append(("rules only", rules, shares(read, mapped, rules, None)))
        if args.content in ("both", "whole", "all"):
            whole = hunt(root, None, PROJECT, args.cores, args.workers)
            runs.append(("whole package", whole, shares(read, mapped, rules, whole)))
        if args.content in ("elastic", "all"):
            elastic = hunt(root, ELASTIC_AWS_RULES, no_jobs, args.cores, args.workers)
            runs.append(("elastic aws", elastic, shares(read, mapped, elastic, None)))
        for label, t, split in runs:
            print(f"{seen:>10,} {label:>14} {cores:>5} {base.wall:>8.2f} {base.cpu:>9.2f} {t.wall:>7.2f} {t.cpu:>8.2f} "
                  f"{t.wall / base.wall:>6.2f} {t.cpu / base.cpu:>9.2f} {seen / t.wall:>9,.0f} {t.peak_mb:>8.0f}  {split}")
            notes.append(f"  {label} @ {seen:,}: {t.summary}")
        notes.append(f"  stages @ {seen:,}: read {read.wall:.2f} s wall {read.cpu:.2f} s cpu {read.peak_mb:.0f} MB; "
                     f"read+map {mapped.wall:.2f} s wall {mapped.cpu:.2f} s cpu {mapped.peak_mb:.0f} MB; "
                     f"after set-up (cpu s, like the floor's {base.cpu:.2f}): read {read.work:.2f}, read+map {mapped.work:.2f}")
    print("\n".join(notes))


if __name__ == "__main__":
    main()
