"""The shape every check has: an id, a default severity, what it needs, and ``run``.

A check does one thing and yields ``Problem``s; it never prints, raises on bad content or
stops the run. ``requires`` names package folders without which the check does not apply
(validating a bare folder of rules has no ``ml_jobs/``, so "the job exists" cannot be
judged; the pseudo-folder ``package`` means "a whole package", not a lone file); ``uses``
names reference data (``catalogue``, ``attack``) it reads. ``profile`` is ``None`` for a
check that always runs, or the name of the ``--profile`` that turns it on (``elastic``: the
conventions only rules meant for Elastic's own repository keep). ``reference`` links the
convention a check mirrors (reporters show it as help).
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
    profile: ClassVar[str | None] = None
    reference: ClassVar[str | None] = None

    def run(self, ctx: Context) -> Iterable[Problem]:  # pragma: no cover - abstract
        raise NotImplementedError
