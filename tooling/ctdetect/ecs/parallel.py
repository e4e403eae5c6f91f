"""Decoding and mapping in worker processes, events handed back in one process's order.

Reading a CloudTrail archive is gunzip + JSON parsing + the ECS mapping of every record:
about half of a hunt's CPU, and work each file needs alone. Here the ordered file list is
cut into consecutive chunks of about ``CHUNK_BYTES`` (1 MB) of input; worker processes (forked,
so they share the parent's mapper, its GeoIP database and caches without pickling them)
read and map one chunk each, and the parent takes the chunks back in list order (a
projected event's raw record comes back as JSON bytes, bound to the parent's full mapper
here: ``ecs.projected``). The events come out exactly as ``ecs.stream.mapped_events``
gives them in one process, so every result downstream is byte-identical whatever the
number of workers; the skips of a chunk are reported when the chunk is taken back, before
its events.

Memory stays flat: at most ``2 * workers`` chunks are in flight (submitted and not yet
taken back), however long the archive.

Only local files go to workers: stdin and S3 objects (``parallel_capable``) are read in
the calling process as before.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from itertools import chain, islice
from typing import Any

from ctdetect.ecs.mapper import RecordMapper
from ctdetect.ecs.projected import ProjectedMapper
from ctdetect.readers.model import SkippedInput
from ctdetect.readers.s3 import DayRange
from ctdetect.readers.sources import STDIN, S3Object

# compressed input per task: large enough that the hand-off costs little (a few thousand
# events), small enough that the 2 * workers chunks in flight stay small: at 200,000 records
# and 2 workers, 4 MB chunks peaked at 156 MB in the parent and 143 MB per worker, 1 MB at
# 73 and 80 MB, for the same CPU (bench figures in bench/README.md)
CHUNK_BYTES = 1 << 20
_MAX_FILES_PER_CHUNK = 2048

# set in the parent just before the workers are forked: what each task maps with
_WORKER_SETUP: tuple[RecordMapper, str, DayRange | None, bool] | None = None


def parallel_capable(files: list[str]) -> bool:
    """Whether every input is a local file (workers cannot share stdin or an S3 session)."""
    return bool(files) and all(not isinstance(f, S3Object) and str(f) != STDIN for f in files)


def chunks(files: list[str], target_bytes: int | None = None) -> Iterator[list[str]]:
    """Consecutive runs of ``files`` holding about ``target_bytes`` (default ``CHUNK_BYTES``)
    each, order kept.

    A generator: sizing a chunk stats its files, some 10-40 µs a file (0.25-0.4 s for the
    11,055 files of the 200k-record bench archive), so the files are sized as the chunks
    are handed out, while the workers already map the first ones, not all before any
    worker starts."""
    target_bytes = target_bytes or CHUNK_BYTES
    current: list[str] = []
    size = 0
    for name in files:
        try:
            size += os.stat(name).st_size
        except OSError:
            size += 0  # unreadable: the reader reports it in its place
        current.append(name)
        if size >= target_bytes or len(current) >= _MAX_FILES_PER_CHUNK:
            yield current
            current, size = [], 0
    if current:
        yield current


def _map_chunk(files: list[str]) -> tuple[list[dict[str, Any]], list[SkippedInput]]:
    """Worker side: the events and skips of one chunk, in reading order."""
    from ctdetect.ecs.stream import mapped_events

    assert _WORKER_SETUP is not None, "workers are forked after the setup is set"
    mapper, fmt, days, listed = _WORKER_SETUP
    skips: list[SkippedInput] = []
    events = list(mapped_events(files, mapper, fmt, skips.append, None, days, listed=listed))
    return events, skips


def mapped_in_workers(
    files: list[str], mapper: RecordMapper, fmt: str, report: Callable[[SkippedInput], None],
    days: DayRange | None, workers: int, *, listed: bool = False,
) -> Iterator[dict[str, Any]]:
    """``ecs.stream.mapped_events`` of ``files`` computed by ``workers`` processes, same order
    (``listed``: as ``mapped_events`` takes it)."""
    global _WORKER_SETUP
    queued = chunks(files)
    # the first chunks, as many as the workers: fewer than two is one process's work, and
    # no more workers are forked than there are chunks for them
    first = list(islice(queued, workers))
    if len(first) < 2:
        from ctdetect.ecs.stream import mapped_events

        yield from mapped_events(files, mapper, fmt, report, None, days, listed=listed)
        return
    _WORKER_SETUP = (mapper, fmt, days, listed)
    pool = multiprocessing.get_context("fork").Pool(len(first))
    try:
        pending: deque = deque()
        for chunk in chain(first, queued):
            pending.append(pool.apply_async(_map_chunk, (chunk,)))
            if len(pending) >= 2 * workers:
                break
        while pending:
            events, skips = pending.popleft().get()
            nxt = next(queued, None)
            if nxt is not None:
                pending.append(pool.apply_async(_map_chunk, (nxt,)))
            for skip in skips:
                report(skip)
            if isinstance(mapper, ProjectedMapper):  # raw records came without the mapper
                mapper.bind(events)
            yield from events
    finally:
        pool.terminate()
        pool.join()
        _WORKER_SETUP = None
