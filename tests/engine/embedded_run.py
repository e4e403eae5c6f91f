"""Run rules and jobs the way replay and hunt do: through the embedded backend's ``run``.

The engine has one entry point (``EmbeddedBackend.run``); tests use it rather than a
test-only shortcut, so what they check is what users get. Not a test module.
"""

from __future__ import annotations

from typing import Any, Iterable

from ctdetect.backends.base import RunStats
from ctdetect.backends.embedded import EmbeddedBackend
from ctdetect.content.model import Rule
from ctdetect.findings import Finding


def run_embedded(rules: Iterable[Rule], events: Iterable[dict], jobs: Iterable[tuple[Any, Any]] = ()) -> tuple[list[Finding], RunStats]:
    """Findings (alerts, then anomalies) and run statistics (``not_run``, ``problems``) of one run."""
    result = EmbeddedBackend().run(events, list(rules), list(jobs))
    return result.findings, result.stats
