"""Expand the paths a user gives into input sources, in a stable order.

Folders are walked recursively in sorted order (an S3 export
``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz`` then reads in time order
per region). Hidden files and folders (``.DS_Store``, ``.git``) are ignored. ``-`` is stdin.
``s3://bucket/prefix`` lists the objects under the prefix (``ctdetect.readers.s3``; only the
days of ``days`` when given); an ``S3Object`` (an object URL a listing returned) is read as is.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from ctdetect.readers import s3
from ctdetect.readers.model import UNREADABLE, SkippedInput

STDIN = "-"


class S3Object(str):
    """The URL of one S3 object, as a listing returned it (read without listing again)."""


def expand(
    paths: list[str | Path], stdin: BinaryIO | None, on_skip: Callable[[SkippedInput], None],
    days: s3.DayRange | None = None,
) -> Iterator[tuple[str, str | BinaryIO]]:
    """``(display name, local file path or binary stream)`` for every input, in order (a local
    file's path is its display name). Raises ``s3.S3Error`` when an S3 prefix cannot be
    listed (the input as a whole is unreadable)."""
    for entry in paths:
        text = str(entry)
        if text == STDIN:
            yield STDIN, stdin if stdin is not None else sys.stdin.buffer
            continue
        if isinstance(entry, S3Object):
            yield from _s3_object(text, on_skip)
            continue
        if s3.is_s3(text):
            for url in s3.list_objects(text, days):
                yield from _s3_object(url, on_skip)
            continue
        path = Path(entry)
        mode = _mode(path)
        if mode is None:
            on_skip(SkippedInput(text, None, UNREADABLE, "no such file or directory"))
        elif stat.S_ISDIR(mode):
            yield from _walk(path)
        else:
            yield text, text


_MISSING = frozenset((errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP))


def _mode(path: Path) -> int | None:
    """The file mode of ``path`` (symbolic links followed), None when it does not exist.

    One ``stat`` where ``is_dir()`` then ``exists()`` made two, for each of the thousands of
    files an archive holds; the errors taken for "does not exist" are the ones ``pathlib``
    ignores, any other is raised as ``is_dir()`` raised it."""
    try:
        return os.stat(path).st_mode
    except OSError as exc:
        if exc.errno in _MISSING:
            return None
        raise
    except ValueError:  # a name holding a NUL byte: pathlib's is_dir()/exists() say False
        return None


def list_inputs(entry: str | Path, on_skip: Callable[[SkippedInput], None], days: s3.DayRange | None = None) -> list[str]:
    """The names of the files (or S3 objects, as ``S3Object``) one path argument stands for."""
    text = str(entry)
    if s3.is_s3(text):
        return [S3Object(url) for url in s3.list_objects(text, days)]
    return [name for name, _ in expand([entry], None, on_skip)]


def _s3_object(url: str, on_skip: Callable[[SkippedInput], None]) -> Iterator[tuple[str, BinaryIO]]:
    try:
        yield url, s3.open_object(url)
    except s3.S3Error as exc:
        on_skip(SkippedInput(url, None, UNREADABLE, f"cannot be read: {exc}"))


def _walk(root: Path) -> Iterator[tuple[str, str]]:
    """The files under ``root``, named ``str(Path(folder, name))``.

    Why a prefix per folder: an archive holds thousands of files a folder, and a ``Path``
    each (built, then turned back into text) was most of listing them. ``Path(folder, "x")``
    ends with the one part ``x``, so what precedes it is the text ``Path`` puts before any
    file name of that folder (``"."`` gives none, ``"/"`` no second slash)."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        prefix = str(Path(folder, "x"))[:-1]
        for name in sorted(files):
            if not name.startswith("."):
                path = prefix + name
                yield path, path
