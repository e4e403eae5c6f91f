"""``ctdetect init`` and ``ctdetect new``: put scaffolded content on disk.

The texts come from ``content.scaffold``; this module decides where they go and refuses
to overwrite: a scaffold never replaces a file someone wrote, and when any target exists
nothing is written at all (no half-made rule).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ctdetect.content.bundled import bundled_root
from ctdetect.content.loaders import EXTERNAL_JOBS_FILE, PACKAGE_FOLDERS, is_package
from ctdetect.content.scaffold import Scaffold, ScaffoldError, new_hunt, new_job, new_repository, new_rule


@dataclass(slots=True)
class Written:
    """What a scaffold command made: the root, the files, and a line per item for people."""

    root: Path
    files: list[Path] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)


def write_scaffold(root: Path, scaffold: Scaffold) -> Written:
    """Write every file of ``scaffold`` under ``root``; ``ScaffoldError`` (and nothing written)
    when one already exists."""
    targets = {root / rel: text for rel, text in scaffold.files.items()}
    existing = sorted(str(p) for p in targets if p.exists())
    if existing:
        raise ScaffoldError(f"would overwrite {', '.join(existing)}: choose another name, or move the files away")
    for path, text in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return Written(root, sorted(targets), list(scaffold.summary))


def init_repository(target: Path, *, from_bundled: bool = False) -> Written:
    """A new content repository in ``target`` (absent or empty): layout, CI, hooks, and
    either one example rule or (``from_bundled``) a copy of the content shipped with ctdetect."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} exists and is not an empty folder")
    shipped = bundled_root() if from_bundled else None
    if from_bundled and shipped is None:
        raise ScaffoldError("this ctdetect build has no bundled content to start from")
    scaffold = new_repository(target.resolve().name, example=not from_bundled)
    target.mkdir(parents=True, exist_ok=True)
    written = write_scaffold(target, scaffold)
    for name in PACKAGE_FOLDERS:
        folder = target / name
        if shipped is not None and (shipped / name).is_dir():
            shutil.copytree(shipped / name, folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        folder.mkdir(exist_ok=True)
    if shipped is not None and (shipped / EXTERNAL_JOBS_FILE).is_file():
        shutil.copy2(shipped / EXTERNAL_JOBS_FILE, target / EXTERNAL_JOBS_FILE)
    if shipped is not None:
        copied = sum(1 for p in target.rglob("*") if p.is_file()) - len(written.files)
        written.summary.append(f"the content bundled with ctdetect: {copied} files (rules, jobs, datafeeds, playbooks, scenarios)")
    (target / "playbooks" / "hunting").mkdir(exist_ok=True)
    return written


def new_item(kind: str, name: str, package_root: Path, *, provider: str | None = None, action: str | None = None) -> Written:
    """Scaffold a ``rule``, ``job`` or ``hunt`` named ``name`` into the package at ``package_root``."""
    if not is_package(package_root):
        raise ScaffoldError(f"{package_root} is not a content package (no rules/, ml_jobs/, playbooks/ or scenarios/ folder): "
                            "create one with `ctdetect init DIR`")
    where = {k: v for k, v in (("provider", provider), ("action", action)) if v is not None}
    if kind == "rule":
        scaffold = new_rule(name, **where)
    elif kind == "hunt":
        scaffold = new_hunt(name, **where)
    elif kind == "job":
        if where:
            raise ScaffoldError("--provider and --action describe rules and hunting queries, not jobs")
        scaffold = new_job(name)
    else:
        raise ScaffoldError(f"unknown kind {kind!r}: rule, job or hunt")
    return write_scaffold(package_root, scaffold)
