"""The search-rule content (rules/ outside rules/ml/, their playbooks, hunting queries and scenarios).

These tests hold the content to the promises of the content issue: enough rules, enough
tactics, every rule type, Elastic-native fields, no keying on attack tools' user agents,
one playbook per rule whose body is the rule's note, and for every rule a scenario where it
must fire and one where it must stay silent, both met by the embedded engine.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from ctdetect.attack import load_attack
from ctdetect.content.loaders import load_package
from ctdetect.content.model import Package, Rule, find_rule
from ctdetect.content.playbooks import note_text, notes_equal
from ctdetect.query import parse_query
from ctdetect.query.ast import Sequence, field_uses

ROOT = Path(__file__).resolve().parents[2]
SEVERITY_SCORE = {"low": 21, "medium": 47, "high": 73, "critical": 99}
# User-agent fragments of offensive tooling and test harnesses: a rule keyed on them is
# trivially evaded and only "detects" the test set.
TOOL_AGENTS = ("stratus", "pacu", "cloudgoat", "scoutsuite", "prowler", "cloudfox", "kali", "parrot", "grimoire", "endgame")


@pytest.fixture(scope="module")
def package() -> Package:
    return load_package(ROOT)


@pytest.fixture(scope="module")
def search_rules(package: Package) -> list[Rule]:
    rules = [r for r in package.rules if r.type != "machine_learning" and "ml" not in r.source.path.relative_to(ROOT / "rules").parts[:-1]]
    assert rules, "no search rules loaded"
    return rules


def test_load_without_problems(package: Package, search_rules: list[Rule]) -> None:
    mine = {r.source.path for r in search_rules}
    problems = [p for p in package.problems if p.file in mine]
    assert problems == []


def test_at_least_32_rules_across_8_tactics(search_rules: list[Rule]) -> None:
    assert len(search_rules) >= 32
    tactics = {t.tactic.id for r in search_rules for t in r.threat}
    assert len(tactics) >= 8, sorted(tactics)


def test_every_rule_type_is_used_including_eql_sequences(search_rules: list[Rule]) -> None:
    types = {r.type for r in search_rules}
    assert {"query", "eql", "threshold", "new_terms"} <= types
    sequences = [r for r in search_rules if r.language == "eql" and isinstance(parse_query(r.query, "eql"), Sequence)]
    assert len(sequences) >= 2


def test_threshold_and_new_terms_are_configured(search_rules: list[Rule]) -> None:
    for r in search_rules:
        if r.type == "threshold":
            assert r.threshold and r.threshold.field and r.threshold.value >= 2, r.name
        if r.type == "new_terms":
            assert r.new_terms and r.new_terms.fields and r.new_terms.history_window_start.startswith("now-"), r.name


def test_elastic_native_metadata(search_rules: list[Rule]) -> None:
    for r in search_rules:
        rule, meta = r.raw["rule"], r.raw["metadata"]
        where = r.source.path.name
        assert meta["maturity"] == "production" and meta["integration"] == ["aws"], where
        assert re.fullmatch(r"\d{4}/\d{2}/\d{2}", meta["creation_date"]) and re.fullmatch(r"\d{4}/\d{2}/\d{2}", meta["updated_date"]), where
        assert rule["author"] == ["ctdetect"] and rule["license"] == "Apache-2.0", where
        if r.type == "esql":  # ES|QL reads the indices its FROM names; Kibana refuses an index list
            assert "index" not in rule and r.query.lstrip().lower().startswith("from logs-aws.cloudtrail-*"), where
            assert "timestamp_override" not in rule, where
        else:
            assert sorted(rule["index"]) == ["filebeat-*", "logs-aws.cloudtrail-*"], where
            # Elastic's convention (elastic.timestamp-override): windows on event.ingested, except EQL sequences.
            sequence = rule.get("language") == "eql" and rule["query"].lstrip().startswith("sequence")
            assert rule.get("timestamp_override") == (None if sequence else "event.ingested"), where
        assert SEVERITY_SCORE[rule["severity"]] == rule["risk_score"], where
        assert rule["references"] and rule["investigation_fields"]["field_names"], where
        assert r.name.endswith("(ctdetect)"), where


def test_attack_mappings_are_real(search_rules: list[Rule]) -> None:
    attack = load_attack()
    for r in search_rules:
        assert r.threat, r.name
        for threat in r.threat:
            assert attack.tactic(threat.tactic.id).name == threat.tactic.name
            assert threat.techniques, r.name
            for tech in threat.techniques:
                assert attack.technique(tech.id).name == tech.name, (r.name, tech.id)
                assert threat.tactic.id in attack.tactics_of(tech.id), (r.name, tech.id, threat.tactic.id)
                for sub in threat.subtechniques.get(tech.id, []):
                    assert sub.id.startswith(tech.id + ".") and attack.technique(sub.id).name == sub.name, (r.name, sub.id)


def _filter_fields(r: Rule) -> set[str]:
    """The source fields a rule's query selects events by (for ES|QL: its WHERE conditions)."""
    if r.language != "esql":
        return {u.field for u in field_uses(parse_query(r.query, r.language))}
    from ctdetect.query.esql.ast import FieldRef, Where

    query = parse_query(r.query, "esql")
    return {n.name for c in query.commands if isinstance(c, Where) for n in c.condition.walk() if isinstance(n, FieldRef) and not n.name.startswith("Esql")}


