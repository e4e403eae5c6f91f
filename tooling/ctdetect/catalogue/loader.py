"""Load the field catalogue from ``ctdetect/data/fields.json`` (cached once per process)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from ctdetect.catalogue.model import CatalogueError, FieldCatalogue

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "fields.json"


def load_catalogue(path: str | Path | None = None) -> FieldCatalogue:
    """The field catalogue: the package's own by default, or one read from ``path``.

    The default catalogue is loaded once and shared (it is read-only). Raises
    :class:`CatalogueError` with the file name when the file is unreadable or malformed.
    """
    if path is None:
        return _load_default()
    return _read(Path(path))


@lru_cache(maxsize=1)
def _load_default() -> FieldCatalogue:
    return _read(DEFAULT_PATH)


def _read(path: Path) -> FieldCatalogue:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read field catalogue: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: field catalogue is not valid JSON: {exc}") from None
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
    )
