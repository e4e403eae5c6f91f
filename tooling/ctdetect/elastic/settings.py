"""Where the cluster is and how to authenticate: environment first, then an env-file.

Credentials never come from the command line (they would end up in shell history and
process lists). ``ConnectionSettings.redact`` removes every secret from a text before it
is shown, so an error message that echoes a header or URL cannot leak one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

ENV_KEYS = (
    "ELASTICSEARCH_URL",
    "KIBANA_URL",
    "ELASTIC_API_KEY",
    "ELASTIC_USERNAME",
    "ELASTIC_PASSWORD",
    "ELASTIC_CA_CERT",
)
REDACTED = "********"


class SettingsError(Exception):
    """Settings are missing or unreadable (the message says which and where)."""


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (``#`` comments, optional ``export`` and quotes), as docker compose reads them."""
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"cannot read env file {path}: {exc.strerror or exc}") from exc
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        key, sep, value = stripped.partition("=")
        key = key.strip()
        if not sep or not key.replace("_", "").isalnum():
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


@dataclass(slots=True)
class ConnectionSettings:
    """URLs and credentials of one Elasticsearch + Kibana pair."""

    es_url: str | None = None
    kibana_url: str | None = None
    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    ca_cert: str | None = None
    verify_tls: bool = True
    extra_secrets: list[str] = field(default_factory=list)

    @classmethod
    def load(
        cls,
        env_file: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
        ca_cert: str | None = None,
        verify_tls: bool = True,
    ) -> "ConnectionSettings":
        """Environment variables win over the env-file; ``env_file`` None means ``.env`` if present."""
        env = dict(os.environ if environ is None else environ)
        file_values: dict[str, str] = {}
        if env_file is not None:
            path = Path(env_file)
            if not path.is_file():
                raise SettingsError(f"env file {path} does not exist")
            file_values = read_env_file(path)
        elif Path(".env").is_file():
            file_values = read_env_file(Path(".env"))

        def get(key: str) -> str | None:
            value = env.get(key) or file_values.get(key)
            return value or None

        return cls(
            es_url=_strip_slash(get("ELASTICSEARCH_URL")),
            kibana_url=_strip_slash(get("KIBANA_URL")),
            api_key=get("ELASTIC_API_KEY"),
            username=get("ELASTIC_USERNAME") or ("elastic" if get("ELASTIC_PASSWORD") else None),
            password=get("ELASTIC_PASSWORD"),
            ca_cert=ca_cert or get("ELASTIC_CA_CERT"),
            verify_tls=verify_tls,
        )

    @property
    def configured(self) -> bool:
        return bool(self.es_url and self.kibana_url)

    def missing(self) -> list[str]:
        """Names of the settings a cluster connection still needs."""
        out = [k for k, v in (("ELASTICSEARCH_URL", self.es_url), ("KIBANA_URL", self.kibana_url)) if not v]
        if not self.api_key and not self.password:
            out.append("ELASTIC_API_KEY or ELASTIC_USERNAME/ELASTIC_PASSWORD")
        return out

    @property
    def encoded_api_key(self) -> str | None:
        """The API key as the ``Authorization: ApiKey`` header wants it: Elastic shows keys
        both as ``id:api_key`` and as base64 of that; the first form is encoded here."""
        import base64

        key = self.api_key
        if key and ":" in key:
            return base64.b64encode(key.encode()).decode()
        return key

    @property
    def tls_verify(self) -> bool | str:
        """What ``requests``' ``verify`` wants: a CA bundle path, or the flag."""
        if self.ca_cert:
            return self.ca_cert
        return self.verify_tls

    def secrets(self) -> list[str]:
        """Every secret value, plus the derived forms an HTTP header would carry."""
        import base64

        found = [s for s in (self.api_key, self.encoded_api_key, self.password, *self.extra_secrets) if s]
        if self.api_key and ":" in self.api_key:
            found.append(self.api_key.split(":", 1)[1])  # the secret half on its own
        if self.username and self.password:
            found.append(base64.b64encode(f"{self.username}:{self.password}".encode()).decode())
        return found

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced (longest first, so no fragment survives)."""
        for secret in sorted(self.secrets(), key=len, reverse=True):
            if len(secret) >= 3:
                text = text.replace(secret, REDACTED)
        return text


def _strip_slash(url: str | None) -> str | None:
    return url.rstrip("/") if url else url
