"""Checks not exercised by the broken corpus, on small packages built in a temporary folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctdetect.content.loaders import load_package
from ctdetect.validate.runner import run_checks

BROKEN = Path(__file__).resolve().parent / "broken"
GOOD_RULE = (BROKEN / "bad_uuid.toml").read_text().replace('rule_id = "rule-', 'rule_id = "')


def _checks(root: Path, **kwargs) -> list[tuple[str, str, int | None]]:
    report = run_checks(load_package(root), **kwargs)
    return [(p.check, p.file.name, p.line) for p in report.problems]


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_good_rule_has_no_problem(tmp_path: Path) -> None:
    _write(tmp_path, {"r.toml": GOOD_RULE})
    assert _checks(tmp_path) == []


def test_updated_before_created(tmp_path: Path) -> None:
    _write(tmp_path, {"r.toml": GOOD_RULE.replace('updated_date = "2026/03/02"', 'updated_date = "2025/03/02"')})
    assert _checks(tmp_path) == [("schema.date", "r.toml", 5)]


def _esql_rule(query: str) -> str:
    """GOOD_RULE turned into an ES|QL rule with ``query``."""
    text = GOOD_RULE.replace('language = "kuery"', 'language = "esql"').replace('type = "query"', 'type = "esql"').replace('index = ["logs-aws.cloudtrail-*"]\n', "")
    quote = "'" * 3
    start = text.index("query = " + quote)
    end = text.index(quote, start + 12) + 3
    return text[:start] + "query = " + quote + "\n" + query + "\n" + quote + text[end:]


def test_esql_rule_that_resolves_has_no_problem(tmp_path: Path) -> None:
    _write(tmp_path, {"r.toml": _esql_rule('from logs-aws.cloudtrail-* metadata _id, _version, _index\n| where event.action == "ListBuckets"')})
    assert _checks(tmp_path) == []


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ('from logs-aws.cloudtrail-*\n| where event.action == "ListBuckets"', "esql.rule-metadata"),
        ("from logs-aws.cloudtrail-* metadata _id, _version, _index\n| keep event.action", "esql.rule-metadata"),
        ("from metrics-* metadata _id, _version, _index", "esql.index-pattern"),
        ("from logs-aws.cloudtrail-* | stats c = count(*), d = count_distinct(user.name, 1, 2)", "esql.arguments"),
        ("from logs-aws.cloudtrail-* | eval c = count(*) | stats n = max(c)", "esql.aggregate"),
        ('from logs-aws.cloudtrail-* | grok event.action "%{NOPE:x}" | stats n = count(*)', "esql.pattern"),
        ('from logs-aws.cloudtrail-* | where source.ip like "10.*" | stats n = count(*)', "esql.argument-type"),
    ],
)
def test_esql_checks(tmp_path: Path, query: str, check: str) -> None:
    _write(tmp_path, {"r.toml": _esql_rule(query)})
    found = [c for c, _, _ in _checks(tmp_path)]
    assert found == [check], found


def test_esql_functions_taken_from_elastics_definitions_validate_clean(tmp_path: Path) -> None:
    """Functions the hand-typed data lacked (day_name, network_direction, mv_contains, ...) are known, typed and clean."""
    query = (
        "from logs-aws.cloudtrail-* metadata _id, _version, _index\n"
        '| eval weekday = day_name(@timestamp), month = month_name(@timestamp), direction = network_direction(source.ip, source.ip, "private")\n'
        '| eval plain = ascii(user.name), days = date_unit_count("day", "month", @timestamp), len = st_npoints(source.geo.location)\n'
        '| where mv_contains(event.category, "iam") and weekday == "Sunday" and days > 27 and direction != "inbound"'
    )
    _write(tmp_path, {"r.toml": _esql_rule(query)})
    assert _checks(tmp_path) == []


def test_esql_new_function_is_still_type_checked_and_invented_one_unknown(tmp_path: Path) -> None:
    _write(tmp_path, {"r.toml": _esql_rule('from logs-aws.cloudtrail-* metadata _id, _version, _index\n| where day_name(user.name) == "Sunday"')})
    assert [c for c, _, _ in _checks(tmp_path)] == ["esql.argument-type"]
    _write(tmp_path, {"r.toml": _esql_rule('from logs-aws.cloudtrail-* metadata _id, _version, _index\n| where weekday_of(@timestamp) == "Sunday"')})
    assert [c for c, _, _ in _checks(tmp_path)] == ["esql.unknown-function"]


def test_esql_after_lookup_join_unknown_columns_are_not_judged(tmp_path: Path) -> None:
    _write(tmp_path, {"r.toml": _esql_rule("from logs-aws.cloudtrail-* | lookup join threat_intel on source.ip | stats n = count(*) by threat.indicator.name_x")})
    assert _checks(tmp_path) == []


def test_attack_reference_mismatch_is_a_warning(tmp_path: Path) -> None:
    _write(tmp_path, {"r.toml": GOOD_RULE.replace("techniques/T1580/", "techniques/T1581/")})
    report = run_checks(load_package(tmp_path))
    assert [(p.check, p.severity) for p in report.problems] == [("attack.reference-mismatch", "warning")]


def test_missing_reference_data_skips_checks_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ctdetect.catalogue

    def broken() -> None:
        raise ctdetect.catalogue.CatalogueError("fields.json: cannot read field catalogue")

    monkeypatch.setattr(ctdetect.catalogue, "load_catalogue", broken)
    _write(tmp_path, {"r.toml": GOOD_RULE.replace("event.action:", "event.actoin:")})
    report = run_checks(load_package(tmp_path))
    assert report.problems == []
    assert "cannot read field catalogue" in report.summary["checks_skipped"]["query.unknown-field"]
    assert "query.syntax" in report.summary["checks_run"]


def _job(job_id: str) -> str:
    return json.dumps({"job_id": job_id, "analysis_config": {"bucket_span": "15m", "detectors": [{"function": "count"}]}, "data_description": {"time_field": "@timestamp"}})


def _feed(job_id: str) -> str:
    return json.dumps({"datafeed_id": f"datafeed-{job_id}", "job_id": job_id, "indices": ["logs-*"], "query": {"match_all": {}}})


def test_duplicate_job_and_two_datafeeds(tmp_path: Path) -> None:
    _write(tmp_path, {"ml_jobs/a.json": _job("dup"), "ml_jobs/b.json": _job("dup"), "datafeeds/d1.json": _feed("dup"), "datafeeds/d2.json": _feed("dup")})
    checks = [c for c, _, _ in _checks(tmp_path)]
    assert checks.count("ml.duplicate-job") == 1
    assert checks.count("ml.datafeed-missing") == 2  # each copy of the job has two datafeeds


def test_playbooks_unknown_rule_and_sections(tmp_path: Path) -> None:
    _write(tmp_path, {"playbooks/p.md": '---\nrule_ids: ["6a1f3c2e-0b7d-4c1e-9a5b-000000000099"]\ntitle: "T"\n---\n## Triage\nx\n'})
    assert sorted(_checks(tmp_path)) == [("playbook.sections", "p.md", 5), ("playbook.unknown-rule", "p.md", 2)]


def test_scenarios_events_and_coverage(tmp_path: Path) -> None:
    scenario = 'name = "s"\ntags = ["attack"]\n[[events]]\npath = "missing.ndjson"\n[[expect]]\nrule = "{name}"\nfires = true\n'
    name = next(line.split('"')[1] for line in GOOD_RULE.splitlines() if line.startswith("name = "))
    _write(tmp_path, {"rules/r.toml": GOOD_RULE, "scenarios/s/scenario.toml": scenario.replace("{name}", name), "scenarios/empty/scenario.toml": 'name = "empty"\n'})
    problems = _checks(tmp_path)
    assert ("scenario.events", "scenario.toml", 4) in problems  # missing event file
    assert ("scenario.events", "scenario.toml", 1) in problems  # no events at all
    [coverage] = [p for p in problems if p[0] == "scenario.coverage"]
    report = run_checks(load_package(tmp_path))
    assert "stay silent" in next(p.message for p in report.problems if p.check == "scenario.coverage")
    assert "fire " not in next(p.message for p in report.problems if p.check == "scenario.coverage")


def test_hunting_unique_id(tmp_path: Path) -> None:
    hunt = 'id = "ctdetect-hunt-x"\nname = "X"\ndescription = "d"\nlanguage = "kuery"\nquery = \'event.action:ListBuckets\'\n'
    _write(tmp_path, {"playbooks/hunting/a.toml": hunt, "playbooks/hunting/b.toml": hunt})
    assert _checks(tmp_path) == [("hunting.unique-id", "b.toml", 1)]


# ------------------------------------------------------------------ robustness

_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(data=st.data())
def test_mutated_rules_never_crash(tmp_path: Path, data: st.DataObject) -> None:
    """Deleting, inserting or replacing text anywhere in a rule gives problems, never an exception."""
    text = GOOD_RULE
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 40)))
        insert = data.draw(st.sampled_from(["", "[", "]", "'''", '"', "=", "\n", "[[rule.threat]]\n", "x = 1\n", "(", "\u00e9", "\x00"]))
        text = text[:i] + insert + text[j:]
    root = tmp_path / "m"
    shutil.rmtree(root, ignore_errors=True)
    _write(root, {"r.toml": text})
    report = run_checks(load_package(root))
    assert not [p for p in report.problems if p.check in ("internal.error", "load.internal-error")], report.problems
    assert all(p.file.name == "r.toml" for p in report.problems)


@_SETTINGS
@given(doc=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8), lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["job_id", "analysis_config", "detectors", "function", "bucket_span", "query", "indices", "x"]), c, max_size=4), max_leaves=15))
def test_random_job_and_datafeed_json_never_crash(tmp_path: Path, doc: object) -> None:
    root = tmp_path / "j"
    shutil.rmtree(root, ignore_errors=True)
    _write(root, {"ml_jobs/j.json": json.dumps(doc), "datafeeds/datafeed-j.json": json.dumps(doc)})
    report = run_checks(load_package(root))
    assert not [p for p in report.problems if p.check in ("internal.error", "load.internal-error")], report.problems


def _with_rule_keys(text: str, keys: str) -> str:
    """``text`` with ``keys`` (TOML lines or a sub-table) added to its ``[rule]`` table."""
    return text.replace("\n[[rule.threat]]", "\n" + keys + "\n\n[[rule.threat]]", 1)


@pytest.mark.parametrize(
    ("query", "keys", "found"),
    [
        # Kibana appends `limit max_signals + 1` after the query: its own LIMIT 10 caps alerts at 10
        ('from logs-aws.cloudtrail-* metadata _id, _version, _index\n| where event.action == "ListBuckets"\n| limit 10', "", [("esql.rule-limit", 22)]),
        ('from logs-aws.cloudtrail-* metadata _id, _version, _index\n| where event.action == "ListBuckets"\n| limit 10', "max_signals = 10", []),
        # a later MV_EXPAND can multiply the rows again: no bound
        ('from logs-aws.cloudtrail-* metadata _id, _version, _index\n| limit 10\n| mv_expand related.user', "", []),
        ("from logs-aws.cloudtrail-* | stats n = count(*) by user.name | limit 5", "", [("esql.rule-limit", 20)]),
        ("from logs-aws.cloudtrail-* | stats n = count(*) by user.name", "max_signals = 20000", [("esql.rule-limit", None), ("elastic.max-signals", None)]),
        # aggregating: the alert holds only the result columns
        ("from logs-aws.cloudtrail-* | stats n = count(*) by user.name", '[rule.alert_suppression]\ngroup_by = ["user.name"]', []),
        ("from logs-aws.cloudtrail-* | stats n = count(*) by user.name", '[rule.alert_suppression]\ngroup_by = ["source.ip"]', [("esql.rule-suppression", None)]),
        # non-aggregating: the source document's fields are in the alert too
        ("from logs-aws.cloudtrail-* metadata _id, _version, _index\n| keep _id, _version, _index, user.name", '[rule.alert_suppression]\ngroup_by = ["source.ip"]', []),
        ("from logs-aws.cloudtrail-* metadata _id, _version, _index\n| eval Esql.x = 1", '[rule.alert_suppression]\ngroup_by = ["Esql.x", "Esql.y"]', [("esql.rule-suppression", None)]),
    ],
)
def test_esql_rule_limits_and_suppression(tmp_path: Path, query: str, keys: str, found: list) -> None:
    _write(tmp_path, {"r.toml": _with_rule_keys(_esql_rule(query), keys)})
    problems = [(c, line if c == "esql.rule-limit" and "limit" in query.lower() else None) for c, _, line in _checks(tmp_path)]
    assert sorted(problems, key=str) == sorted(found, key=str)
