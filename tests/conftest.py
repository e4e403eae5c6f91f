"""Shared fixtures.

``shared_dir`` points at ``../shared`` (Elastic's anchors and real CloudTrail datasets).
A user's clone has no ``../shared``: tests that need it skip with a clear reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("CTDETECT_SHARED_DIR", PROJECT_ROOT.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """Path under ../shared, or skip the calling test when it is absent."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists() and os.environ.get("CI"):
        # in CI the shared data is checked out: a golden test that skipped there would pass silently
        pytest.fail(f"{path} is absent in CI (set CTDETECT_SHARED_DIR or check out ../shared)")
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared holds Elastic's anchors and datasets; not part of a user's clone)")
    return path


@pytest.fixture
def shared_dir() -> Path:
    return shared_path()


@pytest.fixture
def project_root() -> Path:
    return PROJECT_ROOT
