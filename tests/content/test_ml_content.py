"""The anomaly-detection content: jobs, datafeeds, machine_learning rules, their playbooks and
scenarios keep the package's promises (ids that cannot collide with Elastic's, datafeeds that
select exactly the right data, a threshold, ATT&CK and a playbook per rule, a firing and a
silent scenario for every job and rule, the README coverage table up to date)."""

from __future__ import annotations

from ctdetect.content.playbooks import note_text, notes_equal

import gzip
import hashlib
import importlib.util
import io
import json
import re
import sys
import uuid
from pathlib import Path

import pytest

from ctdetect.content.loaders import load_package
from ctdetect.content.model import Package, find_rule

ROOT = Path(__file__).resolve().parents[2]
CT_INDICES = ["logs-aws.cloudtrail-*", "filebeat-*"]
SEVERITY_RISK = {"low": 21, "medium": 47, "high": 73, "critical": 99}


@pytest.fixture(scope="module")
def package() -> Package:
    return load_package(ROOT)


def _ml_rules(package: Package):
    return [r for r in package.rules if r.type == "machine_learning"]


def _seconds(span: str) -> int:
    m = re.fullmatch(r"(\d+)([smhd])", span)
    assert m, span
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def _mb(limit: str) -> float:
    m = re.fullmatch(r"(\d+)(mb|gb|kb)", limit.lower())
    assert m, limit
    return int(m.group(1)) * {"kb": 1 / 1024, "mb": 1, "gb": 1024}[m.group(2)]


def _filters(query: dict) -> list[dict]:
    return query.get("bool", {}).get("filter", [])


def test_package_loads_without_problems_in_ml_content(package: Package) -> None:
    mine = [p for p in package.problems if any(part in str(p.file) for part in ("ml_jobs", "datafeeds", "rules/ml", "playbooks/ml_"))]
    assert not mine, mine


def test_jobs_follow_the_package_contract(package: Package) -> None:
    assert len(package.jobs) >= 11
    for job in package.jobs:
        raw = job.raw
        assert job.job_id.startswith("ctdetect_"), job.job_id
        assert job.source.path.name == f"{job.job_id}.json"
        assert {"security", "ctdetect"} <= set(job.groups), job.job_id
        assert 16 <= _mb(raw["analysis_limits"]["model_memory_limit"]) <= 256, job.job_id
        assert raw["data_description"]["time_field"] == "@timestamp"
        assert len(job.detectors) == 1
        span = _seconds(job.bucket_span)
        assert 15 * 60 <= span <= 3600, job.job_id
        # the description says what the job finds, what it misses, and why this bucket span
        assert "Misses:" in job.description and "Bucket span" in job.description, job.job_id
        # influencers must include the fields the analysis splits on
        det = job.detectors[0]
        for name in (det.by_field_name, det.partition_field_name):
            if name:
                assert name in job.influencers, (job.job_id, name)


def test_required_analyses_are_present(package: Package) -> None:
    shapes = {(d.function, d.field_name, d.by_field_name, d.partition_field_name) for j in package.jobs for d in j.detectors}
    required = {
        ("rare", None, "event.action", "user.name"),
        ("rare", None, "event.action", "source.geo.city_name"),
        ("rare", None, "event.action", "source.geo.country_iso_code"),
        ("rare", None, "aws.cloudtrail.error_code", None),
        ("high_distinct_count", "aws.cloudtrail.error_message", None, None),
        ("rare", None, "source.as.organization.name", "user.name"),
        ("rare", None, "cloud.region", "cloud.account.id"),
        ("high_count", None, None, "user.name"),
    }
    assert required <= shapes, required - shapes
    host = [j for j in package.jobs if "metadata" in j.job_id]
    assert {(("linux" if "linux" in j.job_id else "windows"), j.detectors[0].by_field_name) for j in host} == {
        ("linux", "process.name"), ("linux", "user.name"), ("windows", "process.name"), ("windows", "user.name")}


def test_every_job_has_its_datafeed_selecting_the_right_data(package: Package) -> None:
    feeds = {d.job_id: d for d in package.datafeeds}
    for job in package.jobs:
        feed = feeds.get(job.job_id)
        assert feed is not None, f"no datafeed for {job.job_id}"
        assert feed.datafeed_id == f"datafeed-{job.job_id}"
        assert feed.source.path.name == f"{feed.datafeed_id}.json"
        filters = _filters(feed.query)
        if "cloudtrail" in job.job_id:
            assert feed.indices == CT_INDICES
            assert {"term": {"event.dataset": "aws.cloudtrail"}} in filters
        else:
            assert "logs-endpoint.events.network-*" in feed.indices
            assert {"term": {"destination.ip": "169.254.169.254"}} in filters
            os_type = "linux" if "linux" in job.job_id else "windows"
            assert {"term": {"host.os.type": os_type}} in filters
        # the datafeed must keep only documents that carry the fields the job analyses
        det = job.detectors[0]
        existing = {f["exists"]["field"] for f in filters if "exists" in f}
        for name in (det.field_name, det.partition_field_name):
            if name and "cloudtrail" in job.job_id:
                assert name in existing or det.function == "high_count", (job.job_id, name)