def test_no_rule_keys_on_tool_user_agents(search_rules: list[Rule]) -> None:
    for r in search_rules:
        text = r.query.lower()
        assert not any(agent in text for agent in TOOL_AGENTS), r.name
        fields = _filter_fields(r)
        assert not any(f.startswith("user_agent") for f in fields), (r.name, fields)


def test_queries_use_cloudtrail_dataset_and_known_fields(package: Package, search_rules: list[Rule]) -> None:
    from ctdetect.catalogue import load_catalogue

    catalogue = load_catalogue()
    for r in search_rules:
        fields = _filter_fields(r)
        assert "event.dataset" in fields, r.name
        for name in fields:
            assert catalogue.type_of(name) is not None, (r.name, name)


def test_each_rule_has_its_playbook_and_the_note_is_its_body(package: Package, search_rules: list[Rule]) -> None:
    books = {b.source.path.stem: b for b in package.playbooks}
    for r in search_rules:
        book = books.get(r.source.path.stem)
        assert book is not None, f"no playbooks/{r.source.path.stem}.md"
        assert book.rule_ids == [r.rule_id]
        assert {"Triage and analysis", "Pivots", "What benign looks like", "Response"} <= set(book.sections), r.name
        assert "```kql" in book.sections["Pivots"] and "{{" in book.sections["Pivots"], r.name
        assert notes_equal(r.note, note_text(book)), r.name


def test_playbook_pivots_parse_as_kql(package: Package, search_rules: list[Rule]) -> None:
    stems = {r.source.path.stem for r in search_rules}
    for book in package.playbooks:
        if book.source.path.stem not in stems:
            continue
        for block in re.findall(r"```kql\n(.*?)```", book.sections["Pivots"], flags=re.DOTALL):
            query = re.sub(r"\{\{[^}]+\}\}", "placeholder", block.strip())
            parse_query(query, "kuery")


def test_hunting_queries(package: Package) -> None:
    hunts = package.hunting_queries
    assert len(hunts) >= 15
    for h in hunts:
        assert h.id.startswith("ctdetect-hunt-") and h.language in ("kuery", "esql")
        assert h.description and h.normal, h.id
        parse_query(h.query, h.language)
    assert any(h.query == "event.dataset:aws.cloudtrail and event.action:ModifySnapshotAttribute" for h in hunts)
    assert sum(h.language == "esql" for h in hunts) >= 3  # Discover sessions; rows checked in tests/hunt/test_esql_hunting_queries.py


