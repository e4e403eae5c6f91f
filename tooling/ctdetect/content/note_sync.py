"""Write each rule's ``note`` from its playbook, editing only that string in the TOML.

The playbook is the one source of truth for an investigation guide; the rule TOML carries a
copy because Kibana shows the rule's ``note``. tomlkit edits only the note, and the file is
then laid out as ``ctdetect fmt`` lays it out (Elastic's formatter), so a sync leaves a file
``fmt --check`` accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ctdetect.content.model import Package, Playbook, Rule
from ctdetect.content.playbooks import note_text, notes_equal


@dataclass(slots=True)
class NoteChange:
    """A rule whose note differs from its playbook (``written`` once the file is updated)."""

    rule_file: Path
    playbook_file: Path
    rule_id: str
    written: bool = False
    error: str | None = None


def out_of_sync(package: Package) -> list[tuple[Rule, Playbook]]:
    """(rule, playbook) pairs whose note differs; rules with no or several playbooks are skipped."""
    index: dict[str, list[Playbook]] = {}
    for playbook in package.playbooks:
        for rule_id in playbook.rule_ids:
            index.setdefault(rule_id, []).append(playbook)
    pairs = []
    for rule in package.rules:
        books = index.get(rule.rule_id, [])
        if len(books) == 1 and not notes_equal(rule.note, note_text(books[0])):
            pairs.append((rule, books[0]))
    return pairs


def _toml_string(text: str):  # type: ignore[no-untyped-def]
    """A multi-line TOML string for ``text``: literal (''') when it can be, else basic with escapes."""
    import tomlkit

    if "'''" not in text and all(ch == "\n" or ch == "\t" or ord(ch) >= 0x20 and ch != "\x7f" for ch in text):
        return tomlkit.string(text, literal=True, multiline=True)
    return tomlkit.string(text, multiline=True)


def write_note(rule_file: Path, note: str) -> None:
    """Set ``[rule].note`` in ``rule_file`` to ``note``, keeping the rest of the file as it is.

    The result is then laid out as ``ctdetect fmt`` would (Elastic's formatter), so a sync
    never leaves a file that ``fmt --check`` rejects; a file fmt cannot format safely keeps
    tomlkit's minimal edit.
    """
    import tomlkit

    from ctdetect.content.rule_format import FormatError, format_rule

    doc = tomlkit.parse(rule_file.read_text(encoding="utf-8"))
    rule = doc.get("rule")
    if rule is None:
        raise ValueError("no [rule] table")
    rule["note"] = _toml_string(note)
    text = tomlkit.dumps(doc)
    try:
        text = format_rule(text)
    except FormatError:
        pass
    rule_file.write_text(text, encoding="utf-8")


def sync_notes(package: Package, *, check_only: bool = False) -> list[NoteChange]:
    """Find (and unless ``check_only``, fix) every rule whose note differs from its playbook."""
    changes = []
    for rule, playbook in out_of_sync(package):
        change = NoteChange(rule.source.path, playbook.source.path, rule.rule_id)
        if not check_only:
            try:
                write_note(rule.source.path, note_text(playbook))
                change.written = True
            except Exception as exc:  # noqa: BLE001 - one unwritable rule must not stop the others
                change.error = f"{type(exc).__name__}: {exc}"
        changes.append(change)
    return changes
