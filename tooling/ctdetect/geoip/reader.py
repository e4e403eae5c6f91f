"""GeoIP lookups that produce the fields Elastic's geoip processor writes.

The aws integration's CloudTrail pipeline runs two geoip processors on ``source.ip``: one
with the City database into ``source.geo`` (default properties: ``continent_name``,
``country_name``, ``country_iso_code``, ``region_iso_code``, ``region_name``,
``city_name``, ``location``), and one with the ASN database into ``source.as`` (properties
``asn`` and ``organization_name``, then renamed to ``source.as.number`` and
``source.as.organization.name``). :meth:`GeoIP.lookup` returns the same fields, flat:

* names are the English (``en``) names of the MaxMind record;
* ``region_*`` come from the most specific subdivision, and ``region_iso_code`` is the
  country code, a dash and the subdivision code (``US-WA``), present only when both are;
* ``location`` is ``{"lat": ..., "lon": ...}``, present only when both are;
* an address the database does not hold, a private one it does not list, or a value that
  is not an IP (``ec2.amazonaws.com``) yields ``{}``, as the processor then adds nothing.

Which databases (first match wins for each kind of field): paths passed to
:meth:`GeoIP.open` (``--geoip-db``, repeatable; an ``--geoip-asn-db``), else the
``CTDETECT_GEOIP_DB`` / ``CTDETECT_GEOIP_ASN_DB`` environment variables (each may list
several files separated by ``os.pathsep``), else ctdetect's synthetic default database
(see :mod:`ctdetect.geoip.table`; not real-world data). A database whose type contains
"ASN" serves ``*.as.*`` fields; any other serves ``*.geo.*`` (and ``*.as.*`` too when its
records carry ASN keys, as the default's do).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import maxminddb

ENV_CITY_DB = "CTDETECT_GEOIP_DB"
ENV_ASN_DB = "CTDETECT_GEOIP_ASN_DB"
DEFAULT_DB_PATH = Path(__file__).resolve().parent.parent / "data" / "geoip-default.mmdb"

CITY_PROPERTIES: tuple[str, ...] = (
    "continent_name", "country_name", "country_iso_code", "region_iso_code", "region_name", "city_name", "location",
)
OPTIONAL_CITY_PROPERTIES: tuple[str, ...] = ("continent_code", "timezone")
ASN_PROPERTIES: tuple[str, ...] = ("asn", "organization_name")

# ASN property -> field under <prefix>.as (after the integration's renames)
_ASN_FIELDS = {"asn": "number", "organization_name": "organization.name"}

PathLike = str | os.PathLike[str]


class GeoIPError(Exception):
    """A GeoIP database cannot be opened; the message names the file."""


class _Database:
    """One open ``.mmdb`` and what it can answer."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.reader = maxminddb.open_database(str(path))
        except FileNotFoundError:
            raise GeoIPError(f"{path}: GeoIP database not found") from None
        except (maxminddb.InvalidDatabaseError, ValueError, OSError) as exc:
            raise GeoIPError(f"{path}: not a readable MaxMind DB (.mmdb) file: {exc}") from None
        self.database_type = str(self.reader.metadata().database_type)
        self.asn_only = "ASN" in self.database_type.upper() and "CITY" not in self.database_type.upper()
        self.problems = 0
        self.first_problem: str | None = None

    def get(self, ip: str) -> Mapping[str, Any] | None:
        try:
            record = self.reader.get(ip)
        except ValueError:  # not an IP, or IPv6 in an IPv4-only database
            return None
        except maxminddb.InvalidDatabaseError as exc:
            # a corrupt record: say so once per database, answer "unknown", keep going
            self.problems += 1
            if self.first_problem is None:
                self.first_problem = f"{self.path}: corrupt record for {ip}: {exc}"
            return None
        return record if isinstance(record, dict) else None

    def close(self) -> None:
        self.reader.close()


