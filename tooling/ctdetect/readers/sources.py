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
        kind = local_kind(entry, on_skip)
        if kind == FOLDER:
            yield from _walk(Path(entry))
        elif kind == FILE:
            yield text, text


FOLDER, FILE = "folder", "file"


def local_kind(entry: str | Path, on_skip: Callable[[SkippedInput], None]) -> str | None:
    """Whether a local path argument is a ``FOLDER`` (walked) or a ``FILE`` (read as
    named: anything else that exists, symbolic links followed); None, reported to
    ``on_skip``, when it does not exist. The one test ``expand`` and the delivery order
    (``readers.order``) both make, so both list an argument alike."""
    mode = _mode(Path(entry))
    if mode is None:
        on_skip(SkippedInput(str(entry), None, UNREADABLE, "no such file or directory"))
        return None
    return FOLDER if stat.S_ISDIR(mode) else FILE


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
    """The files under ``root`` (``walk_folders``), each named by its path."""
    for folder, names in walk_folders(root):
        prefix = folder_prefix(folder)
        for name in names:
            path = prefix + name
            yield path, path


def walk_folders(root: Path) -> Iterator[tuple[str, list[str]]]:
    """``(folder, its visible file names, sorted)`` for ``root`` and every folder below it,
    sub-folders in sorted order; hidden files and folders left out, symbolic links to
    folders not followed (``os.walk``'s default), a folder that cannot be listed passed over."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield folder, _visible(files)


def folder_files(folder: str) -> list[str]:
    """The visible file names of one folder ``walk_folders`` gave, sorted, listed again the
    way it listed them (none when it cannot be listed now)."""
    level = next(os.walk(folder), None)
    return _visible(level[2]) if level is not None else []


def _visible(files: list[str]) -> list[str]:
    return sorted(name for name in files if not name.startswith("."))


def folder_prefix(folder: str) -> str:
    """The text ``str(Path(folder, name))`` puts before any file name of ``folder``.

    Why a prefix per folder: an archive holds thousands of files a folder, and a ``Path``
    each (built, then turned back into text) was most of listing them. ``Path(folder, "x")``
    ends with the one part ``x``, so what precedes it is the text ``Path`` puts before any
    file name of that folder (``"."`` gives none, ``"/"`` no second slash)."""
    return str(Path(folder, "x"))[:-1]
