"""The shape every check has: an id, a default severity, what it needs, and ``run``.

A check does one thing and yields ``Problem``s; it never prints, raises on bad content or
stops the run. ``requires`` names package folders without which the check does not apply
(validating a bare folder of rules has no ``ml_jobs/``, so "the job exists" cannot be
judged; the pseudo-folder ``package`` means "a whole package", not a lone file); ``uses``
names reference data (``catalogue``, ``attack``) it reads.
"""

from __future__ import annotations

from typing import ClassVar, Iterable

from ctdetect.content.model import LoadProblem as Problem
from ctdetect.content.model import Severity
from ctdetect.validate.context import Context

__all__ = ["Check", "Problem"]


class Check:
    id: ClassVar[str]
    description: ClassVar[str]
    severity: ClassVar[Severity] = "error"
    requires: ClassVar[tuple[str, ...]] = ()
    uses: ClassVar[tuple[str, ...]] = ()

    def run(self, ctx: Context) -> Iterable[Problem]:  # pragma: no cover - abstract
        raise NotImplementedError
