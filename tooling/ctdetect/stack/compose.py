"""Read ``docker-compose.yml`` into container specifications the Docker SDK can run.

The Docker SDK for Python has no compose support, so ``ctdetect stack`` reads the file
itself. It understands the subset the project's compose file uses, and refuses anything
else with a message naming the key: ``image``, ``environment`` (map or list),
``command``, ``ports`` (``[host_ip:]host:container``), ``volumes`` (named volumes),
``ulimits``, ``healthcheck`` (test, interval, timeout, retries, start_period),
``depends_on`` with ``service_healthy`` / ``service_completed_successfully`` /
``service_started``, ``restart``; top-level ``name`` and ``volumes``. Variables are
interpolated as compose does: ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
``${VAR:?message}``, and ``$$`` for a literal ``$``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

SUPPORTED_SERVICE_KEYS = {"image", "environment", "command", "ports", "volumes", "ulimits", "healthcheck", "depends_on", "restart"}
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


class ComposeError(Exception):
    """The compose file cannot be run by ctdetect (message names the key or variable)."""


@dataclass(slots=True)
class ServiceSpec:
    name: str
    image: str
    environment: dict[str, str] = field(default_factory=dict)
    command: str | list[str] | None = None
    ports: dict[str, tuple[str, int]] = field(default_factory=dict)  # "9200/tcp" -> (host ip, host port)
    volumes: dict[str, dict[str, str]] = field(default_factory=dict)  # volume name -> {"bind", "mode"}
    ulimits: list[dict[str, Any]] = field(default_factory=list)
    healthcheck: dict[str, Any] | None = None
    depends_on: dict[str, str] = field(default_factory=dict)  # service -> condition
    restart: str | None = None


@dataclass(slots=True)
class Project:
    name: str
    services: list[ServiceSpec]  # in start order (dependencies first)
    volumes: list[str]

    def container_name(self, service: str) -> str:
        return f"{self.name}-{service}-1"

    @property
    def network(self) -> str:
        return f"{self.name}_default"

    def volume_name(self, volume: str) -> str:
        return f"{self.name}_{volume}"


def interpolate(text: str, env: Mapping[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3) or ""
        value = env.get(name)
        if op in (":-", "-"):
            return value if (value if op == ":-" else value is not None) else arg
        if op in (":?", "?"):
            if not value if op == ":?" else value is None:
                raise ComposeError(f"variable {name} is required: {arg or 'not set'}")
            return str(value)
        return value or ""

    return _VAR.sub(repl, text)


def _interp(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return interpolate(value, env)
    if isinstance(value, list):
        return [_interp(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _interp(v, env) for k, v in value.items()}
    return value


def _nanos(text: Any) -> int:
    from ctdetect.content.durations import es_time_nanos

    nanos = es_time_nanos(str(text))
    if nanos is None:
        raise ComposeError(f"healthcheck duration {text!r} is not understood")
    return nanos


def load_project(path: Path, env: Mapping[str, str]) -> Project:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ComposeError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise ComposeError(f"{path}: no services")
    data = _interp(data, env)
    name = str(data.get("name") or path.parent.name).lower()
    specs = {svc: _service(svc, body or {}, name) for svc, body in data["services"].items()}
    return Project(name, _ordered(specs), list((data.get("volumes") or {}).keys()))


def _service(name: str, body: dict[str, Any], project: str) -> ServiceSpec:
    unknown = sorted(set(body) - SUPPORTED_SERVICE_KEYS)
    if unknown:
        raise ComposeError(f"service {name}: key {unknown[0]!r} is not supported by ctdetect stack (use docker compose)")
    env = body.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    spec = ServiceSpec(name=name, image=str(body["image"]), environment={k: str(v) for k, v in env.items()}, command=body.get("command"), restart=body.get("restart"))
    for port in body.get("ports") or []:
        parts = str(port).split(":")
        if len(parts) == 3:
            host_ip, host, container = parts
        elif len(parts) == 2:
            host_ip, (host, container) = "0.0.0.0", parts
        else:
            raise ComposeError(f"service {name}: port {port!r} needs host:container")
        spec.ports[f"{container}/tcp"] = (host_ip, int(host))
    for volume in body.get("volumes") or []:
        source, _, target = str(volume).partition(":")
        if not target or "/" in source:
            raise ComposeError(f"service {name}: only named volumes are supported ({volume!r})")
        spec.volumes[f"{project}_{source}"] = {"bind": target.split(":")[0], "mode": "rw"}
    for limit, value in (body.get("ulimits") or {}).items():
        soft, hard = (value.get("soft"), value.get("hard")) if isinstance(value, dict) else (value, value)
        spec.ulimits.append({"name": limit, "soft": int(soft), "hard": int(hard)})
    health = body.get("healthcheck")
    if health:
        test = health.get("test")
        spec.healthcheck = {
            "test": test,
            "interval": _nanos(health.get("interval", "30s")),
            "timeout": _nanos(health.get("timeout", "30s")),
            "retries": int(health.get("retries", 3)),
            "start_period": _nanos(health.get("start_period", "0s")),
        }
    deps = body.get("depends_on") or {}
    if isinstance(deps, list):
        deps = {d: {"condition": "service_started"} for d in deps}
    spec.depends_on = {d: str((c or {}).get("condition", "service_started")) for d, c in deps.items()}
    return spec


def _ordered(specs: dict[str, ServiceSpec]) -> list[ServiceSpec]:
    done: list[ServiceSpec] = []
    seen: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in seen:
            return
        if name in path:
            raise ComposeError("depends_on cycle: " + " -> ".join((*path, name)))
        if name not in specs:
            raise ComposeError(f"depends_on names an unknown service {name!r}")
        for dep in specs[name].depends_on:
            visit(dep, (*path, name))
        seen.add(name)
        done.append(specs[name])

    for name in specs:
        visit(name, ())
    return done
