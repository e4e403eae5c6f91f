"""``playbooks sync`` and ``playbooks list``: the loading and file writing behind them.

Kept out of the command so it stays thin (options in, text out) and the same verdict is
available to anything else (a pre-commit hook, a test): load the package, report its load
problems, then sync rule notes from playbooks (``content.note_sync``) or list the hunting
queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ctdetect.content.model import HuntingQuery, LoadProblem, Package
from ctdetect.content.note_sync import NoteChange


@dataclass(slots=True)
class PlaybookRun:
    """What a sync or list found: the changes (sync), the queries (list), load problems."""

    problems: list[LoadProblem] = field(default_factory=list)
    changes: list[NoteChange] = field(default_factory=list)
    queries: list[HuntingQuery] = field(default_factory=list)

    @property
    def failed(self) -> list[NoteChange]:
        return [c for c in self.changes if c.error]


def _load(root: Path) -> Package:
    from ctdetect.content.loaders import load_package

    return load_package(root)


def sync(root: Path, *, check_only: bool) -> PlaybookRun:
    """Write (or, ``check_only``, only find) each rule note that differs from its playbook."""
    from ctdetect.content.note_sync import sync_notes

    package = _load(root)
    return PlaybookRun(problems=list(package.problems), changes=sync_notes(package, check_only=check_only))


def hunting_queries(root: Path) -> PlaybookRun:
    """The package's hunting queries, sorted by id."""
    package = _load(root)
    return PlaybookRun(problems=list(package.problems), queries=sorted(package.hunting_queries, key=lambda h: h.id))
