"""User-agent parsing as Elasticsearch's ``user_agent`` ingest processor does it.

Two halves:

- *Which* browser/OS/device: the uap-core regular expressions, which the processor
  bundles and ``ua-parser`` (Apache-2.0, with its Rust accelerator) ships too.
- *What is written* (``UserAgentProcessor`` in Elasticsearch's ``ingest-user-agent``
  module), reproduced exactly:

  - ``user_agent.original`` always; ``user_agent.name``: the family, ``Other`` when none;
  - ``user_agent.version``: ``major[.minor[.patch[.build]]]``, each part only when the
    previous one is present, absent without a major (Chrome ``131.0.0.0`` keeps its
    build part). Elasticsearch before 8.16.2 left a trailing dot after a missing part
    (``24.0.``); the integration's tests accept both, we write the fixed form;
  - ``user_agent.os.name`` when an OS is found, and ``user_agent.os.version`` /
    ``user_agent.os.full`` (``"<name> <version>"``) only when the OS has a major version
    (Go SDK and Terraform agents give a bare ``Linux``);
  - ``user_agent.device.name``: the device family, ``Other`` when none.

The uap-core copy inside Elasticsearch is older than ``ua-parser``'s, and newer rules
read tokens Elasticsearch does not: the AWS SDK v2 ``os/macos`` token (``aws-cli/2.17 …
os/macos#23.6.0`` has no OS in Elasticsearch) and the ``aws-sdk-go-v2`` family (name
``Other``). ``_NOT_IN_ELASTICSEARCH`` lists those two rules so the output stays the
processor's; the golden pairs check both.
Results are cached per distinct string: CloudTrail has few distinct agents.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

try:  # ua-parser is a declared dependency; keep a plain fallback if it is missing
    from ua_parser import parse as _ua_parse
except ImportError:  # pragma: no cover - exercised only without the dependency
    _ua_parse = None

# Families newer uap-core recognises and the copy bundled in Elasticsearch does not.
_NOT_IN_ELASTICSEARCH = frozenset({"aws-sdk-go-v2"})
# An OS read only from the AWS SDK v2 ``os/macos`` token (no platform comment saying so).
_MAC_HINTS = ("Macintosh", "Mac OS X", "Darwin", "Mac_PowerPC", "iPhone", "iPad")


def _version(*parts: str | None) -> str | None:
    """``a.b.c.d`` of the leading parts present (the processor stops at the first gap)."""
    present = []
    for part in parts:
        if part is None or part == "":
            break
        present.append(part)
    return ".".join(present) if present else None


def _os_from_sdk_token(family: str, original: str) -> bool:
    return family == "Mac OS X" and "os/macos" in original and not any(hint in original for hint in _MAC_HINTS)


@lru_cache(maxsize=8192)
def parse_user_agent(original: str) -> dict[str, Any]:
    """Flat ``user_agent.*`` fields for one agent string (cached: callers must not modify it)."""
    fields: dict[str, Any] = {"user_agent.original": original, "user_agent.name": "Other"}
    os_fields: dict[str, Any] = {}
    device = "Other"
    if _ua_parse is not None:
        result = _ua_parse(original)
        ua = result.user_agent
        if ua is not None and ua.family and ua.family != "Other" and ua.family not in _NOT_IN_ELASTICSEARCH:
            fields["user_agent.name"] = ua.family
            version = _version(ua.major, ua.minor, ua.patch, ua.patch_minor)
            if version:
                fields["user_agent.version"] = version
        os_ = result.os
        if os_ is not None and os_.family and os_.family != "Other" and not _os_from_sdk_token(os_.family, original):
            os_fields["user_agent.os.name"] = os_.family
            os_version = _version(os_.major, os_.minor, os_.patch, os_.patch_minor)
            if os_version:
                os_fields["user_agent.os.version"] = os_version
                os_fields["user_agent.os.full"] = f"{os_.family} {os_version}"
        dev = result.device
        if dev is not None and dev.family and dev.family != "Other":
            device = dev.family
    fields.update(os_fields)
    fields["user_agent.device.name"] = device
    return fields
