"""``read_events(texts=True)``: delivery files come as record texts (``readers.texts``), and
every input reads exactly as without it: the same records in the same places, the same
skips with the same messages. Only the two documented cases (a number beyond a double's
range, nesting deeper than orjson reads) leave it to the mapper to report the record."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctdetect.readers import SkippedInput, read_events
from ctdetect.readers.texts import RECORD_HEAD, RecordText, delivery_texts


def record(n: int, **extra: Any) -> dict[str, Any]:
    base = {"eventVersion": "1.08", "eventTime": f"2024-05-01T10:00:{n:02d}Z", "eventName": "ListBuckets",
            "eventSource": "s3.amazonaws.com", "eventID": f"id-{n}", "sourceIPAddress": "198.51.100.7",
            "requestParameters": {"bucketName": f"b{n}", "tags": [{"k": "é"}]}}
    base.update(extra)
    return base


def delivery(*records: Any) -> bytes:
    return orjson.dumps({"Records": list(records)})


def _read(paths: list[Any], texts: bool, stdin: bytes | None = None) -> tuple[list[tuple[Any, ...]], list[SkippedInput], int]:
    """Items as (kind, record decoded, file, position), the skips, and how many came as text."""
    skips: list[SkippedInput] = []
    out, as_text = [], 0
    source = io.BytesIO(stdin) if stdin is not None else None
    for item in read_events(paths, stdin=source, on_skip=skips.append, texts=texts):
        record = item.record
        if type(record) is RecordText:
            as_text += 1
            decoded = orjson.loads(record.text)
            assert record.head == {k: v for k, v in decoded.items() if k in RECORD_HEAD}
            record = decoded
        out.append((item.kind, record, item.file, item.position))
    return out, skips, as_text


CORPUS: dict[str, bytes] = {
    "a_plain.json": delivery(record(1), record(2)),
    "b_gzip.json.gz": gzip.compress(delivery(record(3))),
    "c_missing.json": delivery(record(4), {"eventName": "X"}, {"eventTime": "2024-05-01T10:00:00Z"}, record(5)),
    "d_not_object.json": delivery(record(6), "str", record(7)),
    "e_extra_key.json": orjson.dumps({"Records": [record(8)], "Digest": 1}),
    "f_empty.json": b'{"Records":[]}',
    "g_not_list.json": b'{"Records":"nope"}',
    "h_non_utf8.json": delivery(record(9)).replace(b"ListBuckets", b"List\xe9Buckets", 1),
    "i_bad_json.json": delivery(record(10))[:-3],
    "j_then_ndjson.json": delivery(record(11)) + b"\n" + orjson.dumps(record(12)) + b"\n",
    "k_pretty.json": orjson.dumps({"Records": [record(13)]}, option=orjson.OPT_INDENT_2),
    "l_spaced.json": b'{"Records": [' + orjson.dumps(record(14)) + b"]}",
    "m_escapes.json": delivery(record(15, userAgent='a "quoted" \\ agent \u2028')),
    "n_nested_name.json": delivery(record(16, Records=[record(17)])),
    "o_envelope.json": orjson.dumps({"detail-type": "AWS API Call via CloudTrail", "detail": record(18)}),
    "p_truncated.json.gz": gzip.compress(delivery(*[record(n) for n in range(30)]))[:-12],
    "q_bom.json": b"\xef\xbb\xbf" + delivery(record(19)),
}


def test_every_shape_reads_the_same_as_text(tmp_path: Path) -> None:
    for name, content in CORPUS.items():
        (tmp_path / name).write_bytes(content)
    plain, plain_skips, none = _read([tmp_path], texts=False)
    texts, text_skips, as_text = _read([tmp_path], texts=True)
    assert none == 0
    assert texts == plain
    assert text_skips == plain_skips
    assert {s.reason for s in plain_skips} >= {"missing_field", "not_cloudtrail", "non_utf8", "invalid_json", "empty_file",
                                               "truncated_gzip"}
    # the delivery files (plain, gzip, with missing fields, escapes, a nested name, a BOM) came as texts
    assert as_text == 2 + 1 + 2 + 1 + 1 + 1 + 1


def test_every_shape_gzipped_reads_the_same_as_text(tmp_path: Path) -> None:
    """Each shape as a gzip file (how a delivery file is read without a line reader,
    ``readers.stream._delivery_batch``), also with blank lines or NDJSON after the document."""
    shapes = dict(CORPUS)
    shapes["r_blank_lines.json"] = delivery(record(20), record(21)) + b"\n\n \r\n"
    shapes["s_blank_then_ndjson.json"] = delivery(record(22)) + b"\n\n" + orjson.dumps(record(23))
    shapes["t_vertical_tab.json"] = delivery(record(24)) + b"\n\x0b"
    for name, content in shapes.items():
        (tmp_path / (name + ".gz")).write_bytes(content if content[:2] == b"\x1f\x8b" else gzip.compress(content))
    plain, plain_skips, none = _read([tmp_path], texts=False)
    texts, text_skips, as_text = _read([tmp_path], texts=True)
    assert none == 0
    assert texts == plain
    assert text_skips == plain_skips
    assert as_text == 2 + 1 + 2 + 1 + 1 + 1 + 1 + 2 + 1 + 1


def test_stdin_reads_the_same_as_text() -> None:
    data = gzip.compress(delivery(record(1), {"eventName": "X"}, record(3)))
    texts, plain = _read(["-"], True, data), _read(["-"], False, data)
    assert texts[:2] == plain[:2]
    assert texts[2] == 2


@pytest.mark.parametrize("line", [
    orjson.dumps({"Records": [record(1)], "x": 1}),  # another key: not only a delivery file
    b'{"Records":[]}',
    b'{"Records":[1]}',  # a record that is not an object
    b'{"Records":[{"a":1}]',  # broken JSON
    delivery(record(1)).replace(b"ListBuckets", b"List\xffBuckets"),  # not UTF-8
    b'{"Records":[' + b"[" * 3000 + b"]" * 3000 + b"]}",  # deeper than the decoder goes
])
def test_only_a_delivery_file_splits(line: bytes) -> None:
    assert delivery_texts(line) is None


def test_a_split_record_is_its_own_text() -> None:
    records = [record(1), record(2, eventID=None), {"eventTime": 5, "eventName": "X", "other": {"eventID": "inner"}}]
    texts = delivery_texts(delivery(*records))
    assert texts is not None
    assert [orjson.loads(t.text) for t in texts] == records
    assert [t.text for t in texts] == [orjson.dumps(r) for r in records]
    assert texts[1].head["eventID"] is None and "requestID" not in texts[1].head
    assert texts[2].head == {"eventTime": 5, "eventName": "X"}  # top-level keys only


GOOD = orjson.dumps(record(1))
pieces = st.lists(st.one_of(st.binary(max_size=30), st.sampled_from(
    [GOOD, b'{"Records":[', b"]}", b",", b"\n", b"{", b"}", b"\xff", b"\xe9", b'"eventName":"X"', b"1e400", b"null"])),
    max_size=10)


@settings(max_examples=150, deadline=None)
@given(parts=pieces, compress=st.booleans())
def test_any_bytes_read_the_same_as_text(parts: list[bytes], compress: bool) -> None:
    data = b"".join(parts)
    if compress:
        data = gzip.compress(data)
    plain = _read(["-"], False, data)
    try:
        texts = _read(["-"], True, data)
    except orjson.JSONDecodeError:  # the documented case: a text orjson does not read (1e400)
        assert b"1e400" in data
        return
    assert texts[:2] == plain[:2]