def test_every_rule_has_firing_and_silent_expectations(package: Package, search_rules: list[Rule]) -> None:
    seen: dict[str, set[bool]] = defaultdict(set)
    for scenario in package.scenarios:
        for e in scenario.expectations:
            rule = find_rule(package.rules, e.rule)  # by rule_id or name, as replay reads it
            if rule is not None:
                seen[rule.rule_id].add(e.fires)
    for r in search_rules:
        assert seen.get(r.rule_id, set()) == {True, False}, f"{r.name}: {seen.get(r.rule_id)}"


def test_silent_scenarios_are_look_alikes(package: Package, search_rules: list[Rule]) -> None:
    """A silent scenario must hold events of the kind the rule watches, not just nothing at all."""
    by_rule = {r.rule_id: r for r in search_rules}
    actions_in = {}
    for scenario in package.scenarios:
        if not scenario.name.startswith("rule-"):
            continue
        actions = set()
        for line in (scenario.folder / "events.ndjson").read_text().splitlines():
            actions.add(json.loads(line)["eventName"])
        actions_in[scenario.name] = actions
    for scenario in package.scenarios:
        if not scenario.name.endswith("-silent") or not scenario.name.startswith("rule-"):
            continue
        twin = scenario.name[: -len("-silent")] + "-fires"
        assert twin in actions_in, scenario.name
        for e in scenario.expectations:
            if (rule := find_rule(search_rules, e.rule)) is not None and rule.rule_id in by_rule:
                assert actions_in[scenario.name] & actions_in[twin], f"{scenario.name} shares no event kind with {twin}"


def test_generated_scenarios_are_in_sync_with_the_generator(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, str(ROOT / "generators" / "gen_scenarios.py"), "--out", str(tmp_path)],
                         check=False, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    for folder in tmp_path.iterdir():
        for file in folder.iterdir():
            committed = ROOT / "scenarios" / folder.name / file.name
            assert committed.read_text() == file.read_text(), f"{committed} differs: re-run python generators/gen_scenarios.py"


def test_every_search_rule_expectation_is_met_by_the_embedded_engine(package: Package, search_rules: list[Rule]) -> None:
    """Each rule-* scenario, mapped to ECS as replay does, run through the embedded backend.

    Only the rules a scenario names are compiled (rules are independent of each other, so a
    rule's findings do not depend on which other rules run); ``ctdetect replay`` runs the
    whole package and must agree, but compiling all rules for all 70 scenarios would cost
    the suite twenty seconds.
    """
    from ctdetect.backends import get_backend
    from ctdetect.readers import SkipCounter
    from ctdetect.services.expectations import MET, check
    from ctdetect.services.inputs import make_mapper
    from ctdetect.services.scenario_events import scenario_events

    mapper = make_mapper(None)
    backend = get_backend("embedded")
    unmet, checked = [], 0
    for scenario in package.scenarios:
        wanted = [r for e in scenario.expectations if (r := find_rule(search_rules, e.rule)) is not None]
        if not wanted:
            continue
        events = scenario_events(scenario, mapper, SkipCounter())
        assert events, f"{scenario.name} reads no events"
        rules = list({r.rule_id: r for r in wanted}.values())
        result = backend.run(events, rules, [])
        known = {r.rule_id for r in rules}
        for e in scenario.expectations:
            if find_rule(search_rules, e.rule) is not None:
                checked += 1
                outcome = check(e, result.findings, known, dict(result.stats.not_run))
                if outcome.status != MET:
                    unmet.append((scenario.name, e.description, outcome.status, outcome.detail))
    assert checked >= 2 * len(search_rules)
    assert unmet == []


