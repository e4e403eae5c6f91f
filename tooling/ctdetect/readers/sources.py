"""Expand the paths a user gives into input sources, in a stable order.

Folders are walked recursively in sorted order (an S3 export
``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz`` then reads in time order
per region). Hidden files and folders (``.DS_Store``, ``.git``) are ignored. ``-`` is stdin.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from ctdetect.readers.model import UNREADABLE, SkippedInput

STDIN = "-"


def expand(
    paths: list[str | Path], stdin: BinaryIO | None, on_skip: Callable[[SkippedInput], None]
) -> Iterator[tuple[str, Path | BinaryIO]]:
    """``(display name, path or binary stream)`` for every input, in order."""
    for entry in paths:
        text = str(entry)
        if text == STDIN:
            yield STDIN, stdin if stdin is not None else sys.stdin.buffer
            continue
        path = Path(entry)
        if path.is_dir():
            yield from _walk(path)
        elif path.exists():
            yield text, path
        else:
            on_skip(SkippedInput(text, None, UNREADABLE, "no such file or directory"))


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                path = Path(folder, name)
                yield str(path), path
