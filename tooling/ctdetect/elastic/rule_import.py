"""Kibana detection rule (API / export body) -> rule TOML in Elastic's detection-rules format.

The inverse of ``rule_body``: Kibana's ``rules.ndjson`` (Security > Rules > Export, or
``ctdetect export``) holds one rule body per line; each becomes a ``[metadata]`` + ``[rule]``
document. What is kept and what is not, and why:

- every field the TOML holds (``schemas/rule.json``) and Kibana's create API accepts for the
  rule's type (``rule_body.allowed_fields``) is kept as Kibana wrote it, ``version`` too, so
  the rule deploys back unchanged; ``new_terms_fields`` + ``history_window_start`` fold back into the TOML's
  ``[rule.new_terms]`` table;
- what Kibana manages itself (``id``, ``created_*``, ``updated_*``, ``immutable``,
  ``rule_source``, ``revision``, ``execution_summary``) is dropped silently: a deploy may
  not send it; any other field the TOML cannot hold is dropped and named in ``notes``;
- ``enabled`` is kept only when false (the TOML default is enabled; export writes it out);
- ctdetect's own ownership marker (``meta.ctdetect``, the ``ctdetect`` tag it appended) is
  removed, as deploy and export add it again;
- ``[metadata]``: ``creation_date``/``updated_date`` from ``created_at``/``updated_at`` (today
  when absent), ``maturity = "production"`` (the rule runs in Kibana), ``integration`` from
  ``related_integrations`` packages.

So ``ctdetect export`` -> ``ctdetect import kibana`` -> ``ctdetect export`` gives the same
file. A rule's ``note`` becomes its playbook (``playbooks/<stem>.md``); a rule without one
gets a playbook stub with the four sections and that stub as its note, so ``validate``
passes and the guide has a place to grow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ctdetect.content.playbooks import playbook_text
from ctdetect.content.rule_format import FormatError, dump_rule
from ctdetect.content.scaffold import slug
from ctdetect.elastic.ownership import without_rule_marker
from ctdetect.elastic.rule_body import allowed_fields
from ctdetect.schemas import load_schema

SERVER_FIELDS = frozenset(
    {"id", "created_at", "created_by", "updated_at", "updated_by", "immutable", "rule_source", "revision", "execution_summary"}
)
EXTRA_TOML_FIELDS = frozenset({"version"})
STUB_NOTE = """## Triage and analysis

1. Read who did what, from where, in the alert's fields.

## Pivots

- Everything the same principal did around the alert.

## What benign looks like

- Planned work by the people or pipelines that own the resource.

## Response

1. If not expected: contain the principal's credentials and undo the change.
"""
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


class NotARule(ValueError):
    """A line of the export that is not a detection rule (the reason says what it is)."""


@dataclass(slots=True)
class ImportedRule:
    """One converted rule: its TOML and playbook texts, where they go, and what was left out."""

    rule_id: str
    name: str
    rule_path: str  # relative to the package root
    rule_text: str
    playbook_path: str
    playbook_text: str
    stub_note: bool = False
    notes: list[str] = field(default_factory=list)


def _day(value: Any) -> str:
    m = _DAY.match(value) if isinstance(value, str) else None
    return f"{m.group(1)}/{m.group(2)}/{m.group(3)}" if m else date.today().strftime("%Y/%m/%d")


def _integrations(body: dict[str, Any]) -> list[str]:
    found = [r.get("package") for r in body.get("related_integrations") or [] if isinstance(r, dict)]
    return sorted({p for p in found if isinstance(p, str) and p})


def _fold_new_terms(body: dict[str, Any]) -> dict[str, Any]:
    """API ``new_terms_fields`` + ``history_window_start`` -> the TOML's ``new_terms`` table."""
    out = dict(body)
    if out.get("type") != "new_terms" or "new_terms_fields" not in out:
        return out
    spec: dict[str, Any] = {"field": "new_terms_fields", "value": out.pop("new_terms_fields")}
    if "history_window_start" in out:
        spec["history_window_start"] = [{"field": "history_window_start", "value": out.pop("history_window_start")}]
    out["new_terms"] = spec
    return out


def _rule_table(body: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    rule_type = str(body.get("type", ""))
    toml_fields = set(load_schema("rule")["properties"]["rule"]["properties"])
    keep = (allowed_fields(rule_type) | EXTRA_TOML_FIELDS | {"new_terms"}) & toml_fields
    table: dict[str, Any] = {}
    for key, value in _fold_new_terms(without_rule_marker(body)).items():
        if key in SERVER_FIELDS:
            continue
        if key == "enabled":
            if value is False:
                table["enabled"] = False
            continue
        if key not in keep:
            notes.append(f"left out {key!r}: not a field of a {rule_type} rule in the TOML format")
            continue
        table[key] = value
    return table


def import_rule(body: Any) -> ImportedRule:
    """Convert one export line (parsed JSON). ``NotARule`` for export summaries, exception
    lists and anything else without a rule's shape; ``ValueError`` when the TOML cannot hold it."""
    if not isinstance(body, dict):
        raise NotARule("not a JSON object")
    if "exported_count" in body or "exported_rules_count" in body:
        raise NotARule("the export summary")
    if "list_id" in body and "rule_id" not in body:
        raise NotARule("an exception list or list item (not imported: the TOML format holds rules only)")
    missing = [k for k in ("rule_id", "name", "type") if not isinstance(body.get(k), str) or not body.get(k)]
    if missing:
        raise NotARule(f"no {', '.join(missing)}: not a detection rule")
    notes: list[str] = []
    table = _rule_table(body, notes)
    stub = not isinstance(table.get("note"), str) or not table["note"].strip()
    if stub:
        table["note"] = STUB_NOTE
    metadata: dict[str, Any] = {
        "creation_date": _day(body.get("created_at")),
        "maturity": "production",
        "updated_date": _day(body.get("updated_at") or body.get("created_at")),
    }
    integrations = _integrations(body)
    if integrations:
        metadata["integration"] = integrations
    try:
        text = dump_rule({"metadata": metadata, "rule": table})
    except FormatError as exc:
        raise ValueError(f"rule {body['rule_id']}: {exc}") from None
    stem = slug(body["name"])
    folder = "rules/ml" if body["type"] == "machine_learning" else "rules"
    return ImportedRule(
        rule_id=body["rule_id"],
        name=body["name"],
        rule_path=f"{folder}/{stem}.toml",
        rule_text=text,
        playbook_path=f"playbooks/{stem}.md",
        playbook_text=playbook_text([body["rule_id"]], f"Investigating: {body['name']}", table["note"]),
        stub_note=stub,
        notes=notes,
    )
