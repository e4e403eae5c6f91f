"""Regenerate ``tooling/ctdetect/query/esql/data/functions.json`` from Elastic's ES|QL
function definitions.

Usage: ``python tools/gen_esql_functions.py DEFINITIONS_DIR [-o OUT]`` where
DEFINITIONS_DIR holds Elastic's per-function JSON files (in an elasticsearch checkout:
``docs/reference/query-languages/esql/kibana/definition/functions``). Only facts are kept:
name, kind, parameters (name, the union of the types its signatures accept, optional),
variadic, and the return type ("=N" when every signature returns the type of argument N).
Snapshot-only functions are left out: a released cluster does not have them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tooling" / "ctdetect" / "query" / "esql" / "data" / "functions.json"
KINDS = {"scalar": "scalar", "agg": "agg", "grouping": "grouping", "time_series_agg": "agg"}


def compact(defn: dict) -> dict | None:
    if defn.get("snapshot_only"):
        return None
    sigs = defn.get("signatures") or []
    width = max((len(s["params"]) for s in sigs), default=0)
    params = []
    for i in range(width):
        names, types, optional = [], set(), False
        for sig in sigs:
            if i < len(sig["params"]):
                p = sig["params"][i]
                names.append(p["name"])
                types.add(p["type"])
                optional = optional or bool(p.get("optional"))
            else:
                optional = True
        params.append([names[0], " ".join(sorted(types)), optional] if optional else [names[0], " ".join(sorted(types))])
    returns = {s.get("returnType") for s in sigs}
    same_as = next((f"={i}" for i in range(width) if all(i < len(s["params"]) and s["params"][i]["type"] == s.get("returnType") for s in sigs)), None)
    kind = "full_text" if defn["name"] in ("kql", "qstr", "match", "match_phrase", "multi_match", "term") else KINDS.get(defn.get("type", "scalar"), "scalar")
    out = {"kind": kind, "params": params, "returns": same_as if len(returns) > 1 and same_as else (returns.pop() if len(returns) == 1 else same_as or "any")}
    if any(s.get("variadic") for s in sigs):
        out["variadic"] = True
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("definitions", type=Path)
    parser.add_argument("-o", "--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    files = sorted(args.definitions.glob("*.json"))
    if not files:
        print(f"{args.definitions}: no *.json function definitions", file=sys.stderr)
        return 2
    current = json.loads(args.out.read_text()) if args.out.exists() else {"format": 1, "source": ""}
    functions = {}
    for path in files:
        try:
            defn = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            print(f"{path}: skipped: {exc}", file=sys.stderr)
            continue
        found = compact(defn)
        if found is not None:
            functions[defn["name"]] = found
    current["functions"] = dict(sorted(functions.items()))
    args.out.write_text(json.dumps(current, indent=2) + "\n")
    print(f"{args.out}: {len(functions)} functions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
