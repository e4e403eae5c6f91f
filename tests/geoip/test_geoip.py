"""GeoIP: our .mmdb writer, Elastic-shaped lookups, database selection, bad input."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import maxminddb
import pytest

from ctdetect.geoip import DEFAULT_DB_PATH, GeoIP, GeoIPError, city_record, default_table
from ctdetect.geoip.table import DEFAULT_DB_DESCRIPTION, DEFAULT_DB_TYPE
from ctdetect.geoip.writer import MMDBWriteError, Typed, build_mmdb, encode, write_mmdb
from conftest import shared_path


SEATTLE = city_record(
    city="Seattle", country_iso_code="US", country_name="United States", continent_code="NA",
    region_code="WA", region_name="Washington", latitude=47.6, longitude=-122.3, time_zone="America/Los_Angeles",
)


@pytest.fixture
def test_db(tmp_path: Path) -> Path:
    return write_mmdb(
        tmp_path / "fixture-City.mmdb",
        [
            ("203.0.113.0/24", SEATTLE),
            ("203.0.113.128/25", city_record(city="Lyon", country_iso_code="FR", country_name="France",
                                             continent_code="EU", latitude=45.76, longitude=4.84)),
            ("198.51.100.7", city_record(country_iso_code="JP", country_name="Japan")),
            ("2001:db8:1::/48", city_record(city="Oslo", country_iso_code="NO", country_name="Norway",
                                            continent_code="EU", region_code="03", region_name="Oslo")),
        ],
        database_type="Fixture-City",
    )


@pytest.fixture
def asn_db(tmp_path: Path) -> Path:
    return write_mmdb(
        tmp_path / "fixture-ASN.mmdb",
        [("203.0.113.0/24", {"autonomous_system_number": Typed("uint32", 64500),
                             "autonomous_system_organization": "Example Net"})],
        database_type="Fixture-ASN",
    )


def test_fixture_ips_map_to_known_places(test_db: Path, asn_db: Path) -> None:
    with GeoIP.open(test_db, asn_db) as geo:
        assert geo.lookup("203.0.113.5") == {
            "source.geo.continent_name": "North America",
            "source.geo.country_name": "United States",
            "source.geo.country_iso_code": "US",
            "source.geo.region_iso_code": "US-WA",
            "source.geo.region_name": "Washington",
            "source.geo.city_name": "Seattle",
            "source.geo.location": {"lat": 47.6, "lon": -122.3},
            "source.as.number": 64500,
            "source.as.organization.name": "Example Net",
        }
        # the more specific /25 overrides the /24; the ASN db still answers for it
        lyon = geo.lookup("203.0.113.200")
        assert lyon["source.geo.city_name"] == "Lyon" and "source.geo.region_iso_code" not in lyon
        assert lyon["source.as.number"] == 64500
        # a single address; only the fields the record has
        assert geo.lookup("198.51.100.7") == {"source.geo.country_iso_code": "JP", "source.geo.country_name": "Japan"}
        assert geo.lookup("198.51.100.8") == {}
        assert geo.lookup("2001:db8:1::42", prefix="destination")["destination.geo.region_iso_code"] == "NO-03"
        assert geo.lookup("::ffff:203.0.113.5")["source.geo.city_name"] == "Seattle"


@pytest.mark.parametrize("value", ["", "ec2.amazonaws.com", "not an ip", "999.1.1.1", "10.0.0.1", "192.168.1.1",
                                   "127.0.0.1", "::1", "fe80::1", "8.8.8.8", "AWS Internal"])
def test_non_ip_private_unknown_give_nothing(value: str, test_db: Path) -> None:
    with GeoIP.open(test_db) as geo:
        assert geo.lookup(value) == {}
    with GeoIP.open(env={}) as default:
        assert default.lookup(value) == {}


def test_non_string_gives_nothing() -> None:
    with GeoIP.open(env={}) as geo:
        assert geo.lookup(None) == {}  # type: ignore[arg-type]


def test_optional_properties(test_db: Path) -> None:
    with GeoIP.open(test_db, city_properties=("city_name", "timezone", "continent_code")) as geo:
        assert geo.lookup("203.0.113.5") == {
            "source.geo.city_name": "Seattle", "source.geo.timezone": "America/Los_Angeles",
            "source.geo.continent_code": "NA",
        }
    with pytest.raises(ValueError, match="unknown geoip property"):
        GeoIP.open(test_db, city_properties=("postcode",))


def test_results_are_cached_and_safe_to_change(test_db: Path) -> None:
    with GeoIP.open(test_db) as geo:
        first = geo.lookup("203.0.113.5")
        first["source.geo.location"]["lat"] = 0.0
        first["source.geo.city_name"] = "changed"
        again = geo.lookup("203.0.113.5")
        assert again["source.geo.city_name"] == "Seattle" and again["source.geo.location"]["lat"] == 47.6
        assert geo.cache_info().hits == 1


def test_selection_order(test_db: Path, asn_db: Path, tmp_path: Path) -> None:
    # nothing given: the shipped default
    with GeoIP.open(env={}) as geo:
        assert geo.uses_default and geo.databases == [(DEFAULT_DB_PATH, DEFAULT_DB_TYPE)]
    # environment variables
    with GeoIP.open(env={"CTDETECT_GEOIP_DB": str(test_db), "CTDETECT_GEOIP_ASN_DB": str(asn_db)}) as geo:
        assert not geo.uses_default
        assert geo.lookup("203.0.113.5")["source.as.organization.name"] == "Example Net"
    # explicit paths win over the environment
    with GeoIP.open(test_db, env={"CTDETECT_GEOIP_DB": str(tmp_path / "absent.mmdb")}) as geo:
        assert geo.lookup("203.0.113.5")["source.geo.city_name"] == "Seattle"
        assert "source.as.number" not in geo.lookup("203.0.113.5")  # a City db without ASN data
    # several --geoip-db values, ASN one recognised by its type
    with GeoIP.open([asn_db, test_db]) as geo:
        assert geo.lookup("203.0.113.5")["source.as.number"] == 64500
    # an ASN database alone: places still come from the default
    with GeoIP.open(asn_path=asn_db) as geo:
        assert geo.uses_default and geo.lookup("192.0.2.1")["source.geo.city_name"] == "Paris"


def test_missing_and_bad_database(tmp_path: Path) -> None:
    with pytest.raises(GeoIPError, match="absent.mmdb: GeoIP database not found"):
        GeoIP.open(tmp_path / "absent.mmdb")
    bad = tmp_path / "bad.mmdb"
    bad.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(GeoIPError, match="bad.mmdb: not a readable MaxMind DB"):
        GeoIP.open(bad)
    with pytest.raises(GeoIPError, match="bad.mmdb"):
        GeoIP.open(env={"CTDETECT_GEOIP_DB": str(bad)})


# --- the shipped default database ---------------------------------------------------------


def test_default_db_matches_table() -> None:
    """The committed .mmdb is exactly what generators/gen_geoip_db.py builds from the table."""
    blob = build_mmdb(default_table(), database_type=DEFAULT_DB_TYPE, description=DEFAULT_DB_DESCRIPTION)
    assert DEFAULT_DB_PATH.read_bytes() == blob


def test_default_table_lookups() -> None:
    with GeoIP.open(env={}) as geo:
        for entry in default_table():
            for ip in entry.hosts(2):
                got = geo.lookup(ip)
                assert got["source.geo.city_name"] == entry.city, ip
                assert got["source.geo.country_iso_code"] == entry.country_iso_code
                assert got["source.geo.region_iso_code"] == f"{entry.country_iso_code}-{entry.region_code}"
                assert got["source.as.number"] == entry.asn
                assert got["source.as.organization.name"] == entry.as_organization


def test_default_table_shape() -> None:
    table = default_table()
    kinds = {e.kind for e in table}
    assert {"office", "home", "aws", "vpn", "tor", "hosting"} <= kinds
    assert len({e.country_iso_code for e in table if e.kind in ("office", "home")}) >= 6
    nets = [ipaddress.ip_network(e.network) for e in table]
    for a in nets:  # no overlaps: each IP has one meaning
        assert sum(a.overlaps(b) for b in nets if a.version == b.version) == 1, a
    for doc in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"):
        assert doc in {e.network for e in table}
    for e in table:
        if e.kind != "aws":  # non-AWS ranges are documentation/benchmarking space, never real hosts
            net = ipaddress.ip_network(e.network)
            assert not net.is_global, e.network


# --- MaxMind's own test databases (skipped without ../shared) -----------------------------


@pytest.fixture
def maxmind_dir(shared_dir: Path) -> Path:
    return shared_path("datasets", "geoip-test-mmdb")


def test_maxmind_test_databases(maxmind_dir: Path) -> None:
    with GeoIP.open(maxmind_dir / "GeoLite2-City-Test.mmdb", maxmind_dir / "GeoLite2-ASN-Test.mmdb") as geo:
        assert geo.lookup("89.160.20.156") == {
            "source.geo.continent_name": "Europe",
            "source.geo.country_name": "Sweden",
            "source.geo.country_iso_code": "SE",
            "source.geo.region_iso_code": "SE-E",
            "source.geo.region_name": "Östergötland County",
            "source.geo.city_name": "Linköping",
            "source.geo.location": {"lat": 58.4167, "lon": 15.6167},
            "source.as.number": 29518,
            "source.as.organization.name": "Bredband2 AB",
        }
        assert geo.lookup("10.0.0.1") == {}
    for name in ("GeoIP2-City-Test.mmdb", "GeoLite2-Country-Test.mmdb"):
        with GeoIP.open(maxmind_dir / name) as geo:
            assert geo.lookup("89.160.20.156")["source.geo.country_iso_code"] == "SE"


def _flatten(doc: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in doc.items():
        if isinstance(value, dict) and key != "location":
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def test_matches_elastic_pipeline_golden_output(maxmind_dir: Path, shared_dir: Path) -> None:
    """source.geo.* / source.as.* equal the aws integration's expected pipeline output."""
    expected_dir = shared_path("datasets", "elastic-integration-cloudtrail-pipeline-tests", "expected")
    checked = 0
    with GeoIP.open(maxmind_dir / "GeoLite2-City-Test.mmdb", maxmind_dir / "GeoLite2-ASN-Test.mmdb") as geo:
        for path in sorted(expected_dir.glob("*.json")):
            for doc in json.loads(path.read_text())["expected"]:
                source = doc.get("source", {})
                if "ip" not in source:
                    continue
                want = {k: v for k, v in _flatten({"source": {"geo": source.get("geo", {}),
                                                              "as": source.get("as", {})}}).items()}
                want = {k: v for k, v in want.items() if not isinstance(v, dict) or v}
                assert geo.lookup(source["ip"]) == want, (path.name, source["ip"])
                checked += 1
    assert checked > 0


