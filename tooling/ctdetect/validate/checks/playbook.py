"""Playbook checks: every rule has an investigation guide, and its note is that guide.

The playbook is the one source of truth for a rule's ``note``; ``ctdetect playbooks sync``
rewrites notes from playbooks and these checks catch a note edited by hand or forgotten.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterator

from ctdetect.content.playbooks import note_text, notes_equal
from ctdetect.validate.checks.base import Check, Problem
from ctdetect.validate.context import Context, problem

#: the sections docs/ARCHITECTURE.md asks every playbook to have
SECTIONS = ("Triage and analysis", "Pivots", "What benign looks like", "Response")


def playbooks_by_rule(ctx: Context) -> dict[str, list]:
    index: dict[str, list] = defaultdict(list)
    for playbook in ctx.package.playbooks:
        for rule_id in playbook.rule_ids:
            index[rule_id].append(playbook)
    return index


class PlaybookMissing(Check):
    id = "playbook.missing"
    description = "Every rule is named by a playbook (playbooks/*.md front matter rule_ids)."
    requires = ("playbooks",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        index = playbooks_by_rule(ctx)
        for rule in ctx.package.rules:
            if rule.rule_id and rule.rule_id not in index:
                yield problem(rule.source, "rule.rule_id", self.id, self.severity, f"no playbook names rule {rule.rule_id}: add playbooks/{rule.source.path.stem}.md with it in rule_ids")
            elif len(index.get(rule.rule_id, [])) > 1:
                files = ", ".join(str(p.source.path) for p in index[rule.rule_id])
                yield problem(rule.source, "rule.rule_id", self.id, self.severity, f"rule {rule.rule_id} is named by several playbooks ({files}); its note can come from only one")


class NoteOutOfSync(Check):
    id = "playbook.note-out-of-sync"
    description = "Each rule's note equals its playbook's body (run 'ctdetect playbooks sync')."
    requires = ("playbooks",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        index = playbooks_by_rule(ctx)
        for rule in ctx.package.rules:
            books = index.get(rule.rule_id, [])
            if len(books) != 1:
                continue  # playbook.missing reports it
            if not notes_equal(rule.note, note_text(books[0])):
                what = "has no note" if rule.note is None else "note differs from"
                yield problem(
                    rule.source,
                    "rule.note" if rule.note is not None else "rule",
                    self.id,
                    self.severity,
                    f"rule {what} {'its playbook ' if rule.note is None else ''}{books[0].source.path}: run 'ctdetect playbooks sync'",
                )


class PlaybookUnknownRule(Check):
    id = "playbook.unknown-rule"
    description = "Every rule_id a playbook names is a rule of the package."
    severity = "warning"
    requires = ("playbooks",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        known = {rule.rule_id for rule in ctx.package.rules}
        for playbook in ctx.package.playbooks:
            for rule_id in playbook.rule_ids:
                if rule_id not in known:
                    yield problem(playbook.source, "rule_ids", self.id, self.severity, f"playbook names rule {rule_id}, which is not in rules/")


class PlaybookSections(Check):
    id = "playbook.sections"
    description = "A playbook has the sections Triage and analysis, Pivots, What benign looks like and Response."
    severity = "warning"

    def run(self, ctx: Context) -> Iterator[Problem]:
        for playbook in ctx.package.playbooks:
            have = {name.casefold() for name in playbook.sections}
            missing = [s for s in SECTIONS if s.casefold() not in have]
            if missing:
                yield problem(playbook.source, "body", self.id, self.severity, "playbook lacks section(s): " + ", ".join(f"'## {m}'" for m in missing))
