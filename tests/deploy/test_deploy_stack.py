"""ctdetect stack: .env secrets, reading docker-compose.yml, and the no-Docker message.

No Docker engine runs on the build machines: starting containers is covered by the live
workflow (.github/workflows/live.yml), not here.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from ctdetect.cli import cli
from ctdetect.stack.compose import ComposeError, interpolate, load_project
from ctdetect.stack.envfile import KEYS, PASSWORDS, ensure_env
from ctdetect.elastic.settings import read_env_file
from deploy.deploykit import PROJECT_ROOT


def test_without_a_docker_engine_stack_says_so_in_one_line(tmp_path: Path) -> None:
    pytest.importorskip("docker")
    for action in (["up"], ["status"], ["down"]):
        out = CliRunner().invoke(cli, ["stack", *action, "--package", str(tmp_path)], env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"})
        assert out.exit_code == 2, out.output
        lines = [line for line in out.output.splitlines() if line.strip()]
        assert len(lines) == 1 and "Docker engine" in lines[0] and "Traceback" not in out.output
    assert not (tmp_path / ".env").exists()  # nothing written before the engine answered


def test_env_file_is_generated_private_and_kept(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    values, generated = ensure_env(env, PROJECT_ROOT / ".env.example")
    assert set(generated) == set(PASSWORDS) | set(KEYS)
    if os.name == "posix":
        assert stat.S_IMODE(env.stat().st_mode) == 0o600
    on_disk = read_env_file(env)
    assert all(len(on_disk[k]) >= 32 for k in KEYS) and all(len(on_disk[k]) >= 20 for k in PASSWORDS)
    assert on_disk["ELASTICSEARCH_URL"] == "http://localhost:9200" and on_disk["STACK_VERSION"]
    again, generated_again = ensure_env(env, PROJECT_ROOT / ".env.example")
    assert generated_again == [] and again == values == on_disk


def test_env_file_keeps_what_the_user_set(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("ELASTIC_PASSWORD=mine-123456\nKIBANA_ENCRYPTION_KEY=short\nES_PORT=9300\n")
    values, generated = ensure_env(env, PROJECT_ROOT / ".env.example")
    assert values["ELASTIC_PASSWORD"] == "mine-123456" and values["ES_PORT"] == "9300"
    assert "KIBANA_ENCRYPTION_KEY" in generated and len(values["KIBANA_ENCRYPTION_KEY"]) >= 32  # too short for Kibana: replaced
    assert "ELASTIC_PASSWORD" not in generated


def test_the_projects_compose_file_reads_into_container_specs(tmp_path: Path) -> None:
    values, _ = ensure_env(tmp_path / ".env", PROJECT_ROOT / ".env.example")
    project = load_project(PROJECT_ROOT / "docker-compose.yml", values)
    names = [s.name for s in project.services]
    assert names.index("elasticsearch") < names.index("setup") < names.index("kibana")
    es = next(s for s in project.services if s.name == "elasticsearch")
    assert es.ports == {"9200/tcp": ("127.0.0.1", 9200)}
    assert es.environment["ELASTIC_PASSWORD"] == values["ELASTIC_PASSWORD"]
    assert es.environment["xpack.license.self_generated.type"] == "trial"
    assert es.healthcheck and es.healthcheck["interval"] == 10 * 10**9 and es.healthcheck["retries"] > 0
    # $$ stays a literal $ for the container's shell to expand
    assert "${ELASTIC_PASSWORD}" in " ".join(es.healthcheck["test"])
    assert es.volumes == {f"{project.name}_esdata": {"bind": "/usr/share/elasticsearch/data", "mode": "rw"}}
    kibana = next(s for s in project.services if s.name == "kibana")
    assert kibana.depends_on == {"setup": "service_completed_successfully"}
    assert len(kibana.environment["XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY"]) >= 32
    assert project.container_name("kibana") == f"{project.name}-kibana-1"


def test_a_required_variable_that_is_missing_is_named(tmp_path: Path) -> None:
    with pytest.raises(ComposeError, match="ELASTIC_PASSWORD"):
        load_project(PROJECT_ROOT / "docker-compose.yml", {})


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [("${A}", {"A": "1"}, "1"), ("${A:-x}", {}, "x"), ("${A:-x}", {"A": ""}, "x"), ("${A-x}", {"A": ""}, ""), ("$${A}", {"A": "1"}, "${A}"), ("a$A", {"A": "b"}, "ab")],
)
def test_interpolation_follows_compose(text: str, env: dict[str, str], expected: str) -> None:
    assert interpolate(text, env) == expected


def test_unsupported_compose_keys_are_refused(tmp_path: Path) -> None:
    compose = tmp_path / "docker-compose.yml"
    compose.write_text("services:\n  x:\n    image: busybox\n    build: .\n")
    with pytest.raises(ComposeError, match="'build' is not supported"):
        load_project(compose, {})


def test_container_arguments_are_accepted_by_the_docker_sdk(tmp_path: Path) -> None:
    """Each service's create arguments go through docker-py's own argument builder."""
    docker = pytest.importorskip("docker")
    from docker.models.containers import _create_container_args

    from ctdetect.services.stack import container_kwargs

    values, _ = ensure_env(tmp_path / ".env", PROJECT_ROOT / ".env.example")
    project = load_project(PROJECT_ROOT / "docker-compose.yml", values)
    api = docker.APIClient(base_url=f"unix://{tmp_path}/none.sock", version="1.43")
    built = {}
    for spec in project.services:
        args = _create_container_args(dict(container_kwargs(project, spec, api.create_endpoint_config(aliases=[spec.name])), image=spec.image, version="1.43"))
        built[spec.name] = args
    host = built["elasticsearch"]["host_config"]
    assert host["PortBindings"] == {"9200/tcp": [{"HostIp": "127.0.0.1", "HostPort": "9200"}]}
    assert host["Binds"] == [f"{project.name}_esdata:/usr/share/elasticsearch/data:rw"]
    assert built["elasticsearch"]["healthcheck"]["Interval"] == 10 * 10**9
    assert built["kibana"]["labels"]["com.docker.compose.project"] == project.name
    assert built["setup"]["command"][:2] == ["bash", "-c"]


def test_the_env_file_round_trips_any_value(tmp_path: Path) -> None:
    """What `stack up` writes back reads the same (python-dotenv, as Compose): `#`, quotes, spaces."""
    from ctdetect.stack.envfile import write_env

    values = {"A": "plain", "ELASTIC_PASSWORD": "p@ss #word", "C": "it's \"x\" \\ y", "D": "two\nlines", "E": ""}
    write_env(tmp_path / ".env", values)
    assert read_env_file(tmp_path / ".env") == values
