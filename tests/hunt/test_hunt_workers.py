"""Decoding and mapping in worker processes (``ecs.parallel``, ``hunt --workers N``): the
events, the skips and the findings are byte-identical for any number of workers.

The archive: a seeded synthetic S3 export cut into many small chunks (``CHUNK_BYTES``
made tiny, so several chunks are in flight at once), plus a broken gzip file, a file that
is not JSON and a record that cannot be mapped, so skips cross the process boundary too.
"""

from __future__ import annotations

import gzip
import json
import os
from itertools import islice
from pathlib import Path

import pytest
from click.testing import CliRunner

from ctdetect.cli import cli
from ctdetect.ecs import parallel, spool
from ctdetect.ecs.stream import EventIdWindow, iter_events
from ctdetect.synth import SynthParams, generate
from ctdetect.synth.writers import write_s3_layout

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workers") / "AWSLogs"
    params = SynthParams(seed=9, start="2026-03-02T00:00:00Z", days=3, principals=8, events_per_day=1500, travel_rate=0.2)
    records = list(islice(generate(params), 2500))
    write_s3_layout(records, root, account_id=params.account_id, seed=params.seed)
    odd = root / "odd"
    odd.mkdir()
    (odd / "broken.json.gz").write_bytes(gzip.compress(b'{"Records": [') [:-6])
    (odd / "notes.txt").write_text("not json at all\n")
    bad = dict(records[0], eventTime="not a time", eventID="bad-time")
    stop = dict(records[2], eventName="StopLogging", eventSource="cloudtrail.amazonaws.com", eventID="stop-logging")
    stop.pop("errorCode", None)
    (odd / "bad.json").write_text(json.dumps({"Records": [bad, records[1], stop]}))
    return root


def _read(archive: Path, workers: int) -> tuple[list[dict], list]:
    skips: list = []
    events = list(iter_events([archive], on_skip=skips.append, dedupe=EventIdWindow(), workers=workers))
    return events, [(s.file, s.record, s.reason, s.message) for s in skips]


@pytest.mark.parametrize("workers", [2, 3])
def test_events_and_skips_same_for_any_workers(archive: Path, workers: int, monkeypatch: pytest.MonkeyPatch) -> None:
    one = _read(archive, 1)
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 10_000)
    assert len(list(parallel.chunks([str(p) for p in sorted(archive.rglob("*.gz"))]))) > 2 * workers
    many = _read(archive, workers)
    assert len(one[0]) > 2000 and len(one[1]) >= 3
    assert many == one


def test_stdin_and_one_file_stay_in_process() -> None:
    assert not parallel.parallel_capable(["-"])
    assert not parallel.parallel_capable([])
    assert parallel.parallel_capable(["a.json.gz", "b.json.gz"])


