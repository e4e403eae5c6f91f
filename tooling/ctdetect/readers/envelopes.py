"""The shapes CloudTrail records arrive in besides S3 delivery files, unwrapped by content.

Each shape is recognised by its keys, never by a file name:

- S3 delivery file: ``{"Records": [record, ...]}`` (handled by ``stream``);
- ``aws cloudtrail lookup-events`` output: ``{"Events": [{"CloudTrailEvent": "<record as
  JSON text>", "EventId": ..., ...}], "NextToken": ...}``;
- EventBridge: ``{"detail-type": "AWS API Call via CloudTrail", "source": "aws.<service>",
  "detail": record}`` (one a line, or an array of them);
- CloudWatch Logs subscription data (what a subscription filter hands to Lambda, Kinesis or
  Firehose): ``{"messageType": "DATA_MESSAGE", "logEvents": [{"message": "<record as JSON
  text>"}, ...]}``. ``CONTROL_MESSAGE`` envelopes (the reachability check CloudWatch Logs
  sends) carry no log events and yield nothing. Firehose writes such envelopes to S3
  gzipped and back to back with no separator; Firehose transformation records wrap them as
  ``{"records": [{"recordId": ..., "data": "<base64 of gzip>"}]}``;
- CloudTrail Lake query results (``aws cloudtrail get-query-results``):
  ``{"QueryResultRows": [[{"eventID": "..."}, {"eventTime": "..."}, ...], ...]}``, one
  single-key object per selected column; a column holding JSON text (``SELECT
  userIdentity ...`` exported as JSON) is parsed back.

``unwrap(value)`` returns the records inside an envelope, or None when ``value`` is no
envelope; records that cannot be read come back as ``Unreadable`` with the reason.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from typing import Any, NamedTuple

import orjson

GZIP_BASE64_PREFIX = b"H4sI"  # base64 of the gzip magic bytes and deflate method (1f 8b 08)


class Unreadable(NamedTuple):
    """A part of an envelope that holds no readable record, and why."""

    reason: str


def unwrap(value: dict[str, Any]) -> list[Any] | None:
    """The records inside an envelope object (dicts or ``Unreadable``), or None."""
    events = value.get("Events")
    if type(events) is list and (not events or (type(events[0]) is dict and "CloudTrailEvent" in events[0])):
        return [_json_text(e.get("CloudTrailEvent"), "CloudTrailEvent") if type(e) is dict else Unreadable("not an object")
                for e in events]
    if "detail-type" in value and type(value.get("detail")) is dict:
        return [value["detail"]]
    message_type = value.get("messageType")
    if message_type == "DATA_MESSAGE" and type(value.get("logEvents")) is list:
        return [_json_text(e.get("message"), "message") if type(e) is dict else Unreadable("log event is not an object")
                for e in value["logEvents"]]
    if message_type == "CONTROL_MESSAGE":
        return []
    records = value.get("records")
    if type(records) is list and records and type(records[0]) is dict and "data" in records[0]:
        out: list[Any] = []
        for record in records:
            out.extend(_firehose_record(record))
        return out
    rows = value.get("QueryResultRows")
    if type(rows) is list:
        return [_lake_row(row) for row in rows]
    return None


def decode_base64_gzip(text: bytes) -> bytes | None:
    """The decompressed bytes of base64-encoded gzip data, or None when it is not that."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return gzip.decompress(raw)
    except (binascii.Error, ValueError, OSError, EOFError, zlib.error):
        return None


def split_concatenated(blob: bytes) -> list[Any] | None:
    """JSON values written back to back (``{...}{...}``, as Firehose stores CloudWatch Logs
    envelopes), or None when ``blob`` is not such a sequence."""
    import json

    text = blob.decode("utf-8", errors="strict").strip()
    decoder = json.JSONDecoder()
    values, at = [], 0
    while at < len(text):
        try:
            value, end = decoder.raw_decode(text, at)
        except ValueError:
            return None
        values.append(value)
        at = end
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
    return values if len(values) > 1 else None


def _json_text(text: Any, key: str) -> Any:
    if type(text) is not str:
        return Unreadable(f"'{key}' is not a JSON string")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return Unreadable(f"'{key}' is not valid JSON ({exc})")
    return value if type(value) is dict else Unreadable(f"'{key}' is not a JSON object")


def _firehose_record(record: Any) -> list[Any]:
    data = record.get("data") if type(record) is dict else None
    if type(data) is not str:
        return [Unreadable("Firehose record without base64 'data'")]
    raw = decode_base64_gzip(data.encode())
    if raw is None:
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return [Unreadable("Firehose record 'data' is not base64")]
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        values = split_concatenated(raw)
        if values is None:
            return [Unreadable("Firehose record 'data' is not JSON")]
    else:
        values = [value]
    out: list[Any] = []
    for value in values:
        inner = unwrap(value) if type(value) is dict else None
        out.extend(inner if inner is not None else [value])
    return out


def _lake_row(row: Any) -> Any:
    if type(row) is not list:
        return Unreadable("query result row is not an array")
    record: dict[str, Any] = {}
    for column in row:
        if type(column) is not dict:
            return Unreadable("query result column is not an object")
        for key, value in column.items():
            if type(value) is str and value[:1] in ("{", "["):
                try:
                    value = orjson.loads(value)
                except orjson.JSONDecodeError:
                    pass  # a text value that merely starts with a brace
            record[key] = value
    return record
