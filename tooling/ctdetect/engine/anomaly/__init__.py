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

from ctdetect.engine.anomaly.errors import JobConfigError, StateError
from ctdetect.engine.anomaly.runner import AnomalyJobRunner

__all__ = ["AnomalyJobRunner", "JobConfigError", "StateError"]