# --- the writer -------------------------------------------------------------------------


def test_writer_round_trips_every_type(tmp_path: Path) -> None:
    record = {
        "s": "héllo", "u16": 7, "u32": 70000, "u64": 2**40, "u128": 2**100, "neg": -5, "d": 2.5,
        "t": True, "f": False, "b": b"\x00\x01", "arr": [1, "x", {"k": []}], "long": "x" * 70000,
        "zero": 0, "typed": Typed("uint32", 1),
    }
    path = write_mmdb(tmp_path / "t.mmdb", [("192.0.2.0/24", record), ("0.0.0.0/0", {"any": 1})])
    for mode in (maxminddb.MODE_AUTO, maxminddb.MODE_FILE):
        with maxminddb.open_database(str(path), mode) as reader:
            got = reader.get("192.0.2.9")
            assert got == {**record, "typed": 1}
            assert reader.get("8.8.8.8") == {"any": 1}
            assert reader.metadata().ip_version == 6 and reader.metadata().database_type == "ctdetect-Test"


def test_writer_large_tree_uses_wider_records(tmp_path: Path) -> None:
    entries = [(f"10.{i // 256}.{i % 256}.0/24", {"n": i, "pad": "p" * 40}) for i in range(3000)]
    path = write_mmdb(tmp_path / "big.mmdb", entries)
    with maxminddb.open_database(str(path)) as reader:
        assert reader.get("10.11.183.4") == {"n": 11 * 256 + 183, "pad": "p" * 40}
        assert reader.metadata().record_size in (24, 28, 32)


