"""Elastic's rule conventions (validate.checks.conventions and, with --profile elastic,
validate.checks.elastic_repo): each check fires on a rule that breaks its convention and
stays quiet on one that keeps it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctdetect.content.loaders import load_package
from ctdetect.validate.checks import ALL_CHECKS
from ctdetect.validate.runner import run_checks

BROKEN = Path(__file__).resolve().parent / "broken"
GOOD = (BROKEN / "bad_uuid.toml").read_text().replace('rule_id = "rule-', 'rule_id = "')
NAME = "discovery_listing_buckets.toml"  # starts with the primary tactic (Discovery)
HOUSE_TAGS = 'tags = ["Domain: Cloud", "Data Source: AWS", "Data Source: Amazon Web Services", "Tactic: Discovery"]\n'
SEQUENCE = """language = "eql"
license = "Apache-2.0"
name = "Sequence"
risk_score = 47
rule_id = "6a1f3c2e-0b7d-4c1e-9a5b-0000000000aa"
severity = "medium"
type = "eql"
query = '''
sequence by user.name with maxspan=30m
  [any where event.action == "StopInstances"]
  [any where event.action == "StartInstances"]
'''
"""


def _good(profile_ready: bool = True) -> str:
    return GOOD.replace('severity = "medium"\n', 'severity = "medium"\n' + HOUSE_TAGS) if profile_ready else GOOD


def _checks(tmp_path: Path, text: str, name: str = NAME, profile: str = "default") -> list[str]:
    (tmp_path / name).write_text(text)
    return sorted(p.check for p in run_checks(load_package(tmp_path), profile=profile).problems)


def _sequence(interval: str, from_: str) -> str:
    head = GOOD.split('language = "kuery"')[0].replace('interval = "5m"', f'interval = "{interval}"').replace('from = "now-6m"', f'from = "{from_}"')
    return head + SEQUENCE


def test_good_rule_passes_both_profiles(tmp_path: Path) -> None:
    assert _checks(tmp_path, _good()) == []
    assert _checks(tmp_path, _good(), profile="elastic") == []


def test_every_convention_check_links_what_it_mirrors() -> None:
    conventions = [c for c in ALL_CHECKS if c.id.startswith("elastic.")]
    assert len(conventions) >= 15
    assert all(c.reference and c.reference.startswith("https://github.com/elastic/detection-rules/") for c in conventions)


@pytest.mark.parametrize(
    ("old", "new", "check"),
    [
        ('timestamp_override = "event.ingested"\n', "", "elastic.timestamp-override"),
        ('type = "query"', 'type = "query"\nmax_signals = 5000', "elastic.max-signals"),
        ('index = ["logs-aws.cloudtrail-*"]\n', "", "elastic.index-or-data-view"),
        ('"Domain: Cloud", ', '"Domain: Cloud", "domain: cloud", ', "elastic.tags"),
        ('type = "query"', 'type = "query"\ntimeline_id = "db366523-f1c6-4c1f-8731-6ce5ed9e5717"', "elastic.timeline"),
        ('type = "query"', 'type = "query"\nnote = "Run !{osquery{}} now"', "elastic.note-plugins"),
        ('type = "query"', 'type = "query"\nbuilding_block_type = "default"', "elastic.building-block-schedule"),
    ],
)
def test_default_profile_checks_fire(tmp_path: Path, old: str, new: str, check: str) -> None:
    text = _good()
    assert old in text
    assert check in _checks(tmp_path, text.replace(old, new, 1))


def test_eql_interval_and_lookback_against_maxspan(tmp_path: Path) -> None:
    assert _checks(tmp_path, _sequence("5m", "now-50m")) == ["elastic.eql-interval-maxspan"]
    assert _checks(tmp_path, _sequence("15m", "now-50m")) == []
    assert _checks(tmp_path, _sequence("15m", "now-15m")) == ["elastic.eql-lookback-maxspan"]


def test_sequences_need_no_timestamp_override(tmp_path: Path) -> None:
    assert "elastic.timestamp-override" not in _checks(tmp_path, _sequence("15m", "now-50m"))


def test_new_terms_shape(tmp_path: Path) -> None:
    text = GOOD.replace('type = "query"', 'type = "new_terms"').replace(
        "[[rule.threat]]",
        '[rule.new_terms]\nfield = "new_terms_fields"\nvalue = ["user.name", "user.name"]\n\n[[rule.threat]]',
    )
    found = _checks(tmp_path, text)
    assert found.count("elastic.new-terms") == 2  # repeated field, no history_window_start


@pytest.mark.parametrize(
    ("old", "new", "name", "check"),
    [
        ("", "", "listing_buckets.toml", "elastic.file-name"),
        ("", "", "Discovery_Buckets.toml", "elastic.file-name"),
        ('"Tactic: Discovery"', '"Tactic: Discovery", "Custom tag"', NAME, "elastic.tag-prefix"),
        ('"Data Source: AWS", ', "", NAME, "elastic.required-tags-aws"),
        (', "Tactic: Discovery"', "", NAME, "elastic.tactic-tags"),
        ('severity = "medium"', 'severity = "high"', NAME, "elastic.note-triage"),
    ],
)
def test_elastic_profile_checks_fire_only_with_the_profile(tmp_path: Path, old: str, new: str, name: str, check: str) -> None:
    text = _good().replace(old, new, 1) if old else _good()
    if check == "elastic.required-tags-aws":
        check, text = "elastic.required-tags", text.replace('index = ["logs-aws.cloudtrail-*"]', 'index = ["logs-aws*"]')
    if check == "elastic.note-triage":
        text = text.replace("risk_score = 47", "risk_score = 73")
    assert check in _checks(tmp_path, text, name, profile="elastic")
    assert check not in _checks(tmp_path, text, name)


def test_community_rules_are_exempt_where_elastic_exempts_them(tmp_path: Path) -> None:
    """In a repository with Elastic-authored rules, a community rule is not held to the file-name tactic."""
    (tmp_path / "discovery_by_elastic.toml").write_text(_good().replace('author = ["ctdetect tests"]', 'author = ["Elastic"]').replace("000000000016", "000000000017").replace("rule 16", "rule 17"))
    assert _checks(tmp_path, _good(), "community_rule.toml", profile="elastic") == []


def test_package_is_clean_under_the_elastic_profile_through_the_cli() -> None:
    from click.testing import CliRunner

    from ctdetect.cli import cli

    root = Path(__file__).resolve().parents[2]
    result = CliRunner().invoke(cli, ["validate", str(root), "--profile", "elastic", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output[:2000]
    assert '"profile": "elastic"' in result.output


def test_building_block_timing_can_be_bypassed_as_elastic_allows(tmp_path: Path) -> None:
    text = _good().replace('type = "query"', 'type = "query"\nbuilding_block_type = "default"')
    assert "elastic.building-block-schedule" in _checks(tmp_path, text)
    bypassed = text.replace('maturity = "production"', 'maturity = "production"\nbypass_bbr_timing = true')
    assert "elastic.building-block-schedule" not in _checks(tmp_path, bypassed)
