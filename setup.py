"""Build hook: the package's detection content ships inside the wheel.

The content folders (rules, ML jobs, datafeeds, playbooks with hunting queries, scenarios)
live at the repository root, beside ``tooling/``, because they are the product people
review and edit. A wheel holds only what is under a Python package, so at build time this
hook copies them into ``ctdetect/bundled/`` of the build tree; ``ctdetect.content.bundled``
finds them there once installed. Nothing is copied into the source tree, and an editable
install (``pip install -e .``) needs no copy: it reads the checkout's own folders.
Everything else about the build is declared in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# kept in step with ctdetect.content.loaders.PACKAGE_FOLDERS / EXTERNAL_JOBS_FILE
CONTENT_FOLDERS = ("rules", "ml_jobs", "datafeeds", "playbooks", "scenarios")
CONTENT_FILES = ("external_jobs.toml",)
TARGET = ("ctdetect", "bundled")
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


class BuildPyWithContent(build_py):
    """``build_py`` that also copies the content folders into ``ctdetect/bundled/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # the editable package reads the checkout's folders directly
        self._copied = copy_content(Path(self.build_lib).joinpath(*TARGET))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return list(super().get_outputs(include_bytecode)) + [str(p) for p in getattr(self, "_copied", [])]


def copy_content(target: Path) -> list[Path]:
    """Copy every content folder and file present at the root into ``target``; the files copied."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in CONTENT_FOLDERS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, target / name, ignore=JUNK)
    for name in CONTENT_FILES:
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, target / name)
    return sorted(p for p in target.rglob("*") if p.is_file())


setup(cmdclass={"build_py": BuildPyWithContent})
