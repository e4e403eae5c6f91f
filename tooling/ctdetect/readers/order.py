"""Input files in CloudTrail delivery order.

Files are listed (folders recursively) and ordered by the delivery time CloudTrail writes
into each log file's name (``<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz``),
so an S3 export spanning several regions is read roughly in time order rather than region
after region. Other files keep their path order; each argument keeps its place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from ctdetect.readers.model import SkippedInput
from ctdetect.readers.s3 import DayRange
from ctdetect.readers.sources import STDIN, list_inputs

_CT_NAME = re.compile(r"_(\d{8}T\d{4}Z)_")
_PATH_SPECIAL = frozenset(("", ".", ".."))


def _file_name(name: str) -> str:
    """``Path(name).name``, without building a ``Path`` for each of an archive's files: the
    text after the last separator, unless that is empty, ``.`` or ``..`` (``Path`` normalises
    those; never the case for a file a listing gives)."""
    tail = name.rpartition("/")[2]
    return tail if tail not in _PATH_SPECIAL else Path(name).name


def ordered_files(paths: list[str | Path], on_skip: Callable[[SkippedInput], None], days: DayRange | None = None) -> list[str]:
    """Every input file or S3 object (``-`` kept in place) ordered by CloudTrail delivery
    time; S3 prefixes are listed for ``days`` only (``ctdetect.readers.s3``)."""
    out: list[tuple[tuple, str]] = []
    for i, entry in enumerate(paths):
        if str(entry) == STDIN:
            out.append(((i, "", ""), STDIN))
            continue
        for name in list_inputs(entry, on_skip, days):
            match = _CT_NAME.search(_file_name(name))
            # group per argument; within it CloudTrail files by delivery time, others by path
            out.append(((i, match.group(1) if match else "", name), name))
    out.sort(key=lambda item: item[0])
    return [name for _, name in out]  # S3Object names stay S3Object
