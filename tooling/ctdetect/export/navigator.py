"""The package's ATT&CK coverage as a MITRE ATT&CK Navigator layer (layer format 4.5).

Each technique a rule or hunting query maps to (in its ``threat`` entries, under the
tactic it names) becomes one layer technique, scored by how many detections cover it
(rules count 1, hunting queries count 0.5: a human must run them) and commented with
their names. Tactics are written as the Navigator wants them: the ATT&CK shortname
(``defense-evasion``), looked up in the pinned ATT&CK data. A parent technique of a
covered sub-technique gets an unscored entry that expands it, so the sub-technique shows.
Machine-learning rules carry the ATT&CK mapping of their anomaly job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ctdetect.content.model import Package, Threat

LAYER_VERSION = "4.5"
NAVIGATOR_VERSION = "5.1.0"
RULE_WEIGHT = 1.0
HUNT_WEIGHT = 0.5


@dataclass(slots=True)
class _Cell:
    score: float = 0.0
    rules: list[str] = field(default_factory=list)
    hunts: list[str] = field(default_factory=list)


def _cells(threats: list[Threat]) -> list[tuple[str, str]]:
    """(technique id, tactic id) pairs named by ``threats``; sub-techniques included."""
    pairs = []
    for threat in threats:
        if threat.framework != "MITRE ATT&CK":
            continue
        for tech in threat.techniques:
            subs = threat.subtechniques.get(tech.id) or []
            if subs:
                pairs.extend((sub.id, threat.tactic.id) for sub in subs)
            else:
                pairs.append((tech.id, threat.tactic.id))
    return pairs


def build_layer(package: Package, name: str = "ctdetect coverage") -> dict[str, Any]:
    from ctdetect.attack import load_attack

    attack = load_attack()
    cells: dict[tuple[str, str], _Cell] = {}
    for rule in package.rules:
        for key in set(_cells(rule.threat)):
            cell = cells.setdefault(key, _Cell())
            cell.score += RULE_WEIGHT
            cell.rules.append(rule.name)
    for query in package.hunting_queries:
        for key in set(_cells(query.threat)):
            cell = cells.setdefault(key, _Cell())
            cell.score += HUNT_WEIGHT
            cell.hunts.append(query.name)
    techniques: list[dict[str, Any]] = []
    parents: set[tuple[str, str]] = set()
    unknown: list[str] = []
    for (tech_id, tactic_id), cell in sorted(cells.items()):
        tactic = attack.tactic(tactic_id)
        if tactic is None or attack.technique(tech_id) is None:
            unknown.append(f"{tech_id} under {tactic_id}")
            continue
        comment = "; ".join([*(f"rule: {n}" for n in sorted(cell.rules)), *(f"hunt: {n}" for n in sorted(cell.hunts))])
        metadata = [{"name": "rule", "value": n} for n in sorted(cell.rules)] + [{"name": "hunting query", "value": n} for n in sorted(cell.hunts)]
        techniques.append(
            {
                "techniqueID": tech_id,
                "tactic": tactic.shortname,
                "score": cell.score,
                "color": "",
                "comment": comment,
                "enabled": True,
                "metadata": metadata,
                "links": [],
                "showSubtechniques": False,
            }
        )
        if "." in tech_id:
            parents.add((tech_id.split(".", 1)[0], tactic.shortname))
    covered = {(t["techniqueID"], t["tactic"]) for t in techniques}
    for parent, shortname in sorted(parents - covered):
        techniques.append({"techniqueID": parent, "tactic": shortname, "color": "", "comment": "", "enabled": True, "metadata": [], "links": [], "showSubtechniques": True})
    for t in techniques:
        if (t["techniqueID"], t["tactic"]) in parents:
            t["showSubtechniques"] = True
    max_score = max((t.get("score", 0) for t in techniques), default=1) or 1
    description = (
        f"ATT&CK techniques covered by the ctdetect package: {len(package.rules)} rules "
        f"({sum(1 for r in package.rules if r.type == 'machine_learning')} machine learning) and "
        f"{len(package.hunting_queries)} hunting queries. Score: rules count {RULE_WEIGHT:g}, hunting queries {HUNT_WEIGHT:g}."
    )
    layer: dict[str, Any] = {
        "name": name,
        "versions": {"attack": attack.version.split(".")[0], "navigator": NAVIGATOR_VERSION, "layer": LAYER_VERSION},
        "domain": attack.domain,
        "description": description,
        "filters": {"platforms": ["IaaS", "Identity Provider", "Office Suite", "SaaS", "Linux", "Windows", "macOS", "Network Devices", "Containers", "ESXi"]},
        "sorting": 3,
        "layout": {"layout": "side", "aggregateFunction": "max", "showID": True, "showName": True, "showAggregateScores": False, "countUnscored": False, "expandedSubtechniques": "annotated"},
        "hideDisabled": False,
        "techniques": techniques,
        "gradient": {"colors": ["#e3f2fdff", "#1565c0ff"], "minValue": 0, "maxValue": max_score},
        "legendItems": [{"label": "covered by a ctdetect rule or hunting query", "color": "#1565c0ff"}],
        "metadata": [{"name": "generated by", "value": "ctdetect export"}],
        "links": [],
        "showTacticRowBackground": False,
        "tacticRowBackground": "#dddddd",
        "selectTechniquesAcrossTactics": True,
        "selectSubtechniquesWithParent": False,
        "selectVisibleTechniques": False,
    }
    if unknown:
        layer["metadata"].append({"name": "not in ATT&CK " + attack.version, "value": ", ".join(sorted(unknown))})
    return layer
