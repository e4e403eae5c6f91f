"""Cost of ``ctdetect deploy`` and of a replay through the elasticsearch backend.

Against the in-memory fake cluster of the tests (real HTTP on localhost, so the figures
are ctdetect's own overhead plus local HTTP, not Elastic's processing time). Prints:

- offline plan of the whole package (ms) and its request count;
- first deploy: requests sent, seconds, requests/s;
- second deploy (must send nothing): reads, writes, seconds;
- with ``--scale N``: the package's rules copied N times under new rule_ids (how the
  plan, diff and apply scale with the number of rules);
- ``--replay``: one rule scenario through the elasticsearch backend (requests, seconds).

    python bench/cluster.py [--scale 10] [--replay]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from ctdetect.content.loaders import load_package
from ctdetect.deploy.planner import plan
from ctdetect.elastic.retry import RetryPolicy
from ctdetect.elastic.settings import ConnectionSettings
from ctdetect.services.deploy import run_deploy
from ctdetect_testsupport.fakecluster import FakeElastic

ROOT = Path(__file__).resolve().parent.parent


def scaled_package(scale: int, where: Path) -> Path:
    """The project's package with every rule copied ``scale`` times (fresh rule_ids and
    names, each copy with its playbook), so it passes the validate gate deploy runs first."""
    root = where / "pkg"
    for folder in ("ml_jobs", "datafeeds", "playbooks/hunting"):
        shutil.copytree(ROOT / folder, root / folder)
    (root / "rules").mkdir(parents=True)
    for n in range(scale):
        for rule in load_package(ROOT).rules:
            path = rule.source.path
            new_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{n}/{rule.rule_id}"))
            text = path.read_text().replace(rule.rule_id, new_id).replace(f'name = "{rule.name}"', f'name = "{rule.name} #{n}"', 1)
            (root / "rules" / f"{n}_{path.name}").write_text(text)
            playbook = (ROOT / "playbooks" / f"{path.stem}.md").read_text().replace(rule.rule_id, new_id)
            (root / "playbooks" / f"{n}_{path.stem}.md").write_text(playbook)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1, help="copies of every rule")
    parser.add_argument("--replay", action="store_true", help="also replay one scenario through the elasticsearch backend")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = ROOT if args.scale == 1 else scaled_package(args.scale, Path(tmp))
        package = load_package(root)
        t = time.perf_counter()
        offline = plan(package, None)
        print(f"package: {len(package.rules)} rules, {len(package.jobs)} jobs, {len(package.hunting_queries)} saved queries")
        print(f"offline plan: {len(offline.requests)} requests in {(time.perf_counter() - t) * 1000:.1f} ms")

        fake = FakeElastic()
        try:
            settings = ConnectionSettings.load(environ=fake.env(), env_file=None)
            policy = RetryPolicy(attempts=3, base=0.01)
            t = time.perf_counter()
            first = run_deploy(root, settings, policy=policy)
            elapsed = time.perf_counter() - t
            sent = len(fake.seen)
            print(f"first deploy: {sent} requests ({len(fake.writes())} writes) in {elapsed:.2f} s, {sent / elapsed:.0f} requests/s, exit {first.exit_code}")
            before_reads, before_writes = len(fake.seen), len(fake.writes())
            t = time.perf_counter()
            second = run_deploy(root, settings, policy=policy)
            elapsed = time.perf_counter() - t
            print(
                f"second deploy: {len(fake.seen) - before_reads} reads, {len(fake.writes()) - before_writes} writes "
                f"in {elapsed:.2f} s ({second.plan.count('unchanged')} objects unchanged)"
            )
            if args.replay:
                import os

                from deploy.esengines import ml_engine_for, rule_engine_for

                from ctdetect.services.replay import run_replay

                fake.ml_engine, fake.rule_engine, fake.stats_polls_before_stop = ml_engine_for(package), rule_engine_for(package, fake), 0
                os.environ.update(fake.env())
                start = len(fake.seen)
                t = time.perf_counter()
                result = run_replay([str(ROOT / "scenarios" / "rule-s3-bucket-public-fires")], package_root=str(root), backend="elasticsearch", workers=1)
                print(f"replay (elasticsearch backend, 1 scenario): {len(fake.seen) - start} requests in {time.perf_counter() - t:.2f} s, ok={result.ok}")
        finally:
            fake.close()


if __name__ == "__main__":
    main()
