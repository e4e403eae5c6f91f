"""Elastic's CloudTrail pipeline test pairs, read from ``../shared`` and compared field
for field with ctdetect's mapping (used by ``test_golden.py``).

A pair is an input ``test-*.log`` and its ``-expected.json`` from the aws integration
(``anchors/integrations-aws-cloudtrail-pipeline-tests``). Each expected document is
compared with what ``CloudTrailMapper`` makes of the record the pipeline saw (its
``event.original``; the input line when the file keeps none), mapped with the options the
document's ``tags`` show (``actor_target_mapping``) and with GeoIP from MaxMind's test
databases, as the integration's tests run. ``dynamic_fields`` of the test config are
honoured as elastic-package does: the value must match the pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import maxminddb
import orjson
import yaml

from ctdetect.ecs import CloudTrailMapper, MappingError, flatten

PAIRS_DIR = ("anchors", "integrations-aws-cloudtrail-pipeline-tests", "_dev", "test", "pipeline")
GEOIP_DIR = ("datasets", "geoip-test-mmdb")

# Never compared: set at ingest time or by the test harness, not by the mapping.
NOT_MAPPING = {
    "event.created": "ingest time (the pipeline copies the harness's @timestamp)",
    "event.original": "the raw line as received; ctdetect keeps it only with preserve_original and re-serialises it",
    "tags": "set by the test config (preserve_original_event, actor_target_mapping)",
}
# Written by ctdetect, absent from pipeline output: Elastic Agent / the data stream sets them.
REJECTED = "<record rejected>"  # the field name of a record ctdetect refuses to map
AGENT_CONSTANTS = {"_ts", "event.module", "event.dataset", "data_stream.dataset", "data_stream.type",
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


@dataclass(frozen=True)
class Difference:
    """One field where ctdetect's document differs from Elastic's expected one."""

    pair: str  # the input file's stem, e.g. "test-attach-role-policy-json"
    record: int  # 1-based document number in the expected file
    field: str
    expected: Any
    ours: Any


@dataclass
class PairResult:
    pair: str
    records: int = 0
    exact: int = 0
    blank: int = 0  # expected documents of blank input lines (ctdetect skips blank lines)
    differences: list[Difference] | None = None
    digests: list[str] | None = None  # document_digest of each of ctdetect's documents


def pair_names(shared: Path) -> list[str]:
    folder = shared.joinpath(*PAIRS_DIR)
    return sorted(p.name.removesuffix(".log-expected.json") for p in folder.glob("*.log-expected.json"))


def _dynamic_fields(folder: Path, name: str) -> dict[str, re.Pattern[str]]:
    config: dict[str, Any] = {}
    for candidate in (folder / "test-common-config.yml", folder / f"{name}.log-config.yml"):
        if candidate.exists():
            config = yaml.safe_load(candidate.read_text()) or {}  # a pair's own config replaces the common one
    return {field: re.compile(pattern) for field, pattern in (config.get("dynamic_fields") or {}).items()}


class GoldenComparer:
    """Maps and compares pairs; mappers and GeoIP are opened once."""

    def __init__(self, shared: Path) -> None:
        self.folder = shared.joinpath(*PAIRS_DIR)
        geo = MaxMindTestGeo(shared.joinpath(*GEOIP_DIR))
        self.mappers = {flag: CloudTrailMapper(geoip=geo, actor_target_mapping=flag) for flag in (False, True)}

    def records(self, name: str) -> list[tuple[dict[str, Any], bytes]]:
        """(expected document, the raw record the pipeline saw) of each non-blank record."""
        expected_docs = orjson.loads((self.folder / f"{name}.log-expected.json").read_bytes())["expected"]
        lines = [line for line in (self.folder / f"{name}.log").read_bytes().splitlines() if line.strip()]
        out = []
        for number, expected in enumerate(expected_docs, 1):
            event = expected.get("event") or {}
            original = event.get("original")
            if original is None and "action" not in event:
                continue
            out.append((expected, original.encode() if original is not None else lines[number - 1]))
        return out

    def compare_documents(self, name: str, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[Difference]:
        """Differences between expected documents and flat documents made elsewhere (``ctdetect map``)."""
        dynamic = _dynamic_fields(self.folder, name)
        out: list[Difference] = []
        for number, (expected, ours) in enumerate(pairs, 1):
            out.extend(self._differences(name, number, flatten(expected), ours, dynamic))
        return out

    def compare(self, name: str) -> PairResult:
        expected_docs = orjson.loads((self.folder / f"{name}.log-expected.json").read_bytes())["expected"]
        lines = [line for line in (self.folder / f"{name}.log").read_bytes().splitlines() if line.strip()]
        dynamic = _dynamic_fields(self.folder, name)
        result = PairResult(name, differences=[], digests=[])
        for number, expected in enumerate(expected_docs, 1):
            event = expected.get("event") or {}
            original = event.get("original")
            if original is None and "action" not in event:
                result.blank += 1
                continue
            raw = original if original is not None else lines[number - 1]
            result.records += 1
            try:
                ours = self.mappers["actor_target_mapping" in expected.get("tags", ())].map(orjson.loads(raw))
            except MappingError as exc:
                result.differences.append(Difference(name, number, REJECTED, "mapped", str(exc)))  # type: ignore[union-attr]
                continue
            result.digests.append(document_digest(ours))  # type: ignore[union-attr]
            found = self._differences(name, number, flatten(expected), ours, dynamic)
            result.differences.extend(found)  # type: ignore[union-attr]
            result.exact += not found
        return result

    @staticmethod
    def _differences(name: str, number: int, want: dict[str, Any], ours: dict[str, Any],
                     dynamic: dict[str, re.Pattern[str]]) -> list[Difference]:
        out = []
        for field in sorted(set(want) | set(ours)):
            if field in NOT_MAPPING or (field in AGENT_CONSTANTS and field not in want):
                continue
            expected, value = want.get(field), ours.get(field)
            if field in dynamic and isinstance(value, str) and dynamic[field].fullmatch(value):
                continue
            if expected != value:
                out.append(Difference(name, number, field, expected, value))
        return out


def document_digest(doc: dict[str, Any]) -> str:
    """A short fingerprint of one mapped document (flat, ``_ts`` included, keys sorted):
    what ``test_golden.py`` pins so any change to ctdetect's output shows, without
    keeping Elastic's fixtures (or documents made from them) in the project."""
    import hashlib

    return hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()[:16]
