"""Readers: every input form, and every kind of bad input reported once, rest read."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import orjson
import pytest

from ctdetect.readers import RawItem, SkipCounter, SkippedInput, read_events


def record(n: int, **extra: object) -> dict:
    base = {
        "eventVersion": "1.08",
        "eventTime": f"2024-05-01T10:00:{n:02d}Z",
        "eventName": "ListBuckets",
        "eventSource": "s3.amazonaws.com",
        "eventID": f"id-{n}",
    }
    base.update(extra)
    return base


def records_doc(*ns: int) -> bytes:
    return orjson.dumps({"Records": [record(n) for n in ns]})


def read(paths: list, stdin: io.BytesIO | None = None) -> tuple[list[RawItem], list[SkippedInput]]:
    skips: list[SkippedInput] = []
    items = list(read_events(paths, stdin=stdin, on_skip=skips.append))
    return items, skips


def ids(items: list[RawItem]) -> list[str]:
    return [i.record.get("eventID") for i in items]


def test_records_file_plain_and_gzip_detected_by_content(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(records_doc(1, 2))
    (tmp_path / "b.log").write_bytes(gzip.compress(records_doc(3)))  # gzip without .gz
    (tmp_path / "c.json.gz").write_bytes(records_doc(4))  # .gz name, plain content
    items, skips = read([tmp_path])
    assert ids(items) == ["id-1", "id-2", "id-3", "id-4"]
    assert skips == []
    assert items[0].kind == "cloudtrail" and items[0].position == 1 and items[1].position == 2


def test_pretty_printed_records_and_json_array(tmp_path: Path) -> None:
    (tmp_path / "pretty.json").write_bytes(orjson.dumps({"Records": [record(1)]}, option=orjson.OPT_INDENT_2))
    (tmp_path / "array.json").write_bytes(orjson.dumps([record(2), record(3)], option=orjson.OPT_INDENT_2))
    items, skips = read([tmp_path / "pretty.json", tmp_path / "array.json"])
    assert ids(items) == ["id-1", "id-2", "id-3"] and not skips


def test_s3_layout_is_walked_recursively_in_sorted_order(tmp_path: Path) -> None:
    day2 = tmp_path / "AWSLogs/111/CloudTrail/us-east-1/2024/05/02"
    day1 = tmp_path / "AWSLogs/111/CloudTrail/us-east-1/2024/05/01"
    for folder, n in ((day2, 3), (day1, 1)):
        folder.mkdir(parents=True)
        (folder / f"111_CloudTrail_us-east-1_{n}.json.gz").write_bytes(gzip.compress(records_doc(n)))
    (day1 / "111_CloudTrail_us-east-1_2.json.gz").write_bytes(gzip.compress(records_doc(2)))
    (day1 / ".hidden").write_bytes(b"\x00junk")
    items, skips = read([tmp_path])
    assert ids(items) == ["id-1", "id-2", "id-3"] and not skips


def test_ndjson_raw_and_ecs_nested_and_dotted(tmp_path: Path) -> None:
    lines = [
        orjson.dumps(record(1)),
        orjson.dumps({"@timestamp": "2024-05-01T10:00:00Z", "event": {"action": "connect"}}),
        orjson.dumps({"@timestamp": "2024-05-01T10:00:00Z", "destination.ip": "169.254.169.254"}),
        orjson.dumps({"@timestamp": "2024-05-01T10:00:00Z", "status": "503"}),
        orjson.dumps({"@timestamp": "2024-05-01T10:00:00Z", "eventName": "X"}),  # CloudTrail without eventTime
        b"",
    ]
    path = tmp_path / "mixed.ndjson"
    path.write_bytes(b"\n".join(lines))
    items, skips = read([path])
    assert [i.kind for i in items] == ["cloudtrail", "ecs", "ecs", "ecs"]
    assert [i.position for i in items] == [1, 2, 3, 4]
    assert [(s.record, s.reason) for s in skips] == [(5, "missing_field")]


def test_stdin_plain_and_gzip() -> None:
    items, _ = read(["-"], stdin=io.BytesIO(records_doc(1)))
    assert ids(items) == ["id-1"] and items[0].file == "-"
    items, _ = read(["-"], stdin=io.BytesIO(gzip.compress(b"\n".join([orjson.dumps(record(2)), orjson.dumps(record(3))]))))
    assert ids(items) == ["id-2", "id-3"]


@pytest.mark.parametrize(
    ("content", "reason", "line"),
    [
        (b"", "empty_file", None),
        (b"  \n\n", "empty_file", None),
        (bytes(range(256)) * 4, "binary", None),
        (b"hello, this is a README\n", "invalid_json", None),
        (orjson.dumps({"hello": "world"}), "not_cloudtrail", 1),
        (b'{"Records": [\n  {"eventTime": "2024-', "invalid_json", None),
        (b'{"Records": "nope"}', "not_cloudtrail", 1),
        (b"[]", "empty_file", 1),
        (b'{"Records": []}', "empty_file", 1),
    ],
)
def test_bad_whole_files_are_reported_once(tmp_path: Path, content: bytes, reason: str, line: int | None) -> None:
    bad = tmp_path / "a_bad"
    bad.write_bytes(content)
    (tmp_path / "b_good.json").write_bytes(records_doc(1))
    items, skips = read([tmp_path])
    assert ids(items) == ["id-1"]
    assert [(s.file, s.reason, s.record) for s in skips] == [(str(bad), reason, line)]
    assert skips[0].message and str(bad) in str(skips[0])


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    lines = b"\n".join(orjson.dumps(record(n)) for n in range(40)) + b"\n"
    packed = gzip.compress(lines * 50)
    (tmp_path / "a.gz").write_bytes(packed[: len(packed) // 2])
    (tmp_path / "b.json").write_bytes(records_doc(99))
    items, skips = read([tmp_path])
    assert len(skips) == 1 and skips[0].reason == "truncated_gzip"
    assert ids(items)[-1] == "id-99" and len(items) > 1
    assert "truncated" in skips[0].message


def test_truncated_gzip_records_file(tmp_path: Path) -> None:
    packed = gzip.compress(records_doc(*range(30)))
    (tmp_path / "x.json.gz").write_bytes(packed[:-12])
    items, skips = read([tmp_path])
    assert items == [] and [s.reason for s in skips] == ["truncated_gzip"]


def test_corrupt_gzip(tmp_path: Path) -> None:
    packed = bytearray(gzip.compress(records_doc(1, 2)))
    packed[-6] ^= 0xFF  # break the CRC/size trailer
    (tmp_path / "x.gz").write_bytes(bytes(packed))
    items, skips = read([tmp_path])
    assert [s.reason for s in skips] == ["bad_gzip"]


def test_ndjson_bad_lines_are_skipped_one_by_one(tmp_path: Path) -> None:
    lines = [
        orjson.dumps(record(1)),
        b'{"eventTime": "2024-05-01T10:00:00Z", "eventName": ',  # invalid JSON
        orjson.dumps(record(3)).replace(b"ListBuckets", b"List\xffBuckets"),  # non-UTF-8 byte
        orjson.dumps({"eventTime": "2024-05-01T10:00:04Z", "eventSource": "s3.amazonaws.com"}),  # no eventName
        orjson.dumps({"foo": 1}),  # not CloudTrail
        b"\x00\x01\x02\x03binary{}",
        orjson.dumps(record(7)),
    ]
    path = tmp_path / "x.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    counter = SkipCounter()
    items = list(read_events([path], on_skip=counter))
    assert ids(items) == ["id-1", "id-7"]
    assert [(s.record, s.reason) for s in counter.examples] == [
        (2, "invalid_json"),
        (3, "non_utf8"),
        (4, "missing_field"),
        (5, "not_cloudtrail"),
        (6, "binary"),
    ]
    assert "eventName" in counter.examples[2].message
    assert "0xff" in counter.examples[1].message
    assert counter.total == 5
    assert counter.summary().startswith("5 skipped: ")


def test_records_without_event_time_or_name_are_numbered(tmp_path: Path) -> None:
    doc = {"Records": [record(1), {"eventName": "X"}, {"eventTime": "2024-05-01T10:00:00Z"}, "str", record(5)]}
    (tmp_path / "r.json").write_bytes(orjson.dumps(doc))
    items, skips = read([tmp_path])
    assert ids(items) == ["id-1", "id-5"]
    assert [(s.record, s.reason) for s in skips] == [(2, "missing_field"), (3, "missing_field"), (4, "not_cloudtrail")]


def test_non_utf8_in_a_records_file_skips_that_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(records_doc(1).replace(b"ListBuckets", b"List\xe9Buckets", 1).replace(b"}]}", b"}\n]}"))
    (tmp_path / "b.json").write_bytes(records_doc(2))
    items, skips = read([tmp_path])
    assert ids(items) == ["id-2"]
    assert [s.reason for s in skips] == ["non_utf8"]


def test_missing_path_is_reported() -> None:
    items, skips = read(["/nonexistent/ctdetect/path"])
    assert items == [] and [s.reason for s in skips] == ["unreadable"]


def test_memory_is_not_held_across_files(tmp_path: Path) -> None:
    """The reader is a generator: nothing of a file stays referenced after its records."""
    for n in range(3):
        (tmp_path / f"{n}.json").write_bytes(records_doc(n))
    stream = read_events([tmp_path])
    first = next(stream)
    assert first.record["eventID"] == "id-0"
    assert [i.record["eventID"] for i in stream] == ["id-1", "id-2"]


def test_ndjson_whose_first_line_is_broken(tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson"
    path.write_bytes(b'{"eventTime": oops}\n\n' + orjson.dumps(record(2)) + b"\n" + orjson.dumps(record(3)) + b"\n")
    items, skips = read([path])
    assert ids(items) == ["id-2", "id-3"] and [i.position for i in items] == [3, 4]
    assert [(s.record, s.reason) for s in skips] == [(1, "invalid_json")]


def test_walked_names_are_the_paths_pathlib_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Listing names each file as ``str(Path(folder, name))`` did, whatever the root is
    written like (``.``, a trailing slash, doubled slashes, relative or absolute)."""
    import os

    from ctdetect.readers.sources import expand

    (tmp_path / "a" / "b").mkdir(parents=True)
    for rel in ("top.json", "a/one.json", "a/b/two.json", "a/b/.hidden"):
        (tmp_path / rel).write_bytes(records_doc(1))
    monkeypatch.chdir(tmp_path)
    for root in (".", "./", "a", "a/", "a//b", "./a/../a", str(tmp_path), str(tmp_path) + "/", "//" + str(tmp_path).lstrip("/")):
        expected = [str(Path(folder, name)) for folder, _, files in os.walk(Path(root))
                    for name in files if not name.startswith(".")]
        got = [name for name, _ in expand([root], None, lambda _: None)]
        assert sorted(got) == sorted(expected) and got, root
        assert all(source == name for name, source in expand([root], None, lambda _: None))


