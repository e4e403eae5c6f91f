"""A CloudTrail delivery file as one JSON text per record, the records left undecoded.

Why: a hunt maps each record to the few fields its rules and jobs read
(``ecs.projected``), and almost every record repeats the static part of one seen before
(same principal, action and parameters): for those it needs only the per-event values
(time, ids, source address) and a cache key, while decoding the whole record into
dozens of Python objects, serialising it again for the key, and once more to keep it for
the event's full document, was most of its cost. msgspec (BSD-3-Clause) splits the
``{"Records": [...]}`` document into each record's own JSON text (``msgspec.Raw``: a
slice of the input, copied once to let the file go) and decodes only the five top-level
keys ``RECORD_HEAD`` names; the projected mapper decodes the rest only for records whose
static part is not cached.

Only the exact shape of a delivery file takes this path: one JSON object holding nothing
but a non-empty ``Records`` array of objects, valid UTF-8. Anything else (another key, an
envelope, a record that is not an object, bad JSON or bad UTF-8) returns None and the
caller reads the input as before, with its reports. msgspec accepts two things orjson
rejects, numbers beyond a double's range and nesting deeper than 1,024 levels; a record
holding one fails to decode in the mapper and is reported alone as a bad record.
"""

from __future__ import annotations

from typing import Any, TypedDict

import msgspec


class _Delivery(msgspec.Struct, forbid_unknown_fields=True):
    """``{"Records": [...]}`` and no other key; each record kept as its JSON text."""

    Records: list[msgspec.Raw]


class RecordHead(TypedDict, total=False):
    """The top-level keys read without decoding the record: what the reader checks
    (``eventTime``, ``eventName``) and the per-event values of a mapped document."""

    eventTime: Any
    eventName: Any
    eventID: Any
    requestID: Any
    sourceIPAddress: Any


class _DeliveryHeads(msgspec.Struct, forbid_unknown_fields=True):
    """The same document with each record's ``RECORD_HEAD`` keys decoded (the rest skipped)."""

    Records: list[RecordHead]


RECORD_HEAD = frozenset(RecordHead.__annotations__)
_DELIVERY = msgspec.json.Decoder(_Delivery)
_HEADS = msgspec.json.Decoder(_DeliveryHeads)


class RecordText:
    """One raw CloudTrail record as its JSON text (``text``) and its decoded ``head``
    (the ``RECORD_HEAD`` keys it has, as ``dict.get`` on the whole record would give them)."""

    __slots__ = ("text", "head")

    def __init__(self, text: bytes, head: dict[str, Any]) -> None:
        self.text = text
        self.head = head


class TextBatch:
    """The records of one delivery file read as texts, as parallel lists: ``numbers`` (each
    record's place in ``Records``, from 1), ``texts`` and ``heads`` (as ``RecordText``).

    Why lists and not a ``RecordText`` and a ``readers.model.RawItem`` a record: the
    ingest path (``ecs.stream.mapped_events``) maps a batch's texts one after the other,
    and the two objects a record (made, read back, freed: about a microsecond) were a
    noticeable part of mapping a record whose projection is cached. ``read_events`` turns a
    batch into those ``RawItem``s for any other reader (``readers.stream.read_batches``)."""

    __slots__ = ("file", "numbers", "texts", "heads")

    def __init__(self, file: str, numbers: list[int], texts: list[bytes], heads: list[dict[str, Any]]) -> None:
        self.file = file
        self.numbers = numbers
        self.texts = texts
        self.heads = heads

    def __len__(self) -> int:
        return len(self.numbers)


def delivery_texts(line: bytes) -> list[RecordText] | None:
    """The records of a delivery document ``line`` as texts, or None when ``line`` is not
    exactly that shape (see the module docstring: the caller then reads it as JSON)."""
    parts = delivery_parts(line)
    return None if parts is None else list(map(RecordText, *parts))


def delivery_parts(line: bytes) -> tuple[list[bytes], list[dict[str, Any]]] | None:
    """``delivery_texts`` as two lists, the records' texts and their heads (``TextBatch``)."""
    if not line.isascii():
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        records = _DELIVERY.decode(line).Records
    except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
        return None
    if not records:
        return None
    try:  # every head in one call: a record that is not an object fails the whole document
        heads = _HEADS.decode(line).Records
    except (msgspec.DecodeError, RecursionError):
        return None
    return list(map(bytes, records)), heads  # type: ignore[return-value]  # a RecordHead is a dict
