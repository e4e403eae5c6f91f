"""CPU seconds of some of Elastic's AWS rules alone over ``rule_costs``' events (and a profile).

``rule_costs`` times every rule in one run with ``perf_counter`` (wall time of its thread: on
a shared, loaded machine a rule's figure there is inflated by the load). This runs only the
rules whose name contains ``NAME`` (case-insensitive; ``ALL``: every ES|QL rule) through the
embedded backend and prints the process's CPU seconds, the number of findings and a digest of
them, and with ``--profile`` the cProfile of the run. The events are frozen out of the
collector's reach and it runs with the CLI's thresholds (``rule_costs.freeze_events``), as
``rule_costs`` runs: else 200k live event dicts walked by each full collection are charged to
whatever rule allocates at the time. The mapped events are cached in
``one-rule-<records>.pickle`` under ``--cache`` (default ``bench/out``; not timed): another
directory keeps a branch's run from reading or writing the archive the worktrees share.

    python bench/one_rule.py "GitHub Actions" [--records 200000] [--profile] [--cache /tmp/dir]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import pickle
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rule_costs  # noqa: E402 - the sibling bench owns the events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name")
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--cache", type=Path, default=None, help="directory of the cached mapped events (default: bench/out)")
    args = parser.parse_args(argv)

    from ctdetect.backends.embedded import EmbeddedBackend
    from ctdetect.content.loaders import load_rules

    cache = (args.cache or rule_costs.hunt_bench.OUT) / f"one-rule-{args.records}.pickle"
    if cache.exists():
        docs = pickle.loads(cache.read_bytes())
    else:
        docs = rule_costs.mapped_events(args.records, 50)
        cache.write_bytes(pickle.dumps(docs, protocol=5))
    rule_costs.freeze_events()
    rules = load_rules(rule_costs.hunt_bench.ELASTIC_AWS_RULES)
    if args.name == "ALL":
        rules = [r for r in rules if rule_costs.kind(r) == "esql"]
    else:
        rules = [r for r in rules if args.name.lower() in r.name.lower()]
    print("rules: " + "; ".join(r.name for r in rules), file=sys.stderr)
    backend = EmbeddedBackend()
    profile = cProfile.Profile() if args.profile else None
    cpu = time.process_time()
    if profile is not None:
        profile.enable()
    result = backend.run(iter(docs), rules, [])
    if profile is not None:
        profile.disable()
    cpu = time.process_time() - cpu
    digest = hashlib.sha256(json.dumps([[f.kind, f.source_id, f.document] for f in result.findings], default=repr).encode()).hexdigest()[:16]
    print(f"cpu {cpu:.2f} s, {len(result.findings)} findings, digest {digest}")
    if profile is not None:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
