"""Pinned ATT&CK data: known ids, relationships, flags, bad data files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctdetect.attack import Attack, AttackDataError, load_attack
from conftest import shared_path


@pytest.fixture(scope="module")
def attack() -> Attack:
    return load_attack()


def test_version_and_source(attack: Attack) -> None:
    assert attack.version == "18.1"
    assert attack.source["bundle"] == "enterprise-attack-18.1.json"


def test_tactics(attack: Attack) -> None:
    exfil = attack.tactic("TA0010")
    assert exfil is not None and exfil.name == "Exfiltration" and exfil.shortname == "exfiltration"
    assert len(attack.tactics()) == 14
    assert attack.tactic("TA9999") is None
    assert attack.tactic_by_name("Command and Control").id == "TA0011"  # type: ignore[union-attr]
    assert attack.tactic_by_name("command-and-control").id == "TA0011"  # type: ignore[union-attr]
    assert attack.tactic_by_name("privilege escalation").id == "TA0004"  # type: ignore[union-attr]
    assert attack.tactic_by_name("Exfil") is None


def test_technique_belongs_to_tactic(attack: Attack) -> None:
    t1537 = attack.technique("T1537")
    assert t1537 is not None and t1537.name == "Transfer Data to Cloud Account"
    assert "TA0010" in t1537.tactics and attack.tactics_of("T1537") == t1537.tactics
    assert t1537.parent is None and not t1537.is_subtechnique and t1537.active


def test_subtechnique(attack: Attack) -> None:
    cloud = attack.technique("T1078.004")
    assert cloud is not None and cloud.name == "Cloud Accounts"
    assert cloud.parent == "T1078" and cloud.is_subtechnique
    assert {"TA0001", "TA0003", "TA0004", "TA0005"} <= cloud.tactics
    assert "T1078.004" in [t.id for t in attack.subtechniques_of("T1078")]
    assert attack.technique("t1078.004") == cloud  # ids are matched case-insensitively


def test_deprecated_and_revoked(attack: Attack) -> None:
    scripting = attack.technique("T1064")
    assert scripting is not None and scripting.name == "Scripting" and scripting.deprecated
    compressed = attack.technique("T1002")
    assert compressed is not None and compressed.revoked and compressed.revoked_by == "T1560"
    assert not compressed.active
    active = list(attack.techniques(active_only=True))
    assert all(t.active for t in active) and len(active) < len(list(attack.techniques()))


def test_unknown(attack: Attack) -> None:
    assert attack.technique("T9999") is None
    assert attack.tactics_of("T9999") == frozenset()


def test_every_technique_has_known_tactics(attack: Attack) -> None:
    ids = {t.id for t in attack.tactics()}
    for tech in attack.techniques():
        assert tech.tactics and tech.tactics <= ids, tech.id
        if tech.parent:
            assert attack.technique(tech.parent) is not None, tech.id


def test_cached(attack: Attack) -> None:
    assert load_attack() is attack


@pytest.mark.parametrize(
    "doc, needle",
    [
        ("{", "not valid JSON"),
        ('{"tactics": []}', "needs 'tactics' and 'techniques'"),
        ('{"tactics": [["TA1", "x"]], "techniques": []}', "tactics[0]"),
        ('{"tactics": [], "techniques": [["T1", "x", "TA1", ""]]}', "techniques[0]"),
    ],
)
def test_bad_data_file(tmp_path: Path, doc: str, needle: str) -> None:
    path = tmp_path / "attack.json"
    path.write_text(doc)
    with pytest.raises(AttackDataError) as err:
        load_attack(path)
    assert str(path) in str(err.value) and needle in str(err.value)


def test_custom_data_file(tmp_path: Path) -> None:
    path = tmp_path / "attack.json"
    path.write_text(json.dumps({
        "version": "1", "tactics": [["TA0001", "Initial Access", "initial-access"]],
        "techniques": [["T1", "One", ["TA0001"], "d"], ["T1.001", "Sub", ["TA0001"], ""]],
    }))
    attack = load_attack(path)
    assert attack.technique("T1").deprecated and attack.subtechniques_of("T1")[0].id == "T1.001"  # type: ignore[union-attr]


def test_elastic_rules_attack_ids_are_known(attack: Attack, shared_dir: Path) -> None:
    """Every technique id in Elastic's AWS rules exists in the pinned release."""
    import tomllib

    unknown = {}
    for path in sorted(shared_path("anchors", "detection-rules").rglob("*.toml")):
        try:
            rule = tomllib.loads(path.read_text()).get("rule", {})
        except tomllib.TOMLDecodeError:
            continue
        for threat in rule.get("threat", []):
            if threat.get("framework") != "MITRE ATT&CK":
                continue
            if attack.tactic(threat["tactic"]["id"]) is None:
                unknown[threat["tactic"]["id"]] = path.name
            for tech in threat.get("technique", []):
                for item in [tech, *tech.get("subtechnique", [])]:
                    if attack.technique(item["id"]) is None:
                        unknown[item["id"]] = path.name
    assert unknown == {}
