"""The detection content that ships with ctdetect, and when a command uses it.

A wheel carries the package's rules, ML jobs, datafeeds, playbooks, hunting queries and
scenarios in ``ctdetect/bundled/`` (copied there at build time by ``setup.py``), so
``pip install ctdetect`` followed by ``ctdetect hunt logs/`` runs real content instead of
nothing. In an editable install or a plain checkout there is no copy: the checkout's own
folders are the bundled content.

A command that only reads content (hunt, replay, view-rule, coverage, playbooks, export)
uses the bundled content when it was given no package and the current folder is not one
(``content.locate.resolve_package(..., bundled=True)``); it then says so in its summary
(``describe``), so a user never mistakes "ran the shipped rules" for "ran my rules".
Commands that write (fmt, new, deploy) and validate never fall back: they need the
user's own package.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ctdetect import __version__
from ctdetect.content.loaders import is_package

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # .../ctdetect
_INSTALLED = _PACKAGE_DIR / "bundled"
_CHECKOUT = _PACKAGE_DIR.parent.parent  # <checkout>/tooling/ctdetect -> <checkout>


def bundled_root() -> Path | None:
    """The folder holding the shipped content, or ``None`` when this build has none."""
    if is_package(_INSTALLED):
        return _INSTALLED
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "tooling" / "ctdetect").is_dir() and is_package(_CHECKOUT):
        return _CHECKOUT
    return None


@dataclass(frozen=True, slots=True)
class ContentRoot:
    """Where a command's content comes from: a package folder, or the bundled content."""

    path: Path
    bundled: bool = False

    def describe(self) -> str:
        """The words a summary uses for it: ``bundled with ctdetect 0.1.0`` or the folder."""
        if self.bundled:
            return f"bundled with ctdetect {__version__}"
        return f"package {self.path}"


def is_bundled(path: Path) -> bool:
    """Whether ``path`` names the bundled content itself (an absolute path, as the fallback
    gives it; a package named ``.`` is the user's own even inside a checkout)."""
    shipped = bundled_root()
    return shipped is not None and path.is_absolute() and path.resolve() == shipped.resolve()


def content_root(package: str | Path | None) -> ContentRoot | None:
    """How a run describes the package it was given (``None``: no package, only what
    ``--rules``/``--jobs`` name). The package itself is chosen by ``content.locate``."""
    if package is None:
        return None
    path = Path(package)
    return ContentRoot(path, bundled=is_bundled(path))