# Stratus Red Team detonation logs (real CloudTrail, ../shared/datasets): technique -> rules
# of ours that must alert on that technique's own events. Techniques absent here either have
# no rule of ours (Bedrock, Lambda layers and code), or were anonymised in a way that
# changes their meaning (the security-group technique's 0.0.0.0/0 became 208.236.235.254/0).
STRATUS_EXPECTED = {
    "aws.exfiltration.ec2-share-ebs-snapshot": ["exfiltration_ebs_snapshot_shared_externally", "exfiltration_ebs_snapshot_attribute_first_change_by_user"],
    "aws.exfiltration.ec2-share-ami": ["exfiltration_ami_shared_externally"],
    "aws.exfiltration.rds-share-snapshot": ["exfiltration_rds_snapshot_shared_externally"],
    "aws.defense-evasion.cloudtrail-stop": ["defense_evasion_cloudtrail_logging_stopped_or_deleted"],
    "aws.defense-evasion.cloudtrail-delete": ["defense_evasion_cloudtrail_logging_stopped_or_deleted"],
    "aws.defense-evasion.cloudtrail-event-selectors": ["defense_evasion_cloudtrail_trail_reduced"],
    "aws.defense-evasion.vpc-remove-flow-logs": ["defense_evasion_vpc_flow_logs_deleted"],
    "aws.defense-evasion.dns-delete-logs": ["defense_evasion_route53_resolver_query_logging_removed"],
    "aws.defense-evasion.organizations-leave": ["defense_evasion_organization_left"],
    "aws.persistence.iam-backdoor-user": ["persistence_iam_access_key_for_another_user"],
    "aws.persistence.iam-create-admin-user": ["privilege_escalation_administrator_policy_attached", "persistence_iam_access_key_for_another_user"],
    "aws.persistence.iam-backdoor-role": ["persistence_iam_role_trust_foreign_account"],
    "aws.persistence.iam-create-backdoor-role": ["persistence_iam_role_trust_foreign_account", "privilege_escalation_administrator_policy_attached"],
    "aws.persistence.iam-create-user-login-profile": ["persistence_iam_login_profile_for_another_user"],
    "aws.privilege-escalation.iam-update-user-login-profile": ["persistence_iam_login_profile_for_another_user"],
    "aws.persistence.lambda-backdoor-function": ["persistence_lambda_public_invocation"],
    "aws.execution.ssm-send-command": ["execution_ssm_send_command_shell"],
    "aws.execution.ssm-start-session": ["lateral_movement_ssm_session_new_target"],
    "aws.credential-access.ec2-get-password-data": ["credential_access_ec2_password_data_first_request_by_user"],
    "aws.credential-access.ssm-retrieve-securestring-parameters": ["credential_access_ssm_secure_parameter_first_read_by_user"],
    "aws.initial-access.console-login-without-mfa": ["initial_access_console_login_without_mfa"],
    "aws.lateral-movement.ec2-serial-console-send-ssh-public-key": ["lateral_movement_ec2_serial_console_access"],
    "aws.persistence.sts-federation-token": ["persistence_sts_federation_token_first_by_user"],
    "aws.persistence.rolesanywhere-create-trust-anchor": ["persistence_iam_roles_anywhere_trust_anchor_created"],
}
# Aggregating rules (threshold, sequences) alert without a single source event id.
STRATUS_AGGREGATED = ["credential_access_secret_read_burst", "execution_ec2_user_data_modified_sequence"]


def test_rules_fire_on_real_stratus_red_team_detonations(search_rules: list[Rule], shared_dir: Path) -> None:
    """Real CloudTrail from ../shared (the shared_dir fixture skips when it is absent)."""
    from ctdetect.backends import get_backend
    from ctdetect.services.inputs import make_mapper

    folder = shared_dir / "datasets" / "stratus-red-team-detonation-logs"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    records = [json.loads(line) for line in (folder / "all_detonations.ndjson").read_text().splitlines()]
    labels = [json.loads(line) for line in (folder / "all_detonations.labels.ndjson").read_text().splitlines()]
    technique_of = {r["eventID"]: lab["stratus_technique"] for r, lab in zip(records, labels)}
    mapper = make_mapper(None)
    events = sorted((mapper.map(r) for r in records), key=lambda e: e["@timestamp"])
    result = get_backend("embedded").run(events, search_rules, [])
    stem_of = {r.rule_id: r.source.path.stem for r in search_rules}
    fired: dict[str, set[str]] = defaultdict(set)
    aggregated: set[str] = set()
    for finding in result.findings:
        event_id = finding.get("event.id")
        if event_id in technique_of:
            fired[technique_of[event_id]].add(stem_of[finding.source_id])
        else:
            aggregated.add(stem_of[finding.source_id])
    for technique, stems in STRATUS_EXPECTED.items():
        assert set(stems) <= fired[technique], (technique, sorted(fired[technique]))
    assert set(STRATUS_AGGREGATED) <= aggregated


