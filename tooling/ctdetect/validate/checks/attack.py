"""ATT&CK checks against the pinned, offline ATT&CK release (``ctdetect.attack``).

Ids must exist, names must be ATT&CK's names for those ids, each technique must belong
to the tactic it is filed under (a sub-technique under its own parent), and nothing may be
deprecated or revoked. Entries of other frameworks (MITRE ATLAS) are not judged here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from ctdetect.validate.checks.base import Check, Problem
from ctdetect.validate.context import Context, problem


@dataclass(slots=True)
class Mapping:
    """One ATT&CK reference of a rule or hunting query, with its location."""

    owner: Any
    key: str  # dotted path of the entry, e.g. rule.threat.0.technique.1
    kind: str  # tactic | technique | subtechnique
    id: str
    name: str
    reference: str | None
    tactic_id: str
    parent_id: str | None  # for a sub-technique: the technique it is filed under


def mappings(ctx: Context) -> list[Mapping]:
    """Every ATT&CK mapping of the package, computed once per run and shared by the checks."""
    cached = ctx.memo.get("attack.mappings")
    if cached is None:
        cached = ctx.memo["attack.mappings"] = list(_mappings(ctx))
    return cached


def _mappings(ctx: Context) -> Iterator[Mapping]:
    owners: list[tuple[Any, str, Any]] = [(r, "rule.threat", r.rule.get("threat")) for r in ctx.package.rules]
    owners += [(h, "threat", h.raw.get("threat")) for h in ctx.package.hunting_queries]
    for owner, base, threats in owners:
        if not isinstance(threats, list):
            continue
        for i, threat in enumerate(threats):
            if not isinstance(threat, dict) or threat.get("framework", "MITRE ATT&CK") != "MITRE ATT&CK":
                continue
            tactic = threat.get("tactic")
            tactic_id = ""
            if isinstance(tactic, dict) and isinstance(tactic.get("id"), str):
                tactic_id = tactic["id"]
                yield Mapping(owner, f"{base}.{i}.tactic", "tactic", tactic_id, _s(tactic.get("name")), _ref(tactic), tactic_id, None)
            techniques = threat.get("technique")
            for j, tech in enumerate(techniques if isinstance(techniques, list) else []):
                if not isinstance(tech, dict) or not isinstance(tech.get("id"), str):
                    continue
                tkey = f"{base}.{i}.technique.{j}"
                yield Mapping(owner, tkey, "technique", tech["id"], _s(tech.get("name")), _ref(tech), tactic_id, None)
                subs = tech.get("subtechnique")
                for k, sub in enumerate(subs if isinstance(subs, list) else []):
                    if isinstance(sub, dict) and isinstance(sub.get("id"), str):
                        yield Mapping(owner, f"{tkey}.subtechnique.{k}", "subtechnique", sub["id"], _s(sub.get("name")), _ref(sub), tactic_id, tech["id"])


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _ref(entry: dict[str, Any]) -> str | None:
    value = entry.get("reference")
    return value if isinstance(value, str) else None


def _lookup(attack: Any, m: Mapping) -> Any:
    return attack.tactic(m.id) if m.kind == "tactic" else attack.technique(m.id)


class UnknownTactic(Check):
    id = "attack.unknown-tactic"
    description = "Every tactic id exists in the pinned ATT&CK release."
    uses = ("attack",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        for m in mappings(ctx):
            if m.kind == "tactic" and ctx.attack.tactic(m.id) is None:
                yield problem(m.owner.source, f"{m.key}.id", self.id, self.severity, f"unknown ATT&CK tactic id '{m.id}' (ATT&CK {ctx.attack.version})")


class UnknownTechnique(Check):
    id = "attack.unknown-technique"
    description = "Every technique and sub-technique id exists in the pinned ATT&CK release."
    uses = ("attack",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        for m in mappings(ctx):
            if m.kind == "tactic":
                continue
            tech = ctx.attack.technique(m.id)
            if tech is None:
                yield problem(m.owner.source, f"{m.key}.id", self.id, self.severity, f"unknown ATT&CK {m.kind} id '{m.id}' (ATT&CK {ctx.attack.version})")
            elif m.kind == "technique" and tech.is_subtechnique:
                yield problem(m.owner.source, f"{m.key}.id", self.id, self.severity, f"'{m.id}' is a sub-technique: file it under [[...technique.subtechnique]] of {tech.parent}")
            elif m.kind == "subtechnique" and tech.parent != m.parent_id:
                parent = tech.parent or "none (it is a technique)"
                yield problem(m.owner.source, f"{m.key}.id", self.id, self.severity, f"sub-technique '{m.id}' is filed under technique '{m.parent_id}', but its parent is {parent}")


class NameMismatch(Check):
    id = "attack.name-mismatch"
    description = "Each tactic/technique name is ATT&CK's name for its id (deprecated rules keep the names of their day)."
    uses = ("attack",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        for m in mappings(ctx):
            if getattr(m.owner, "maturity", "") == "deprecated":
                continue  # a retired rule is not edited when ATT&CK renames a technique (Elastic's tests skip them)
            entry = _lookup(ctx.attack, m)
            if entry is not None and m.name != entry.name:
                yield problem(m.owner.source, f"{m.key}.name", self.id, self.severity, f"{m.kind} {m.id} is named '{entry.name}' in ATT&CK {ctx.attack.version}, not '{m.name}'")


class TechniqueNotInTactic(Check):
    id = "attack.technique-not-in-tactic"
    description = "Each technique (and sub-technique) belongs to the tactic it is filed under."
    uses = ("attack",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        for m in mappings(ctx):
            if m.kind == "tactic" or not m.tactic_id or ctx.attack.tactic(m.tactic_id) is None:
                continue
            tech = ctx.attack.technique(m.id)
            if tech is not None and tech.tactics and m.tactic_id.upper() not in tech.tactics:
                names = ", ".join(sorted(tech.tactics))
                yield problem(m.owner.source, f"{m.key}.id", self.id, self.severity, f"{m.kind} {m.id} ({tech.name}) does not belong to tactic {m.tactic_id}; its tactics are {names}")


class Deprecated(Check):
    id = "attack.deprecated"
    description = "No deprecated or revoked technique is used."
    uses = ("attack",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        for m in mappings(ctx):
            if m.kind == "tactic":
                continue
            tech = ctx.attack.technique(m.id)
            if tech is None:
                continue
            if tech.revoked:
                instead = f"; use {tech.revoked_by}" if tech.revoked_by else ""
                yield problem(m.owner.source, f"{m.key}.id", self.id, self.severity, f"{m.kind} {m.id} is revoked in ATT&CK {ctx.attack.version}{instead}")
            elif tech.deprecated:
                yield problem(m.owner.source, f"{m.key}.id", self.id, self.severity, f"{m.kind} {m.id} is deprecated in ATT&CK {ctx.attack.version}")


class ReferenceMismatch(Check):
    id = "attack.reference-mismatch"
    description = "The reference URL points at the same ATT&CK id."
    severity = "warning"
    uses = ("attack",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        for m in mappings(ctx):
            if m.reference is None:
                continue
            kind = "tactics" if m.kind == "tactic" else "techniques"
            expected = f"https://attack.mitre.org/{kind}/{m.id.upper().replace('.', '/')}/"
            if m.reference.rstrip("/") + "/" != expected:
                yield problem(m.owner.source, f"{m.key}.reference", self.id, self.severity, f"reference {m.reference} does not point at {m.id} (expected {expected})")
