"""Events per second of ES|QL rules in the embedded engine, next to the same number of KQL rules.

Generates ``--records`` benign CloudTrail records with ``ctdetect.synth`` (seeded), maps them
to ECS once (not timed), then times the rule engine over the same events for:

- the package's ES|QL rules, and as many of its KQL ``query`` rules;
- Elastic's AWS ES|QL rules (``../shared/anchors/detection-rules/...``, when present), and as
  many of Elastic's AWS KQL rules.

Each line: content, rules, events, seconds, events/s, alerts. Figures are printed, never
asserted: the test suite does not time anything.

    python bench/esql.py [--records 200000] [--principals 50]
"""

from __future__ import annotations

import argparse
import sys
import time
from itertools import islice
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
ELASTIC_AWS = PROJECT.parent / "shared" / "anchors" / "detection-rules" / "rules" / "integrations" / "aws"


def events(records: int, principals: int) -> list[dict]:
    from ctdetect.ecs import CloudTrailMapper
    from ctdetect.engine.rules.timeutil import parse_iso_ms
    from ctdetect.synth import SynthParams, generate

    days = 7.0
    params = SynthParams(seed=7, start="2026-03-02T00:00:00Z", days=days, principals=principals, events_per_day=int(records / days * 3))
    mapper = CloudTrailMapper()
    out = []
    for record in islice(generate(params), records):
        doc = mapper.map(record)
        doc["_ts"] = parse_iso_ms(doc.get("@timestamp"))
        out.append(doc)
    out.sort(key=lambda d: d["_ts"])
    return out


def timed(label: str, rules: list, docs: list[dict]) -> None:
    from ctdetect.catalogue import load_catalogue
    from ctdetect.engine.rules import RuleEngine

    types = load_catalogue().field_types()
    started = time.perf_counter()
    engine = RuleEngine.build(rules, types)
    for seq, doc in enumerate(docs):
        engine.feed(doc, seq)
    alerts = engine.finish([])
    seconds = time.perf_counter() - started
    skipped = f"  ({len(engine.not_evaluated)} not evaluated)" if engine.not_evaluated else ""
    print(f"{label:<28} {len(rules) - len(engine.not_evaluated):>5} {len(docs):>9,} {seconds:>8.2f} {len(docs) / seconds:>12,.0f} {len(alerts):>7}{skipped}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--principals", type=int, default=50)
    args = parser.parse_args(argv)

    from ctdetect.content.loaders import load_rules

    started = time.perf_counter()
    docs = events(args.records, args.principals)
    print(f"generated and mapped {len(docs):,} events in {time.perf_counter() - started:.1f} s (not timed below)", file=sys.stderr)
    print(f"{'content':<28} {'rules':>5} {'events':>9} {'seconds':>8} {'events/s':>12} {'alerts':>7}")
    sets = [("package", load_rules(PROJECT / "rules"))]
    if ELASTIC_AWS.is_dir():
        sets.append(("elastic aws", load_rules(ELASTIC_AWS)))
    else:
        print(f"{ELASTIC_AWS} absent: Elastic's rules are not measured", file=sys.stderr)
    for name, rules in sets:
        esql = [r for r in rules if r.type == "esql"]
        kql = [r for r in rules if r.type == "query" and r.language == "kuery"][: len(esql)]
        timed(f"{name}: ES|QL", esql, docs)
        timed(f"{name}: KQL (same count)", kql, docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
