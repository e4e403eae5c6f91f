"""Run rules and jobs the way replay and hunt do: through the embedded backend's ``run``.

The engine has one entry point (``EmbeddedBackend.run``); tests use it rather than a
test-only shortcut, so what they check is what users get. Not a test module.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable, Mapping

from ctdetect.backends.base import RunStats
from ctdetect.backends.embedded import EmbeddedBackend
from ctdetect.catalogue import load_catalogue
from ctdetect.content.model import Rule
from ctdetect.findings import Finding


@lru_cache(maxsize=1)
def catalogue_types() -> Mapping[str, str]:
    """The field types the embedded backend runs with (for tests that build an engine part alone)."""
    return load_catalogue().field_types()


def run_embedded(rules: Iterable[Rule], events: Iterable[dict], jobs: Iterable[tuple[Any, Any]] = ()) -> tuple[list[Finding], RunStats]:
    """Findings (alerts, then anomalies) and run statistics (``not_run``, ``problems``) of one run."""
    result = EmbeddedBackend(catalogue_types()).run(events, list(rules), list(jobs))
    return result.findings, result.stats
