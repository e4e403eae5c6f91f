"""The fixed CIDR table behind ctdetect's shipped default GeoIP database.

THIS IS NOT A REAL-WORLD GEOLOCATION DATABASE. It maps a handful of chosen networks to
chosen places so that synthetic CloudTrail history (``ctdetect synth``), scenarios and
tests get stable, meaningful ``source.geo.*`` / ``source.as.*`` values with no download.
For real archives, point ctdetect at a MaxMind database (``--geoip-db``,
``CTDETECT_GEOIP_DB``).

How the networks were chosen, so that no real person's address is mislabelled:

* human users ("office", "home"): the three IPv4 documentation ranges of RFC 5737
  (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), /24s of the benchmarking range
  198.18.0.0/15 (RFC 2544, never routed on the internet) and the IPv6 documentation
  prefix 2001:db8::/32 (RFC 3849); ASNs from the documentation range 64496-64511
  (RFC 5398).
* anonymising infrastructure ("vpn", "tor", "hosting"): /24s of 198.19.0.0/16 (the
  other half of the benchmarking range), with documentation ASNs.
* AWS ("aws"): prefixes AWS announces itself (AS16509 AMAZON-02, AS14618 AMAZON-AES),
  labelled with the region's city, for calls made from inside AWS (EC2, Lambda).

The synth engineer and scenario authors draw IPs from :func:`default_table` so their
events resolve to these places; tests build their own databases with
:func:`ctdetect.geoip.writer.write_mmdb` and :func:`city_record`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from ctdetect.geoip.writer import Typed

DEFAULT_DB_TYPE = "ctdetect-Synthetic-City-ASN"
DEFAULT_DB_DESCRIPTION = (
    "ctdetect synthetic GeoIP database: a fixed table of documentation, benchmarking and AWS "
    "networks mapped to chosen places. Not real-world geolocation data."
)

_CONTINENTS = {
    "AF": "Africa", "AN": "Antarctica", "AS": "Asia", "EU": "Europe",
    "NA": "North America", "OC": "Oceania", "SA": "South America",
}


def city_record(
    *,
    city: str | None = None,
    country_iso_code: str | None = None,
    country_name: str | None = None,
    continent_code: str | None = None,
    continent_name: str | None = None,
    region_code: str | None = None,
    region_name: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    time_zone: str | None = None,
    asn: int | None = None,
    as_organization: str | None = None,
) -> dict[str, Any]:
    """A record in MaxMind's GeoIP2 City layout (plus GeoLite2 ASN keys when ``asn`` is set).

    ``region_code`` is the subdivision's own code ("WA"), as MaxMind stores it; the reader
    prefixes the country ("US-WA") the way Elasticsearch's geoip processor does. Only the
    keys given are written, so a test can build partial records.
    """
    rec: dict[str, Any] = {}
    if continent_code or continent_name:
        cont: dict[str, Any] = {}
        if continent_code:
            cont["code"] = continent_code
        name = continent_name or _CONTINENTS.get(continent_code or "")
        if name:
            cont["names"] = {"en": name}
        rec["continent"] = cont
    if country_iso_code or country_name:
        country: dict[str, Any] = {}
        if country_iso_code:
            country["iso_code"] = country_iso_code
        if country_name:
            country["names"] = {"en": country_name}
        rec["country"] = country
    if region_code or region_name:
        sub: dict[str, Any] = {}
        if region_code:
            sub["iso_code"] = region_code
        if region_name:
            sub["names"] = {"en": region_name}
        rec["subdivisions"] = [sub]
    if city:
        rec["city"] = {"names": {"en": city}}
    if latitude is not None or longitude is not None or time_zone:
        loc: dict[str, Any] = {}
        if latitude is not None:
            loc["latitude"] = float(latitude)
        if longitude is not None:
            loc["longitude"] = float(longitude)
        if time_zone:
            loc["time_zone"] = time_zone
        rec["location"] = loc
    if asn is not None:
        rec["autonomous_system_number"] = Typed("uint32", asn)
    if as_organization:
        rec["autonomous_system_organization"] = as_organization
    return rec


@dataclass(frozen=True, slots=True)
class GeoEntry:
    """One network of the default table and the place/ASN it maps to.

    ``kind`` says what the range stands for in synthetic data: ``office`` and ``home``
    (human users), ``aws`` (calls from inside AWS), ``vpn``, ``tor``, ``hosting``
    (anonymising or rented infrastructure an attacker may use).
    """

    network: str
    kind: str
    city: str
    region_code: str
    region_name: str
    country_iso_code: str
    country_name: str
    continent_code: str
    latitude: float
    longitude: float
    time_zone: str
    asn: int
    as_organization: str

    def record(self) -> dict[str, Any]:
        return city_record(
            city=self.city,
            country_iso_code=self.country_iso_code,
            country_name=self.country_name,
            continent_code=self.continent_code,
            region_code=self.region_code,
            region_name=self.region_name,
            latitude=self.latitude,
            longitude=self.longitude,
            time_zone=self.time_zone,
            asn=self.asn,
            as_organization=self.as_organization,
        )

    def hosts(self, count: int = 1) -> list[str]:
        """The first ``count`` usable addresses of the network (for fixtures and synth)."""
        net = ipaddress.ip_network(self.network)
        out = []
        for i, host in enumerate(net.hosts()):
            if i >= count:
                break
            out.append(str(host))
        return out


# network, kind, city, region code, region name, country, country name, continent,
# lat, lon, time zone, asn, as organisation
_TABLE: tuple[tuple[Any, ...], ...] = (
    # --- human users: documentation ranges (RFC 5737, RFC 3849) ---
    ("192.0.2.0/24", "office", "Paris", "IDF", "Île-de-France", "FR", "France", "EU",
     48.8566, 2.3522, "Europe/Paris", 64496, "Example Corp Paris Office"),
    ("198.51.100.0/24", "office", "Seattle", "WA", "Washington", "US", "United States", "NA",
     47.6062, -122.3321, "America/Los_Angeles", 64497, "Example Corp Seattle Office"),
    ("203.0.113.0/24", "office", "Sydney", "NSW", "New South Wales", "AU", "Australia", "OC",
     -33.8688, 151.2093, "Australia/Sydney", 64498, "Example Corp Sydney Office"),
    ("2001:db8::/32", "office", "Berlin", "BE", "Land Berlin", "DE", "Germany", "EU",
     52.5200, 13.4050, "Europe/Berlin", 64499, "Example Corp Berlin Office"),
    # --- human users: benchmarking range 198.18.0.0/16 (RFC 2544) ---
    ("198.18.0.0/24", "home", "London", "ENG", "England", "GB", "United Kingdom", "EU",
     51.5074, -0.1278, "Europe/London", 64500, "Example Residential Broadband UK"),
    ("198.18.1.0/24", "home", "Frankfurt am Main", "HE", "Hesse", "DE", "Germany", "EU",
     50.1109, 8.6821, "Europe/Berlin", 64501, "Example Residential Broadband DE"),
    ("198.18.2.0/24", "home", "New York", "NY", "New York", "US", "United States", "NA",
     40.7128, -74.0060, "America/New_York", 64502, "Example Residential Broadband US-East"),
    ("198.18.3.0/24", "home", "Toronto", "ON", "Ontario", "CA", "Canada", "NA",
     43.6532, -79.3832, "America/Toronto", 64503, "Example Residential Broadband CA"),
    ("198.18.4.0/24", "home", "Bengaluru", "KA", "Karnataka", "IN", "India", "AS",
     12.9716, 77.5946, "Asia/Kolkata", 64504, "Example Residential Broadband IN"),
    ("198.18.5.0/24", "home", "Tokyo", "13", "Tokyo", "JP", "Japan", "AS",
     35.6762, 139.6503, "Asia/Tokyo", 64505, "Example Residential Broadband JP"),
    ("198.18.6.0/24", "home", "São Paulo", "SP", "São Paulo", "BR", "Brazil", "SA",
     -23.5505, -46.6333, "America/Sao_Paulo", 64506, "Example Residential Broadband BR"),
    # --- anonymising / rented infrastructure: 198.19.0.0/16 (RFC 2544) ---
    ("198.19.0.0/24", "vpn", "Amsterdam", "NH", "North Holland", "NL", "Netherlands", "EU",
     52.3676, 4.9041, "Europe/Amsterdam", 64507, "Example Commercial VPN Exit"),
    ("198.19.1.0/24", "tor", "Bucharest", "B", "Bucharest", "RO", "Romania", "EU",
     44.4268, 26.1025, "Europe/Bucharest", 64508, "Example Tor Exit Relay Operator"),
    ("198.19.2.0/24", "hosting", "Moscow", "MOW", "Moscow", "RU", "Russia", "EU",
     55.7558, 37.6173, "Europe/Moscow", 64509, "Example Bulletproof Hosting"),
    ("198.19.3.0/24", "hosting", "Singapore", "01", "Central Singapore", "SG", "Singapore", "AS",
     1.3521, 103.8198, "Asia/Singapore", 64510, "Example VPS Hosting"),
    ("198.19.4.0/24", "vpn", "Lagos", "LA", "Lagos", "NG", "Nigeria", "AF",
     6.5244, 3.3792, "Africa/Lagos", 64511, "Example Mobile VPN Exit"),
    # --- AWS (prefixes announced by Amazon), labelled with the region's city ---
    ("52.94.0.0/16", "aws", "Ashburn", "VA", "Virginia", "US", "United States", "NA",
     39.0438, -77.4874, "America/New_York", 16509, "AMAZON-02"),
    ("54.240.0.0/12", "aws", "Ashburn", "VA", "Virginia", "US", "United States", "NA",
     39.0438, -77.4874, "America/New_York", 16509, "AMAZON-02"),
    ("3.5.0.0/16", "aws", "Ashburn", "VA", "Virginia", "US", "United States", "NA",
     39.0438, -77.4874, "America/New_York", 16509, "AMAZON-02"),
    ("18.204.0.0/14", "aws", "Ashburn", "VA", "Virginia", "US", "United States", "NA",
     39.0438, -77.4874, "America/New_York", 14618, "AMAZON-AES"),
    ("52.208.0.0/13", "aws", "Dublin", "L", "Leinster", "IE", "Ireland", "EU",
     53.3498, -6.2603, "Europe/Dublin", 16509, "AMAZON-02"),
    ("35.180.0.0/16", "aws", "Paris", "IDF", "Île-de-France", "FR", "France", "EU",
     48.8566, 2.3522, "Europe/Paris", 16509, "AMAZON-02"),
    ("13.48.0.0/15", "aws", "Stockholm", "AB", "Stockholm County", "SE", "Sweden", "EU",
     59.3293, 18.0686, "Europe/Stockholm", 16509, "AMAZON-02"),
    # --- VPN exits in ordinary countries (the anomaly scenarios: a stolen credential used
    # from the victim's own country and city, where only the network owner gives it away);
    # ASNs from the 32-bit documentation range 65536-65551 (RFC 5398) ---
    ("198.19.5.0/24", "vpn", "Paris", "IDF", "Île-de-France", "FR", "France", "EU",
     48.8566, 2.3522, "Europe/Paris", 65536, "Example Consumer VPN Exit FR"),
    ("198.19.6.0/24", "vpn", "New York", "NY", "New York", "US", "United States", "NA",
     40.7128, -74.0060, "America/New_York", 65537, "Example Consumer VPN Exit US"),
)


def default_table() -> tuple[GeoEntry, ...]:
    """The networks of the shipped default database, in a fixed order."""
    return tuple(GeoEntry(*row) for row in _TABLE)
