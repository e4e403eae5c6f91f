"""Errors of the anomaly engine: one clear message naming the job, detector or record."""

from __future__ import annotations


class JobConfigError(ValueError):
    """A job or datafeed the engine cannot run, with a message naming the job and key."""


class StateError(ValueError):
    """A saved model state that cannot be resumed (wrong version, other job, corrupt)."""
