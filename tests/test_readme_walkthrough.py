"""The README's "Write your first rule" walk-through, run as written.

The commands are read from the README (between ``first-rule:start`` and ``first-rule:end``),
so the page and the test cannot drift: the first shell block, then the query shown in the
TOML block written into the rule file (what a newcomer does in an editor), then the second
shell block; every command must succeed and replay must meet every expectation. The test
then puts the scaffolded query back: replay must now fail on the Terraform deletion, which
shows the walk-through's scenario really tests the edit.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import PROJECT_ROOT

RULE_FILE = "rules/trail_deleted_outside_terraform.toml"
_BLOCK = re.compile(r"^( *)```(\w+)\n(.*?)^\1```", re.S | re.M)
_QUERY = re.compile(r"^query = '''\n.*?^'''\n", re.S | re.M)


def _walkthrough() -> list[tuple[str, str]]:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    part = text.split("<!-- first-rule:start -->", 1)[1].split("<!-- first-rule:end -->", 1)[0]
    blocks = []
    for indent, lang, body in _BLOCK.findall(part):
        blocks.append((lang, "".join(line[len(indent):] + "\n" for line in body.splitlines())))
    return blocks


def _bash(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_first_rule_walkthrough_runs_as_written(tmp_path: Path) -> None:
    blocks = _walkthrough()
    assert [lang for lang, _ in blocks] == ["bash", "toml", "bash"], "the walk-through is: commands, the query edit, commands"
    (_, setup), (_, query), (_, check) = blocks
    first = _bash(setup, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    repo = tmp_path / "my-detections"
    rule = repo / RULE_FILE
    scaffolded = rule.read_text(encoding="utf-8")
    assert _QUERY.search(scaffolded) and "not user.name:terraform" not in scaffolded
    rule.write_text(_QUERY.sub(lambda _: query, scaffolded, count=1), encoding="utf-8")
    second = _bash(check, repo)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "0 error(s), 0 warning(s)" in second.stdout
    assert "4 scenarios (0 failed); 4 expectations: 4 met, 0 unmet" in second.stdout

    rule.write_text(scaffolded, encoding="utf-8")
    unedited = _bash("ctdetect replay", repo)
    assert unedited.returncode == 1, unedited.stdout
    assert "1 failed" in unedited.stdout