def test_files_as_listed_are_read_and_told_as_paths_are(tmp_path: Path) -> None:
    """``listed=True`` (names ``ordered_files`` gave) opens each file without a second stat,
    and a name that cannot be opened is told as an unlisted path is: missing, unreadable,
    a folder by now (read as one)."""
    from ctdetect.readers.order import ordered_files

    (tmp_path / "1.json").write_bytes(records_doc(1))
    (tmp_path / "2.json.gz").write_bytes(gzip.compress(records_doc(2)))
    (tmp_path / "broken").symlink_to(tmp_path / "nowhere")
    files = list(ordered_files([tmp_path], lambda _: None))  # listed before the tree changes
    (tmp_path / "1.json").unlink()
    (tmp_path / "1.json").mkdir()  # a file when listed, a folder when read
    (tmp_path / "1.json" / "3.json").write_bytes(records_doc(3))
    files.append(str(tmp_path / "gone.json"))
    told: list[list[tuple]] = []
    for listed in (False, True):
        skips: list[SkippedInput] = []
        items = list(read_events(files, on_skip=skips.append, listed=listed))
        told.append([(i.kind, i.record, i.file, i.position) for i in items]
                    + [(s.file, s.record, s.reason, s.message) for s in skips])
    assert told[0] == told[1]
    assert [r[1]["eventID"] for r in told[1] if r[0] == "cloudtrail"] == ["id-3", "id-2"]
    assert sum(1 for r in told[1] if "no such file" in str(r)) == 2


def test_delivery_order_reads_the_name_pathlib_reads() -> None:
    """``ordered_files`` takes the delivery time from what ``Path(name).name`` gives."""
    from ctdetect.readers.order import _file_name

    for name in ("a/b/111_CloudTrail_us-east-1_20240501T1000Z_x.json.gz", "x.json", "/x", "a//b", "a/", "a/.", "a/..",
                 "/", ".", "..", "", "s3://bucket/k/", "s3://bucket/AWSLogs/1_CloudTrail_r_20240501T1000Z_y.json.gz"):
        assert _file_name(name) == Path(name).name, name