def test_hunt_findings_same_for_any_workers(archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``hunt --workers``: the whole package, rules and jobs."""
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 20_000)
    outputs = []
    for workers in ("1", "3"):
        res = CliRunner().invoke(cli, ["hunt", "--package", str(PROJECT), "--min-score", "0", "--format", "ndjson", "--workers", workers, str(archive)],
                                 catch_exceptions=False)
        assert res.exit_code == 0, res.output
        outputs.append(res.stdout)
    assert outputs[0].count("\n") > 0
    assert outputs[1] == outputs[0]


def test_chunks_size_files_only_as_chunks_are_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers start on the first chunks before the rest of a long file list is sized:
    taking one chunk stats only its own files (and the list's order and cut are kept)."""
    files = []
    for number in range(10):
        path = tmp_path / f"{number:02}.json.gz"
        path.write_bytes(b"x" * 400)
        files.append(str(path))
    sized: list[str] = []
    real_stat = os.stat
    monkeypatch.setattr(parallel.os, "stat", lambda name: sized.append(name) or real_stat(name))
    runs = parallel.chunks(files, target_bytes=1000)
    assert next(runs) == files[:3] and sized == files[:3]
    assert list(runs) == [files[3:6], files[6:9], files[9:]]
    assert sized == files


def _mapped_chunk(archive: Path) -> tuple[list[dict], object]:
    """The projected events of the archive's first files, as a mapping worker makes them."""
    from ctdetect.backends.embedded import EmbeddedBackend
    from ctdetect.ecs.stream import mapped_events
    from ctdetect.services.content import load_content
    from ctdetect.services.hunt import hunt_mapper

    mapper = hunt_mapper(load_content(PROJECT, None, None), None, EmbeddedBackend())
    files = [str(p) for p in sorted(archive.rglob("*.json.gz"))][:200]
    return list(mapped_events(files, mapper, "auto", lambda skip: None, None, None)), mapper


def test_packed_chunk_is_the_pickled_chunk(archive: Path) -> None:
    """A chunk handed back as one marshal blob (``packed``) comes out as the pickled chunk
    did: equal events, every key in its place (``RAW_KEY`` last), raw records bound to the
    parent's full mapper, values shared between events still shared."""
    import pickle

    from ctdetect.ecs.projected import RAW_KEY, full_document

    events, mapper = _mapped_chunk(archive)
    assert len(events) > 100 and all(RAW_KEY in e for e in events)
    pickled = pickle.loads(pickle.dumps(events))
    mapper.bind(pickled)  # type: ignore[attr-defined]
    blob = parallel.packed(events)
    assert type(blob) is bytes
    assert all(RAW_KEY not in e for e in events)  # taken out of the worker's own events
    back = parallel.unpacked(blob, mapper)  # type: ignore[arg-type]
    assert back == pickled
    assert [list(e) for e in back] == [list(e) for e in pickled]
    assert all(e[RAW_KEY].mapper is mapper.full for e in back)  # type: ignore[attr-defined]
    assert [full_document(e) for e in back[:50]] == [full_document(e) for e in pickled[:50]]
    shared = [e["event.dataset"] for e in back]
    assert all(v is shared[0] for v in shared)  # one object, as pickle's memo gave


def test_a_chunk_marshal_cannot_write_is_pickled_whole(archive: Path) -> None:
    """A value marshal does not write exactly (a ``str`` subclass) or a raw record that is
    not bytes: the chunk goes as the events themselves, each still holding its raw record."""
    from ctdetect.ecs.projected import RAW_KEY

    class Name(str):
        pass

    events, mapper = _mapped_chunk(archive)
    odd = [dict(e) for e in events]
    odd[7]["user.name"] = Name("someone")
    assert parallel.packed(odd) is odd
    assert all(type(e.get(RAW_KEY)).__name__ == "RawRecord" and next(reversed(e)) == RAW_KEY for e in odd)
    assert parallel.unpacked(odd, mapper) is odd  # type: ignore[arg-type]
    other = [dict(e) for e in events]
    other[3][RAW_KEY] = type(other[3][RAW_KEY])({"eventName": "x"}, None)  # a record orjson could not write
    assert parallel.packed(other) is other


def test_chunks_come_back_through_spool_files_removed_after(archive: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each chunk's blob is written to a spool file and read back (the events as in one
    process); the spool directory is gone after the run, and after a run stopped early."""
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 10_000)
    monkeypatch.setattr(spool, "spool_root", lambda: str(tmp_path))
    taken: list[str] = []
    real_take = parallel._take  # noqa: SLF001
    monkeypatch.setattr(parallel, "_take", lambda result: taken.append(result[0]) or real_take(result))
    assert _read(archive, 2) == _read(archive, 1)
    assert taken and all(name is not None and name.startswith(str(tmp_path / spool.PREFIX)) for name in taken)
    assert list(tmp_path.iterdir()) == []
    stopped = iter_events([archive], on_skip=lambda skip: None, workers=2)
    assert len(list(islice(stopped, 50))) == 50
    stopped.close()
    assert list(tmp_path.iterdir()) == []


def test_a_chunk_that_cannot_be_spooled_comes_through_the_pipe(archive: Path, tmp_path: Path) -> None:
    _, mapper = _mapped_chunk(archive)
    files = [str(p) for p in sorted(archive.rglob("*.json.gz"))][:5]
    parallel._WORKER_SETUP = (mapper, "auto", None, False)  # noqa: SLF001 - as set before the fork
    try:
        spooled = parallel._map_chunk(files, str(tmp_path / "0"))  # noqa: SLF001
        missing = parallel._map_chunk(files, str(tmp_path / "gone" / "1"))  # noqa: SLF001
    finally:
        parallel._WORKER_SETUP = None  # noqa: SLF001
    assert spooled[0] == str(tmp_path / "0") and spooled[1] is None
    assert missing[0] is None and type(missing[1]) is bytes
    assert parallel._take(spooled) == parallel._take(missing)  # noqa: SLF001
    assert not (tmp_path / "0").exists()