def test_writer_deterministic(tmp_path: Path) -> None:
    entries = [("192.0.2.0/24", SEATTLE), ("2001:db8::/32", {"x": 1})]
    assert build_mmdb(entries) == build_mmdb(list(entries))


@pytest.mark.parametrize(
    "entries, needle",
    [
        ([("not-a-net", {})], "entry 0: 'not-a-net' is not an IP network"),
        ([("192.0.2.0/24", "x")], "must be a mapping"),
        ([("192.0.2.0/24", {"x": object()})], "cannot encode object"),
        ([("192.0.2.0/24", {1: "x"})], "map key 1 is not a string"),
        ([("192.0.2.0/24",)], "expected (network, record)"),
    ],
)
def test_writer_rejects_bad_entries(entries: list, needle: str) -> None:
    with pytest.raises(MMDBWriteError) as err:
        build_mmdb(entries)
    assert needle in str(err.value)


def test_encode_sizes() -> None:
    assert encode("") == b"\x40"
    assert encode("a" * 29)[:2] == bytes([0x40 | 29, 0])
    assert encode("a" * 285)[:3] == bytes([0x40 | 30, 0, 0])
    assert encode(True) == b"\x01\x07"


def test_corrupt_record_is_reported_not_raised(tmp_path: Path) -> None:
    path = write_mmdb(tmp_path / "corrupt.mmdb", [("192.0.2.0/24", city_record(city="X", country_iso_code="FR")),
                                                  ("198.51.100.0/24", city_record(city="Y"))])
    blob = bytearray(path.read_bytes())
    with maxminddb.open_database(str(path)) as reader:
        meta = reader.metadata()
    start = meta.node_count * meta.record_size * 2 // 8 + 16  # first record of the data section
    blob[start:start + 4] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(blob))
    with GeoIP.open(path) as geo:
        assert geo.lookup("192.0.2.1") == {} and geo.lookup("192.0.2.2") == {}
        assert geo.lookup("198.51.100.1")["source.geo.city_name"] == "Y"  # the rest goes on
        assert len(geo.problems) == 1
        assert "corrupt.mmdb: corrupt record for 192.0.2.1" in geo.problems[0] and "(2 lookups affected)" in geo.problems[0]
