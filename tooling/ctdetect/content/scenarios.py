"""Build a typed ``Scenario`` from ``scenarios/<name>/scenario.toml``.

Lenient: malformed entries are skipped here and reported by the scenario schema check, so
one bad expectation never hides the rest of the scenario.
"""

from __future__ import annotations

from typing import Any

from ctdetect.content.model import EventSource, Expectation, Located, Scenario, SynthSpec


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def scenario_from_document(doc: dict[str, Any], source: Located) -> Scenario:
    folder = source.path.parent
    events = []
    for item in doc.get("events") if isinstance(doc.get("events"), list) else []:
        if isinstance(item, dict) and isinstance(item.get("path"), str):
            fmt = item.get("format")
            events.append(EventSource(path=folder / item["path"], format=fmt if isinstance(fmt, str) else "auto"))
    synth = [SynthSpec(params=dict(item)) for item in (doc.get("synth") or []) if isinstance(item, dict)]
    expectations = []
    raw_expect = doc.get("expect")
    for index, item in enumerate(raw_expect if isinstance(raw_expect, list) else []):
        if not isinstance(item, dict):
            continue
        fires = item.get("fires", True)
        entity = item.get("entity")
        expectations.append(
            Expectation(
                source=source,
                index=index,
                rule=_opt_str(item.get("rule")),
                job=_opt_str(item.get("job")),
                fires=fires if isinstance(fires, bool) else True,
                entity=dict(entity) if isinstance(entity, dict) else {},
                min_count=_int(item.get("min_count")),
                max_count=_int(item.get("max_count")),
                min_score=_num(item.get("min_score")),
                after=_opt_str(item.get("after")),
                before=_opt_str(item.get("before")),
                waits_for=_opt_str(item.get("waits_for")),
                description=_opt_str(item.get("description")) or "",
            )
        )
    tags = doc.get("tags")
    name = doc.get("name")
    description = doc.get("description")
    return Scenario(
        source=source,
        name=name if isinstance(name, str) else folder.name,
        description=description if isinstance(description, str) else "",
        events=events,
        synth=synth,
        expectations=expectations,
        tags=[t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
        raw=doc,
    )
