"""The compose file's shell commands run, without Docker: each one under bash, with stub
``curl`` and ``sleep`` on the PATH, after Compose's variable interpolation (``$$`` -> ``$``).

This is what caught the setup service that never ended: a folded ``command: >`` kept the
line breaks of its more-indented lines, so ``curl`` ran without its body and ``-H ...`` ran
as a command of its own; the ``until`` loop waited forever and Kibana never started.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ctdetect.stack.compose import Project, ServiceSpec, load_project
from deploy.deploykit import PROJECT_ROOT

ENV = {
    "ELASTIC_PASSWORD": "el-pass-123456",
    "KIBANA_PASSWORD": "kb-pass-654321",
    "KIBANA_ENCRYPTION_KEY": "e" * 64,
    "KIBANA_SECURITY_KEY": "s" * 64,
    "KIBANA_REPORTING_KEY": "r" * 64,
}

# curl as Elasticsearch would answer it: the password call succeeds only with the right
# user, the JSON content type and the body; the first call finds Elasticsearch not up yet.
CURL = r"""#!/usr/bin/env bash
printf '%s\n' "$*" >> "$STUB_LOG/curl"
args="$*"
calls=$(wc -l < "$STUB_LOG/curl")
case "$args" in
  *_security/user/kibana_system/_password*)
    if [ "$calls" -eq 1 ]; then exit 7; fi
    if [[ "$args" == *"-u elastic:$STUB_ELASTIC_PASSWORD "* && "$args" == *"-H Content-Type: application/json"* && "$args" == *"-d {\"password\":\"$STUB_KIBANA_PASSWORD\"}"* ]]; then
      printf '{}'
    else
      printf '{"error":{"type":"parse_exception","reason":"request body is required"},"status":400}'
    fi ;;
  *_cluster/health*)
    if [[ "$args" == *"-u elastic:$STUB_ELASTIC_PASSWORD "* ]]; then printf '{"cluster_name":"x","status":"green"}'; else printf '{"status":401}'; fi ;;
  *api/status*) printf '{"status":{"overall":{"level":"available"}}}' ;;
  *) exit 22 ;;
esac
"""

# sleep that returns at once, and gives up for the script after a few calls (a loop that
# never ends is a failure, not a hang)
SLEEP = r"""#!/usr/bin/env bash
echo "$*" >> "$STUB_LOG/sleep"
if [ "$(wc -l < "$STUB_LOG/sleep")" -gt 5 ]; then kill -KILL "$PPID"; exit 1; fi
"""


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project(PROJECT_ROOT / "docker-compose.yml", ENV)


def _stubs(tmp_path: Path) -> dict[str, str]:
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    bin_dir, log = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir()
    log.mkdir()
    for name, text in (("curl", CURL), ("sleep", SLEEP)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "STUB_LOG": str(log),
        "STUB_ELASTIC_PASSWORD": ENV["ELASTIC_PASSWORD"],
        "STUB_KIBANA_PASSWORD": ENV["KIBANA_PASSWORD"],
    }


def _argv(spec: ServiceSpec) -> list[str]:
    """The container's command as Compose passes it: a list as is, a string split shell-style."""
    import shlex

    return list(spec.command) if isinstance(spec.command, list) else shlex.split(str(spec.command))


def _run(argv: list[str], spec: ServiceSpec, stubs: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**spec.environment, **stubs}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=20, check=False)


def _service(project: Project, name: str) -> ServiceSpec:
    return next(s for s in project.services if s.name == name)


def test_the_setup_command_ends_having_set_the_kibana_password(project: Project, tmp_path: Path) -> None:
    stubs = _stubs(tmp_path)
    setup = _service(project, "setup")
    argv = _argv(setup)
    assert argv[0] == "bash"
    done = _run(argv, setup, stubs)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "kibana_system password set" in done.stdout
    assert "command not found" not in done.stderr
    calls = (tmp_path / "log" / "curl").read_text().splitlines()
    assert len(calls) == 2  # the first try found Elasticsearch not ready, the second set the password
    assert (tmp_path / "log" / "sleep").read_text().split() == ["5"]


def test_the_setup_command_gives_up_instead_of_looping_forever(project: Project, tmp_path: Path) -> None:
    stubs = _stubs(tmp_path)
    setup = _service(project, "setup")
    broken = dict(setup.environment, ELASTIC_PASSWORD="wrong")
    spec = ServiceSpec(setup.name, setup.image, broken, setup.command)
    (tmp_path / "bin" / "sleep").write_text("#!/usr/bin/env bash\necho \"$*\" >> \"$STUB_LOG/sleep\"\n")
    done = _run(_argv(setup), spec, stubs)
    assert done.returncode == 1 and "did not accept" in done.stderr
    assert len((tmp_path / "log" / "sleep").read_text().splitlines()) == 120


@pytest.mark.parametrize("name", ["elasticsearch", "kibana"])
def test_the_healthchecks_pass_against_a_healthy_answer(project: Project, tmp_path: Path, name: str) -> None:
    stubs = _stubs(tmp_path)
    spec = _service(project, name)
    assert spec.healthcheck is not None
    kind, command = spec.healthcheck["test"][0], spec.healthcheck["test"][1]
    assert kind == "CMD-SHELL"
    done = _run(["sh", "-c", command], spec, stubs)  # CMD-SHELL runs under /bin/sh -c
    assert done.returncode == 0, (command, done.stdout, done.stderr)


def test_the_pinned_stack_version_is_the_same_everywhere() -> None:
    """docker-compose.yml's default, .env.example and the generated .env agree."""
    import re

    from ctdetect.stack.envfile import DEFAULTS

    compose = (PROJECT_ROOT / "docker-compose.yml").read_text()
    pinned = set(re.findall(r"\$\{STACK_VERSION:-([0-9.]+)\}", compose))
    example = re.search(r"^STACK_VERSION=(\S+)$", (PROJECT_ROOT / ".env.example").read_text(), re.M)
    assert pinned == {DEFAULTS["STACK_VERSION"]} and example and example.group(1) == DEFAULTS["STACK_VERSION"]
