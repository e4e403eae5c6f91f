"""Projected mapping: only the ECS fields the loaded content reads, the full document on demand.

Why: a hunt evaluates a few dozen of the hundreds of fields the full mapping writes
(``engine.needed_fields``), yet building, copying and handing on whole documents was a
large share of reading an archive (issue 11). Only the events that become findings need
their whole document: an alert shows its source event.

``ProjectedMapper(full, needs)`` maps a raw CloudTrail record to a flat document holding

- every field ``needs`` covers that the full mapper writes, with exactly the full
  mapper's value (the values *are* the full mapper's: a record whose static part is not
  cached yet is mapped whole (``full.map_uncached``) and the static part of its projection
  cached; it and later records with the same ``static_key`` copy that part and add their
  per-event fields with the very function the full mapper uses, ``put_event_fields``). So a
  projected event, and the whole document rebuilt for a finding, are the same whether
  their static part was cached or not (the key order included): a hunt's mapping workers
  each hold a cache of their own, filled by whichever files they took;
- ``@timestamp`` and ``_ts`` always (time order), and the per-event fields
  (``event.id``, ``aws.cloudtrail.request_id``, ``source.address``, ``source.ip``,
  ``related.ip``) whether covered or not: writing them costs less than testing them;
  the GeoIP fields only where covered;
- ``RAW_KEY`` (``_raw``): a ``RawRecord`` handle, from which ``full_document(event)``
  builds the whole document with ``full``. Keys starting with ``_`` are not event fields
  (alerts and entities leave them out).

Fewer fields per cached document and per GeoIP answer, and records left undecoded (below),
are the saving; the cache key and the hit/miss logic are the full mapper's. When the needs are "everything" (an ES|QL rule
whose rows keep every column...), ``mapper_for`` returns the full mapper itself: today's
path.

A record may come as its text (``readers.texts.RecordText``: a delivery file split by
msgspec, only the top-level keys the per-event fields come from decoded), which is how
``ecs.stream`` reads for this mapper. Its text, cut as ``static_key`` cuts
(``volatile_cut``; ``ecs.textcut`` proves that cut for a text shaped as one cut before,
without searching the text), is looked up as is: when the cut text and the places of the cuts
match a cached key, the text is the record's own orjson serialisation (see
``volatile_cut``), so the full mapper would have had the very same key and a hit; the
cached projection is copied and the record is never decoded. Any other text (a miss, or
written with other spacing, key order or escapes) is decoded and goes the dict way, with
the key computed from ``orjson.dumps`` as the full mapper computes it. Hits and misses are
therefore the full mapper's whatever the input's style.

A ``RawRecord`` holds the record's JSON bytes (its text as read, or for a dict the one
serialisation the cache key is cut from: one object the garbage collector does not walk,
decoded only if the event becomes a finding); it crosses a process boundary
(``ecs.parallel``) as those bytes and without its mapper; the receiving side re-attaches
its own with ``bind``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import orjson

from ctdetect.ecs.cache import BoundedCache, compact
from ctdetect.ecs.mapper import (
    STATIC_CACHE_LIMIT,
    CloudTrailMapper,
    MappingError,
    put_event_fields,
    record_time,
    static_part,
    volatile_cut,
)
from ctdetect.ecs.textcut import KnownCuts
from ctdetect.readers.texts import RecordText

RAW_KEY = "_raw"
_ALWAYS = frozenset({"@timestamp", "_ts"})
_MEMO_LIMIT = 65_536  # field names answered (flattened names are unbounded in number)


class FieldSelection(Protocol):
    """What the projection needs of ``engine.needed_fields.FieldNeeds`` (this layer is below it)."""

    everything: str | None

    def covers(self, name: str) -> bool: ...


class RawRecord:
    """The raw record behind a projected event, and the full mapper that maps it whole."""

    __slots__ = ("record", "mapper")

    def __init__(self, record: dict[str, Any] | bytes, mapper: CloudTrailMapper | None) -> None:
        self.record = record  # its JSON bytes (``_as_bytes``), or the record itself when orjson cannot write it
        self.mapper = mapper

    def document(self) -> dict[str, Any]:
        """The full ECS document of the record (what ``CloudTrailMapper.map`` gives)."""
        if self.mapper is None:
            raise RuntimeError("a RawRecord passed between processes was not bound to a mapper (ProjectedMapper.bind)")
        record = self.record
        if type(record) is bytes:
            record = self.record = orjson.loads(record)
        return self.mapper.map_uncached(record)  # type: ignore[arg-type]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return RawRecord, (_as_bytes(self.record), None)

    def __eq__(self, other: object) -> bool:
        """The same record for the same full mapper: the same document. Replay compares
        scenarios' events by value to find the history they share (``services.shared_prefix``)."""
        if type(other) is not RawRecord:
            return NotImplemented
        return self.mapper is other.mapper and _as_bytes(self.record) == _as_bytes(other.record)

    __hash__ = None  # type: ignore[assignment]  # equal by value, and mutable (``document`` decodes in place)


