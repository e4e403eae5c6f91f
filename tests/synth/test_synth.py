"""ctdetect synth: determinism, record shape, working hours, error rates, volume, CLI."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from ctdetect.cli import cli
from ctdetect.ecs import CloudTrailMapper
from ctdetect.readers import SkipCounter, read_events
from ctdetect.synth import SynthParamError, SynthParams, generate
from ctdetect.synth.catalog import TZ_OFFSETS
from ctdetect.synth.principals import build_principals
from ctdetect.synth.writers import write_s3_layout

WEEK = SynthParams(seed=11, start="2026-03-02T00:00:00Z", days=7, principals=10, events_per_day=3000, include_root=True)


@pytest.fixture(scope="module")
def week() -> list[dict]:
    return list(generate(WEEK))


def _digest(records: list[dict]) -> str:
    return hashlib.sha256(b"\n".join(orjson.dumps(r) for r in records)).hexdigest()


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    params = SynthParams(seed=5, days=0.5, principals=6, events_per_day=4000)
    assert _digest(list(generate(params))) == _digest(list(generate(params)))
    other = SynthParams(seed=6, days=0.5, principals=6, events_per_day=4000)
    assert _digest(list(generate(params))) != _digest(list(generate(other)))


def test_s3_layout_is_byte_identical_and_readable(tmp_path: Path) -> None:
    params = SynthParams(seed=5, start="2026-03-02T08:00:00Z", days=0.1, principals=6, events_per_day=20000)
    trees = []
    for name in ("a", "b"):
        root = tmp_path / name
        count, files = write_s3_layout(generate(params), root, account_id=params.account_id, seed=params.seed)
        assert count > 0 and files > 1
        trees.append({str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*.gz")})
    assert trees[0] == trees[1]
    some = next(iter(trees[0]))
    assert some.startswith("AWSLogs/111122223333/CloudTrail/")
    assert "_CloudTrail_" in some and some.endswith(".json.gz")
    counter = SkipCounter()
    items = list(read_events([tmp_path / "a"], on_skip=counter))
    assert len(items) == count and counter.total == 0
    # one file per region per 5-minute window, named after the end of its window
    for item in items:
        name = Path(item.file).name
        _, _, region, stamp, _ = name.split("_")
        assert item.record["awsRegion"] == region
        delivered = datetime.strptime(stamp, "%Y%m%dT%H%MZ").replace(tzinfo=timezone.utc).timestamp()
        when = datetime.strptime(item.record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
        assert delivered - 300 <= when < delivered


def test_records_in_time_order_and_shaped_like_cloudtrail(week: list[dict]) -> None:
    times = [r["eventTime"] for r in week]
    assert times == sorted(times)
    types = Counter(r["userIdentity"]["type"] for r in week)
    assert {"IAMUser", "AssumedRole", "AWSService", "Root"} <= set(types)
    for record in week[:2000]:
        for key in ("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
                    "sourceIPAddress", "userAgent", "eventID", "readOnly", "eventType", "managementEvent",
                    "recipientAccountId", "eventCategory"):
            assert key in record, key
    logins = [r for r in week if r["eventName"] == "ConsoleLogin"]
    assert logins and all(r["additionalEventData"]["MFAUsed"] == "Yes" for r in logins if "errorMessage" not in r)
    assert len({r["awsRegion"] for r in week}) >= 3
    service = [r for r in week if r["userIdentity"]["type"] == "AWSService"]
    assert service and all(r["sourceIPAddress"].endswith(".amazonaws.com") for r in service)


def test_every_record_maps_and_carries_geo_with_the_default_db(week: list[dict]) -> None:
    from ctdetect.geoip import GeoIP

    mapper = CloudTrailMapper(geoip=GeoIP.open(None))
    countries, cities = set(), set()
    for record in week:
        doc = mapper.map(record)
        if "source.ip" in doc:
            assert "source.geo.country_iso_code" in doc, doc["source.ip"]
            countries.add(doc["source.geo.country_iso_code"])
            cities.add(doc["source.geo.city_name"])
        else:
            assert doc["aws.cloudtrail.user_identity.type"] == "AWSService"
    assert len(countries) >= 3 and len(cities) >= 4


def test_humans_work_in_their_working_hours(week: list[dict]) -> None:
    humans = {p.name: p for p in build_principals(WEEK) if p.kind == "human"}
    in_hours = total = 0
    for record in week:
        identity = record["userIdentity"]
        name = identity.get("userName") or identity.get("arn", "").rsplit("/", 1)[-1].split("@")[0]
        person = humans.get(name)
        if person is None or record.get("sourceIPAddress") not in person.ips:
            continue  # not a human, or travelling
        when = datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
        local = datetime.fromtimestamp(when + person.tz_offset * 3600, tz=timezone.utc)
        total += 1
        in_hours += local.weekday() < 5 and 7 <= local.hour < 19
    assert total > 1000
    assert in_hours / total > 0.85


def test_error_rates_are_realistic(week: list[dict]) -> None:
    errors = Counter(r["errorCode"] for r in week if "errorCode" in r)
    rate = sum(errors.values()) / len(week)
    assert 0.003 < rate < 0.05, rate
    assert len(errors) >= 4
    assert any(code in errors for code in ("AccessDenied", "AccessDeniedException", "Client.UnauthorizedOperation"))
    failed = [r for r in week if "errorCode" in r]
    assert all(r["responseElements"] is None for r in failed)


def test_volume_follows_events_per_day(week: list[dict]) -> None:
    expected = WEEK.events_per_day * 7
    assert abs(len(week) - expected) / expected < 0.15


def test_users_have_stable_habits_and_homes(week: list[dict]) -> None:
    actions: dict[str, set[str]] = {}
    for record in week:
        if record["userIdentity"]["type"] == "IAMUser":
            actions.setdefault(record["userIdentity"]["userName"], set()).add(record["eventName"])
    assert actions and all(len(a) <= 12 for a in actions.values())


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"seed": "x"}, "seed"),
        ({"start": "yesterday"}, "start"),
        ({"days": -1}, "days"),
        ({"days": 1, "end": "2026-03-05T00:00:00Z"}, "end"),
        ({"principals": 0}, "principals"),
        ({"events_per_day": 0}, "events_per_day"),
        ({"account_id": "12"}, "account_id"),
        ({"org": "Has Spaces"}, "org"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_parameters_name_their_key(table: dict, key: str) -> None:
    with pytest.raises(SynthParamError) as info:
        SynthParams.from_mapping(table)
    assert info.value.key == key and repr(key) in str(info.value)


def test_scenario_table_with_toml_datetime() -> None:
    params = SynthParams.from_mapping({"seed": 7, "start": datetime(2026, 3, 1, tzinfo=timezone.utc), "days": 3, "principals": 12})
    assert params.start == "2026-03-01T00:00:00Z" and params.end_time.day == 4


def test_command_writes_ndjson_and_reports_bad_options(tmp_path: Path) -> None:
    out = tmp_path / "h.ndjson"
    runner = CliRunner()
    result = runner.invoke(cli, ["synth", "--seed", "3", "--days", "0.2", "--events-per-day", "5000", "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_bytes().splitlines()
    assert lines and orjson.loads(lines[0])["eventVersion"]
    result = runner.invoke(cli, ["synth", "--account-id", "abc"])
    assert result.exit_code == 2 and "--account-id" in result.output
    result = runner.invoke(cli, ["synth", "--format", "s3", "-o", "-"])
    assert result.exit_code == 2


def test_tz_table_covers_default_geoip_table() -> None:
    from ctdetect.geoip import default_table

    assert {e.time_zone for e in default_table()} <= set(TZ_OFFSETS)


def test_root_only_when_asked() -> None:
    params = SynthParams(seed=11, start="2026-03-02T00:00:00Z", days=1, principals=4, events_per_day=500)
    assert all(r["userIdentity"]["type"] != "Root" for r in generate(params))