# Hunting queries whose events only the real datasets in ../shared hold (our scenarios have none).
HUNTS_SEEN_IN_SHARED_DATA = {"ctdetect-hunt-federation-tokens", "ctdetect-hunt-get-caller-identity", "ctdetect-hunt-role-listbuckets"}


def _hunt_matches(package: Package, records: list[dict]) -> dict[str, int]:
    from ctdetect.query.predicate import compile_query
    from ctdetect.services.inputs import make_mapper

    mapper = make_mapper(None)
    events = [mapper.map(r) for r in records]
    counts = {}
    for hunt in package.hunting_queries:
        if hunt.language == "esql":  # a pipeline, not a predicate: tests/hunt/test_esql_hunting_queries.py runs them
            continue
        matches = compile_query(parse_query(hunt.query, hunt.language))
        counts[hunt.id] = sum(1 for e in events if matches(e))
    return counts


def test_hunting_queries_find_the_events_they_are_about(package: Package) -> None:
    """A hunt with a misspelt field would quietly return nothing in Kibana: each one must match scenario events."""
    records = [json.loads(line) for path in sorted((ROOT / "scenarios").glob("rule-*/events.ndjson")) for line in path.read_text().splitlines()]
    counts = _hunt_matches(package, records)
    empty = sorted(h for h, n in counts.items() if n == 0 and h not in HUNTS_SEEN_IN_SHARED_DATA)
    assert empty == []


def test_hunting_queries_find_real_events(package: Package, shared_dir: Path) -> None:
    records = []
    for rel in ("stratus-red-team-detonation-logs/all_detonations.ndjson", "otrf-ec2-proxy-s3-exfiltration/cloudtrail_native.ndjson"):
        path = shared_dir / "datasets" / rel
        if not path.is_file():
            pytest.skip(f"{path} is absent")
        records += [json.loads(line) for line in path.read_text().splitlines()]
    counts = _hunt_matches(package, records)
    assert all(counts[h] > 0 for h in HUNTS_SEEN_IN_SHARED_DATA), counts
    # The classic snapshot hunt finds the real snapshot-sharing detonation.
    assert counts["ctdetect-hunt-snapshot-sharing"] >= 1


def test_playbook_esql_pivots_parse_resolve_and_return_rows(package: Package) -> None:
    """ES|QL pivots (Discover in ES|QL mode) resolve against the package's data sources and,
    filled with the values of their rule's firing scenario, return rows on its events."""
    from ctdetect.catalogue import load_catalogue
    from ctdetect.query.esql.analyze import analyze
    from ctdetect.query.esql.evaluate import Program
    from ctdetect.query.esql.sources import source_columns
    from ctdetect.services.inputs import make_mapper

    catalogue = load_catalogue()
    columns = lambda indices: source_columns(indices, catalogue)  # noqa: E731
    mapper = make_mapper(None)
    checked = 0
    for book in package.playbooks:
        blocks = re.findall(r"```esql\n(.*?)```", book.sections.get("Pivots", ""), flags=re.DOTALL)
        if not blocks:
            continue
        [rule_id] = book.rule_ids
        names = {rule_id} | {r.name for r in package.rules if r.rule_id == rule_id}
        fires = next(s for s in package.scenarios if s.name.endswith("-fires") and any(e.rule in names and e.fires for e in s.expectations))
        entity = next(e.entity for e in fires.expectations if e.rule in names)
        events = [mapper.map(json.loads(line)) for line in (fires.folder / "events.ndjson").read_text().splitlines()]
        for block in blocks:
            text = re.sub(r"\{\{([^}]+)\}\}", lambda m: str(entity.get(m.group(1), "placeholder")), block.strip())
            query = parse_query(text, "esql")
            assert analyze(query, columns) == [], (book.source.path.name, text)
            assert Program.prepare(query, columns).run(events, 0).size > 0, (book.source.path.name, text)
            checked += 1
    assert checked >= 3
