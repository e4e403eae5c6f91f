"""``hunt s3://bucket/prefix`` against a real S3 API server on localhost (moto's server
mode, reached over HTTP by boto3 as any S3 endpoint): the same findings as the same files
on disk, listing and reading only the delivery days asked for."""

from __future__ import annotations

import gzip
import re
import json
from collections import Counter
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

from ctdetect.readers.s3 import DayRange, S3Error, S3Listing, list_objects
from ctdetect.services.hunt import HuntOptions, HuntResult, run_hunt
from readers.test_envelopes import real_records

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

BUCKET = "acme-cloudtrail"
ACCOUNT = "111122223333"
DAYS = ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]


@pytest.fixture(scope="module")
def s3_endpoint():
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    patch = pytest.MonkeyPatch()
    for name, value in {"AWS_ENDPOINT_URL_S3": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        patch.setenv(name, value)
    patch.delenv("AWS_PROFILE", raising=False)
    yield f"http://{host}:{port}"
    patch.undo()
    server.stop()


def _day_records(day: str) -> list[dict]:
    out = []
    for record in real_records():
        shifted = dict(record, eventTime=day + record["eventTime"][10:], eventID=f"{record['eventID']}-{day}")
        out.append(shifted)
    return out


@pytest.fixture(scope="module")
def archive(tmp_path_factory, s3_endpoint) -> Path:
    """A delivery tree on disk, one file a day, uploaded as it is to the bucket (plus a
    digest file, which is not read)."""
    root = tmp_path_factory.mktemp("archive")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for day in DAYS:
        y, m, d = day.split("-")
        key = (f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/{y}/{m}/{d}/"
               f"{ACCOUNT}_CloudTrail_us-east-1_{y}{m}{d}T1005Z_{d}abc.json.gz")
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(json.dumps({"Records": _day_records(day)}).encode()))
        s3.put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes())
    s3.put_object(Bucket=BUCKET, Key=f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2026/03/02/digest.json.gz", Body=b"x")
    return root


def _hunt(paths: list[str], **options) -> HuntResult:
    return run_hunt(HuntOptions(paths=paths, package_root=str(PROJECT_ROOT), **options))


def _findings(result: HuntResult) -> Counter:
    return Counter((f.source_id, f.timestamp.isoformat(), json.dumps(f.entity, sort_keys=True, default=str)) for f in result.findings)


def test_s3_prefix_finds_what_the_files_on_disk_find(archive: Path) -> None:
    local = _hunt([str(archive)])
    remote = _hunt([f"s3://{BUCKET}/AWSLogs/"])
    assert remote.skips.total == 0, [str(e) for e in remote.skips.examples]
    assert remote.stats.events_read == local.stats.events_read == len(DAYS) * len(real_records())
    assert _findings(remote) == _findings(local) and local.findings


def test_since_until_read_only_those_days(archive: Path) -> None:
    from datetime import datetime, timezone

    since = datetime(2026, 3, 2, tzinfo=timezone.utc)
    until = datetime(2026, 3, 3, 23, 59, tzinfo=timezone.utc)
    remote = _hunt([f"s3://{BUCKET}/AWSLogs/{ACCOUNT}/"], since=since, until=until)
    # the days asked for, and the day after for late deliveries: 2, 3 and 4 March
    read_days = ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert remote.stats.events_read == len(read_days) * len(real_records())
    files = [p for p in archive.rglob("*.json.gz") if any(d.replace("-", "/") in str(p) for d in read_days)]
    local = _hunt([str(p) for p in sorted(files)], since=since, until=until)
    assert _findings(remote) == _findings(local) and local.findings


def test_listing_descends_only_into_the_requested_days(s3_endpoint, archive: Path) -> None:
    from datetime import date

    listing = S3Listing()
    urls = list(list_objects(f"s3://{BUCKET}/", DayRange(date(2026, 3, 2), date(2026, 3, 3)), listing=listing))
    assert [u.rsplit("/", 4)[-4:-1] for u in urls] == [["2026", "03", "02"], ["2026", "03", "03"]]
    listed_days = {p for p in listing.prefixes if re.search(r"/\d{4}/\d{2}/\d{2}/$", p)}
    assert listed_days == {f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/03/02/", f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/03/03/"}
    assert not any("Digest" in p for p in listing.prefixes)


def test_unreadable_bucket_is_one_clear_error(s3_endpoint) -> None:
    with pytest.raises(S3Error, match="s3://no-such-bucket/: NoSuchBucket"):
        list(list_objects("s3://no-such-bucket/"))
