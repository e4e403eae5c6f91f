"""Read TOML and JSON content files into (document, key lines), or a LoadProblem.

One place decides how a file that cannot be read or parsed is reported, so every loader
says the same thing for the same fault and none of them raises.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ctdetect.content.model import LoadProblem
from ctdetect.content.positions import LazyKeyLines, json_key_lines, toml_key_lines

try:  # tomli ships mypyc-compiled wheels: about 3x faster than the pure-Python tomllib
    import tomli as _toml
except ImportError:  # pragma: no cover - tomli is a dependency; tomllib has the same API
    import tomllib as _toml  # type: ignore[no-redef]

try:  # rtoml (Rust) parses well-formed files 2.5x faster still; tomli words the errors
    from rtoml import loads as _fast_loads
except ImportError:  # pragma: no cover - rtoml is a dependency; tomli alone is correct, only slower
    _fast_loads = None

_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def read_text(path: Path, problems: list[LoadProblem]) -> str | None:
    """The file's UTF-8 text, or ``None`` after recording why it could not be read."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(LoadProblem(path, None, None, "load.encoding", "error", f"not UTF-8 text: {exc.reason} at byte {exc.start}"))
    except OSError as exc:
        problems.append(LoadProblem(path, None, None, "load.unreadable", "error", f"cannot read file: {exc.strerror or exc}"))
    return None


def read_toml(path: Path, problems: list[LoadProblem]) -> tuple[dict[str, Any], LazyKeyLines] | None:
    """Parse a TOML file; on a syntax error record ``load.toml-syntax`` with its line and column."""
    text = read_text(path, problems)
    if text is None:
        return None
    try:
        doc = _parse_toml(text)
    except _toml.TOMLDecodeError as exc:
        message = str(exc)
        m = _TOML_POS.search(message)
        line = int(m.group(1)) if m else None
        column = int(m.group(2)) if m else None
        message = _TOML_POS.sub("", message).strip()
        problems.append(LoadProblem(path, line, column, "load.toml-syntax", "error", f"invalid TOML: {message}"))
        return None
    return doc, LazyKeyLines(text, toml_key_lines)


def _parse_toml(text: str) -> dict[str, Any]:
    """The document; raises ``TOMLDecodeError`` (from tomli, with line and column) when malformed."""
    if _fast_loads is not None:
        try:
            return _fast_loads(text)
        except Exception:  # noqa: BLE001 - any rtoml failure: let tomli decide and word it
            pass
    return _toml.loads(text)


def read_json(path: Path, problems: list[LoadProblem]) -> tuple[Any, LazyKeyLines] | None:
    """Parse a JSON file; on a syntax error record ``load.json-syntax`` with its line and column."""
    text = read_text(path, problems)
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(LoadProblem(path, exc.lineno, exc.colno, "load.json-syntax", "error", f"invalid JSON: {exc.msg}"))
        return None
    return doc, LazyKeyLines(text, json_key_lines)
