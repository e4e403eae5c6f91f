"""Regenerate ``tooling/ctdetect/query/esql/data/functions.json`` from Elastic's ES|QL
function definitions.

Usage: ``python generators/gen_esql_functions.py DEFINITIONS_DIR [-o OUT]`` where
DEFINITIONS_DIR holds Elastic's per-function JSON files (in an elasticsearch checkout:
``docs/reference/query-languages/esql/kibana/definition/functions``). Only facts are kept:
name, kind, parameters (name, the union of the types its signatures accept, optional),
variadic, and the return type ("=N" when every signature returns the type of argument N, a
``text`` argument giving ``keyword``).
Snapshot-only functions are left out: a released cluster does not have them. A function Elastic
publishes without signatures (its types are not documented) is kept by name with its arguments
unchecked, so a valid call is not reported as an unknown function. Elastic's
``function_named_parameters`` is our ``map`` (an options literal ``{...}``).

``--merge`` keeps the functions OUT already holds that DEFINITIONS_DIR does not define (for a
directory holding part of Elastic's files); ``--commits FILE`` (JSON: function name -> the
elasticsearch commit its definition was read at) is recorded as the facts' provenance.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tooling" / "ctdetect" / "query" / "esql" / "data" / "functions.json"
KINDS = {"scalar": "scalar", "agg": "agg", "grouping": "grouping", "time_series_agg": "agg"}


TYPE_NAMES = {"function_named_parameters": "map"}


def compact(defn: dict, released: frozenset[str] = frozenset()) -> dict | None:
    """Our facts of one definition; ``None`` for a snapshot-only function, unless ``released``
    names it (a definition read at a commit older than the release that made it GA)."""
    if defn.get("snapshot_only") and defn.get("name") not in released:
        return None
    sigs = defn.get("signatures") or []
    if not sigs:
        return {"kind": _kind(defn), "params": [], "variadic": True, "returns": "any"}
    width = max((len(s["params"]) for s in sigs), default=0)
    params = []
    for i in range(width):
        names, types, optional = [], set(), False
        for sig in sigs:
            if i < len(sig["params"]):
                p = sig["params"][i]
                names.append(p["name"])
                types.add(TYPE_NAMES.get(p["type"], p["type"]))
                optional = optional or bool(p.get("optional"))
            else:
                optional = True
        params.append([names[0], " ".join(sorted(types)), optional] if optional else [names[0], " ".join(sorted(types))])
    returns = {s.get("returnType") for s in sigs}
    same_as = next((f"={i}" for i in range(width) if all(i < len(s["params"]) and _same_type(s["params"][i]["type"], s.get("returnType")) for s in sigs)), None)
    out = {"kind": _kind(defn), "params": params, "returns": same_as if len(returns) > 1 and same_as else (returns.pop() if len(returns) == 1 else same_as or "any")}
    if any(s.get("variadic") for s in sigs):
        out["variadic"] = True
    return out


def _same_type(param: str, returned: str | None) -> bool:
    """Whether a signature returns its argument's type: ES|QL gives ``keyword`` for a ``text``
    argument (MIN, MAX, VALUES, MV_* ...), which "=N" covers (the two are both strings)."""
    return param == returned or (param == "text" and returned == "keyword")


def _kind(defn: dict) -> str:
    if defn["name"] in ("kql", "qstr", "match", "match_phrase", "multi_match", "term"):
        return "full_text"
    return KINDS.get(defn.get("type", "scalar"), "scalar")


def _dump(data: dict) -> str:
    """JSON with one line per function, so a regeneration's diff shows which functions changed."""
    lines = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            inner = ",\n".join(f"    {json.dumps(k)}: {json.dumps(v)}" for k, v in value.items())
            lines.append(f"  {json.dumps(key)}: {{\n{inner}\n  }}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("definitions", type=Path)
    parser.add_argument("-o", "--out", type=Path, default=OUT)
    parser.add_argument("--merge", action="store_true", help="keep OUT's functions that the directory does not define")
    parser.add_argument("--commits", type=Path, help="JSON: function name -> elasticsearch commit of its definition")
    parser.add_argument("--released", default="", help="comma-separated functions snapshot-only at the commit read but GA since (kept)")
    args = parser.parse_args(argv)
    files = sorted(args.definitions.glob("*.json"))
    if not files:
        print(f"{args.definitions}: no *.json function definitions", file=sys.stderr)
        return 2
    current = json.loads(args.out.read_text()) if args.out.exists() else {"format": 1, "source": ""}
    functions = dict(current.get("functions", {})) if args.merge else {}
    commits = dict(current.get("commits", {})) if args.merge else {}
    read = json.loads(args.commits.read_text()) if args.commits else {}
    for path in files:
        try:
            defn = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            print(f"{path}: skipped: {exc}", file=sys.stderr)
            continue
        if not isinstance(defn, dict) or not isinstance(defn.get("name"), str):
            print(f"{path}: skipped: not a function definition (no name)", file=sys.stderr)
            continue
        found = compact(defn, frozenset(n for n in args.released.split(",") if n))
        name = defn["name"]
        if found is None:
            functions.pop(name, None)
            commits.pop(name, None)
            continue
        functions[name] = found
        if name in read:
            commits[name] = read[name]
        else:
            commits.pop(name, None)
    current["functions"] = dict(sorted(functions.items()))
    if commits:
        current["commits"] = dict(sorted(commits.items()))
    else:
        current.pop("commits", None)
    args.out.write_text(_dump(current))
    print(f"{args.out}: {len(functions)} functions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
