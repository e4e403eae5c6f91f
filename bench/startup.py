"""The fixed cost of a ctdetect command: start-up, imports, loading the content.

Every ``ctdetect`` run pays it before reading an event: ``hunt`` of a 2-record archive
(``--workers 1``, the table), ``validate`` of the package, ``--help``. At 200k records
the hunt's floor (gunzip + orjson) is about one CPU second, so a second of start-up is
as much again (issue 11). Each command runs ``--runs`` times in a child process,
pinned to the first ``--cores`` CPUs when given; CPU seconds (user + system, from ``wait4``,
which a busy machine does not inflate), wall seconds and peak RSS are printed, min and
median (``bench/hunt.py``'s ``measure``).

The 2-record archive is written to a temporary folder from the first records of a
generated archive (``bench/out/hunt-*``) or, without one, by ``ctdetect.synth``.

``--python`` and ``--project`` run another checkout (its interpreter, its folder as the
current one) with the same commands, for before/after figures. Byte-compiled files: an
installed ctdetect has them; a checkout run with ``PYTHONDONTWRITEBYTECODE=1`` compiles
every module at each start (about a quarter of a second): set ``PYTHONPYCACHEPREFIX``
to keep them outside the tree.

    python bench/startup.py [--runs 5] [--cores 1] [--python PATH] [--project DIR]

Figures are printed, never asserted: the test suite does not time anything.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
from pathlib import Path

from hunt import measure  # bench/hunt.py: a child timed with wait4, pinned

PROJECT = Path(__file__).resolve().parent.parent
OUT = PROJECT / "bench" / "out"


def tiny_archive(folder: Path) -> Path:
    """A CloudTrail folder holding one delivery file of two records."""
    records = _two_records()
    target = folder / "AWSLogs" / "111122223333" / "CloudTrail" / "eu-west-1" / "2026" / "03" / "03"
    target.mkdir(parents=True)
    name = "111122223333_CloudTrail_eu-west-1_20260303T0000Z_startup.json.gz"
    (target / name).write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    return folder


def _two_records() -> list[dict]:
    for archive in sorted(OUT.glob("hunt-*")):
        for path in sorted(archive.rglob("*.json.gz")):
            records = json.loads(gzip.decompress(path.read_bytes())).get("Records", [])
            if len(records) >= 2:
                return records[:2]
    from itertools import islice

    from ctdetect.synth.generator import generate
    from ctdetect.synth.params import SynthParams

    return list(islice(generate(SynthParams(days=1, events_per_day=50, principals=2)), 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cores", type=int, default=None, help="pin each run to this many CPUs")
    parser.add_argument("--python", default=sys.executable, help="the interpreter to run ctdetect with")
    parser.add_argument("--project", type=Path, default=PROJECT, help="the folder the commands run in (its package)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ctdetect-startup-") as tmp:
        archive = tiny_archive(Path(tmp))
        commands = {
            "hunt (2 records, --workers 1)": ["hunt", str(archive), "--workers", "1", "--no-progress"],
            "validate": ["validate"],
            "--help": ["--help"],
        }
        print(f"{args.python} in {args.project}, {args.runs} runs each" + (f", {args.cores} CPU(s)" if args.cores else ""))
        print(f"{'command':<32} {'CPU s min':>9} {'median':>7} {'wall s min':>10} {'median':>7} {'peak MB':>8}")
        for label, argv in commands.items():
            cmd = [args.python, "-m", "ctdetect", *argv]
            measure(cmd, args.cores, args.project)  # a first run: byte-compiled files written, disk cache warm
            runs = [measure(cmd, args.cores, args.project) for _ in range(args.runs)]
            cpu = [t.cpu for t in runs]
            wall = [t.wall for t in runs]
            print(f"{label:<32} {min(cpu):>9.3f} {statistics.median(cpu):>7.3f} {min(wall):>10.3f} {statistics.median(wall):>7.3f} {max(t.peak_mb for t in runs):>8.0f}")


if __name__ == "__main__":
    main()
