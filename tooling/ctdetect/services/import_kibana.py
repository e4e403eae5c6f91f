"""``ctdetect import kibana rules.ndjson``: Kibana's rule export into the package's TOML.

Each line is converted on its own (``elastic.rule_import``); a line that cannot be imported
(bad JSON, not a rule, a rule_id the package or an earlier line already has, a file that
would be overwritten) is reported with its line number and the others are still written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ctdetect.content.loaders import load_rules
from ctdetect.elastic.rule_import import ImportedRule, NotARule, import_rule


@dataclass(slots=True)
class ImportReport:
    """What an import wrote and why anything was not: ``errors`` fail it (exit 1), ``notes`` do not."""

    package: Path
    imported: list[ImportedRule] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0


def _known_rule_ids(package: Path) -> dict[str, Path]:
    if not (package / "rules").is_dir():
        return {}
    return {r.rule_id: r.source.path for r in load_rules(package / "rules", []) if r.rule_id}


def import_kibana(source: Path, package: Path) -> ImportReport:
    """Import every rule of ``source`` (NDJSON) into ``package``; ``OSError`` if it cannot be read."""
    report = ImportReport(package)
    known = _known_rule_ids(package)
    planned: set[Path] = set()
    with source.open("rb") as stream:
        for number, raw in enumerate(stream, 1):
            where = f"{source}:{number}"
            if not raw.strip():
                continue
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                report.errors.append(f"{where}: not a JSON line ({exc})")
                continue
            try:
                rule = import_rule(body)
            except NotARule as exc:
                target = report.notes if str(exc).startswith(("the export summary", "an exception list")) else report.errors
                target.append(f"{where}: skipped, {exc}")
                continue
            except ValueError as exc:
                report.errors.append(f"{where}: {exc}")
                continue
            if rule.rule_id in known:
                report.errors.append(f"{where}: rule_id {rule.rule_id} ({rule.name!r}) is already in {known[rule.rule_id]}")
                continue
            targets = [package / rule.rule_path, package / rule.playbook_path]
            taken = [str(p) for p in targets if p.exists() or p in planned]
            if taken:
                report.errors.append(f"{where}: {rule.name!r} would overwrite {', '.join(taken)}")
                continue
            known[rule.rule_id] = targets[0]
            planned.update(targets)
            report.imported.append(rule)
            report.notes.extend(f"{where}: {rule.name!r}: {note}" for note in rule.notes)
            if rule.stub_note:
                report.notes.append(f"{where}: {rule.name!r} had no note: {rule.playbook_path} is a stub playbook, and the rule's note")
    for rule in report.imported:
        for rel, text in ((rule.rule_path, rule.rule_text), (rule.playbook_path, rule.playbook_text)):
            path = package / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return report
