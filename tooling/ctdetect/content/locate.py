"""Which content package a command works on: the one place ``--package`` is resolved.

Every command that reads the package (validate, replay, hunt, coverage, playbooks, deploy,
export, view-rule, stack) asks here, so they agree on what "the package" is and fail the
same way when there is none. Why it matters: run from an unrelated folder, a command that
quietly took that folder as its package would validate nothing, hunt with no rules, or
crawl every ``.toml`` below it, and report success. Here, a folder is a package only when
it holds one of the content folders (``content.loaders.PACKAGE_FOLDERS``).
"""

from __future__ import annotations

from pathlib import Path

from ctdetect.content.bundled import bundled_root
from ctdetect.content.loaders import PACKAGE_FOLDERS, is_package


class PackageNotFound(ValueError):
    """No content package where one was asked for (or none in the current folder)."""


def resolve_package(value: str | Path | None, bundled: bool = False) -> Path:
    """The package root to use: ``value`` when given (it must be a package folder), else
    the current folder when it is one, else (``bundled``: read-only commands) the content
    shipped with ctdetect (``content.bundled``). Raises ``PackageNotFound`` with what to do."""
    folders = ", ".join(f"{name}/" for name in PACKAGE_FOLDERS)
    if value is None or str(value) == "":
        here = Path(".")
        if is_package(here):
            return here
        shipped = bundled_root() if bundled else None
        if shipped is not None:
            return shipped
        raise PackageNotFound(
            f"{Path.cwd()} is not a content package (it has none of {folders}); "
            "run the command in a package folder or pass --package DIR"
        )
    path = Path(value)
    if not path.exists():
        raise PackageNotFound(f"{path}: no such folder")
    if not path.is_dir():
        raise PackageNotFound(f"{path}: not a folder (a package is a folder holding {folders})")
    if not is_package(path):
        raise PackageNotFound(f"{path}: not a content package (it has none of {folders})")
    return path
