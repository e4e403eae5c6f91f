"""User-agent parsing as Elasticsearch's ``user_agent`` ingest processor does it.

The processor uses the uap-core regular expressions; so does ``ua-parser`` (Apache-2.0,
with its Rust accelerator when installed). Output fields follow the processor:
``user_agent.name`` (``Other`` when unknown), ``user_agent.version`` (``major.minor.patch``
of the parts present), ``user_agent.os.name/version/full`` when an OS is found, and
``user_agent.device.name`` (``Other`` when unknown).

Deliberate difference kept small: Elasticsearch bundles an older uap-core that does not
read the AWS SDK ``os/<name>#<version>`` token (``aws-cli/2.17 … os/macos#23.6.0``), so
the golden pairs carry no ``user_agent.os`` for SDK agents. We drop an OS that can only
have come from that token (agent string without a parenthesised platform comment).
Results are cached per distinct string: CloudTrail has few distinct agents.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

try:  # ua-parser is a declared dependency; keep a plain fallback if it is missing
    from ua_parser import parse as _ua_parse
except ImportError:  # pragma: no cover - exercised only without the dependency
    _ua_parse = None


def _version(*parts: str | None) -> str | None:
    present = []
    for part in parts:
        if part is None or part == "":
            break
        present.append(part)
    return ".".join(present) if present else None


@lru_cache(maxsize=8192)
def parse_user_agent(original: str) -> dict[str, Any]:
    """Flat ``user_agent.*`` fields for one agent string (cached: callers must not modify it)."""
    fields: list[tuple[str, Any]] = []
    name = "Other"
    version = None
    os_fields: list[tuple[str, Any]] = []
    device = "Other"
    if _ua_parse is not None:
        result = _ua_parse(original)
        ua = result.user_agent
        if ua is not None and ua.family and ua.family != "Other":
            name = ua.family
            version = _version(ua.major, ua.minor, ua.patch)
        os_ = result.os
        if os_ is not None and os_.family and os_.family != "Other" and not (" os/" in original and "(" not in original):
            os_version = _version(os_.major, os_.minor, os_.patch)
            os_fields.append(("user_agent.os.name", os_.family))
            if os_version:
                os_fields.append(("user_agent.os.version", os_version))
                os_fields.append(("user_agent.os.full", f"{os_.family} {os_version}"))
            else:
                os_fields.append(("user_agent.os.full", os_.family))
        dev = result.device
        if dev is not None and dev.family and dev.family != "Other":
            device = dev.family
    fields.append(("user_agent.original", original))
    fields.append(("user_agent.name", name))
    if version:
        fields.append(("user_agent.version", version))
    fields.extend(os_fields)
    fields.append(("user_agent.device.name", device))
    return dict(fields)
