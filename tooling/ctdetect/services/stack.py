"""``stack up|status|down``: the project's docker-compose Elasticsearch + Kibana, run through
the Docker SDK for Python (the optional ``stack`` extra).

``up``: make sure ``.env`` holds passwords and keys (generated once, mode 0600), read
``docker-compose.yml`` (``deploy.compose``), create the network and volumes, pull images
that are missing, start each service after the ones it depends on are healthy (or have
exited successfully, for the one-shot setup container), wait until Elasticsearch and
Kibana report healthy, then install the aws integration's assets through Kibana's Fleet
API when the package registry is reachable (a warning otherwise: the elasticsearch
backend then indexes ctdetect's own mapping). It prints where to log in, never a secret.

Containers carry the compose labels, so ``docker compose ps`` sees the same project.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ctdetect.stack.compose import ComposeError, Project, ServiceSpec, load_project
from ctdetect.stack.envfile import ensure_env
from ctdetect.elastic.settings import read_env_file


class StackError(Exception):
    """The stack cannot be driven (message says why, in one line). ``code`` is the exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass(slots=True)
class StackReport:
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def docker_client() -> Any:
    try:
        import docker
        from docker.errors import DockerException
    except ImportError:
        raise StackError("the Docker SDK is not installed: pip install 'ctdetect[stack]'", 2) from None
    try:
        client = docker.from_env()
        client.ping()
    except DockerException as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise StackError(f"no Docker engine is reachable ({reason}); start Docker or set DOCKER_HOST", 2) from None
    return client


def _project(root: Path, env_values: dict[str, str]) -> Project:
    compose = root / "docker-compose.yml"
    if not compose.is_file():
        raise StackError(f"{compose} does not exist", 2)
    try:
        return load_project(compose, env_values)
    except ComposeError as exc:
        raise StackError(str(exc), 2) from None


def _labels(project: Project, service: str) -> dict[str, str]:
    return {"com.docker.compose.project": project.name, "com.docker.compose.service": service, "com.docker.compose.container-number": "1", "org.ctdetect.stack": "1"}


def up(root: Path, wait_seconds: float = 600.0, sleep: Callable[[float], None] = time.sleep) -> StackReport:
    client = docker_client()
    report = StackReport()
    env_path = root / ".env"
    values, generated = ensure_env(env_path, root / ".env.example")
    if generated:
        report.lines.append(f"generated {', '.join(generated)} into {env_path} (mode 0600)")
    project = _project(root, values)
    from docker.errors import APIError, ImageNotFound, NotFound

    try:
        try:
            client.networks.get(project.network)
        except NotFound:
            client.networks.create(project.network, labels={"com.docker.compose.project": project.name, "com.docker.compose.network": "default"})
        for volume in project.volumes:
            try:
                client.volumes.get(project.volume_name(volume))
            except NotFound:
                client.volumes.create(project.volume_name(volume), labels={"com.docker.compose.project": project.name, "com.docker.compose.volume": volume})
        for spec in project.services:
            for dep, condition in spec.depends_on.items():
                _wait(client, project, dep, condition, wait_seconds, sleep)
            try:
                client.images.get(spec.image)
            except ImageNotFound:
                report.lines.append(f"pulling {spec.image}")
                client.images.pull(spec.image)
            _start(client, project, spec)
        for name in ("elasticsearch", "kibana"):
            if any(s.name == name for s in project.services):
                _wait(client, project, name, "service_healthy", wait_seconds, sleep)
    except APIError as exc:
        raise StackError(f"Docker refused: {exc.explanation or exc}") from None
    report.warnings.extend(install_aws_integration(values))
    kibana = values.get("KIBANA_URL", "http://localhost:5601")
    report.lines.append(f"Kibana: {kibana}  (user {values.get('ELASTIC_USERNAME', 'elastic')}, password: ELASTIC_PASSWORD in {env_path})")
    report.lines.append(f"Elasticsearch: {values.get('ELASTICSEARCH_URL', 'http://localhost:9200')}")
    report.lines.append(f"ctdetect reads the same {env_path.name}: `ctdetect deploy --dry-run`, `ctdetect replay --backend elasticsearch`")
    return report


def _start(client: Any, project: Project, spec: ServiceSpec) -> None:
    from docker.errors import NotFound

    name = project.container_name(spec.name)
    try:
        container = client.containers.get(name)
    except NotFound:
        container = None
    if container is not None:
        state = container.attrs.get("State", {})
        finished = spec.restart == "no" and state.get("Status") == "exited" and state.get("ExitCode") == 0
        if container.status != "running" and not finished:
            container.start()
        return
    kwargs = container_kwargs(project, spec, client.api.create_endpoint_config(aliases=[spec.name]))
    container = client.containers.create(spec.image, **kwargs)
    container.start()


