"""The CLI's entry point sets the cyclic collector's thresholds (``cli.COLLECTOR_THRESHOLDS``)."""

from __future__ import annotations

import subprocess
import sys

from ctdetect.cli import COLLECTOR_THRESHOLDS


def test_entry_point_sets_the_collector_thresholds() -> None:
    # a child process: the thresholds are process-wide, and the test's own must stay as they are
    code = (
        "import gc, sys\n"
        "import ctdetect.cli as cli\n"
        "seen = []\n"
        "cli.cli = lambda **_: seen.append(gc.get_threshold())\n"
        "cli.main()\n"
        "print(seen[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(COLLECTOR_THRESHOLDS)
    assert COLLECTOR_THRESHOLDS != (700, 10, 10)  # Python's default: the setting must change something
