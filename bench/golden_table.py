"""The table of ml-cpp golden cases: each case, what ml-cpp expects, what ours gives, matched or not.

Runs the golden tests (``tests/anomaly/test_*golden*.py``) under pytest with a JUnit report;
each test notes its figures before it asserts (``tests/anomaly/helpers.record_golden``), and
this script prints them beside the outcome: ``matched`` (passed), ``not matched`` (a strict
xfail, or a failure), ``skipped`` (the shared data is absent), or the result the test names
(``not held``: a case of an ml-cpp file ours cannot be held to, with the reason; its test
checks that the case is where it says). Figures are printed, never asserted.

    python bench/golden_table.py [-k EXPR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
GOLDEN_TESTS = sorted(str(p) for p in (PROJECT / "tests" / "anomaly").glob("test_*golden*.py"))
PROPERTY = "golden"  # tests/anomaly/helpers.GOLDEN_PROPERTY


def outcome(case: ET.Element) -> str:
    """matched / not matched / skipped, from a JUnit testcase (pytest writes an xfail as a skip)."""
    skipped = case.find("skipped")
    if skipped is not None:
        return "not matched" if "xfail" in (skipped.get("type", "") + skipped.get("message", "")) else "skipped"
    if case.find("failure") is not None or case.find("error") is not None:
        return "not matched"
    return "matched"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="pytest -k expression to choose cases")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "golden.xml"
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-o", "junit_family=xunit1",
               f"--junitxml={report}", *GOLDEN_TESTS] + (["-k", args.k] if args.k else [])
        subprocess.run(cmd, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        if not report.exists():
            raise SystemExit("pytest wrote no report: run the golden tests by hand to see why")
        cases = ET.parse(report).getroot().iter("testcase")
        rows = []
        for case in cases:
            figures = {"source": case.get("name", ""), "expected": "", "ours": ""}
            for prop in case.iter("property"):
                if prop.get("name") == PROPERTY:
                    figures.update(json.loads(prop.get("value", "{}")))
            result = outcome(case)
            if result != "skipped":
                result = figures.get("result", result)
            rows.append((result, figures["source"], figures["expected"], figures["ours"], case.get("name", "")))
    print("| ml-cpp case | expected | ours | result | test |\n|---|---|---|---|---|")
    for result, source, expected, ours, name in rows:
        print(f"| {source} | {expected} | {ours} | {result} | {name} |")
    counts = {r: sum(1 for row in rows if row[0] == r) for r in ("matched", "not matched", "not held", "skipped")}
    print(f"\n{len(rows)} cases: " + ", ".join(f"{n} {r}" for r, n in counts.items()))


if __name__ == "__main__":
    main()
