"""Query layer figures: parse time of Elastic's anchor rules, and evaluation throughput.

Prints (never asserts):

1. parse: a fresh process imports ``ctdetect.query`` and parses every KQL/EQL/Lucene query
   of ``../shared/anchors/detection-rules`` -- once with an empty lark cache (cold: the
   LALR tables are built) and once warm;
2. evaluate: the non-sequence anchor rules (plus the datafeed queries) compiled with the
   field catalogue's types, run over synthetic CloudTrail ECS documents (``ctdetect.synth``
   and ``ctdetect.ecs`` when available): every rule on every event, then routed by
   ``required_terms`` on ``event.action`` (an inverted index: an event only meets rules that
   can match its action, plus rules that pin no action).

    python bench/query.py [--events 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CTDETECT_SHARED_DIR", ROOT.parent / "shared"))
RULES = SHARED / "anchors" / "detection-rules" / "rules"
MODULES = SHARED / "anchors" / "kibana-ml-modules"

PARSE_SNIPPET = r"""
import sys, time, tomllib, glob
texts = []
for f in glob.glob(sys.argv[1] + "/**/*.toml", recursive=True):
    r = tomllib.load(open(f, "rb")).get("rule", {})
    if r.get("language") in ("kuery", "eql", "lucene") and r.get("query"):
        texts.append((r["language"], r["query"]))
t0, c0 = time.perf_counter(), time.process_time()
from ctdetect.query import parse_query
for lang, q in texts:
    parse_query(q, lang)
t1, c1 = time.perf_counter(), time.process_time()
for lang, q in texts:
    parse_query(q, lang)
t2, c2 = time.perf_counter(), time.process_time()
print(len(texts), t1 - t0, t2 - t1, c1 - c0, c2 - c1)
"""


def bench_parse() -> None:
    if not RULES.exists():
        print(f"parse: skipped ({RULES} absent)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, TMPDIR=tmp)
        for label in ("cold lark cache", "warm lark cache"):
            out = subprocess.run([sys.executable, "-c", PARSE_SNIPPET, str(RULES)], env=env, capture_output=True, text=True, check=True)
            count, first, second, cpu_first, cpu_second = out.stdout.split()
            print(
                f"parse {count} anchor queries ({label}): import+first pass {float(first) * 1000:.0f} ms "
                f"(cpu {float(cpu_first) * 1000:.0f} ms), second pass {float(second) * 1000:.0f} ms (cpu {float(cpu_second) * 1000:.0f} ms)"
            )


def _documents(count: int) -> list[dict]:
    from ctdetect.ecs import CloudTrailMapper
    from ctdetect.synth import SynthParams, generate

    days = max(1.0, count / 100_000)
    params = SynthParams(seed=7, start="2026-03-01T00:00:00Z", days=days, principals=40, events_per_day=int(count / days) + 1000)
    mapper = CloudTrailMapper()
    docs = []
    for record in islice(generate(params), count):
        docs.append(mapper.map(record))
    return docs


def _queries() -> list[tuple[str, object, str]]:
    from ctdetect.query import ast, parse_query

    out = []
    for path in sorted(RULES.rglob("*.toml")):
        rule = tomllib.loads(path.read_text(encoding="utf-8")).get("rule", {})
        if rule.get("language") not in ("kuery", "eql", "lucene") or not rule.get("query"):
            continue
        node = parse_query(rule["query"], rule["language"])
        if isinstance(node, ast.Sequence) or (isinstance(node, ast.Piped) and isinstance(node.query, ast.Sequence)):
            continue
        out.append((path.stem, node, rule.get("event_category_override") or "event.category"))
    for path in sorted(MODULES.rglob("datafeed_*.json")):
        out.append((path.stem, parse_query(json.loads(path.read_text())["query"], "dsl"), "event.category"))
    return out


def bench_evaluate(events: int) -> None:
    if not RULES.exists():
        print(f"evaluate: skipped ({RULES} absent)")
        return
    from ctdetect.catalogue import load_catalogue
    from ctdetect.query.exact import required_terms
    from ctdetect.query.predicate import compile_query

    types = {info.name: info.type for info in load_catalogue()}
    t0 = time.perf_counter()
    docs = _documents(events)
    print(f"generated {len(docs)} ECS documents in {time.perf_counter() - t0:.1f} s")
    queries = _queries()
    t0 = time.perf_counter()
    compiled = [(name, compile_query(node, types, category_field=cat), required_terms(node, types)) for name, node, cat in queries]
    print(f"compiled {len(compiled)} queries in {(time.perf_counter() - t0) * 1000:.0f} ms")

    preds = [p for _, p, _ in compiled]
    t0, c0 = time.perf_counter(), time.process_time()
    hits = 0
    for doc in docs:
        for p in preds:
            if p(doc):
                hits += 1
    naive, naive_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"every rule on every event: {naive:.2f} s (cpu {naive_cpu:.2f} s), {len(docs) / naive_cpu:,.0f} events/s of cpu, "
        f"{naive_cpu / (len(docs) * len(preds)) * 1e9:.0f} ns cpu per rule-event, {hits} matches"
    )

    by_action: dict[str, list] = {}
    always = []
    for _, pred, req in compiled:
        actions = (req or {}).get("event.action")
        if actions:
            for a in actions:
                by_action.setdefault(a, []).append(pred)
        else:
            always.append(pred)
    t0, c0 = time.perf_counter(), time.process_time()
    routed_hits = 0
    get = by_action.get
    for doc in docs:
        action = doc.get("event.action")
        for p in get(action, ()) if action.__class__ is str else ():
            if p(doc):
                routed_hits += 1
        for p in always:
            if p(doc):
                routed_hits += 1
    routed, routed_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"routed by required_terms(event.action): {routed:.2f} s (cpu {routed_cpu:.2f} s), {len(docs) / routed_cpu:,.0f} events/s of cpu "
        f"({len(always)} rules pin no action and see every event), {routed_hits} matches"
    )


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus (wall figures stretch with load; cpu figures less so)")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    bench_parse()
    bench_evaluate(args.events)


if __name__ == "__main__":
    main()
