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

__all__ = ["AnomalyJobRunner", "JobConfigError", "StateError", "preload"]


def __getattr__(name: str) -> object:
    """``AnomalyJobRunner`` imported on first use: the runner brings numpy and the compiled
    models (about a tenth of a second), which a caller of a light module of this package
    (``validate`` reads ``pruning.check_window``) never needs."""
    if name == "AnomalyJobRunner":
        from ctdetect.engine.anomaly.runner import AnomalyJobRunner

        return AnomalyJobRunner
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def preload() -> None:
    """Import now what running a job imports on first use: the runner (numpy, the compiled
    models) and scipy's special functions (at the first bucket close). A process about to
    fork workers that will run jobs (``replay``'s pool) calls it, so that they inherit the
    modules instead of each importing them (about 0.3 CPU s a process)."""
    from ctdetect.engine.anomaly import stats
    from ctdetect.engine.anomaly.runner import AnomalyJobRunner  # noqa: F401

    stats.scalar_special()
    stats.ufunc_special()
