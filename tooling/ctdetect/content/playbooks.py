"""Playbooks (investigation guides, Markdown with YAML front matter) and hunting queries.

A playbook is the one source of truth for the ``note`` of the rules it names: ``note_text``
gives the note a rule must carry, ``ctdetect playbooks sync`` writes it, and validation
reports a rule whose note differs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ctdetect.content.model import HuntingQuery, LoadProblem, Located, Playbook
from ctdetect.content.rules import parse_threats

_FENCE = "---"
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def parse_playbook(path: Path, text: str, problems: list[LoadProblem]) -> Playbook | None:
    """Split front matter from body; record ``playbook.front-matter`` problems and go on."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != _FENCE:
        problems.append(LoadProblem(path, 1, 1, "playbook.front-matter", "error", "playbook must start with a '---' YAML front matter naming its rule_ids and title"))
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == _FENCE), None)
    if end is None:
        problems.append(LoadProblem(path, 1, 1, "playbook.front-matter", "error", "front matter is not closed by a '---' line"))
        return None
    meta = _simple_front_matter(lines[1:end])
    if meta is None:
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        try:
            meta = yaml.load("\n".join(lines[1:end]), Loader=loader)  # noqa: S506 - a safe loader
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 2 if mark is not None else 1
            column = mark.column + 1 if mark is not None else None
            problems.append(LoadProblem(path, line, column, "playbook.front-matter", "error", f"invalid YAML front matter: {getattr(exc, 'problem', None) or exc}"))
            return None
    if not isinstance(meta, dict):
        problems.append(LoadProblem(path, 2, 1, "playbook.front-matter", "error", "front matter must be a mapping with rule_ids and title"))
        return None
    key_lines = {}
    for i in range(1, end):
        m = re.match(r"^([A-Za-z_][\w-]*)\s*:", lines[i])
        if m:
            key_lines[m.group(1)] = i + 1
    key_lines["body"] = end + 2
    rule_ids = meta.get("rule_ids")
    if isinstance(rule_ids, str):
        rule_ids = [rule_ids]
    if not isinstance(rule_ids, list) or not rule_ids or not all(isinstance(r, str) for r in rule_ids):
        problems.append(LoadProblem(path, key_lines.get("rule_ids", 2), 1, "playbook.front-matter", "error", "front matter needs 'rule_ids': a non-empty list of rule_id strings"))
        rule_ids = [r for r in rule_ids if isinstance(r, str)] if isinstance(rule_ids, list) else []
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(LoadProblem(path, key_lines.get("title", 2), 1, "playbook.front-matter", "error", "front matter needs a non-empty 'title' string"))
        title = ""
    body = "\n".join(lines[end + 1 :])
    return Playbook(source=Located(path, key_lines), rule_ids=list(rule_ids), title=title, body=body, sections=split_sections(body))


_SIMPLE_LINE = re.compile(r"^([A-Za-z_][\w-]*):\s*(.*?)\s*$")


def _simple_front_matter(lines: list[str]) -> dict[str, Any] | None:
    """Front matter written as ``key: <JSON value>`` lines (what ctdetect writes), without YAML.

    Importing PyYAML costs a noticeable slice of ``validate``'s start-up; this reads the
    common form directly and returns ``None`` (use YAML) for anything else.
    """
    import json

    meta: dict[str, Any] = {}
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _SIMPLE_LINE.match(line)
        if not m:
            return None
        try:
            meta[m.group(1)] = json.loads(m.group(2))
        except ValueError:
            return None
    return meta


def split_sections(body: str) -> dict[str, str]:
    """``## Heading`` -> the text under it (level-2 headings; deeper ones stay in the text)."""
    sections: dict[str, str] = {}
    current: str | None = None
    buf: list[str] = []
    for line in body.splitlines():
        m = _HEADING.match(line)
        if m and len(m.group(1)) == 2:
            if current is not None:
                sections[current] = "\n".join(buf).strip()
            current, buf = m.group(2), []
        elif current is not None:
            buf.append(line)
    if current is not None:
        sections[current] = "\n".join(buf).strip()
    return sections


def playbook_text(rule_ids: list[str], title: str, body: str) -> str:
    """A playbook file: front matter in the ``key: <JSON>`` form ``_simple_front_matter`` reads
    without YAML, then ``body`` (a rule's note) ending in one newline."""
    import json

    return f"---\nrule_ids: {json.dumps(rule_ids)}\ntitle: {json.dumps(title, ensure_ascii=False)}\n---\n{body.strip()}\n"


def note_text(playbook: Playbook) -> str:
    """The ``note`` a rule must carry for this playbook: its body, trimmed, ending in one newline."""
    return playbook.body.strip() + "\n"


def notes_equal(note: str | None, expected: str) -> bool:
    """Compare a rule's note with a playbook's, ignoring only leading/trailing blank space."""
    return note is not None and note.strip() == expected.strip()


def hunting_query_from_document(doc: dict[str, Any], source: Located) -> HuntingQuery:
    """Typed view of a hunting query TOML (lenient; the schema check reports bad values)."""

    def s(key: str, default: str = "") -> str:
        value = doc.get(key)
        return value if isinstance(value, str) else default

    tags = doc.get("tags")
    return HuntingQuery(
        source=source,
        raw=doc,
        id=s("id"),
        name=s("name"),
        description=s("description"),
        query=s("query"),
        language=s("language", "kuery"),
        normal=s("normal"),
        tags=[t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
        threat=parse_threats(doc.get("threat")),
    )
