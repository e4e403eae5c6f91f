"""Emulation of a detection rule's schedule: executions every ``interval``, each looking back.

Kibana runs a detection rule every ``interval``; each execution searches the window
``[now - from, now]`` (both ends inclusive, as the range filter Kibana builds uses
``gte``/``lte``), where ``from`` is the rule's ``from`` date math (``now-6m``). Elastic's
prebuilt rules set ``from`` a little longer than ``interval`` (``now-9m`` with ``5m``) so
that consecutive windows overlap and late events are not missed; the same event seen by
two executions produces one alert because alert ids are derived from the source document
(see ``alerts.alert_uuid``).

Choices (documented because a replay must be reproducible):

- Execution times are aligned to multiples of ``interval`` since the epoch. The rule is
  taken to have been running before the first event, so every event falls in at least one
  window; only executions whose window contains a match are evaluated (an execution with
  nothing to see creates nothing, so skipping it changes no result).
- No gaps: when ``from`` reaches back less than ``interval``, Kibana would leave a gap
  between windows and report it ("gap detected"); recent Kibana versions fill such gaps.
  We fill them: the effective look-back is ``max(from, interval)``.

References: Kibana docs "Create a detection rule" (Schedule: "Runs every" and
"Additional look-back time"), and "Troubleshoot gaps".
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Iterator, Sequence

from ctdetect.engine.rules.timeutil import duration_ms, lookback_ms


@dataclass(frozen=True, slots=True)
class Schedule:
    """``interval_ms`` between executions; each execution sees ``[t - lookback_ms, t]``."""

    interval_ms: int
    lookback_ms: int

    def __deepcopy__(self, memo: dict) -> "Schedule":
        """Itself: it is immutable, so a copy could never differ (``EmbeddedBackend`` deep-copies
        the compiled rules for each run of ``replay``; copying these was a third of it)."""
        return self

    @classmethod
    def of(cls, interval: str, from_: str) -> "Schedule":
        interval_ms = duration_ms(interval)
        if interval_ms <= 0:
            raise ValueError(f"interval must be positive, got {interval!r}")
        return cls(interval_ms, max(lookback_ms(from_), interval_ms))

    def first_execution_at_or_after(self, ms: int) -> int:
        """The earliest execution time ``t >= ms``."""
        step = self.interval_ms
        return -(-ms // step) * step

    def windows(self, times: Sequence[int], after: int | None = None) -> Iterator[tuple[int, int, int]]:
        """For sorted event times, yield ``(t, lo, hi)`` per execution whose window holds any.

        ``times[lo:hi]`` are the events inside ``[t - lookback, t]``. Executions are
        yielded in time order; empty ones are skipped; with ``after``, only those later than it
        (the same ones as without, less the earlier: a rule settling again starts there).
        """
        n = len(times)
        if not n:
            return
        step, back = self.interval_ms, self.lookback_ms
        t = self.first_execution_at_or_after(times[0])
        lo = 0
        if after is not None and t <= after:
            t = self.first_execution_at_or_after(after + 1)
            lo = bisect_left(times, t - back)
        while lo < n:
            start = t - back
            while lo < n and times[lo] < start:
                lo += 1
            if lo >= n:
                return
            if times[lo] > t:
                t = self.first_execution_at_or_after(times[lo])
                continue
            hi = bisect_right(times, t, lo)
            yield t, lo, hi
            t += step