def test_one_machine_learning_rule_per_job(package: Package) -> None:
    rules = _ml_rules(package)
    used = [job_id for r in rules for job_id in r.machine_learning_job_id]
    ours = [j for j in used if j.startswith("ctdetect_")]
    assert sorted(ours) == sorted(j.job_id for j in package.jobs)
    assert len(set(ours)) == len(ours)


def test_machine_learning_rules_are_complete(package: Package) -> None:
    jobs = {j.job_id: j for j in package.jobs}
    for rule in _ml_rules(package):
        where = rule.source.path.name
        assert rule.source.path.parent.name == "ml", where
        uuid.UUID(rule.rule_id)
        assert rule.anomaly_threshold is not None and 25 <= rule.anomaly_threshold <= 100, where
        assert SEVERITY_RISK[rule.severity] == rule.risk_score, where
        assert rule.threat and all(t.techniques for t in rule.threat), where
        assert "Rule Type: Machine Learning" in rule.tags
        assert f"threshold {rule.anomaly_threshold}".lower() in rule.description.lower(), "the description justifies the threshold"
        job = jobs[rule.machine_learning_job_id[0]]
        # the look-back covers the last closed bucket plus one run interval
        lookback = _seconds(rule.from_.removeprefix("now-"))
        assert rule.interval == "15m"
        assert lookback >= job.bucket_span_seconds + _seconds(rule.interval), where


def test_every_ml_rule_has_its_playbook_and_note(package: Package) -> None:
    books = {pb.source.path.stem: pb for pb in package.playbooks}
    for rule in _ml_rules(package):
        book = books.get(rule.source.path.stem)
        assert book is not None, f"no playbook for {rule.source.path.name}"
        assert rule.rule_id in book.rule_ids
        assert list(book.sections)[:4] == ["Triage and analysis", "Pivots", "What benign looks like", "Response"]
        assert "```kql" in book.sections["Pivots"]
        assert notes_equal(rule.note, note_text(book)), f"{rule.source.path.name}: note differs from its playbook"


def _refs(package: Package) -> dict[tuple[str, str], tuple[set[str], set[str]]]:
    names = {r.name: r.rule_id for r in package.rules}
    out: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    for sc in package.scenarios:
        if sc.name == "quiet-month":
            continue
        for e in sc.expectations:
            key = ("job", e.job) if e.job else ("rule", names.get(e.rule or "", e.rule or ""))
            fires, silent = out.setdefault(key, (set(), set()))
            (fires if e.fires else silent).add(sc.name)
    return out


def test_every_job_and_ml_rule_fires_somewhere_and_stays_silent_somewhere(package: Package) -> None:
    refs = _refs(package)
    missing = []
    for key in [("job", j.job_id) for j in package.jobs] + [("rule", r.rule_id) for r in _ml_rules(package)]:
        fires, silent = refs.get(key, (set(), set()))
        if not fires or not silent:
            missing.append((key, sorted(fires), sorted(silent)))
    assert not missing, missing


def test_scenario_expectations_name_existing_rules_and_jobs(package: Package) -> None:
    rule_keys = {r.rule_id for r in package.rules} | {r.name for r in package.rules}
    job_ids = {j.job_id for j in package.jobs}
    for sc in package.scenarios:
        if not sc.name.startswith(("ml-", "incident-", "quiet-month")):
            continue
        for e in sc.expectations:
            assert (e.rule in rule_keys) if e.rule else (e.job in job_ids), (sc.name, e.rule or e.job)
        for src in sc.events:
            assert src.path.exists(), (sc.name, str(src.path))


def test_host_baselines_are_what_the_generator_makes() -> None:
    spec = importlib.util.spec_from_file_location("gen_imds_events", ROOT / "generators" / "gen_imds_events.py")
    gen = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = gen  # dataclasses look their module up while the class is built
    spec.loader.exec_module(gen)  # type: ignore[union-attr]
    for name, args in {
        "linux-baseline.ndjson.gz": ("linux", ["waf-1", "app-2"], 11),
        "windows-baseline.ndjson.gz": ("windows", ["win-iis-1", "win-dc-2"], 12),
    }.items():
        out = io.StringIO()
        gen.write(gen.baseline(args[0], args[1], gen.parse_time("2026-03-01T00:00:00Z"), 15, args[2]), out)
        committed = gzip.decompress((ROOT / "scenarios" / "_data" / "imds" / name).read_bytes())
        assert hashlib.sha256(out.getvalue().encode()).hexdigest() == hashlib.sha256(committed).hexdigest(), name
        first = json.loads(committed.split(b"\n", 1)[0])
        assert first["destination"]["ip"] == "169.254.169.254"


