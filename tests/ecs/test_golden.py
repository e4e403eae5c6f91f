"""Elastic's own pipeline test pairs map field for field.

The expected documents come from different versions of the aws integration; fields that
only newer, optional parts produce (the opt-in ``actor_target_mapping`` entity fields,
checked in ``test_entities.py``; ingest-time ``event.created``, ``tags``) are excluded. ``related.user`` is compared as "ours is contained in Elastic's"
(the actor/target option adds the principal id). ``related.entity`` differs between the
versions the expected files come from (older ones list ``principalId``, newer ones the
account id and access key instead), so there we require the identity ARN on both sides. Every other expected field must be present with the same value, and
we may add only the data-stream constants Elastic Agent sets (``event.dataset`` ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import maxminddb
import orjson
import pytest
from conftest import shared_path

from ctdetect.ecs import CloudTrailMapper, flatten

EXCLUDED_PREFIXES = ("actor.", "target.", "user.entity.", "user.target.entity.", "host.", "service.entity.")
# the actor/target fields; their values across versions are checked in test_entities.py
ENTITY_FIELDS = {"actor.entity.id", "target.entity.id", "entity.target.id", "entity.id", "user.entity.id",
                 "user.target.entity.id", "host.entity.id", "host.target.entity.id", "service.entity.id",
                 "service.target.entity.id"}
EXCLUDED = {"event.created", "event.original", "tags", "user.email", "service.name", "cloud.service.name"}
SUBSET_FIELDS = {"related.entity", "related.user"}
OUR_ADDITIONS = {"_ts", "event.module", "event.dataset", "data_stream.dataset", "data_stream.type",
                 "data_stream.namespace", "cloud.provider"}


class MaxMindTestGeo:
    """The fields Elasticsearch's geoip processor writes, read from MaxMind's test dbs."""

    def __init__(self, folder: Path) -> None:
        self.city = maxminddb.open_database(str(folder / "GeoLite2-City-Test.mmdb"))
        self.asn = maxminddb.open_database(str(folder / "GeoLite2-ASN-Test.mmdb"))

    def lookup(self, ip: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        city = self.city.get(ip) or {}
        if "city" in city:
            out["source.geo.city_name"] = city["city"]["names"]["en"]
        if "continent" in city:
            out["source.geo.continent_name"] = city["continent"]["names"]["en"]
        if "country" in city:
            out["source.geo.country_iso_code"] = city["country"]["iso_code"]
            out["source.geo.country_name"] = city["country"]["names"]["en"]
        if "location" in city:
            out["source.geo.location"] = {"lat": city["location"]["latitude"], "lon": city["location"]["longitude"]}
        if city.get("subdivisions"):
            sub = city["subdivisions"][0]
            out["source.geo.region_iso_code"] = f"{city['country']['iso_code']}-{sub['iso_code']}"
            out["source.geo.region_name"] = sub["names"]["en"]
        asn = self.asn.get(ip) or {}
        if "autonomous_system_number" in asn:
            out["source.as.number"] = asn["autonomous_system_number"]
        if "autonomous_system_organization" in asn:
            out["source.as.organization.name"] = asn["autonomous_system_organization"]
        return out


def _pairs() -> list[tuple[Path, Path]]:
    base = shared_path("datasets", "elastic-integration-cloudtrail-pipeline-tests")
    anchor = shared_path("anchors", "integrations-aws-cloudtrail", "_dev", "test", "pipeline")
    pairs = []
    for folder_in, folder_out in ((base / "inputs", base / "expected"), (anchor, anchor)):
        for expected in sorted(folder_out.glob("*-expected.json")):
            source = folder_in / expected.name.removesuffix("-expected.json")
            if source.exists():
                pairs.append((source, expected))
    return pairs


def _comparable(expected: dict[str, Any]) -> dict[str, Any]:
    flat = flatten(expected)
    out = {}
    for key, value in flat.items():
        if key in EXCLUDED or key.startswith(EXCLUDED_PREFIXES):
            continue
        if key == "user_agent.version" and isinstance(value, str):
            value = value.rstrip(".")  # ES < 8.16.2 left a trailing dot (test-common-config)
        out[key] = value
    return out


def test_golden_pairs_map_field_for_field() -> None:
    geo_dir = shared_path("datasets", "geoip-test-mmdb")
    geo = MaxMindTestGeo(geo_dir)
    # the actor/target fields come with the actor_target_mapping tag (or, in older
    # versions' expected files, without any tag): map with the option as the file shows it
    mappers = {flag: CloudTrailMapper(geoip=geo, actor_target_mapping=flag) for flag in (False, True)}
    pairs = _pairs()
    assert pairs, "no golden pairs found"
    checked = 0
    for source, expected_file in pairs:
        lines = [line for line in source.read_bytes().splitlines() if line.strip()]
        expected_docs = [d for d in orjson.loads(expected_file.read_bytes())["expected"] if "event" in d and "action" in d["event"]]
        assert len(lines) == len(expected_docs), source.name
        for number, (line, expected) in enumerate(zip(lines, expected_docs, strict=True), 1):
            ours = mappers["actor_target_mapping" in expected.get("tags", ())].map(orjson.loads(line))
            want = _comparable(expected)
            where = f"{source.name} record {number}"
            for key, value in want.items():
                if key == "related.entity":
                    arn = ours.get("aws.cloudtrail.user_identity.arn")
                    if arn:
                        assert arn in ours[key] and arn in value, f"{where}: {key} {ours.get(key)} vs {value}"
                    continue
                if key in SUBSET_FIELDS:
                    assert set(ours.get(key, [])) <= set(value), f"{where}: {key} {ours.get(key)} not within {value}"
                    continue
                assert key in ours, f"{where}: missing {key} (expected {value!r})"
                assert ours[key] == value, f"{where}: {key} is {ours[key]!r}, expected {value!r}"
            extra = set(ours) - set(want) - OUR_ADDITIONS - SUBSET_FIELDS - ENTITY_FIELDS
            assert not extra, f"{where}: fields Elastic does not write: {sorted(extra)}"
            checked += 1
    assert checked >= 5


@pytest.mark.parametrize("name", ["test-console-login-json.log"])
def test_console_login_outcome_and_role_name(name: str) -> None:
    source = shared_path("datasets", "elastic-integration-cloudtrail-pipeline-tests", "inputs", name)
    docs = [CloudTrailMapper().map(orjson.loads(line)) for line in source.read_bytes().splitlines() if line.strip()]
    assert [d["event.outcome"] for d in docs] == ["success", "failure", "failure"]
    assert docs[2]["user.name"] == "RoleToBeAssumed"
    assert "related.user" not in docs[2]
