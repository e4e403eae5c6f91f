"""Read ``ctdetect/data/attack-enterprise.json`` into an :class:`Attack` (once per process)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from ctdetect.attack.model import Attack, AttackDataError, Tactic, Technique

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "attack-enterprise.json"


def load_attack(path: str | Path | None = None) -> Attack:
    """The pinned ATT&CK Enterprise data (cached), or a data file of the same format at ``path``.

    Nothing is read at import time; the default file is parsed on the first call only.
    Raises :class:`AttackDataError` naming the file when it is unreadable or malformed.
    """
    if path is None:
        return _load_default()
    return _read(Path(path))


@lru_cache(maxsize=1)
def _load_default() -> Attack:
    return _read(DEFAULT_PATH)


def _read(path: Path) -> Attack:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AttackDataError(f"{path}: cannot read ATT&CK data: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AttackDataError(f"{path}: ATT&CK data is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tactics"), list) or not isinstance(doc.get("techniques"), list):
        raise AttackDataError(f"{path}: ATT&CK data needs 'tactics' and 'techniques' lists")
    tactics = [_tactic(path, i, row) for i, row in enumerate(doc["tactics"])]
    techniques = [_technique(path, i, row) for i, row in enumerate(doc["techniques"])]
    return Attack(
        str(doc.get("version", "")),
        tactics,
        techniques,
        domain=str(doc.get("domain", "enterprise-attack")),
        source=doc.get("source") if isinstance(doc.get("source"), dict) else {},
    )


def _tactic(path: Path, index: int, row: Any) -> Tactic:
    if not (isinstance(row, list) and len(row) == 3 and all(isinstance(x, str) for x in row)):
        raise AttackDataError(f"{path}: tactics[{index}]: expected [id, name, shortname], got {row!r}")
    return Tactic(row[0], row[1], row[2])


def _technique(path: Path, index: int, row: Any) -> Technique:
    ok = (
        isinstance(row, list)
        and len(row) in (4, 5)
        and isinstance(row[0], str)
        and isinstance(row[1], str)
        and isinstance(row[2], list)
        and all(isinstance(x, str) for x in row[2])
        and isinstance(row[3], str)
        and (len(row) == 4 or isinstance(row[4], str))
    )
    if not ok:
        raise AttackDataError(
            f"{path}: techniques[{index}]: expected [id, name, [tactic ids], flags, revoked_by?], got {row!r}"
        )
    return Technique(
        id=row[0],
        name=row[1],
        tactics=frozenset(row[2]),
        deprecated="d" in row[3],
        revoked="r" in row[3],
        revoked_by=row[4] if len(row) == 5 else None,
    )
