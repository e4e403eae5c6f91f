"""Conventions of rules shipped in Elastic's own repository (``validate --profile elastic``).

Elastic's unit tests hold its own rules to a house style: file names, the tag vocabulary
and the tags each data source requires, the primary tactic as a tag and a file-name
prefix, investigation guides with a ``## Triage and analysis`` section. A team's private
rules need not follow it, so these run only when asked; a rule meant to be contributed
upstream (or moved between the two repositories) should pass them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Iterator

from ctdetect.content.model import Rule
from ctdetect.validate.checks.base import Check, Problem
from ctdetect.validate.checks.conventions import ALL_RULES, active_rules, conventions
from ctdetect.validate.context import Context, problem

FILE_NAME = re.compile(r"^[a-z0-9_]+\.(json|toml)$")
OS_TAGS = {"linux": "OS: Linux", "macos": "OS: macOS", "windows": "OS: Windows"}
BUILDING_BLOCK_DIR = "rules_building_block"


def _authors(rule: Rule) -> list[str]:
    value = rule.rule.get("author")
    return [a for a in value if isinstance(a, str)] if isinstance(value, list) else []


def house_rules(ctx: Context) -> set[int]:
    """Ids of the rules held to Elastic's house style where Elastic's tests exempt community rules.

    In Elastic's repository a rule whose authors do not include "Elastic" is a community
    contribution and its tests skip the file-name and guide-heading conventions for it. A
    package with no Elastic-authored rule (one preparing rules to go upstream) holds every
    rule to them.
    """
    rules = list(active_rules(ctx))
    if not any("Elastic" in _authors(rule) for rule in rules):
        return {id(rule) for rule in rules}
    return {id(rule) for rule in rules if "Elastic" in _authors(rule)}


def _tactic_names(rule: Rule) -> list[str]:
    """The primary tactic (the first threat entry's) and any others, by name."""
    return [entry.tactic.name for entry in rule.threat if entry.tactic.name]


class ElasticCheck(Check):
    profile = "elastic"


class FileName(ElasticCheck):
    id = "elastic.file-name"
    description = "Rule file names are lower-case snake case, unique, and start with the primary tactic (non-ML rules)."
    reference = f"{ALL_RULES} (TestValidRules.test_file_names, TestRuleFiles.test_rule_file_name_tactic)"

    def run(self, ctx: Context) -> Iterator[Problem]:
        by_name: dict[str, list[Rule]] = defaultdict(list)
        house = house_rules(ctx)
        for rule in active_rules(ctx):
            name = rule.source.path.name
            by_name[name].append(rule)
            if not FILE_NAME.match(name):
                yield problem(rule.source, None, self.id, self.severity, f"file name {name!r} is not lower-case letters, digits and underscores", line=1)
            tactics = _tactic_names(rule)
            if rule.type != "machine_learning" and tactics and id(rule) in house:
                prefix = tactics[0].lower().replace(" ", "_")
                if not name.startswith(prefix):
                    yield problem(rule.source, None, self.id, self.severity, f"file name {name!r} does not start with the primary tactic: {prefix}_...", line=1)
        for name, rules in by_name.items():
            for dup in rules[1:]:
                yield problem(dup.source, None, self.id, self.severity, f"file name {name!r} is also used by {rules[0].source.path}", line=1)


class TagVocabulary(ElasticCheck):
    id = "elastic.tag-prefix"
    description = "Every tag starts with a prefix of Elastic's vocabulary (Data Source:, Domain:, Tactic:, Use Case: ...)."
    reference = f"{ALL_RULES} (TestRuleTags.test_tag_prefix)"

    def run(self, ctx: Context) -> Iterator[Problem]:
        prefixes = sorted({tag.split(":")[0] + ":" for tag in conventions()["tags"]})
        for rule in active_rules(ctx):
            for tag in rule.tags:
                if not any(prefix in tag for prefix in prefixes):
                    yield problem(rule.source, "rule.tags", self.id, self.severity, f"tag {tag!r} has none of Elastic's prefixes ({', '.join(prefixes)})")


class RequiredTags(ElasticCheck):
    id = "elastic.required-tags"
    description = "Rules carry the tags Elastic requires for their data source, rule type and guide."
    reference = f"{ALL_RULES} (TestRuleTags: test_required_tags, test_ml_rule_type_tags, test_investigation_guide_tag, test_bbr_tags, test_os_tags, test_llm_completion_tag)"

    def run(self, ctx: Context) -> Iterator[Problem]:
        required: dict[str, list[str]] = conventions()["required_tags"]
        for rule in active_rules(ctx):
            want: list[tuple[str, str]] = []
            if rule.type != "machine_learning":
                # exact index names, as Elastic's test looks them up: a glob would hold 16 of its
                # own rules to tags they do not carry (logs-aws.cloudtrail-* is not logs-aws*)
                for index in rule.index:
                    want += [(tag, f"rules on {index}") for tag in required.get(index, [])]
            if rule.type == "machine_learning":
                want += [("Rule Type: Machine Learning", "machine learning rules"), ("Rule Type: ML", "machine learning rules")]
            if rule.note and "Investigating" in rule.note:
                want.append(("Resources: Investigation Guide", "rules whose note is an investigation guide"))
            if rule.rule.get("building_block_type"):
                want.append(("Rule Type: BBR", "building-block rules"))
            folder = rule.source.path.parent.name
            if folder in OS_TAGS:
                want.append((OS_TAGS[folder], f"rules in {folder}/"))
            if rule.query and re.search(r"\|\s*COMPLETION\b", rule.query, re.IGNORECASE):
                want.append(("Resources: LLM", "ES|QL rules that call COMPLETION"))
            missing: dict[str, str] = {}
            for tag, why in want:
                if tag not in rule.tags:
                    missing.setdefault(tag, why)
            for tag, why in missing.items():
                yield problem(rule.source, "rule.tags", self.id, self.severity, f"missing tag {tag!r} ({why} carry it)")


class TacticTags(ElasticCheck):
    id = "elastic.tactic-tags"
    description = "A rule mapped to ATT&CK tags its primary tactic ('Tactic: Execution')."
    reference = f"{ALL_RULES} (TestRuleTags.test_primary_tactic_as_tag)"

    def run(self, ctx: Context) -> Iterator[Problem]:
        # Elastic's test also means to flag tactic tags missing from the mapping, but compares
        # the tags with bare tactic names, so that half never fires; 24 of its rules would fail
        # it. Mirroring what the test enforces, not what it means, keeps Elastic's rules clean.
        for rule in active_rules(ctx):
            tactics = _tactic_names(rule)
            if rule.type == "machine_learning" or "Continuous Monitoring" in rule.tags or not tactics:
                continue
            if f"Tactic: {tactics[0]}" not in rule.tags:
                yield problem(rule.source, "rule.tags", self.id, self.severity, f"missing tag 'Tactic: {tactics[0]}' for the primary tactic")


class BuildingBlockFolder(ElasticCheck):
    id = "elastic.building-block-folder"
    description = "Building-block rules live in rules_building_block/ and nothing else does."
    reference = f"{ALL_RULES} (TestRuleFiles.test_bbr_in_correct_dir, test_non_bbr_in_correct_dir)"

    def run(self, ctx: Context) -> Iterator[Problem]:
        for rule in active_rules(ctx):
            bbr = bool(rule.rule.get("building_block_type"))
            inside = rule.source.path.parent.name == BUILDING_BLOCK_DIR
            if bbr != inside:
                where = f"outside {BUILDING_BLOCK_DIR}/" if bbr else f"in {BUILDING_BLOCK_DIR}/ without building_block_type"
                yield problem(rule.source, None, self.id, self.severity, f"{'building-block ' if bbr else ''}rule {where}", line=1)


class TriageHeading(ElasticCheck):
    id = "elastic.note-triage"
    description = "High and critical rules (not building blocks) have a note with a '## Triage and analysis' section; a '### Investigating' title names the rule."
    reference = f"{ALL_RULES} (TestInvestigationGuide)"

    def run(self, ctx: Context) -> Iterator[Problem]:
        house = house_rules(ctx)
        for rule in active_rules(ctx):
            note = rule.note or ""
            if rule.severity in ("high", "critical") and not rule.rule.get("building_block_type") and id(rule) in house:
                if "## triage and analysis" not in note.casefold():
                    yield problem(rule.source, "rule.note" if note else "rule.severity", self.id, self.severity, f"a {rule.severity} rule's note needs a '## Triage and analysis' section")
            if "### Investigating" in note and not re.search(rf"### Investigating\s+{re.escape(rule.name)}", note, re.IGNORECASE):
                yield problem(rule.source, "rule.note", self.id, self.severity, f"the '### Investigating' title does not name the rule ({rule.name!r})")


ELASTIC_REPO_CHECKS: tuple[type[Check], ...] = (FileName, TagVocabulary, RequiredTags, TacticTags, BuildingBlockFolder, TriageHeading)
