"""Fixtures for deploy, export and live tests: a fake cluster per test, and a small package on disk.

Import the fixtures by name (``from deploy.deploykit import fake, mini_package``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ctdetect_testsupport.fakecluster import FakeElastic

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake() -> FakeElastic:
    cluster = FakeElastic()
    yield cluster
    cluster.close()


@pytest.fixture
def mini_package(tmp_path: Path) -> Path:
    """A copy of a few of the project's own files: 3 rules (query, ML, new_terms), 1 job + datafeed, 2 hunting queries."""
    root = tmp_path / "pkg"
    src = PROJECT_ROOT
    (root / "rules").mkdir(parents=True)
    (root / "ml_jobs").mkdir()
    (root / "datafeeds").mkdir()
    (root / "playbooks" / "hunting").mkdir(parents=True)
    rules = sorted((src / "rules").glob("*.toml"))
    query_rule = next(p for p in rules if 'type = "query"' in p.read_text())
    new_terms = next(p for p in rules if 'type = "new_terms"' in p.read_text())
    ml_rule = src / "rules" / "ml" / "ml_cloudtrail_rare_action_for_user.toml"
    for rule_file, name in ((query_rule, query_rule.name), (new_terms, new_terms.name), (ml_rule, "ml_rare_action.toml")):
        shutil.copy(rule_file, root / "rules" / name)
        # each rule with its playbook (named after the rule file), so the package validates
        playbook = (src / "playbooks" / f"{rule_file.stem}.md").read_text()
        (root / "playbooks" / f"{Path(name).stem}.md").write_text(playbook)
    job = "ctdetect_cloudtrail_rare_action_for_user"
    shutil.copy(src / "ml_jobs" / f"{job}.json", root / "ml_jobs" / f"{job}.json")
    shutil.copy(src / "datafeeds" / f"datafeed-{job}.json", root / "datafeeds" / f"datafeed-{job}.json")
    for name in ("ami-sharing.toml", "root-activity.toml"):
        shutil.copy(src / "playbooks" / "hunting" / name, root / "playbooks" / "hunting" / name)
    return root
