"""Load the field catalogue from ``ctdetect/data/fields.json`` and the non-ECS schema
``ctdetect/data/non-ecs-schema.json`` (cached once per process).

The non-ECS schema has detection-rules' own shape (index pattern -> field -> type) so a
file can move between the two repositories unchanged; it declares the sub-keys of
``flattened`` fields that the package's content reads, which Elastic's tooling requires.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from ctdetect.catalogue.model import CatalogueError, FieldCatalogue

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "fields.json"
NON_ECS_SCHEMA_PATH = DEFAULT_PATH.with_name("non-ecs-schema.json")


def load_catalogue(path: str | Path | None = None, *, schema_path: str | Path | None = None) -> FieldCatalogue:
    """The field catalogue: the package's own by default, or one read from ``path``.

    ``schema_path`` names a non-ECS schema (default: the package's own). The default
    catalogue is loaded once and shared (it is read-only). Raises :class:`CatalogueError`
    with the file name when a file is unreadable or malformed.
    """
    if path is None and schema_path is None:
        return _load_default()
    return _read(Path(path or DEFAULT_PATH), Path(schema_path or NON_ECS_SCHEMA_PATH))


@lru_cache(maxsize=1)
def _load_default() -> FieldCatalogue:
    return _read(DEFAULT_PATH, NON_ECS_SCHEMA_PATH)


def _json(path: Path, what: str) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: {what} is not valid JSON: {exc}") from None


def read_non_ecs_schema(path: Path) -> dict[str, tuple[str, str]]:
    """``{field: (type, index pattern)}`` from a detection-rules-shaped non-ECS schema.

    The first index pattern that declares a field names it; a missing file declares
    nothing (a user may delete it), a malformed one raises :class:`CatalogueError`.
    """
    if not path.exists():
        return {}
    doc = _json(path, "non-ECS schema")
    if not isinstance(doc, dict):
        raise CatalogueError(f"{path}: non-ECS schema must be an object of index pattern -> {{field: type}}")
    declared: dict[str, tuple[str, str]] = {}
    for pattern, fields in doc.items():
        if not isinstance(fields, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items()):
            raise CatalogueError(f"{path}: index pattern {pattern!r}: expected an object of field -> type")
        for name, ftype in fields.items():
            declared.setdefault(name, (ftype, pattern))
    return declared


def _read(path: Path, schema_path: Path) -> FieldCatalogue:
    doc = _json(path, "field catalogue")
    if not isinstance(doc, dict) or not isinstance(doc.get("fields"), dict):
        raise CatalogueError(f"{path}: field catalogue has no 'fields' object")
    fields: dict[str, tuple[str, str, str | None]] = {}
    for name, entry in doc["fields"].items():
        if (
            not isinstance(entry, list)
            or len(entry) not in (2, 3)
            or not all(isinstance(part, str) for part in entry)
        ):
            raise CatalogueError(f"{path}: field {name!r}: expected [type, source] or [type, source, parent], got {entry!r}")
        fields[name] = (entry[0], entry[1], entry[2] if len(entry) == 3 else None)
    return FieldCatalogue(
        fields,
        ecs_version=str(doc.get("ecs_version", "")),
        sources=doc.get("sources") if isinstance(doc.get("sources"), dict) else {},
        origin=str(path),
        declared=read_non_ecs_schema(schema_path),
        schema_origin=str(schema_path),
    )
