"""Throughput of JSON parsing alone vs parsing + CloudTrail->ECS mapping.

Builds gzip'd ``{"Records": [...]}`` files in memory from ``ctdetect.synth`` when it is
available (else from varied copies of a template record), then prints records/s for:
gunzip+orjson parse (the floor), parse + ``CloudTrailMapper.map``, and the ratio.
Times are CPU time of this process, so a busy machine distorts them less.

    python bench/ecs_map.py [--records 200000] [--geoip]

It also writes the same files to a temporary S3-style folder and times
``ctdetect.readers.read_events`` alone and with mapping (``ctdetect.ecs.stream.iter_events``),
which is the input side of ``hunt``.
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import time
from pathlib import Path
from itertools import islice

import orjson

from ctdetect.ecs import CloudTrailMapper


def _records(count: int) -> list[dict]:
    try:
        from ctdetect.synth import SynthParams, generate

        days = 7.0
        params = SynthParams(seed=1, start="2026-03-02T00:00:00Z", days=days, principals=60,
                             events_per_day=max(1000, int(count / days * 1.2)))
        return list(islice(generate(params), count))
    except ImportError:
        template = {
            "eventVersion": "1.09", "eventTime": "2026-03-01T10:00:00Z", "eventSource": "s3.amazonaws.com",
            "eventName": "ListBuckets", "awsRegion": "eu-west-1", "sourceIPAddress": "198.51.100.7",
            "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
            "userIdentity": {"type": "IAMUser", "userName": "alice", "principalId": "AIDA", "arn": "arn:aws:iam::1:user/alice",
                             "accountId": "111122223333", "accessKeyId": "AKIA"},
            "requestParameters": {"Host": "s3.eu-west-1.amazonaws.com"}, "responseElements": None, "requestID": "R",
            "eventID": "E", "readOnly": True, "eventType": "AwsApiCall", "managementEvent": True,
            "recipientAccountId": "111122223333", "eventCategory": "Management",
            "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "s3"},
        }
        out = []
        for i in range(count):
            rec = dict(template)
            rec["eventTime"] = f"2026-03-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z"
            rec["eventID"] = f"E{i}"
            out.append(rec)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--geoip", action="store_true", help="map with ctdetect.geoip's default database")
    args = parser.parse_args()
    records = _records(args.records)
    files = [gzip.compress(orjson.dumps({"Records": records[i : i + 500]}), 6) for i in range(0, len(records), 500)]
    n = len(records)
    del records

    start = time.process_time()
    parsed = 0
    for blob in files:
        parsed += len(orjson.loads(gzip.decompress(blob))["Records"])
    floor = time.process_time() - start

    geoip = None
    if args.geoip:
        from ctdetect.geoip import GeoIP

        geoip = GeoIP.open(None)
    mapper = CloudTrailMapper(geoip=geoip)
    map_one = mapper.map
    start = time.process_time()
    for blob in files:
        for record in orjson.loads(gzip.decompress(blob))["Records"]:
            map_one(record)
    full = time.process_time() - start

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1"
        folder.mkdir(parents=True)
        for i, blob in enumerate(files):
            (folder / f"111122223333_CloudTrail_us-east-1_{i:06d}.json.gz").write_bytes(blob)
        from ctdetect.ecs.stream import iter_events
        from ctdetect.readers import read_events

        start = time.process_time()
        read = sum(1 for _ in read_events([tmp]))
        reader = time.process_time() - start
        start = time.process_time()
        mapped = sum(1 for _ in iter_events([tmp], mapper=CloudTrailMapper(geoip=geoip)))
        pipeline = time.process_time() - start
    assert read == mapped == n

    print(f"records            {n}")
    print(f"parse only         {parsed / floor:12,.0f} records/s  ({floor:.2f} s)")
    print(f"parse + map        {n / full:12,.0f} records/s  ({full:.2f} s)")
    print(f"map alone          {n / (full - floor):12,.0f} records/s")
    print(f"ratio (map/parse)  {full / floor:12.2f}x")
    print(f"read_events        {n / reader:12,.0f} records/s  ({reader / floor:.2f}x the parse floor)")
    print(f"read + map         {n / pipeline:12,.0f} records/s  ({pipeline / floor:.2f}x the parse floor)")


if __name__ == "__main__":
    main()
