"""A copied rule's duplicate rule_id and name are reported on the copy (the file added
later, by git history), not on the untouched original, even when the copy sorts first."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ctdetect.services.validate import validate_paths

BROKEN = Path(__file__).resolve().parent / "broken" / "duplicate_rule_id"


def _git(repo: Path, *args: str, when: str = "2026-01-01T00:00:00Z") -> None:
    env = dict(os.environ, GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def _flagged(folder: Path) -> dict[str, set[str]]:
    result = validate_paths([folder])
    out: dict[str, set[str]] = {}
    for p in result.problems:
        if p.check in ("schema.unique-rule-id", "schema.unique-name"):
            out.setdefault(p.check, set()).add(Path(p.file).name)
    return out


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed: the duplicate goes by path order")
def test_the_copy_is_blamed_by_git_history(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "rules").mkdir(parents=True)
    original = repo / "rules" / "z_original.toml"
    original.write_text((BROKEN / "a_first.toml").read_text())
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "original")
    copy = repo / "rules" / "a_copy.toml"  # sorts before the original
    copy.write_text(original.read_text())
    both = {"schema.unique-rule-id": {"a_copy.toml"}, "schema.unique-name": {"a_copy.toml"}}
    assert _flagged(repo) == both  # untracked: newer than anything committed
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "copy", when="2026-02-01T00:00:00Z")
    assert _flagged(repo) == both  # committed later


def test_without_history_path_order_decides(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    shutil.copytree(BROKEN, folder)  # not a git checkout
    assert _flagged(folder)["schema.unique-rule-id"] == {"b_second.toml"}
