"""The package's ES|QL hunting queries return the rows a hunter expects on known data.

Each query is read from its TOML (the file that deploys as a Discover session) and run by
the same path as ``ctdetect esql``; the data are the ES|QL rule scenarios' events and, for
the GeoIP query, events written here against a fixture GeoIP database.
"""

from __future__ import annotations

import json
from pathlib import Path

from ctdetect.content.loaders import load_hunting_queries
from ctdetect.geoip import city_record
from ctdetect.geoip.writer import write_mmdb
from ctdetect.services.esql import run_esql
from ctdetect.timeutil import parse_iso_ms

ROOT = Path(__file__).resolve().parents[2]
NOW = parse_iso_ms("2026-11-04T00:00:00Z")


def _query(name: str) -> str:
    queries = {q.id: q for q in load_hunting_queries(ROOT / "playbooks" / "hunting")}
    hunt = queries[f"ctdetect-hunt-{name}"]
    assert hunt.language == "esql"
    return hunt.query


def _rows(name: str, paths: list[str], geoip_db: str | None = None) -> list[dict]:
    run = run_esql(_query(name), paths, now_ms=NOW, geoip_db=geoip_db)
    names = [n for n, _ in run.columns]
    return [dict(zip(names, row)) for row in run.values]


def _scenario(name: str) -> str:
    return str(ROOT / "scenarios" / name / "events.ndjson")


def test_distinct_apis_per_principal_ranks_principals_by_regions_then_apis() -> None:
    rows = _rows("esql-distinct-apis-per-principal", [_scenario("rule-esql-multi-region-discovery-fires"), _scenario("rule-esql-multi-region-discovery-silent")])
    got = [(r["aws.cloudtrail.user_identity.arn"].rsplit("/", 1)[1], r["Esql.cloud_region_count_distinct"], r["Esql.event_action_count_distinct"], r["Esql.event_count"]) for r in rows]
    # the inventory tool's wide-but-shallow sweep, the build bot's wide-and-deep one (the
    # rule's alert), then a principal busy in one region
    assert [g[1:] for g in got] == [(6, 2, 12), (4, 8, 24), (1, 9, 30)]
    assert got[1][0] == "build-bot" and rows[1]["Esql.hour"] == "2026-11-03T10:00:00.000Z"


def test_access_denied_per_access_key_ranks_the_probing_key_first() -> None:
    rows = _rows("esql-access-denied-per-access-key", [_scenario("rule-esql-access-denied-burst-fires"), _scenario("rule-esql-access-denied-burst-silent")])
    top = rows[0]
    assert top["aws.cloudtrail.user_identity.access_key_id"] == "AKIA7E6D5C4B3A2F1E0D"
    assert (top["Esql.event_provider_count_distinct"], top["Esql.event_action_count_distinct"], top["Esql.event_count"]) == (6, 6, 14)
    assert (top["Esql.timestamp_min"], top["Esql.timestamp_max"]) == ("2026-11-03T10:00:00.000Z", "2026-11-03T10:04:20.000Z")
    # then the silent scenario's keys: a short probe as broad but below the rule's count,
    # and automation failing on one action twenty times, last
    assert [(r["Esql.event_provider_count_distinct"], r["Esql.event_action_count_distinct"], r["Esql.event_count"]) for r in rows[1:]] == [(6, 6, 6), (1, 1, 20)]


def _call(arn: str, ip: str, time: str, n: int) -> dict:
    return {
        "eventVersion": "1.10", "eventTime": time, "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets",
        "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": "aws-cli/2.17", "eventType": "AwsApiCall",
        "eventID": f"00000000-0000-4000-8000-{n:012d}", "recipientAccountId": "210987654321",
        "userIdentity": {"type": "IAMUser", "arn": arn, "accountId": "210987654321", "userName": arn.rsplit("/", 1)[1]},
    }


def test_first_seen_countries_put_a_new_country_first(tmp_path: Path) -> None:
    db = write_mmdb(
        tmp_path / "fixture-City.mmdb",
        [
            ("203.0.113.0/25", city_record(country_iso_code="US", country_name="United States")),
            ("203.0.113.128/25", city_record(country_iso_code="FR", country_name="France")),
            ("198.51.100.7", city_record(country_iso_code="JP", country_name="Japan")),
        ],
        database_type="Fixture-City",
    )
    alice, bob = "arn:aws:iam::210987654321:user/alice", "arn:aws:iam::210987654321:user/bob"
    calls = [
        _call(alice, "203.0.113.5", "2026-11-01T09:00:00Z", 1),
        _call(alice, "203.0.113.6", "2026-11-02T09:00:00Z", 2),
        _call(bob, "203.0.113.200", "2026-11-02T12:00:00Z", 3),
        _call(alice, "198.51.100.7", "2026-11-03T02:00:00Z", 4),  # alice, from a new country
        _call(alice, "192.0.2.1", "2026-11-03T03:00:00Z", 5),  # no GeoIP answer: not counted
    ]
    events = tmp_path / "events.ndjson"
    events.write_text("".join(json.dumps(c) + "\n" for c in calls), encoding="utf-8")
    rows = _rows("esql-first-seen-countries-per-user", [str(events)], geoip_db=str(db))
    got = [(r["aws.cloudtrail.user_identity.arn"], r["source.geo.country_iso_code"], r["Esql.timestamp_first_seen"], r["Esql.event_count"], r["Esql.country_count_distinct"]) for r in rows]
    assert got == [
        (alice, "JP", "2026-11-03T02:00:00.000Z", 1, 2),
        (bob, "FR", "2026-11-02T12:00:00.000Z", 1, 1),
        (alice, "US", "2026-11-01T09:00:00.000Z", 2, 2),
    ]
