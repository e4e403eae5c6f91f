"""The streaming path of an aggregating ES|QL rule whose look-back equals its interval.

Why: such a rule's windows do not overlap (an event exactly on a cut is the end of one
window and the start of the next, both ends being inclusive), so each matching event can be
folded into its window's groups as it arrives (``query.esql.streaming.WindowFold``) instead
of being held until its execution settles: the rule holds aggregation state, not events.

It gives what the held path (``base.CompiledRule._keep``/``_settle`` and ``EsqlRule._run_whole``)
gives, which it follows step by step:

- an execution at ``t`` sees the matches of ``[t - interval, t]`` that were indexed by ``t``
  (``event.ingested``, ``CompiledRule.searchable_since``) and whose ``@timestamp`` bounds
  (``TimeBound``) allow ``t``; it runs when its window holds a match indexed by then (an
  execution over nothing creates nothing), even if the bounds or the query's own ``WHERE``
  leave no row (a ``STATS`` without ``BY`` still answers a row);
- executions settle when the held path would settle them: it holds matches in a list and
  settles every ``SETTLE_EVERY`` additions up to ``SETTLE_SLACK_MS`` before the newest
  match, dropping after each settling the matches before the last execution run; this path
  counts those matches per slice of time instead of holding them, so it settles at the very
  same points and a match arriving for an execution already run is left out of it and counted
  in ``late`` as there;
- rows become alerts through ``EsqlRule.alert_rows`` (alert ids, ``max_signals``,
  suppression), with the request's row cap (``rule_limits.rows_per_request``).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from ctdetect.engine.rules import base
from ctdetect.engine.rules.base import Match
from ctdetect.query.esql.rule_limits import rows_per_request
from ctdetect.query.esql.streaming import Batch, Order, StreamPlan, WindowFold

if TYPE_CHECKING:  # the rule calls in; only its type is needed here
    from ctdetect.engine.rules.esql_rule import EsqlRule

SliceKey = tuple[int, int]  # (cut, 0): a time on the cut; (cut, 1): after it, before the next cut


@dataclass(slots=True)
class _Window:
    """One pending execution: its groups and how many of its matches it sees."""

    fold: WindowFold
    seen: int = 0  # matches indexed by the execution (it runs only when some are)
    docs: list[int] = field(default_factory=list)  # the current batch's documents to fold
    orders: list[Order] = field(default_factory=list)


@dataclass(slots=True)
class WindowStream:
    """The pending executions of one rule (look-back == interval), each folding its matches."""

    stream: StreamPlan
    interval_ms: int
    windows: dict[int, _Window] = field(default_factory=dict)  # execution time -> its window
    held: dict[SliceKey, int] = field(default_factory=dict)  # matches the held path would still hold, per slice
    held_total: int = 0

    def take(self, rule: "EsqlRule", kept: Sequence[Match], cells: dict[str, list] | None = None) -> None:
        """The matches of one batch (passed the rule's prefilter, in input order): count,
        place and fold each, settling where the held path settles. ``cells``: columns
        already read from their documents (``StatsPlan.rows``)."""
        if not kept:
            return
        batch = self.stream.rows([m.event for m in kept], cells)
        last = batch.last
        step = self.interval_ms
        held, windows = self.held, self.windows  # the same dicts ``settle`` pops from
        new_window = self.stream.window
        searchable_since = rule.searchable_since
        touched: dict[int, _Window] = {}
        for i, match in enumerate(kept):
            ts = match.ts
            done = rule.settled_until
            if done is not None and ts < done:  # the held path's test, with look-back == interval
                rule.late += 1
            cut = ts // step * step
            key = (cut, 0 if cut == ts else 1)
            held[key] = held.get(key, 0) + 1
            self.held_total += 1
            if rule.newest is None or ts > rule.newest:
                rule.newest = ts
            searchable = searchable_since(match)
            bound = last[i]
            end = cut if cut == ts else cut + step
            for at in (end, end + step) if end == ts else (end,):
                if done is not None and at <= done:
                    continue  # that execution has run (or had nothing when it did)
                window = windows.get(at)
                if window is None:
                    window = windows[at] = _Window(new_window())
                if searchable <= at:
                    window.seen += 1
                    if bound is None or at <= bound:
                        window.docs.append(i)
                        window.orders.append((ts, match.seq))
                        touched[at] = window
            if not self.held_total % base.SETTLE_EVERY:
                self._fold(batch, touched)
                self.settle(rule, rule.newest - base.SETTLE_SLACK_MS)
        self._fold(batch, touched)

    @staticmethod
    def _fold(batch: Batch, touched: dict[int, _Window]) -> None:
        """Fold the batch's documents each window collected so far."""
        for window in touched.values():
            if window.docs:
                window.fold.add(batch, window.docs, window.orders)
                window.docs, window.orders = [], []
        touched.clear()

    def settle(self, rule: "EsqlRule", limit: int | None) -> None:
        """Run the executions up to ``limit`` (None: all), as ``CompiledRule._settle`` does."""
        if not self.held_total:
            return
        cap = rows_per_request(rule.rule.max_signals)
        for at in sorted(self.windows):
            if limit is not None and at > limit:
                break
            window = self.windows.pop(at)
            if window.seen:
                rule.alert_rows(at, window.fold.result(at, cap), ())
            rule.settled_until = at
        if limit is None:
            self.held.clear()
            self.held_total = 0
        elif rule.settled_until is not None:
            self._forget((rule.settled_until, 0))

    def _forget(self, first_kept: SliceKey) -> None:
        """Stop counting the matches the held path drops after settling (before ``first_kept``)."""
        keys = sorted(self.held)
        for key in keys[: bisect_left(keys, first_kept)]:
            self.held_total -= self.held.pop(key)

    def clear(self) -> None:
        self.windows.clear()
        self.held.clear()
        self.held_total = 0
