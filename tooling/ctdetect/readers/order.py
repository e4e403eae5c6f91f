"""Input files in CloudTrail delivery order, walked lazily.

Files are listed (folders recursively) and ordered by the delivery time CloudTrail writes
into each log file's name (``<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz``),
so an S3 export spanning several regions is read roughly in time order rather than region
after region. Other files keep their path order; each argument keeps its place. Within an
argument the order is that of one sort by ``(delivery time, path)``, a file without a
delivery time in its name taking ``""``: those first, by path.

Why lazily: the list of every file of an archive, sorted before the first was read, was
what grew with the archive (229,331 files took a process from 16 to 113 MB). A folder is
now walked twice: first for each of its folders' least keys only (a CloudTrail file's and
another file's apart: ``_Folder``), then, as the files are taken, a folder is listed again
and its names sorted only when its least key is the next one (a heap merge of the folders'
sorted runs). What is held is a few keys per folder, and the names of the folders whose
keys span the current one: the regions' folders of a day in an S3 layout, not the archive.

The order is exactly that of the one sort as long as the tree does not change between the
two walks (a folder listed again is sorted as found then). S3 prefixes are listed once, when
the order is made, and held (remote listings are not repeated); an S3 listing error and the
report of a missing path come then too, before anything is read, as they always did.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import NamedTuple

from ctdetect.readers import s3
from ctdetect.readers.model import SkippedInput
from ctdetect.readers.s3 import DayRange
from ctdetect.readers.sources import FOLDER, STDIN, folder_files, folder_prefix, list_inputs, local_kind, walk_folders

_CT_NAME = re.compile(r"_(\d{8}T\d{4}Z)_")
_PATH_SPECIAL = frozenset(("", ".", ".."))


def _file_name(name: str) -> str:
    """``Path(name).name``, without building a ``Path`` for each of an archive's files: the
    text after the last separator, unless that is empty, ``.`` or ``..`` (``Path`` normalises
    those; never the case for a file a listing gives)."""
    tail = name.rpartition("/")[2]
    return tail if tail not in _PATH_SPECIAL else Path(name).name


def _delivery_times(file_names: list[str]) -> list[str]:
    """The delivery time each CloudTrail log file's name holds, ``""`` for any other file
    (a list for a folder's names at once: no call a name)."""
    return [match.group(1) if match else "" for match in map(_CT_NAME.search, file_names)]


class _Folder(NamedTuple):
    """One run of a folder's files: its CloudTrail log files (``delivery``) or its others."""

    path: str
    delivery: bool

    def run(self) -> list[tuple[str, str]]:
        """The run's ``(delivery time, path)``, sorted: the folder listed again."""
        prefix = folder_prefix(self.path)
        names = folder_files(self.path)
        delivery = self.delivery
        run = [(time, prefix + name) for time, name in zip(_delivery_times(names), names) if bool(time) is delivery]
        run.sort()
        return run


# a heap entry: (delivery time, path, tie, what): ``what`` is the ``_Folder`` whose run's least
# key (time, path) that is, or the iterator of the run that file is the head of
_Entry = tuple[str, str, int, "_Folder | Iterator[tuple[str, str]]"]


def _least_keys(root: Path) -> list[_Entry]:
    """First walk: each folder's least key of either run (the names themselves not kept)."""
    least: list[_Entry] = []
    ties = count()
    for folder, names in walk_folders(root):
        times = _delivery_times(names)
        prefix = folder_prefix(folder)
        other = next((name for time, name in zip(times, names) if not time), None)  # names are sorted
        if other is not None:
            least.append(("", prefix + other, next(ties), _Folder(folder, False)))
        delivery = min(((time, name) for time, name in zip(times, names) if time), default=None)
        if delivery is not None:
            least.append((delivery[0], prefix + delivery[1], next(ties), _Folder(folder, True)))
    return least


def _merged(least: list[_Entry]) -> Iterator[str]:
    """The files of the folders ``least`` gives, by (delivery time, path): a folder's run is
    listed when its least key comes up, and dropped once taken. Keys never tie (a path is
    in one run); ``tie`` keeps a run's iterator from ever being compared."""
    heap = list(least)
    heapq.heapify(heap)
    pop, replace = heapq.heappop, heapq.heapreplace
    while heap:
        _, path, tie, what = heap[0]
        if type(what) is _Folder:  # a folder's least key: list the run
            run: Iterator[tuple[str, str]] = iter(what.run())
        else:
            yield path
            run = what  # type: ignore[assignment]
        following = next(run, None)
        if following is None:
            pop(heap)
        else:
            replace(heap, (following[0], following[1], tie, run))


class DeliveryOrder:
    """Every input file or S3 object (``-`` kept in place) in delivery order, as an iterable
    that walks folders as it goes (each iteration walks them again, in the same order)."""

    def __init__(self, paths: list[str | Path], on_skip: Callable[[SkippedInput], None],
                 days: DayRange | None = None) -> None:
        self._parts: list[list[str] | list[_Entry]] = []
        self._walked: list[bool] = []  # per part: folders to merge, or names as they are
        self.local_only = True  # no stdin, no S3 object: every file can go to a worker
        for entry in paths:
            text = str(entry)
            if text == STDIN:
                self._add([STDIN], walked=False)
                self.local_only = False
            elif s3.is_s3(text):
                names = list_inputs(entry, on_skip, days)
                times = _delivery_times([_file_name(name) for name in names])
                names = [name for _, name in sorted(zip(times, names))]
                self._add(names, walked=False)  # S3Object names stay S3Object
                self.local_only = self.local_only and not names
            else:
                kind = local_kind(entry, on_skip)
                if kind == FOLDER:
                    self._add(_least_keys(Path(entry)), walked=True)
                elif kind is not None:
                    self._add([text], walked=False)

    def _add(self, part: list, walked: bool) -> None:
        self._parts.append(part)
        self._walked.append(walked)

    def __iter__(self) -> Iterator[str]:
        for part, walked in zip(self._parts, self._walked):
            yield from _merged(part) if walked else part  # type: ignore[arg-type]


def ordered_files(paths: list[str | Path], on_skip: Callable[[SkippedInput], None], days: DayRange | None = None) -> DeliveryOrder:
    """Every input file or S3 object (``-`` kept in place) ordered by CloudTrail delivery
    time; S3 prefixes are listed for ``days`` only (``ctdetect.readers.s3``). Paths are
    looked at, missing ones reported and S3 prefixes listed now; folders are walked as
    the files are taken (``DeliveryOrder``)."""
    return DeliveryOrder(paths, on_skip, days)
