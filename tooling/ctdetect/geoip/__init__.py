"""GeoIP: MaxMind ``.mmdb`` lookups shaped like Elastic's geoip processor output.

* :class:`GeoIP` -- ``GeoIP.open(path | None, asn_path | None)`` then
  ``lookup(ip, prefix="source") -> {"source.geo.city_name": ..., "source.as.number": ...}``.
  Database choice: explicit paths (``--geoip-db``), else ``CTDETECT_GEOIP_DB`` /
  ``CTDETECT_GEOIP_ASN_DB``, else the shipped synthetic default ``data/geoip-default.mmdb``.
* :func:`default_table` -- the CIDR table the default database is built from (use its
  networks in synthetic data); NOT real-world geolocation.
* :mod:`ctdetect.geoip.writer` -- ``write_mmdb(path, entries)`` builds a MaxMind DB so tests
  can make fixture IPs map to known places (:func:`city_record` builds a record).
"""

from __future__ import annotations

from ctdetect.geoip.reader import (
    ASN_PROPERTIES,
    CITY_PROPERTIES,
    DEFAULT_DB_PATH,
    ENV_ASN_DB,
    ENV_CITY_DB,
    GeoIP,
    GeoIPError,
)
from ctdetect.geoip.table import GeoEntry, city_record, default_table

__all__ = [
    "ASN_PROPERTIES",
    "CITY_PROPERTIES",
    "DEFAULT_DB_PATH",
    "ENV_ASN_DB",
    "ENV_CITY_DB",
    "GeoEntry",
    "GeoIP",
    "GeoIPError",
    "city_record",
    "default_table",
]