def test_readme_coverage_table_is_up_to_date() -> None:
    from ctdetect.reporting.coverage import render_markdown
    from ctdetect.services import coverage as svc

    _, coverage = svc.coverage_for_root(ROOT)
    current = svc.current_section((ROOT / "README.md").read_text(encoding="utf-8"))
    assert current is not None, "README.md has no coverage markers: run `ctdetect coverage --write-readme`"
    assert current == render_markdown(coverage), "README coverage table is stale: run `ctdetect coverage --write-readme`"


def test_quiet_month_is_within_the_alert_budget() -> None:
    """The committed quiet-month results (``ctdetect coverage --run``) keep the package's promise."""
    from ctdetect.services import coverage as svc

    volumes = svc.load_volumes(ROOT / svc.RESULTS_FILE)
    assert volumes is not None, "no quiet-month results: run `ctdetect coverage --run --write-readme`"
    assert volumes.days == 30 and volumes.principals == 50
    assert volumes.alerts_per_day <= svc.DAILY_TARGET, f"{volumes.alerts_per_day:.2f} alerts a day on the quiet month"


def test_committed_quiet_month_results_are_what_a_replay_gives() -> None:
    """The results file the coverage table and the budget test read is what the content gives
    today: a change of scores or rules that moves the quiet month's alerts must come with
    ``ctdetect coverage --run --write-readme`` (it went stale unnoticed for two stops once).
    One replay of the month, about 25 CPU s."""
    from ctdetect.services import coverage as svc
    from ctdetect.services import quiet_month

    committed = svc.load_volumes(ROOT / svc.RESULTS_FILE)
    assert committed is not None, "no quiet-month results: run `ctdetect coverage --run --write-readme`"
    fresh = quiet_month.run(ROOT)
    assert (fresh.days, fresh.principals) == (committed.days, committed.principals)
    assert fresh.alerts == committed.alerts, "quiet-month results are stale: run `ctdetect coverage --run --write-readme`"
    assert fresh.anomalies == committed.anomalies, "quiet-month results are stale: run `ctdetect coverage --run --write-readme`"


def test_incidents_expect_every_stage() -> None:
    package = load_package(ROOT)
    by_name = {s.name: s for s in package.scenarios}
    waf = by_name["incident-waf-ssrf-lateral-movement"]
    jobs = {e.job for e in waf.expectations if e.fires and e.job}
    assert {"ctdetect_linux_rare_metadata_process", "ctdetect_linux_rare_metadata_user",
            "ctdetect_cloudtrail_rare_action_for_user", "ctdetect_cloudtrail_rare_network_owner_for_user",
            "ctdetect_cloudtrail_error_message_spike"} <= jobs
    snap = by_name["incident-snapshot-exfiltration"]
    fired = [r for e in snap.expectations if e.fires and (r := find_rule(package.rules, e.rule)) is not None]
    assert any(t.id == "T1537" for r in fired for th in r.threat for t in th.techniques), "the snapshot share rule (T1537) must fire"


def test_metadata_service_scenarios_replay_green() -> None:
    """End to end on the embedded engine: the Linux SSRF scenario fires both host rules above
    their threshold and the benign-agents scenario stays silent (the CloudTrail scenarios carry a
    synthetic organisation and take minutes: `ctdetect replay scenarios/ml-* scenarios/incident-*`)."""
    from ctdetect.services.replay import run_replay

    result = run_replay(
        [str(ROOT / "scenarios" / "ml-linux-metadata-ssrf-curl"), str(ROOT / "scenarios" / "ml-linux-metadata-benign-agents")],
        package_root=str(ROOT),
    )
    unmet = [(s.scenario.name, o.target, o.detail) for s in result.scenarios for o in s.outcomes if o.status != "met"]
    assert not unmet, unmet
    assert all(s.events > 1000 for s in result.scenarios)


def test_cloudtrail_scenario_files_are_what_the_generator_makes() -> None:
    spec = importlib.util.spec_from_file_location("gen_ct_scenarios", ROOT / "generators" / "gen_ct_scenarios.py")
    gen = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = gen
    spec.loader.exec_module(gen)  # type: ignore[union-attr]
    stale = [str(path.relative_to(ROOT)) for path, data in gen.outputs().items() if not path.exists() or path.read_bytes() != data]
    assert not stale, f"run python generators/gen_ct_scenarios.py: {stale}"
