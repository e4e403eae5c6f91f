#!/usr/bin/env python3
"""Regenerate ``tooling/ctdetect/data/geoip-default.mmdb`` from :func:`ctdetect.geoip.default_table`.

The output is deterministic (fixed build epoch), so a test can check that the committed file
matches the table. Synthetic data only: see ``ctdetect/geoip/table.py``.
"""

from __future__ import annotations

import sys

from ctdetect.geoip import DEFAULT_DB_PATH, default_table
from ctdetect.geoip.table import DEFAULT_DB_DESCRIPTION, DEFAULT_DB_TYPE
from ctdetect.geoip.writer import write_mmdb


def main() -> int:
    path = write_mmdb(
        DEFAULT_DB_PATH, default_table(), database_type=DEFAULT_DB_TYPE, description=DEFAULT_DB_DESCRIPTION
    )
    print(f"wrote {len(default_table())} networks to {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
