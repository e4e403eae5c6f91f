"""Stream events out of CloudTrail files, NDJSON and ECS NDJSON, skipping bad input.

Formats are recognised by content, never by file name:

- gzip by its magic bytes (``1f 8b``), at any level of the input;
- a first non-blank line that parses as a JSON object: NDJSON, unless that object is a
  CloudTrail log file (``{"Records": [...]}``), which is the common one-line form;
- a first line that starts a JSON value but is not complete on its own line: a whole
  (pretty-printed) JSON document: ``{"Records": [...]}``, an array of records, or one
  record. CloudTrail files are bounded (a few MB), so a whole document is parsed at once
  with orjson; nothing is kept across files, so memory does not grow with the input;
- anything else (binary, text that is not JSON) skips the file with one report.

Envelopes (``aws cloudtrail lookup-events`` output, EventBridge events, CloudWatch Logs
subscription data as Firehose stores it: gzip, base64 of gzip a line, or envelopes back to
back with no separator; CloudTrail Lake query results) are unwrapped by
``ctdetect.readers.envelopes``, at the top of a document or on any NDJSON line.

Each NDJSON line is classified on its own: ``eventTime`` + ``eventName`` -> raw
CloudTrail; ``@timestamp`` with an ``event`` object or dotted keys -> ECS document; other
CloudTrail keys without ``eventTime``/``eventName`` -> a broken record (skipped); any
other object with ``@timestamp`` -> a bare ECS document.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from itertools import repeat
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import orjson

from ctdetect.readers.model import (
    BAD_GZIP,
    BINARY,
    EMPTY_FILE,
    INVALID_JSON,
    MISSING_FIELD,
    NON_UTF8,
    NOT_CLOUDTRAIL,
    TRUNCATED_GZIP,
    UNREADABLE,
    RawItem,
    SkippedInput,
)
from ctdetect.readers.envelopes import GZIP_BASE64_PREFIX, Unreadable, decode_base64_gzip, split_concatenated, unwrap
from ctdetect.readers.s3 import DayRange, is_s3
from ctdetect.readers.sources import STDIN, expand
from ctdetect.readers.texts import RecordText, TextBatch, delivery_parts

SkipCallback = Callable[[SkippedInput], None]
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_DELIVERY_START = b'{"Records":['  # a delivery file as CloudTrail writes it (``readers.texts``)
_CLOUDTRAIL_HINTS = ("eventTime", "eventName", "eventSource", "eventVersion", "userIdentity", "eventID")


def _ignore(_: SkippedInput) -> None:
    return None


def read_events(
    paths: Iterable[str | Path], *, stdin: BinaryIO | None = None, on_skip: SkipCallback | None = None,
    days: DayRange | None = None, texts: bool = False, listed: bool = False,
) -> Iterator[RawItem]:
    """Yield every event of ``paths`` (files, folders, ``-`` for stdin) in order.

    Bad input never raises: each bad file, line or record is passed once to ``on_skip``
    as a ``SkippedInput`` and reading goes on. ``texts``: the records of a one-line
    delivery file (``{"Records": [...]}``) come as ``readers.texts.RecordText`` (their
    JSON text, the top-level keys a projected mapper needs decoded), not as dicts.
    ``listed``: ``paths`` is what ``readers.order.ordered_files`` gave (files, S3 objects,
    ``-``): see ``_listed``.
    """
    for batch in read_batches(paths, stdin=stdin, on_skip=on_skip, days=days, texts=texts, listed=listed):
        if type(batch) is TextBatch:
            yield from map(RawItem, repeat("cloudtrail"), map(RecordText, batch.texts, batch.heads), repeat(batch.file),
                           batch.numbers)
        else:
            yield from batch


Batch = list[RawItem] | TextBatch


def read_batches(
    paths: Iterable[str | Path], *, stdin: BinaryIO | None = None, on_skip: SkipCallback | None = None,
    days: DayRange | None = None, texts: bool = False, listed: bool = False,
) -> Iterator[Batch]:
    """``read_events``, its events in batches: lists of ``RawItem``, or with ``texts`` a
    ``readers.texts.TextBatch`` for each delivery file read as texts (its records as parallel
    lists, no object a record: ``ecs.stream.mapped_events`` maps them so)."""
    report = on_skip or _ignore
    for name, source in _listed(paths, stdin, report, days) if listed else expand(paths, stdin, report, days):
        if type(source) is str:
            try:
                handle: BinaryIO = open(source, "rb")  # noqa: SIM115 - closed below
            except OSError as exc:
                if listed:  # told as an unlisted path is: missing, a folder now, or unreadable
                    yield from read_batches([name], stdin=stdin, on_skip=report, days=days, texts=texts)
                else:
                    report(SkippedInput(name, None, UNREADABLE, f"cannot be read: {exc.strerror or exc}"))
                continue
            with handle:
                whole = _small_gzip(handle)
                if whole is not None:
                    delivery = _delivery_batch(name, whole, report) if texts else None
                    if delivery is not None:  # read: no generator, no line reader
                        if delivery:
                            yield delivery
                        continue
                    batches = _read_content(name, io.BytesIO(whole), report, _Position(), texts)
                else:
                    handle.seek(0)
                    batches = _read_stream(name, handle, report, texts)
                yield from batches
        else:
            yield from _read_stream(name, source, report, texts)


def _listed(files: Iterable[str | Path], stdin: BinaryIO | None, report: SkipCallback,
            days: DayRange | None) -> Iterator[tuple[str, str | BinaryIO]]:
    """``expand`` of names a listing gave: each local file opened as named, without a second
    ``stat`` (an archive's thousands of files were stat-ed once to list them and again to
    read them); stdin and S3 objects go through ``expand``. A file that cannot be opened
    is then told as ``expand`` tells it (``read_events``): the same reports."""
    for name in files:
        if type(name) is str and name != STDIN and not is_s3(name):
            yield name, name
        else:
            yield from expand([name], stdin, report, days)


_WHOLE_LIMIT = 64 << 20  # gzip files up to this size are decompressed in one call


def _small_gzip(handle: BinaryIO) -> bytes | None:
    """A bounded gzip file (a CloudTrail log file is a few MB) decompressed in one call,
    which is much faster than streaming it. None when the file is not gzip, is large, or
    is damaged (the streaming path then reads what it can and reports the damage)."""
    try:  # the size first: read(limit) would allocate the whole limit for every file
        if os.fstat(handle.fileno()).st_size > _WHOLE_LIMIT:
            return None
    except (OSError, AttributeError, io.UnsupportedOperation):
        return None
    if handle.peek(2)[:2] != _GZIP_MAGIC:  # type: ignore[attr-defined]
        return None
    data = _gunzip(handle.read())
    if data is None:
        return None
    if data[:2] == _GZIP_MAGIC:
        return None  # a .gz of a .gz: let the streaming path unwrap it
    return data


def _delivery_batch(name: str, data: bytes, report: SkipCallback) -> TextBatch | None:
    """The ``TextBatch`` ``_read_content`` gives for ``data`` when ``data`` is one delivery
    document and nothing else (what CloudTrail writes: one line, maybe blank lines after it),
    with the same reports; None for anything else, which ``_read_content`` then reads. Why:
    the line reader, the opening's look-ahead and their generators cost a few microseconds a
    file, and an archive is thousands of small files."""
    if not data.startswith(_DELIVERY_START):
        return None
    end = data.find(b"\n")
    if end >= 0 and data[end:].strip():
        return None  # more lines: NDJSON after the document
    parts = delivery_parts(data)  # the document with only whitespace after it: what the first line gives
    return None if parts is None else _text_batch(name, *parts, report, _Position())


def _gunzip(blob: bytes) -> bytes | None:
    """``gzip.decompress(blob)``, None where it raises. Why not it alone: it parses the header
    in Python, copies the compressed data and checks the CRC in a second pass; zlib does all
    three in C. A single member ending the data exactly (what CloudTrail writes) is taken from
    zlib, which checks the same CRC and length; anything else (several members, padding,
    damage) goes to ``gzip.decompress``, which gives what it always gave."""
    inflate = zlib.decompressobj(wbits=31)  # 31: a gzip wrapper, checked
    try:
        data = inflate.decompress(blob)
        if inflate.eof and not inflate.unused_data:
            return data
    except zlib.error:
        pass
    try:
        return gzip.decompress(blob)
    except (EOFError, OSError, zlib.error):
        return None


def _peekable(stream: BinaryIO) -> io.BufferedReader:
    if hasattr(stream, "peek"):
        return stream  # type: ignore[return-value]
    return io.BufferedReader(stream)  # type: ignore[arg-type]


def _read_stream(name: str, stream: BinaryIO, report: SkipCallback, texts: bool = False) -> Iterator[Batch]:
    state = _Position()
    try:
        buffered = _peekable(stream)
        data: BinaryIO = buffered
        if buffered.peek(2)[:2] == _GZIP_MAGIC:
            data = gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[assignment]
            inner = _peekable(data)
            if inner.peek(2)[:2] == _GZIP_MAGIC:  # a .gz of a .gz: one more level
                data = gzip.GzipFile(fileobj=inner, mode="rb")  # type: ignore[assignment]
            else:
                data = inner
        yield from _read_content(name, data, report, state, texts)
    except EOFError:
        report(SkippedInput(name, state.where(), TRUNCATED_GZIP, _after("gzip data ends early (truncated file)", state)))
    except (gzip.BadGzipFile, zlib.error) as exc:
        report(SkippedInput(name, state.where(), BAD_GZIP, _after(f"corrupt gzip data ({exc})", state)))
    except OSError as exc:
        report(SkippedInput(name, state.where(), UNREADABLE, _after(f"read error ({exc})", state)))


class _Position:
    """Where reading stopped, so a mid-file failure can say what was already read."""

    __slots__ = ("line", "records")

    def __init__(self) -> None:
        self.line = 0
        self.records = 0

    def where(self) -> int | None:
        return self.line or None


def _after(message: str, state: _Position) -> str:
    if state.records:
        return f"{message}; the {state.records} event(s) before it were read"
    return message


def _looks_binary(chunk: bytes) -> bool:
    if b"\x00" in chunk:
        return True
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(chunk) - 4  # a cut multi-byte char at the end is fine
    return False


_BATCH = 512  # NDJSON events handed on together (whole documents go as one list)


def _read_content(name: str, data: BinaryIO, report: SkipCallback, state: _Position,
                  texts: bool = False) -> Iterator[Batch]:
    """Batches of events of one input; a document is one batch, NDJSON comes in _BATCH
    lines. Events are produced in lists because every generator level costs per item.
    ``texts``: a first line that is a delivery document gives a ``TextBatch``."""
    first = b""
    while True:
        line = data.readline()
        if not line:
            break
        state.line += 1
        if state.line == 1 and line.startswith(_BOM):
            line = line[len(_BOM) :]
        if line.strip():
            first = line
            break
    if not first:
        report(SkippedInput(name, None, EMPTY_FILE, "empty file"))
        return
    if first.lstrip().startswith(GZIP_BASE64_PREFIX):
        yield from _read_base64_lines(name, first, data, report, state)
        return
    start = first.lstrip()[:1]
    if start not in (b"{", b"["):
        if _looks_binary(first[:4096]):
            report(SkippedInput(name, None, BINARY, "binary data, not JSON or gzip"))
        else:
            report(SkippedInput(name, None, INVALID_JSON, "not JSON: the first line does not start with '{' or '['"))
        return
    opening = _read_opening(name, first, data, report, state, texts)
    if opening.whole:
        yield opening.batch
        return
    batch = opening.batch
    if type(batch) is TextBatch:  # a delivery document's texts: a batch of its own
        if batch:
            yield batch
        batch = []
    elif opening.document and len(batch) > 1:  # a Records document: one batch
        yield batch
        batch = []
    yield from _read_lines(name, data, batch, opening.pending, report, state)


class _Opening(NamedTuple):
    """What the first non-blank line gave: its events, and how the input goes on."""

    batch: Batch  # a TextBatch only when ``document``
    pending: list[tuple[int, bytes]]  # lines read ahead, to process as NDJSON
    document: bool = False  # the line was a document of its own (handed on as its own batch)
    whole: bool = False  # the batch is the whole input: nothing follows


def _read_opening(name: str, first: bytes, data: BinaryIO, report: SkipCallback, state: _Position,
                  texts: bool) -> _Opening:
    """The first line decides the shape: a delivery document (split into record texts when
    ``texts``), one JSON value per line, JSON values back to back, or a document spread over
    lines (read whole, when the line is not JSON and the next does not start a new value)."""
    parts = delivery_parts(first) if texts and first.startswith(_DELIVERY_START) else None
    if parts is not None:  # a delivery file: each record's text, none decoded whole
        return _Opening(_text_batch(name, *parts, report, state), [], document=True)
    try:
        value = orjson.loads(first)
    except orjson.JSONDecodeError as exc:
        first_line = state.line
        skipped = b""
        second = b""
        while True:  # look ahead: NDJSON continues with another '{' line
            line = data.readline()
            if not line:
                break
            state.line += 1
            if line.strip():
                second = line
                break
            skipped += line
        ndjson = first.lstrip().startswith(b"{") and first.rstrip().endswith(b"}") \
            and (not second or second.lstrip().startswith(b"{"))
        if not ndjson:
            return _Opening(_whole_document(name, first + skipped + second + data.read(), first_line, report, state),
                            [], whole=True)
        return _Opening(_concatenated(name, first_line, first, exc, report, state),
                        [(state.line, second)] if second else [])
    return _Opening(_dispatch(name, value, state.line, report, state), [], document=True)


def _read_lines(name: str, data: BinaryIO, batch: list[RawItem], pending: list[tuple[int, bytes]],
                report: SkipCallback, state: _Position) -> Iterator[list[RawItem]]:
    """The rest of the input as NDJSON, after ``batch`` (the events already read) and the
    ``pending`` lines read ahead, in _BATCH events."""
    while True:
        if pending:
            line_no, line = pending.pop()
        else:
            try:
                line = data.readline()
            except (EOFError, OSError, zlib.error):
                if batch:  # hand on what was read before the damage, then report it
                    yield batch
                raise
            if not line:
                if batch:
                    yield batch
                return
            state.line += 1
            line_no = state.line
            if not line.strip():
                continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            batch.extend(_concatenated(name, line_no, line, exc, report, state))
            continue
        batch.extend(_dispatch(name, value, line_no, report, state))
        if len(batch) >= _BATCH:
            yield batch
            batch = []


def _concatenated(name: str, line_no: int, line: bytes, exc: Exception, report: SkipCallback, state: _Position) -> list[RawItem]:
    """A line of JSON values back to back (Firehose), dispatched one by one; else reported."""
    try:
        values = split_concatenated(line)
    except UnicodeDecodeError:
        values = None
    if values is None:
        _report_bad_line(name, line_no, line, exc, report)
        return []
    out: list[RawItem] = []
    for value in values:
        out.extend(_dispatch(name, value, line_no, report, state))
    return out


def _read_base64_lines(name: str, first: bytes, data: BinaryIO, report: SkipCallback, state: _Position) -> Iterator[list[RawItem]]:
    """Lines each holding base64 of gzip data (Firehose records saved as text)."""
    line, line_no = first, state.line
    while line:
        if line.strip():
            decoded = decode_base64_gzip(line)
            if decoded is None:
                report(SkippedInput(name, line_no, INVALID_JSON, "not base64 of gzip data like the lines before it"))
            else:
                inner = _Position()
                for batch in _read_content(name, io.BytesIO(decoded), report, inner):
                    state.records += len(batch)
                    yield [item._replace(position=line_no) for item in batch]
        line = data.readline()
        state.line += 1
        line_no = state.line


def _report_bad_line(name: str, line_no: int, line: bytes, exc: Exception, report: SkipCallback) -> None:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as err:
        report(SkippedInput(name, line_no, NON_UTF8, f"byte 0x{line[err.start]:02x} at column {err.start + 1} is not UTF-8"))
        return
    if _looks_binary(line[:4096]):
        report(SkippedInput(name, line_no, BINARY, "binary data, not JSON"))
        return
    report(SkippedInput(name, line_no, INVALID_JSON, f"invalid JSON ({exc})"))


def _whole_document(name: str, blob: bytes, first_line: int, report: SkipCallback, state: _Position) -> list[RawItem]:
    try:
        value = orjson.loads(blob)
    except orjson.JSONDecodeError as exc:
        try:
            values = split_concatenated(blob)
        except UnicodeDecodeError:
            values = None
        if values is not None:
            return [item for v in values for item in _dispatch(name, v, None, report, state)]
        try:
            blob.decode("utf-8")
        except UnicodeDecodeError as err:
            line = blob.count(b"\n", 0, err.start) + first_line
            report(SkippedInput(name, None, NON_UTF8, f"byte 0x{blob[err.start]:02x} on line {line} is not UTF-8; file skipped"))
            return []
        report(SkippedInput(name, None, INVALID_JSON, f"invalid JSON ({exc}); file skipped"))
        return []
    return _dispatch(name, value, None, report, state)


def _dispatch(name: str, value: Any, line_no: int | None, report: SkipCallback, state: _Position) -> list[RawItem]:
    """Route one parsed JSON value: a Records file, an array, or a single record."""
    if type(value) is dict:
        inner = unwrap(value)
        if inner is not None:
            return _records(name, inner, report, state, cloudtrail_only=True, line_no=line_no)
        records = value.get("Records")
        if records is not None and "eventName" not in value:
            if type(records) is not list:
                report(SkippedInput(name, line_no, NOT_CLOUDTRAIL, "'Records' is not an array"))
                return []
            if not records:
                report(SkippedInput(name, line_no, EMPTY_FILE, "no records: 'Records' is an empty array"))
                return []
            return _records(name, records, report, state, cloudtrail_only=True)
        item = _classify(name, value, line_no if line_no is not None else 1, report)
        if item is None:
            return []
        state.records += 1
        return [item]
    if type(value) is list:
        if not value:  # said, so that a file or line that holds nothing is not mistaken for one read
            report(SkippedInput(name, line_no, EMPTY_FILE, "no records: an empty JSON array"))
            return []
        return _records(name, value, report, state, cloudtrail_only=False)
    report(SkippedInput(name, line_no, NOT_CLOUDTRAIL, f"a JSON {type(value).__name__}, not a CloudTrail record or ECS document"))
    return []


def _records(name: str, records: list[Any], report: SkipCallback, state: _Position, *, cloudtrail_only: bool,
             line_no: int | None = None) -> list[RawItem]:
    """Items of a list of records. ``line_no``: the NDJSON line the list came from (an
    envelope on one line): positions are then that line, as for any NDJSON event."""
    out: list[RawItem] = []
    append = out.append
    for number, record in enumerate(records, 1):
        where = line_no if line_no is not None else number
        if type(record) is Unreadable:
            report(SkippedInput(name, where, NOT_CLOUDTRAIL, f"record {number} of the envelope: {record.reason}"))
            continue
        if type(record) is not dict:
            report(SkippedInput(name, number, NOT_CLOUDTRAIL, "record is not a JSON object"))
            continue
        if not cloudtrail_only:
            inner = unwrap(record)
            if inner is not None:  # an array of envelopes (EventBridge events, lookup-events pages)
                items = _records(name, inner, report, state, cloudtrail_only=True, line_no=where)
                state.records -= len(items)  # counted once, below
                out.extend(items)
                continue
        if cloudtrail_only:
            if record.get("eventTime") and record.get("eventName"):
                append(RawItem("cloudtrail", record, name, where))
            else:
                report(SkippedInput(name, where, MISSING_FIELD, _missing(record)))
            continue
        item = _classify(name, record, number, report)
        if item is not None:
            append(item)
    state.records += len(out)
    return out


def _text_batch(name: str, texts: list[bytes], heads: list[dict[str, Any]], report: SkipCallback,
                state: _Position) -> TextBatch:
    """``_records`` of a delivery file's ``Records`` read as texts: the same checks on the
    same top-level keys, the same positions and reports."""
    if all(map(dict.get, heads, repeat("eventTime"))) and all(map(dict.get, heads, repeat("eventName"))):
        numbers = list(range(1, len(heads) + 1))  # every record has both (checked in C: no frame a record)
    else:
        numbers = []
        for number, head in enumerate(heads, 1):
            if head.get("eventTime") and head.get("eventName"):
                numbers.append(number)
            else:
                report(SkippedInput(name, number, MISSING_FIELD, _missing(head)))
    if len(numbers) < len(heads):  # rare: keep the records read
        texts = [texts[n - 1] for n in numbers]
        heads = [heads[n - 1] for n in numbers]
    state.records += len(numbers)
    return TextBatch(name, numbers, texts, heads)


def _missing(record: dict[str, Any]) -> str:
    absent = [key for key in ("eventTime", "eventName") if not record.get(key)]
    return "record without " + " or ".join(absent)


def _classify(name: str, obj: dict[str, Any], position: int, report: SkipCallback) -> RawItem | None:
    if obj.get("eventTime") and obj.get("eventName"):
        return RawItem("cloudtrail", obj, name, position)
    if "@timestamp" in obj and ("event" in obj or any("." in key for key in obj)):
        return RawItem("ecs", obj, name, position)
    if any(key in obj for key in _CLOUDTRAIL_HINTS):
        report(SkippedInput(name, position, MISSING_FIELD, _missing(obj)))
    elif "@timestamp" in obj:  # a bare ECS document, e.g. {"@timestamp": ..., "status": ...}
        return RawItem("ecs", obj, name, position)
    else:
        report(SkippedInput(name, position, NOT_CLOUDTRAIL, "JSON object that is neither a CloudTrail record nor an ECS document"))
    return None
