"""Embedded emulation of Elastic ML anomaly detection (rare, freq_rare, count family,
distinct counts), with Elastic's scoring and result shapes.

Public API:

- ``AnomalyJobRunner.from_config(job, datafeed)``: one job; ``feed`` / ``feed_many``,
  ``flush``, ``results()``, ``to_findings()``, ``save_state`` / ``load_state``.
  A run of every job over events is ``backends.embedded.EmbeddedBackend.run``.
- ``JobConfigError`` / ``StateError``: one clear message naming the job or file.

The maths follows ../shared/ML-SEMANTICS.md (a reading of Elastic's engine) and
Elastic's documentation; each module's docstring says which part it implements.
"""

from __future__ import annotations

from ctdetect.engine.anomaly.accelerated import choose_implementation

choose_implementation()  # before any compiled module is imported: stale extensions must not run

from ctdetect.engine.anomaly.errors import JobConfigError, StateError  # noqa: E402
from ctdetect.engine.anomaly.runner import AnomalyJobRunner  # noqa: E402

__all__ = ["AnomalyJobRunner", "JobConfigError", "StateError"]