def container_kwargs(project: Project, spec: ServiceSpec, endpoint_config: Any) -> dict[str, Any]:
    """``containers.create`` arguments for one service (as compose would create it)."""
    from docker.types import Healthcheck, Ulimit

    kwargs: dict[str, Any] = {
        "name": project.container_name(spec.name),
        "environment": spec.environment,
        "labels": _labels(project, spec.name),
        "detach": True,
        "network": project.network,
        # the service name as a DNS alias on the project network, as compose does
        "networking_config": {project.network: endpoint_config},
        "ports": spec.ports or None,
        "volumes": spec.volumes or None,
        "ulimits": [Ulimit(**u) for u in spec.ulimits] or None,
        "healthcheck": Healthcheck(**spec.healthcheck) if spec.healthcheck else None,
        "hostname": spec.name,
        "command": spec.command,  # a string is split shell-style, as compose does
    }
    return {k: v for k, v in kwargs.items() if v is not None}


def _wait(client: Any, project: Project, service: str, condition: str, wait_seconds: float, sleep: Callable[[float], None]) -> None:
    name = project.container_name(service)
    deadline = time.monotonic() + wait_seconds
    while True:
        container = client.containers.get(name)
        state = container.attrs.get("State", {})
        if condition == "service_completed_successfully":
            if state.get("Status") == "exited":
                if state.get("ExitCode") == 0:
                    return
                raise StackError(f"{service} exited with code {state.get('ExitCode')}: see `docker logs {name}`")
        elif condition == "service_healthy":
            health = (state.get("Health") or {}).get("Status")
            if health == "healthy":
                return
            if state.get("Status") == "exited":
                raise StackError(f"{service} stopped (exit code {state.get('ExitCode')}): see `docker logs {name}`")
        elif state.get("Status") == "running":
            return
        if time.monotonic() > deadline:
            raise StackError(f"{service} not {condition.replace('service_', '')} after {wait_seconds:.0f}s: see `docker logs {name}`")
        sleep(3.0)


def install_aws_integration(values: dict[str, str]) -> list[str]:
    """Install the aws integration's assets via Fleet; warnings (not errors) when it cannot."""
    from ctdetect.elastic.client import Cluster, ClusterError
    from ctdetect.elastic.requests_model import Request
    from ctdetect.elastic.settings import ConnectionSettings

    settings = ConnectionSettings.load(environ={**values}, env_file=None)
    try:
        cluster = Cluster.connect(settings)
        info = cluster.send(Request("GET", "/api/fleet/epm/packages/aws"), allow=(404, 500, 502, 503))
        if info.status != 200:
            return [f"aws integration not installed: Kibana could not reach the package registry (HTTP {info.status}); replay indexes ctdetect's own mapping"]
        item = (info.body or {}).get("item") or {}
        if item.get("status") == "installed":
            return []
        cluster.send(Request("POST", "/api/fleet/epm/packages/aws", {"force": False}))
    except ClusterError as exc:
        return [f"aws integration not installed: {exc}"]
    return []


def status(root: Path) -> StackReport:
    client = docker_client()
    values = read_env_file(root / ".env") if (root / ".env").is_file() else {}
    try:
        project = _project(root, {**_placeholders(), **values})
    except StackError:
        raise
    report = StackReport()
    from docker.errors import NotFound

    for spec in project.services:
        name = project.container_name(spec.name)
        try:
            container = client.containers.get(name)
        except NotFound:
            report.lines.append(f"{spec.name:<14} absent")
            continue
        state = container.attrs.get("State", {})
        health = (state.get("Health") or {}).get("Status")
        detail = state.get("Status", "?") + (f", {health}" if health else "") + (f", exit {state.get('ExitCode')}" if state.get("Status") == "exited" else "")
        report.lines.append(f"{spec.name:<14} {detail}")
    if values:
        report.lines.append(f"Kibana: {values.get('KIBANA_URL', 'http://localhost:5601')}")
    return report


def down(root: Path, volumes: bool = False) -> StackReport:
    client = docker_client()
    values = read_env_file(root / ".env") if (root / ".env").is_file() else {}
    project = _project(root, {**_placeholders(), **values})
    report = StackReport()
    from docker.errors import NotFound

    for spec in reversed(project.services):
        try:
            container = client.containers.get(project.container_name(spec.name))
        except NotFound:
            continue
        container.stop(timeout=30)
        container.remove()
        report.lines.append(f"removed {spec.name}")
    try:
        client.networks.get(project.network).remove()
    except NotFound:
        pass
    if volumes:
        for volume in project.volumes:
            try:
                client.volumes.get(project.volume_name(volume)).remove()
                report.lines.append(f"removed volume {project.volume_name(volume)}")
            except NotFound:
                pass
    return report


def _placeholders() -> dict[str, str]:
    """Values that let a compose file with required secrets be read for status/down."""
    return {k: "unset" for k in ("ELASTIC_PASSWORD", "KIBANA_PASSWORD", "KIBANA_ENCRYPTION_KEY", "KIBANA_SECURITY_KEY", "KIBANA_REPORTING_KEY")}
