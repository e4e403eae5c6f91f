"""``hunt`` over every envelope shape of the same real records finds what it finds over
the raw delivery files; the same file read twice finds what it finds once."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, shared_path

from ctdetect.services.hunt import HuntOptions, HuntResult, run_hunt
from readers.envelope_shapes import SHAPES
from readers.test_envelopes import TECHNIQUES, real_records


def _hunt(paths: list[Path], **options) -> HuntResult:
    return run_hunt(HuntOptions(paths=[str(p) for p in paths], package_root=str(PROJECT_ROOT), **options))


def _findings(result: HuntResult) -> Counter:
    return Counter((f.source_id, f.timestamp.isoformat(), json.dumps(f.entity, sort_keys=True, default=str)) for f in result.findings)


@pytest.fixture(scope="module")
def raw_findings() -> tuple[list[Path], Counter]:
    folder = shared_path("datasets", "stratus-red-team-detonation-logs")
    files = [folder / name for name in TECHNIQUES]
    found = _findings(_hunt(files))
    assert sum(found.values()) >= 4, "the package's rules fire on these detonations"
    return files, found


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_envelope_finds_what_the_raw_files_find(tmp_path: Path, raw_findings, shape: str) -> None:
    _, expected = raw_findings
    path = SHAPES[shape](real_records(), tmp_path / shape)
    result = _hunt([path])
    assert result.skips.total == 0, [str(e) for e in result.skips.examples]
    assert _findings(result) == expected


def test_the_same_file_twice_finds_what_it_finds_once(tmp_path: Path, raw_findings) -> None:
    files, expected = raw_findings
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in files:
        (copy / f.name).write_bytes(f.read_bytes())
    records = sum(len(json.loads(f.read_text())) for f in files)
    twice = _hunt([*files, copy])
    assert _findings(twice) == expected
    assert twice.stats.events_duplicate == records
    kept = _hunt([*files, copy], keep_duplicates=True)
    assert kept.stats.events_duplicate == 0
    assert sum(_findings(kept).values()) > sum(expected.values())
