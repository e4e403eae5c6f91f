"""Decoding and mapping in worker processes, events handed back in one process's order.

Reading a CloudTrail archive is gunzip + JSON parsing + the ECS mapping of every record:
about half of a hunt's CPU, and work each file needs alone. Here the ordered files are
cut into consecutive chunks of about ``CHUNK_BYTES`` (1 MB) of input; worker processes (forked,
so they share the parent's mapper, its GeoIP database and caches without pickling them)
read and map one chunk each, and the parent takes the chunks back in list order (a
projected event's raw record comes back as JSON bytes, bound to the parent's full mapper
here: ``ecs.projected``). A chunk crosses as one ``marshal`` blob of its events' plain
fields and, beside them, their raw records' bytes (``packed``), not as a pickled list of
dicts each holding a ``RawRecord``: pickle rebuilds every ``RawRecord`` through its
``__reduce__`` (a class call per event) and memoises every object it writes, and the
parent then walked the events again to bind them (measured on a 5,575-event chunk of the
bench archive: dumps 25.4 -> 16.7 ms in the worker, loads + bind 17.3 + 0.6 -> 11.5 ms in the
parent, which is the process that bounds the wall).

The blob does not come back through the pool's result pipe but through a file the worker
writes in a private spool directory (``ecs.spool``: in ``/dev/shm`` where there is one, memory, not disk),
read whole and deleted by the parent when it takes the chunk (``_take``). Why: a chunk's
blob is about 9 MB; read from the result pipe 64 kB at a time by the pool's result thread,
fighting the main thread for the interpreter lock, it kept the pipe readable for long
stretches, and all that while the pool's worker-maintenance thread, which waits on the same
pipe, woke and looped without pause: 1.3-1.4 CPU s of the parent's ~9 went to that thread
alone in a 200,000-record hunt (``/proc/<pid>/task``), besides 1.2 s in the result thread.
Only the file's name and the skips cross the pipe now. A blob that cannot be written (the
spool full...) comes back through the pipe as before. The events come out exactly as ``ecs.stream.mapped_events``
gives them in one process, so every result downstream is byte-identical whatever the
number of workers; the skips of a chunk are reported when the chunk is taken back, before
its events.

Memory stays flat: at most ``2 * workers`` chunks are in flight (submitted and not yet
taken back), however long the archive.

Only local files go to workers: stdin and S3 objects (``parallel_capable``) are read in
the calling process as before.
"""

from __future__ import annotations

import marshal
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, count, islice
from typing import Any

from ctdetect.ecs.mapper import RecordMapper
from ctdetect.ecs.projected import RAW_KEY, ProjectedMapper, RawRecord
from ctdetect.ecs.spool import spool_directory
from ctdetect.readers.model import SkippedInput
from ctdetect.readers.order import DeliveryOrder
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


def parallel_capable(files: list[str] | DeliveryOrder) -> bool:
    """Whether every input is a local file (workers cannot share stdin or an S3 session).
    A ``DeliveryOrder`` knows it from its arguments (iterating it would walk the archive)."""
    if isinstance(files, DeliveryOrder):
        return files.local_only
    return bool(files) and all(not isinstance(f, S3Object) and str(f) != STDIN for f in files)


def chunks(files: Iterable[str], target_bytes: int | None = None) -> Iterator[list[str]]:
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


def packed(events: list[dict[str, Any]]) -> bytes | list[dict[str, Any]]:
    """``events`` as one ``marshal`` blob of ``(plain events, raw records)`` (``unpacked``
    reverses it), or ``events`` themselves (pickled as before) when they hold anything else.
    Takes ``RAW_KEY`` out of ``events`` (the worker's, dropped once sent) unless it returns them.

    ``plain events``: each event without ``RAW_KEY``; ``raw records``: per event, its
    ``RawRecord``'s JSON bytes, or None for an event without one. Only the last key of an
    event may be ``RAW_KEY`` (where ``ProjectedMapper`` puts it), so putting it back last
    keeps every event's key order. marshal writes only plain values (str, int, float, bool,
    None, bytes, list, tuple, dict), each exactly (a ``str`` subclass, a ``RawRecord`` whose
    record is still a dict...: ``ValueError``, and the chunk is pickled); an object met
    twice (a cached static part's values, shared by the events copied from it) is written
    once and shared again on loading, as pickle shares it."""
    raws: list[bytes | None] = []
    for event in events:
        raw = event.get(RAW_KEY)
        if raw is None:
            raws.append(None)
            continue
        if type(raw) is not RawRecord or type(raw.record) is not bytes or next(reversed(event)) != RAW_KEY:
            return events
        raws.append(raw.record)
    # the worker's events are dropped once sent: their raw records are taken out in place
    # (no copy), and put back, last again, if the chunk must be pickled after all
    held = [event.pop(RAW_KEY) if raw is not None else None for event, raw in zip(events, raws)]
    try:
        return marshal.dumps((events, raws))
    except ValueError:  # a value marshal does not write
        for event, raw in zip(events, held):
            if raw is not None:
                event[RAW_KEY] = raw
        return events


