"""The stack's ``.env``: passwords and keys generated once, stored with mode 0600.

``ensure_env(path, example)`` keeps every value already set, fills the empty or missing
secrets with fresh random ones (passwords: 24 URL-safe characters; Kibana encryption
keys: 32 bytes as 64 hex characters, more than the 32 characters Kibana requires), takes
the other keys from ``.env.example``, and (re)writes the file only readable by its owner.
It never prints a secret; callers say where the file is.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ctdetect.elastic.settings import read_env_file

PASSWORDS = ("ELASTIC_PASSWORD", "KIBANA_PASSWORD")
KEYS = ("KIBANA_ENCRYPTION_KEY", "KIBANA_SECURITY_KEY", "KIBANA_REPORTING_KEY")
DEFAULTS = {
    "STACK_VERSION": "9.5.3",
    "ES_PORT": "9200",
    "KIBANA_PORT": "5601",
    "ELASTICSEARCH_URL": "http://localhost:9200",
    "KIBANA_URL": "http://localhost:5601",
    "ELASTIC_USERNAME": "elastic",
}


def ensure_env(path: Path, example: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """(values, names generated now). Writes ``path`` with mode 0600 when anything changed."""
    values: dict[str, str] = dict(DEFAULTS)
    if example is not None and example.is_file():
        values.update({k: v for k, v in read_env_file(example).items() if v})
    existing = read_env_file(path) if path.is_file() else {}
    values.update({k: v for k, v in existing.items() if v})
    generated = []
    for name in PASSWORDS:
        if not values.get(name):
            values[name] = secrets.token_urlsafe(18)
            generated.append(name)
    for name in KEYS:
        if len(values.get(name, "")) < 32:
            values[name] = secrets.token_hex(32)
            generated.append(name)
    if generated or set(values) - set(existing):
        write_env(path, values)
    elif os.name == "posix":
        path.chmod(0o600)
    return values, generated


def _quoted(value: str) -> str:
    """``value`` as Compose and python-dotenv read it back unchanged: bare when plain, else in
    single quotes (taken literally), else in double quotes with ``\\`` and ``"`` escaped."""
    import re

    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./~-]*", value):
        return value
    if "'" not in value and "\n" not in value:
        return f"'{value}'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_env(path: Path, values: dict[str, str]) -> None:
    """Write atomically, created 0600 (never world-readable, even for an instant)."""
    text = "# Written by `ctdetect stack up`. Secrets: keep this file private (mode 0600).\n"
    text += "".join(f"{k}={_quoted(v)}\n" for k, v in values.items())
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if os.name == "posix":
        path.chmod(0o600)
