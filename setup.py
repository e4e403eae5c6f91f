"""Build hook: the package's detection content ships inside the wheel.

The content folders (rules, ML jobs, datafeeds, playbooks with hunting queries, scenarios)
live at the repository root, beside ``tooling/``, because they are the product people
review and edit. A wheel holds only what is under a Python package, so at build time this
hook copies them into ``ctdetect/bundled/`` of the build tree; ``ctdetect.content.bundled``
finds them there once installed. Nothing is copied into the source tree, and an editable
install (``pip install -e .``) needs no copy: it reads the checkout's own folders.

The count-series hot path (``ctdetect.engine.anomaly.accelerated.ACCELERATED``) is also
compiled by Cython from the very ``.py`` modules, typed by the ``.pxd`` file beside each.
That is optional: without Cython or a C compiler, or when compiling fails, the build
prints one warning line and the package runs the same modules as pure Python. Floating
point stays exact: no ``-ffast-math``, no ``-march=native``, no contraction of ``a*b + c``
into a fused multiply-add. With the extensions the wheel is platform-specific.
Everything else about the build is declared in ``pyproject.toml``.
"""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
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


ANOMALY = Path("tooling", "ctdetect", "engine", "anomaly")
# exact IEEE arithmetic as CPython's: no fused multiply-add, no fast-math, generic target
COMPILE_ARGS = ["-O2", "-ffp-contract=off", "-fno-fast-math"]
DIRECTIVES = {"language_level": 3, "binding": True, "annotation_typing": False, "cdivision": False,
              "boundscheck": True, "wraparound": True, "embedsignature": False}


def _warn(why: object) -> None:
    print(f"WARNING: ctdetect builds without its compiled anomaly modules (pure Python, same results): {why}",
          file=sys.stderr)


def accelerated_names(name: str) -> Any:
    """A constant of ``accelerated.py`` (``ACCELERATED``, ``SPECIAL``), read without importing the package."""
    tree = ast.parse((ROOT / ANOMALY / "accelerated.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError(f"{name} not found in accelerated.py")


def _extension(name: str, suffix: str) -> Extension:
    """The extension of module ``name`` of the anomaly package (dotted for a subpackage's)."""
    *folders, module = name.split(".")
    source = ANOMALY.joinpath(*folders, module + suffix)
    return Extension(f"ctdetect.engine.anomaly.{name}", [str(source)], extra_compile_args=COMPILE_ARGS)


def extensions() -> list[Any]:
    """The Cython extension modules, or none (with one warning) when Cython cannot run: the
    accelerated ``.py`` modules, and ``_cspecial.pyx`` when scipy's ``cython_special`` is at hand."""
    try:
        from Cython.Build import cythonize

        modules = [_extension(name, ".py") for name in accelerated_names("ACCELERATED")]
        built = list(cythonize(modules, compiler_directives=DIRECTIVES, include_path=["tooling"], quiet=True))
    except Exception as exc:  # noqa: BLE001 - any failure means: build the pure-Python package
        _warn(exc)
        return []
    try:
        special = _extension(accelerated_names("SPECIAL"), ".pyx")
        built += cythonize([special], compiler_directives=DIRECTIVES, quiet=True)
    except Exception as exc:  # noqa: BLE001 - no scipy in the build: priors calls the ufuncs
        _warn(exc)
    for ext in built:
        ext.optional = True  # setuptools then installs without a module that does not compile
    return built


class OptionalBuildExt(build_ext):
    """``build_ext`` whose failure leaves the pure-Python modules instead of failing the
    install: a module that does not compile stays Python, and one warning line names them."""

    def run(self) -> None:
        self._failed: list[str] = []
        self._first_error: object = None
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - no compiler, missing headers, ...
            _warn(exc)
            return
        if self._failed:
            _warn(f"{', '.join(self._failed)} did not compile ({self._first_error})")

    def build_extension(self, ext: Any) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001 - this module stays Python
            self._failed.append(ext.name.rsplit(".", 1)[-1])
            self._first_error = self._first_error or exc


setup(cmdclass={"build_py": BuildPyWithContent, "build_ext": OptionalBuildExt}, ext_modules=extensions())
