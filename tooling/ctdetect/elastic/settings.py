"""Where the cluster is and how to authenticate: environment first, then an env-file.

Credentials never come from the command line (they would end up in shell history and
process lists). ``ConnectionSettings.redact`` removes every secret from a text before it
is shown, so an error message that echoes a header or URL cannot leak one; credentials
written into a URL (``https://user:password@host``) are taken out of it on load, used as
the username and password, and any ``scheme://user:password@`` left in a text (a URL that
does not even parse) is masked as well.

Env-files are read the way Docker Compose reads ``.env``, with python-dotenv's parser
(``export``, quotes, escapes, ``#`` comments); a line it cannot parse is named by number.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

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
    """KEY=VALUE lines as Docker Compose reads them (python-dotenv's parser)."""
    import io

    from dotenv.parser import parse_stream

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read env file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise SettingsError(f"{path}:{binding.original.line}: expected KEY=VALUE")
        if binding.key is not None:
            values[binding.key] = binding.value or ""
    return values


_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s]+)@")


def mask_url_credentials(text: str) -> str:
    """``scheme://user:password@`` anywhere in ``text`` -> ``scheme://********@``."""
    return _URL_USERINFO.sub(lambda m: m.group(1) + REDACTED + "@", text)


def split_url_credentials(variable: str, url: str | None) -> tuple[str | None, str | None, str | None]:
    """(url without userinfo, username, password). Raises ``SettingsError`` naming the
    variable, with the URL's credentials masked, when the URL does not parse."""
    if not url:
        return url, None, None
    masked = mask_url_credentials(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number or out of range
    except ValueError as exc:
        reason = "the port is not a number from 0 to 65535" if "port" in str(exc).lower() else "it does not parse (check brackets around an IPv6 address)"
        raise SettingsError(f"{variable} {masked!r} is not a valid URL: {reason}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{variable} {masked!r} is not a valid URL: it needs http:// or https:// and a host")
    if "@" not in parts.netloc:
        return url, None, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment)), unquote(user) or None, unquote(password) or None


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

        # secrets found so far, so that a URL error below cannot show one
        known = [v for v in (get("ELASTIC_PASSWORD"), get("ELASTIC_API_KEY")) if v]
        try:
            es_url, es_user, es_password = split_url_credentials("ELASTICSEARCH_URL", get("ELASTICSEARCH_URL"))
            kibana_url, kb_user, kb_password = split_url_credentials("KIBANA_URL", get("KIBANA_URL"))
        except SettingsError as exc:
            raise SettingsError(ConnectionSettings(extra_secrets=known).redact(str(exc))) from None
        password = get("ELASTIC_PASSWORD") or es_password or kb_password
        return cls(
            es_url=_strip_slash(es_url),
            kibana_url=_strip_slash(kibana_url),
            api_key=get("ELASTIC_API_KEY"),
            username=get("ELASTIC_USERNAME") or es_user or kb_user or ("elastic" if password else None),
            password=password,
            ca_cert=ca_cert or get("ELASTIC_CA_CERT"),
            verify_tls=verify_tls,
            extra_secrets=[v for v in (es_password, kb_password) if v],
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
        """``text`` with every secret replaced (longest first, so no fragment survives), and
        any credentials written into a URL masked."""
        from urllib.parse import quote

        secrets = set(self.secrets())
        secrets |= {quote(s, safe="") for s in secrets}  # as they appear inside a URL
        for secret in sorted(secrets, key=len, reverse=True):
            if len(secret) >= 3:
                text = text.replace(secret, REDACTED)
        return mask_url_credentials(text)

    def ca_problem(self) -> str | None:
        """Why the CA bundle cannot be used (named by its setting), or None."""
        if not self.ca_cert:
            return None
        path = Path(self.ca_cert)
        if not path.is_file():
            return f"ELASTIC_CA_CERT (or --ca-cert) {self.ca_cert}: no such file"
        if not os.access(path, os.R_OK):
            return f"ELASTIC_CA_CERT (or --ca-cert) {self.ca_cert}: not readable"
        return None


def _strip_slash(url: str | None) -> str | None:
    return url.rstrip("/") if url else url