def _as_bytes(record: dict[str, Any] | bytes) -> dict[str, Any] | bytes:
    """The record as its JSON bytes, or the record itself when orjson cannot write it.

    Why bytes: a held event's raw record is read back only if the event alerts; as one bytes
    object it is invisible to the garbage collector, where the decoded record is dozens of
    tracked containers per event that every collection walks (measured: the map stage of
    ``bench/hunt.py`` 10.7 -> 10.1 CPU s on 200k records, the dumps included).

    Why ``cache.compact``: held for every event, orjson's own output (which keeps the block
    it wrote into), 100,000 synth records of 1.3 kB each took 779 MB, copied 128 MB
    (``bench/README.md``)."""
    if type(record) is bytes:
        return record
    try:
        return compact(orjson.dumps(record))
    except (TypeError, orjson.JSONEncodeError):
        return record


def full_document(event: dict[str, Any]) -> dict[str, Any]:
    """The whole document of ``event``: built from its raw record when it is a projection,
    else ``event`` itself (an ECS document read as such, or a full mapping)."""
    raw = event.get(RAW_KEY)
    return event if raw is None else raw.document()


class ProjectedMapper:
    """``map(record)``: the fields ``needs`` covers (see the module docstring), plus ``RAW_KEY``."""

    maps_texts = True  # a record's text is mapped without decoding it when the cache holds its projection

    def __init__(self, full: CloudTrailMapper, needs: FieldSelection) -> None:
        if needs.everything is not None:
            raise ValueError(f"every field is read ({needs.everything}): map with the full mapper")
        self.full = full
        self.needs = needs
        self._memo: dict[str, bool] = {}
        # static_key -> (the projection's static part, where the per-event values were cut)
        self._static: BoundedCache[bytes, tuple[dict[str, Any], tuple[int, ...]]] = BoundedCache(STATIC_CACHE_LIMIT)
        self._static_get = self._static.getter()
        self._cut = KnownCuts(STATIC_CACHE_LIMIT).cut  # ``volatile_cut`` of texts, proven from shapes seen
        self._geo_cache: BoundedCache[str, dict[str, Any]] = BoundedCache(65_536)
        self._full_geo = full.geo

    def _covers(self, name: str) -> bool:
        memo = self._memo
        known = memo.get(name)
        if known is None:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            known = memo[name] = name in _ALWAYS or self.needs.covers(name)
        return known

    def _project(self, doc: dict[str, Any]) -> dict[str, Any]:
        covers = self._covers
        return {k: v for k, v in doc.items() if covers(k)}

    def _geo(self, address: str) -> dict[str, Any]:
        found = self._geo_cache.get(address)
        if found is None:
            assert self._full_geo is not None
            found = self._geo_cache.put(address, self._project(self._full_geo(address)))
        return found

    def map(self, record: dict[str, Any] | RecordText) -> dict[str, Any]:
        """The projected document of one record (a dict, or its text from ``readers.texts``).
        Raises ``MappingError`` as the full mapper does."""
        if type(record) is RecordText:
            return self.map_text(record.text, record.head)
        timestamp, epoch_ms = record_time(record)
        blob = _as_bytes(record)  # one serialisation: the cache key and the kept raw record
        return self._map(record, blob, self._key(record, blob), timestamp, epoch_ms)

    def _key(self, record: dict[str, Any], blob: dict[str, Any] | bytes) -> tuple[bytes, tuple[int, ...]] | None:
        """The full mapper's ``static_key`` of ``record`` from ``blob`` (its ``_as_bytes``) and
        the places of its cuts; None where the full mapper caches nothing."""
        if self.full.preserve_original or type(blob) is not bytes:
            return None
        return volatile_cut(blob, record)

    def map_text(self, text: bytes, head: dict[str, Any]) -> dict[str, Any]:
        """A record read as text (``text``, and ``head``: its ``readers.texts.RECORD_HEAD``
        keys): when its text cut as ``static_key`` cuts matches a cached key at the same
        places (so the text is that serialisation: ``volatile_cut``), the cached projection
        plus the per-event values of its head; otherwise it is decoded."""
        timestamp, epoch_ms = record_time(head)
        if not self.full.preserve_original:
            cut = self._cut(text, head)
            if cut is not None:
                hit = self._static_get(cut[0])
                if hit is not None and hit[1] == cut[1]:
                    return self._from_hit(hit[0], head, text, timestamp, epoch_ms)
        try:
            whole = orjson.loads(text)
        except orjson.JSONDecodeError as exc:  # JSON msgspec reads and orjson does not (``readers.texts``)
            raise MappingError(f"record is not JSON orjson reads ({exc})") from None
        return self._map(whole, text, self._key(whole, _as_bytes(whole)), timestamp, epoch_ms)

    def _map(self, record: dict[str, Any], raw: dict[str, Any] | bytes, cut: tuple[bytes, tuple[int, ...]] | None,
             timestamp: str, epoch_ms: int) -> dict[str, Any]:
        """Map ``record`` through the static cache under ``cut`` (``volatile_cut`` of its
        ``orjson.dumps``: the full mapper's key; None: not cached), keeping ``raw``."""
        hit = None if cut is None else self._static.get(cut[0])
        if hit is not None:
            return self._from_hit(hit[0], record, raw, timestamp, epoch_ms)
        static = static_part(self._project(self.full.map_uncached(record)))
        if cut is not None:
            self._static.put(cut[0], (static, cut[1]))
        # completed as a hit is: a miss and a later hit of the same record are equal documents
        return self._from_hit(static, record, raw, timestamp, epoch_ms)

    def _from_hit(self, static: dict[str, Any], values: dict[str, Any], raw: dict[str, Any] | bytes,
                  timestamp: str, epoch_ms: int) -> dict[str, Any]:
        """A cached projection's static part completed with the per-event fields of
        ``values`` (the record, or a text's decoded head), keeping ``raw``."""
        doc = static.copy()
        put_event_fields(doc, values, timestamp, epoch_ms, self._geo if self._full_geo is not None else None)
        doc[RAW_KEY] = RawRecord(raw, self.full)
        return doc

    def bind(self, events: Iterable[dict[str, Any]]) -> None:
        """Give the ``RawRecord``s of events unpickled from another process this side's full mapper."""
        full = self.full
        for event in events:
            raw = event.get(RAW_KEY)
            if raw is not None and raw.mapper is None:
                raw.mapper = full


def mapper_for(full: CloudTrailMapper, needs: FieldSelection) -> CloudTrailMapper | ProjectedMapper:
    """The mapper that builds what ``needs`` asks for: ``full`` itself when every field is read."""
    return full if needs.everything is not None else ProjectedMapper(full, needs)