def unpacked(payload: bytes | list[dict[str, Any]], mapper: RecordMapper) -> list[dict[str, Any]]:
    """The events ``packed`` made ``payload`` from, each ``RawRecord`` bound to ``mapper``'s
    full mapper (``ProjectedMapper.bind``)."""
    if type(payload) is not bytes:
        events = payload
        if isinstance(mapper, ProjectedMapper):  # raw records came without the mapper
            mapper.bind(events)
        return events
    events, raws = marshal.loads(payload)
    full = mapper.full if isinstance(mapper, ProjectedMapper) else None
    for event, raw in zip(events, raws):
        if raw is not None:
            event[RAW_KEY] = RawRecord(raw, full)  # type: ignore[arg-type]
    return events


def _map_chunk(files: list[str], spool_file: str) -> tuple[str | None, bytes | list[dict[str, Any]] | None, list[SkippedInput]]:
    """Worker side: the events (``packed``) and skips of one chunk, in reading order: a blob
    written to ``spool_file`` (its name returned, no payload), or the payload itself when it
    is not a blob or cannot be written there."""
    from ctdetect.ecs.stream import mapped_events

    assert _WORKER_SETUP is not None, "workers are forked after the setup is set"
    mapper, fmt, days, listed = _WORKER_SETUP
    skips: list[SkippedInput] = []
    events = list(mapped_events(files, mapper, fmt, skips.append, None, days, listed=listed))
    payload = packed(events)
    if type(payload) is bytes:
        try:
            with open(spool_file, "wb") as out:
                out.write(payload)
            return spool_file, None, skips
        except OSError:  # spool full or gone: through the pipe after all
            try:
                os.unlink(spool_file)
            except OSError:
                pass
    return None, payload, skips


def _take(result: tuple[str | None, bytes | list[dict[str, Any]] | None, list[SkippedInput]]) -> tuple[bytes | list[dict[str, Any]], list[SkippedInput]]:
    """Parent side: a chunk's payload (read whole from its spool file, which is deleted) and skips."""
    spool_file, payload, skips = result
    if spool_file is not None:
        with open(spool_file, "rb") as source:
            payload = source.read()
        os.unlink(spool_file)
    assert payload is not None
    return payload, skips


def mapped_in_workers(
    files: Iterable[str], mapper: RecordMapper, fmt: str, report: Callable[[SkippedInput], None],
    days: DayRange | None, workers: int, *, listed: bool = False,
) -> Iterator[dict[str, Any]]:
    """``ecs.stream.mapped_events`` of ``files`` computed by ``workers`` processes, same order
    (``listed``: as ``mapped_events`` takes it)."""
    global _WORKER_SETUP
    queued = chunks(files)
    # the first chunks, as many as the workers: fewer than two is one process's work, and
    # no more workers are forked than there are chunks for them
    first = list(islice(queued, workers))
    if len(first) < 2:  # every file is in ``first``: not listed (walked) again
        from ctdetect.ecs.stream import mapped_events

        yield from mapped_events(list(chain.from_iterable(first)), mapper, fmt, report, None, days, listed=listed)
        return
    _WORKER_SETUP = (mapper, fmt, days, listed)
    with spool_directory() as spool:  # removed, with the chunks not taken, however the run ends
        pool = multiprocessing.get_context("fork").Pool(len(first))
        numbers = count()  # a spool file name per task
        try:
            pending: deque = deque()
            for chunk in chain(first, queued):
                pending.append(pool.apply_async(_map_chunk, (chunk, os.path.join(spool, str(next(numbers))))))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                payload, skips = _take(pending.popleft().get())
                nxt = next(queued, None)
                if nxt is not None:
                    pending.append(pool.apply_async(_map_chunk, (nxt, os.path.join(spool, str(next(numbers))))))
                for skip in skips:
                    report(skip)
                yield from unpacked(payload, mapper)
        finally:
            pool.terminate()
            pool.join()
            _WORKER_SETUP = None
