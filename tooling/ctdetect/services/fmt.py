"""``ctdetect fmt``: lay rule TOML files out as Elastic's detection-rules formatter does.

Which files: in a package, every ``*.toml`` under ``rules/``; in any other folder, every
``*.toml`` holding a ``[rule]`` table (other TOML files are left alone); a file named on
the command line is always formatted. A file is only ever rewritten with text that reads
back as the same rule (``content.rule_format``); one that cannot be formatted safely is
reported and kept as it is. Formatting is idempotent, so it is safe to re-run after
anyone's edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ctdetect.content.rule_format import FormatError, format_rule


@dataclass(slots=True)
class FormatResult:
    """What ``fmt`` found: files already formatted, changed (or to change), and failures."""

    unchanged: list[Path] = field(default_factory=list)
    changed: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    def exit_code(self, check: bool) -> int:
        """1 when a file could not be formatted, or (with ``--check``) when one would change."""
        return 1 if self.failed or (check and self.changed) else 0


def rule_files(path: Path) -> tuple[list[Path], bool]:
    """(files to format, whether they were named explicitly) for one command-line path."""
    if path.is_file():
        return [path], True
    root = path / "rules" if (path / "rules").is_dir() else path
    return sorted(p for p in root.rglob("*.toml") if p.is_file()), False


def format_paths(paths: Iterable[Path], *, check: bool = False) -> FormatResult:
    """Format (or with ``check``, only compare) every rule file under ``paths``."""
    result = FormatResult()
    for path in paths:
        files, named = rule_files(path)
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
                formatted = format_rule(text)
            except (OSError, UnicodeDecodeError) as exc:
                result.failed.append((file, f"cannot read: {getattr(exc, 'strerror', None) or exc}"))
                continue
            except FormatError as exc:
                if named or "no [rule] table" not in str(exc):
                    result.failed.append((file, str(exc)))
                continue
            if formatted == text:
                result.unchanged.append(file)
                continue
            result.changed.append(file)
            if not check:
                try:
                    file.write_text(formatted, encoding="utf-8")
                except OSError as exc:
                    result.changed.pop()
                    result.failed.append((file, f"cannot write: {exc.strerror or exc}"))
    return result