def _en(obj: Any) -> str | None:
    names = obj.get("names") if isinstance(obj, dict) else None
    name = names.get("en") if isinstance(names, dict) else None
    return name if isinstance(name, str) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def geo_fields(record: Mapping[str, Any], properties: Iterable[str] = CITY_PROPERTIES) -> dict[str, Any]:
    """The geoip processor's City/Country properties from one MaxMind record (unprefixed).

    Straight-line code on purpose: this runs once per distinct IP of an archive.
    """
    country = _dict(record.get("country"))
    continent = _dict(record.get("continent"))
    subs = record.get("subdivisions")
    sub = _dict(subs[-1]) if isinstance(subs, list) and subs else {}
    location = _dict(record.get("location"))
    country_iso = country.get("iso_code")
    sub_iso = sub.get("iso_code")
    lat, lon = location.get("latitude"), location.get("longitude")
    values = {
        "continent_name": _en(continent),
        "continent_code": continent.get("code"),
        "country_name": _en(country),
        "country_iso_code": country_iso,
        "region_iso_code": f"{country_iso}-{sub_iso}" if country_iso and sub_iso else None,
        "region_name": _en(sub),
        "city_name": _en(record.get("city")),
        "timezone": location.get("time_zone"),
        "location": {"lat": lat, "lon": lon} if lat is not None and lon is not None else None,
    }
    out: dict[str, Any] = {}
    for prop in properties:
        if prop not in values:
            raise ValueError(f"unknown geoip property {prop!r}")
        value = values[prop]
        if value is not None:
            out[prop] = value
    return out


def asn_fields(record: Mapping[str, Any], properties: Iterable[str] = ASN_PROPERTIES) -> dict[str, Any]:
    """``number`` / ``organization.name`` from a GeoLite2-ASN-shaped record (unprefixed)."""
    out: dict[str, Any] = {}
    for prop in properties:
        if prop == "asn":
            value = record.get("autonomous_system_number")
        elif prop == "organization_name":
            value = record.get("autonomous_system_organization")
        else:
            raise ValueError(f"unknown ASN property {prop!r}")
        if value is not None:
            out[_ASN_FIELDS[prop]] = value
    return out


def _split_env(value: str | None) -> list[Path]:
    return [Path(p) for p in (value or "").split(os.pathsep) if p.strip()]


def _as_paths(value: PathLike | Sequence[PathLike] | None) -> list[Path]:
    if value is None:
        return []
    if isinstance(value, (str, os.PathLike)):
        return [Path(value)]
    return [Path(v) for v in value]


