#!/usr/bin/env python3
"""Regenerate ``tooling/ctdetect/data/fields.json``, ctdetect's field catalogue.

Why a generator: the catalogue must agree with the official field definitions (ECS and
Elastic's aws/auditd_manager/endpoint integrations), which are large YAML files under
``../shared/anchors`` that a user's clone does not have and that we may not ship. This
script reads them when present and writes only the facts ctdetect needs -- each field's
name, Elasticsearch type and which data source defines it -- in our own compact JSON. The
package then works with no ``../shared`` at all.

Which fields: every ECS field of the field sets that CloudTrail and host data carry
(``ECS_FIELD_SETS``), every ECS field an integration names with ``external: ecs``, and
every field an integration defines itself. A type an integration declares itself wins
over ECS (e.g. ``event.dataset`` is ``constant_keyword`` in the aws data stream), and the
entry's source then names the integration.

Usage: python generators/gen_field_catalogue.py [--shared ../shared] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Iterator

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "tooling" / "ctdetect" / "data" / "fields.json"

# ECS field sets carried by CloudTrail documents, by the Elastic Agent that ships them,
# and by host network/process events (auditd_manager, Elastic Defend).
ECS_FIELD_SETS = (
    "@timestamp", "agent", "client", "cloud", "container", "data_stream", "destination",
    "dns", "ecs", "entity", "error", "event", "file", "group", "host", "http", "labels",
    "log", "message", "network", "observer", "organization", "process", "related",
    "server", "service", "source", "tags", "tls", "url", "user", "user_agent",
)

# integration field files: (source name, path under anchors/)
INTEGRATION_FILES = (
    ("aws-cloudtrail", "integrations-aws-cloudtrail/fields/base-fields.yml"),
    ("aws-cloudtrail", "integrations-aws-cloudtrail/fields/ecs.yml"),
    ("aws-cloudtrail", "integrations-aws-cloudtrail/fields/agent.yml"),
    ("aws-cloudtrail", "integrations-aws-cloudtrail/fields/fields.yml"),
    ("auditd", "integrations-host/auditd_manager/auditd/fields/base-fields.yml"),
    ("auditd", "integrations-host/auditd_manager/auditd/fields/ecs.yml"),
    ("auditd", "integrations-host/auditd_manager/auditd/fields/fields.yml"),
    ("endpoint", "integrations-host/endpoint/network/fields.yml"),
)

SOURCE_NOTES = {
    "ecs": "Elastic Common Schema 9.4.0 (elastic/ecs generated/ecs/ecs_flat.yml)",
    "aws-cloudtrail": "Elastic aws integration, data stream cloudtrail (fields/*.yml)",
    "auditd": "Elastic auditd_manager integration, data stream auditd (Linux audit events)",
    "endpoint": "Elastic Defend (endpoint-package 9.5.0), data stream network events",
}


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster


def _load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)


def walk_fields(entries: list[dict[str, Any]], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (dotted name, definition) for every leaf of an integration fields.yml tree."""
    for entry in entries or []:
        name = f"{prefix}{entry['name']}"
        if entry.get("type") == "group" or ("fields" in entry and "type" not in entry):
            yield from walk_fields(entry.get("fields", []), prefix=f"{name}.")
        else:
            yield name, entry


def build(shared: Path) -> dict[str, Any]:
    """Read the official definitions under ``shared`` and return the catalogue document."""
    anchors = shared / "anchors"
    ecs = _load_yaml(anchors / "ecs" / "ecs_flat.yml")
    fields: dict[str, list[str]] = {}

    declared: set[str] = set()  # fields whose type an integration declares itself

    def add_ecs(name: str) -> None:
        if name in declared:
            return
        spec = ecs[name]
        fields[name] = [spec["type"], "ecs"]
        for multi in spec.get("multi_fields", []) or []:
            if multi["flat_name"] not in declared:
                fields[multi["flat_name"]] = [multi["type"], "ecs", name]

    for name in ecs:
        if name.split(".")[0] in ECS_FIELD_SETS:
            add_ecs(name)

    for source, rel in INTEGRATION_FILES:
        path = anchors / rel
        if not path.exists():
            print(f"warning: {path} is absent; its fields are left out", file=sys.stderr)
            continue
        for name, spec in walk_fields(_load_yaml(path)):
            if spec.get("external") == "ecs" or ("type" not in spec and name in ecs):
                if name in ecs:
                    add_ecs(name)
                else:
                    print(f"warning: {rel}: {name} says external: ecs but ECS lacks it", file=sys.stderr)
                continue
            if "*" in name or name.endswith("-N"):
                print(f"warning: {rel}: {name} names a pattern, not a field; skipped", file=sys.stderr)
                continue
            ftype = spec.get("type")
            if not ftype:
                print(f"warning: {rel}: {name} has no type; skipped", file=sys.stderr)
                continue
            if name in ecs and ecs[name]["type"] == ftype:
                add_ecs(name)  # same as ECS: keep ECS as its source
                for multi in spec.get("multi_fields", []) or []:
                    sub = f"{name}.{multi['name']}"
                    if sub not in declared and fields.get(sub, [None])[0] != multi["type"]:  # re-typed
                        fields[sub] = [multi["type"], source, name]
                        declared.add(sub)
                continue
            if name in fields and fields[name][1] not in ("ecs", source):
                continue  # first integration that defines a non-ECS field wins
            fields[name] = [ftype, source]
            declared.add(name)
            for multi in spec.get("multi_fields", []) or []:
                fields[f"{name}.{multi['name']}"] = [multi["type"], source, name]
    return {
        "format": 1,
        "ecs_version": "9.4.0",
        "sources": SOURCE_NOTES,
        "note": "Generated by generators/gen_field_catalogue.py. Each field: [type, source] or "
        "[type, source, parent] for a multi-field of parent.",
        "fields": dict(sorted(fields.items())),
    }


def dump(doc: dict[str, Any]) -> str:
    """One field per line: small diffs when the catalogue is regenerated."""
    head = {k: v for k, v in doc.items() if k != "fields"}
    lines = [json.dumps(head, indent=1)[:-2] + ',\n "fields": {']
    items = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in doc["fields"].items()]
    lines.append(",\n".join(items))
    lines.append(" }\n}\n")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if not (args.shared / "anchors" / "ecs" / "ecs_flat.yml").exists():
        print(f"error: {args.shared}/anchors/ecs/ecs_flat.yml not found (need ../shared)", file=sys.stderr)
        return 2
    doc = build(args.shared)
    text = dump(doc)
    json.loads(text)  # never write a file we could not read back
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {len(doc['fields'])} fields to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
