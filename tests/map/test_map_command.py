"""``ctdetect map``: the ECS documents of any input shape, one NDJSON line each."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from click.testing import CliRunner
from conftest import shared_path

from ctdetect.cli import cli
from ctdetect.ecs import CloudTrailMapper, flatten, nest
from ctdetect.geoip import GeoIP
from ctdetect.services.map import MapOptions, MapResult, document_lines
from ecs.golden_pairs import GoldenComparer, pair_names
from readers.envelope_shapes import SHAPES
from readers.test_envelopes import real_records


def test_map_writes_the_mapped_documents_nested(tmp_path: Path) -> None:
    records = real_records()[:20]
    raw = tmp_path / "records.json"
    raw.write_text(json.dumps({"Records": records}))
    out = tmp_path / "docs.ndjson"
    run = CliRunner().invoke(cli, ["map", str(raw), "-o", str(out), "--preserve-original"])
    assert run.exit_code == 0, run.output
    docs = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    mapper = CloudTrailMapper(GeoIP.open(None), preserve_original=True)  # what map uses by default
    wanted = [nest({k: v for k, v in mapper.map(r).items() if k != "_ts"}) for r in records]
    assert docs == wanted
    assert f"documents: {len(records)}" in run.output


def test_map_reads_every_envelope_and_drops_repeats(tmp_path: Path) -> None:
    records = real_records()[:12]
    path = SHAPES["firehose-cwl.gz"](records, tmp_path / "cwl.gz")
    result = MapResult()
    lines = list(document_lines(MapOptions(paths=[str(path), str(path)]), result))
    assert len(lines) == len(records) and result.duplicates == len(records)
    assert [orjson.loads(line)["event"]["id"] for line in lines] == [r["eventID"] for r in records]


def test_map_reports_bad_input_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"eventTime": "2024-01-01T00:00:00Z", "eventName": "X", "eventID": "1"}\n{oops\n')
    run = CliRunner().invoke(cli, ["map", str(bad), "--strict"])
    assert run.exit_code == 1 and f"{bad}:2" in run.output
    run = CliRunner().invoke(cli, ["map", str(tmp_path / "absent")])
    assert run.exit_code == 2 and "no such file" in run.output


def test_golden_pairs_through_map_equal_the_direct_mapping(tmp_path: Path) -> None:
    """The golden-pair comparison run on ``map``'s output finds exactly the direct differences."""
    comparer = GoldenComparer(shared_path())
    checked = 0
    for name in pair_names(shared_path()):
        records = comparer.records(name)
        ours: list[tuple[dict, dict]] = []
        for expected, raw in records:
            source = tmp_path / f"{name}.ndjson"
            source.write_bytes(raw + b"\n")
            mapper = comparer.mappers["actor_target_mapping" in expected.get("tags", ())]
            lines = list(document_lines(MapOptions(paths=[str(source)], mapper=mapper, keep_duplicates=True), MapResult()))
            if lines:  # a record ctdetect rejects writes no document (reported)
                ours.append((expected, flatten(orjson.loads(lines[0]))))
        direct = [d for d in comparer.compare(name).differences or () if d.field != "<record rejected>"]
        via_map = comparer.compare_documents(name, ours)
        assert [(d.field, d.expected, d.ours) for d in via_map] == [(d.field, d.expected, d.ours) for d in direct], name
        checked += len(ours)
    assert checked >= 79