class GeoIP:
    """Look up IPs in one or more MaxMind databases; results cached per IP (LRU)."""

    def __init__(
        self,
        databases: Sequence[_Database],
        *,
        city_properties: Sequence[str] = CITY_PROPERTIES,
        asn_properties: Sequence[str] = ASN_PROPERTIES,
        cache_size: int = 65536,
    ) -> None:
        for prop in city_properties:
            if prop not in CITY_PROPERTIES + OPTIONAL_CITY_PROPERTIES:
                raise ValueError(f"unknown geoip property {prop!r}")
        for prop in asn_properties:
            if prop not in ASN_PROPERTIES:
                raise ValueError(f"unknown ASN property {prop!r}")
        self._databases = list(databases)
        self._city_properties = tuple(city_properties)
        self._asn_properties = tuple(asn_properties)
        self._key_cache: dict[str, dict[str, str]] = {}
        self._cached = lru_cache(maxsize=cache_size)(self._lookup_uncached)

    @classmethod
    def open(
        cls,
        path: PathLike | Sequence[PathLike] | None = None,
        asn_path: PathLike | Sequence[PathLike] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        city_properties: Sequence[str] = CITY_PROPERTIES,
        asn_properties: Sequence[str] = ASN_PROPERTIES,
        cache_size: int = 65536,
    ) -> "GeoIP":
        """Open the databases to use (see the module docstring for the selection order).

        ``path``: one or several City/Country (or ASN) database files, e.g. every
        ``--geoip-db``; ``asn_path``: ASN database file(s). When neither is given the
        environment is read (``env`` defaults to ``os.environ``); with nothing there either,
        the shipped default. Raises :class:`GeoIPError` naming a file that cannot be opened.
        """
        environ = os.environ if env is None else env
        paths = _as_paths(path)
        asn_paths = _as_paths(asn_path)
        if not paths and not asn_paths:
            paths = _split_env(environ.get(ENV_CITY_DB))
            asn_paths = _split_env(environ.get(ENV_ASN_DB))
        opened: list[_Database] = []
        try:
            for p in asn_paths + paths:
                opened.append(_Database(p))
            if not any(not db.asn_only for db in opened):
                opened.append(_Database(DEFAULT_DB_PATH))
        except GeoIPError:
            for db in opened:
                db.close()
            raise
        return cls(opened, city_properties=city_properties, asn_properties=asn_properties, cache_size=cache_size)

    @property
    def databases(self) -> list[tuple[Path, str]]:
        """``(path, database_type)`` of each open database, in lookup order."""
        return [(db.path, db.database_type) for db in self._databases]

    @property
    def uses_default(self) -> bool:
        """True when the shipped synthetic database answers geo lookups."""
        return any(db.path == DEFAULT_DB_PATH for db in self._databases)

    def lookup(self, ip: str, prefix: str = "source") -> dict[str, Any]:
        """Flat ECS fields for ``ip`` under ``prefix`` (``source.geo.city_name``,
        ``source.as.number``, ...); ``{}`` when nothing is known or ``ip`` is not an IP.

        The returned dict is the caller's to keep or change.
        """
        if not isinstance(ip, str) or not ip:
            return {}
        cached = self._cached(ip.strip(), prefix)
        if not cached:
            return {}
        out = dict(cached)
        loc = out.get(f"{prefix}.geo.location")
        if loc is not None:
            out[f"{prefix}.geo.location"] = dict(loc)
        return out

    @property
    def problems(self) -> list[str]:
        """One message per database that returned corrupt records (file, IP, error, count).

        Lookups that hit a corrupt record answer ``{}``; callers report these in summaries.
        """
        out = []
        for db in self._databases:
            if db.first_problem:
                more = f" ({db.problems} lookups affected)" if db.problems > 1 else ""
                out.append(db.first_problem + more)
        return out

    def cache_info(self) -> Any:
        """Hits/misses of the per-IP cache (``functools.lru_cache`` statistics)."""
        return self._cached.cache_info()

    def _keys(self, prefix: str) -> dict[str, str]:
        """Full field names under ``prefix`` for every property (built once per prefix)."""
        keys = self._key_cache.get(prefix)
        if keys is None:
            keys = {p: f"{prefix}.geo.{p}" for p in CITY_PROPERTIES + OPTIONAL_CITY_PROPERTIES}
            keys.update({f"as:{p}": f"{prefix}.as.{p}" for p in _ASN_FIELDS.values()})
            self._key_cache[prefix] = keys
        return keys

    def _lookup_uncached(self, ip: str, prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        geo_done = asn_done = False
        keys = self._keys(prefix)
        for db in self._databases:
            if geo_done and asn_done:
                break
            record = db.get(ip)
            if not record:
                continue
            if not geo_done and not db.asn_only:
                geo = geo_fields(record, self._city_properties)
                if geo:
                    geo_done = True
                    for k, v in geo.items():
                        out[keys[k]] = v
            if not asn_done:
                asn = asn_fields(record, self._asn_properties)
                if asn:
                    asn_done = True
                    for k, v in asn.items():
                        out[keys["as:" + k]] = v
        return out

    def close(self) -> None:
        for db in self._databases:
            db.close()
        self._cached.cache_clear()

    def __enter__(self) -> "GeoIP":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
