"""Readers: stream events from files, folders and stdin, reporting bad input.

Public API:

- ``read_events(paths, *, stdin=None, on_skip=None) -> Iterator[RawItem]``
- ``RawItem(kind, record, file, position)``: ``kind`` is ``"cloudtrail"`` or ``"ecs"``
- ``SkippedInput(file, record, reason, message)`` and the reason codes in ``model``
- ``SkipCounter``: an ``on_skip`` callback that counts skips by reason

To get flat ECS events straight away use ``ctdetect.ecs.stream.iter_events``.
"""

from __future__ import annotations

from ctdetect.readers.model import REASONS, RawItem, SkipCounter, SkippedInput
from ctdetect.readers.stream import read_events

__all__ = ["REASONS", "RawItem", "SkipCounter", "SkippedInput", "read_events"]
