"""Every envelope shape of real CloudTrail, recognised by content: the same records come
out as from the raw delivery file (built from Stratus Red Team's real records)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import shared_path

from ctdetect.readers import SkipCounter, read_events
from readers.envelope_shapes import SHAPES

TECHNIQUES = ("aws.persistence.iam-backdoor-role.json", "aws.exfiltration.ec2-share-ebs-snapshot.json",
              "aws.defense-evasion.cloudtrail-stop.json", "aws.credential-access.ec2-get-password-data.json")


def real_records() -> list[dict]:
    folder = shared_path("datasets", "stratus-red-team-detonation-logs")
    out: list[dict] = []
    for name in TECHNIQUES:
        out.extend(json.loads((folder / name).read_text()))
    return out


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_envelope_gives_the_raw_records(tmp_path: Path, shape: str) -> None:
    records = real_records()
    path = SHAPES[shape](records, tmp_path / shape)
    skips = SkipCounter()
    items = list(read_events([path], on_skip=skips))
    assert skips.total == 0, [str(e) for e in skips.examples]
    assert [i.kind for i in items] == ["cloudtrail"] * len(records)
    assert [i.record for i in items] == records


def test_broken_record_inside_an_envelope_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    records = real_records()[:3]
    path = SHAPES["lookup-events.json"](records, tmp_path / "page.json")
    page = json.loads(path.read_text())
    page["Events"][1]["CloudTrailEvent"] = "{not json"
    path.write_text(json.dumps(page))
    skips = SkipCounter()
    items = list(read_events([path], on_skip=skips))
    assert [i.record for i in items] == [records[0], records[2]]
    assert skips.total == 1 and "CloudTrailEvent" in str(skips.examples[0]) and str(path) in str(skips.examples[0])


def test_base64_line_that_is_not_gzip_is_reported(tmp_path: Path) -> None:
    records = real_records()[:4]
    path = SHAPES["firehose-cwl.b64"](records, tmp_path / "b64")
    path.write_text(path.read_text() + "H4sIbm90IGd6aXA=\n")
    skips = SkipCounter()
    items = list(read_events([path], on_skip=skips))
    assert [i.record for i in items] == records
    assert skips.total == 1 and f"{path}:3" in str(skips.examples[0])
