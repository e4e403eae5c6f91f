"""Print GeoIP lookup throughput: uncached, cached (repeated IPs), and the writer's build time.

Usage: python bench/geoip_lookup.py [--db PATH] [--n 200000]
Figures are printed, never asserted (see the project's testing rules).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from ctdetect.geoip import GeoIP, city_record, default_table
from ctdetect.geoip.writer import write_mmdb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a .mmdb to query (default: the shipped synthetic database)")
    parser.add_argument("--n", type=int, default=200_000, help="lookups per measurement")
    args = parser.parse_args()
    rng = random.Random(7)
    hosts = [h for entry in default_table() for h in entry.hosts(200)]
    misses = [f"100.{rng.randrange(64, 128)}.{rng.randrange(256)}.{rng.randrange(256)}" for _ in range(2000)]
    pool = hosts + misses

    with GeoIP.open(args.db, cache_size=0) as geo:
        ips = [rng.choice(pool) for _ in range(args.n)]
        t = time.perf_counter()
        for ip in ips:
            geo.lookup(ip)
        dt = time.perf_counter() - t
        print(f"uncached: {args.n} lookups in {dt:.3f} s = {args.n / dt:,.0f}/s ({len(pool)} distinct IPs)")

    with GeoIP.open(args.db) as geo:
        t = time.perf_counter()
        for ip in ips:
            geo.lookup(ip)
        dt = time.perf_counter() - t
        info = geo.cache_info()
        print(f"cached:   {args.n} lookups in {dt:.3f} s = {args.n / dt:,.0f}/s (hits {info.hits}, misses {info.misses})")

    entries = [(f"10.{i // 256}.{i % 256}.0/24", city_record(city=f"C{i}", country_iso_code="US", asn=64500 + i % 10))
               for i in range(20_000)]
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        path = write_mmdb(Path(tmp) / "big.mmdb", entries)
        dt = time.perf_counter() - t
        print(f"writer:   {len(entries)} networks -> {path.stat().st_size / 1e6:.2f} MB in {dt:.2f} s")


if __name__ == "__main__":
    main()
