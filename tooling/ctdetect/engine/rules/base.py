"""What every compiled rule shares: its schedule, the events it matched, its alert fields.

A compiled rule sees only the events the rule index routes to it (``engine.RuleEngine``),
tests them with predicates compiled once, and keeps just the matches (with their time and
position in the input). Kibana's per-execution logic — windows, ``max_signals``,
de-duplication across overlapping look-backs — runs over those matches execution by
execution (``_execute``), so the per-event cost of a rule that cannot match an event is
zero and of one that can is one predicate call.

Memory stays flat on long inputs: every 4096 matches, executions whose window ended more
than ``SETTLE_SLACK_MS`` before the newest match are run ("settled") and the matches no
later window can see are dropped. Input is expected in time order up to that slack
(``hunt`` re-orders within 30 minutes, ``replay`` sorts fully); a match arriving later than
that for an already settled execution is counted in ``late`` and reported.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from operator import attrgetter
from typing import Any, Callable, ClassVar, Sequence

from ctdetect.content.model import Rule
from ctdetect.engine.rules.alerts import event_index, rule_fields
from ctdetect.engine.rules.schedule import Schedule
from ctdetect.engine.rules.timeutil import event_ms, ingested_ms
from ctdetect.findings import Finding

Predicate = Callable[[dict], bool]

SETTLE_SLACK_MS = 6 * 3_600_000
SETTLE_EVERY = 4096
MATCH_ORDER = attrgetter("ts", "seq")  # the order of held matches (time, then input position)


def sort_held(items: list[Any]) -> None:
    """Sort held matches in ``MATCH_ORDER``. Tuples that begin with their ``ts`` and ``seq``
    (an ES|QL rule's slice members, ``esql_slices._Member``) are sorted as they are: ``(ts,
    seq)`` is unique per match, so their own order is ``MATCH_ORDER``'s and is found without
    a key tuple made per item (a week of members is sorted as they settle)."""
    if items and isinstance(items[0], tuple):
        items.sort()
    else:
        items.sort(key=MATCH_ORDER)


class RuleNotEvaluable(Exception):
    """The rule cannot be evaluated by the embedded engine (reason in the message)."""


@dataclass(slots=True)
class Match:
    """A source event a rule's query matched: its time (ms), input position and fields."""

    ts: int
    seq: int
    event: dict



@dataclass(slots=True)
class OfferedEvent:
    """What the rules an event is offered to derive from it alike, derived once per event.

    Why: the rule engine offers each event to every candidate rule in turn, and each asked
    for its index (four lookups and a string) and its times (ISO-8601 parses) itself. The
    event and its input position (``seq``, unique per run) are held, so a new event, or the
    same dict offered again as another, is never mistaken for it."""

    event: dict | None = None
    seq: int = -1
    # what was derived of it: "index" -> its index; (time field, fallback) -> its times
    derived: dict[Any, Any] = field(default_factory=dict)
    # during ``RuleEngine.feed_batch``, which offers a batch rule by rule (one rule's events
    # come between another's): each event's (event, derived) by input position
    batch: dict[int, tuple[dict, dict[Any, Any]]] | None = None

    def _derived(self, event: dict, seq: int) -> dict[Any, Any]:
        if event is self.event and seq == self.seq:
            return self.derived
        batch = self.batch
        if batch is None:
            derived: dict[Any, Any] = {}
        else:
            held = batch.get(seq)
            if held is not None and held[0] is event:
                derived = held[1]
            else:
                derived = {}
                batch[seq] = (event, derived)
        self.event, self.seq, self.derived = event, seq, derived
        return derived

    def begin_batch(self) -> None:
        """Keep what is derived per input position until ``end_batch``."""
        self.batch = {}

    def end_batch(self) -> None:
        """Forget the batch's events (the last one offered stays, as after an event on its own)."""
        self.batch = None

    def indices_and_times(
        self, events: Sequence[dict], positions: Sequence[int], first_seq: int, time_field: str | None, fallback: bool
    ) -> list[tuple[str, int | None, int | None]]:
        """``index_of`` and ``times_of`` of ``events[i]`` (input position ``first_seq + i``) for
        each ``i`` of ``positions``, in one list: for a rule that holds every event of its index
        with a time (``EsqlRule.offer_batch``). What is derived is kept as those keep it; an
        event whose index or time raises raises here."""
        out: list[tuple[str, int | None, int | None]] = []
        for i in positions:
            event = events[i]
            derived = self._derived(event, first_seq + i)
            out.append((_index(derived, event), *_times(derived, event, time_field, fallback)))
        return out

    def index_of(self, event: dict, seq: int) -> str:
        """``alerts.event_index`` of the event."""
        return _index(self._derived(event, seq), event)

    def times_of(self, event: dict, seq: int, time_field: str | None, fallback: bool) -> tuple[int | None, int | None]:
        """The event's time (``timeutil.event_ms``) and when it was indexed (``ingested_ms``)."""
        return _times(self._derived(event, seq), event, time_field, fallback)


def _index(derived: dict[Any, Any], event: dict) -> str:
    """The event's index, derived once into ``derived`` (``OfferedEvent``'s record of it)."""
    index = derived.get("index")
    if index is None:
        index = derived["index"] = event_index(event)
    return index


def _times(derived: dict[Any, Any], event: dict, time_field: str | None, fallback: bool) -> tuple[int | None, int | None]:
    """The event's (time, indexed) times for ``time_field``/``fallback``, derived once into ``derived``."""
    found = derived.get((time_field, fallback))
    if found is None:
        found = derived[(time_field, fallback)] = (event_ms(event, time_field, fallback=fallback), ingested_ms(event))
    return found


@dataclass(slots=True)
class CompiledRule:
    """Base of every rule type. Subclasses implement ``offer`` and ``finish``."""

    rule: Rule
    schedule: Schedule
    models_delivery: ClassVar[bool] = True  # whether executions skip events not yet indexed
    time_field: str | None = None
    fallback: bool = True  # false: timestamp_override_fallback_disabled
    matches: list[Match] = field(default_factory=list)  # held; ``matches[:_ordered]`` in ``MATCH_ORDER``
    untimed: int = 0  # matching events without a readable time (cannot be placed in a window)
    late: int = 0  # matches that arrived after their executions were settled
    settled_until: int | None = None  # time of the last execution already run
    newest: int | None = None  # newest match time seen
    output: list[Finding] = field(default_factory=list)
    # (field, values) the rule can match (routing.rule_route); None: every event
    route: tuple[str, frozenset] | None = None
    # when not routed: (field, values) pairs the rule needs anyway (routing.rule_gate), tested before the predicate
    gate: tuple[tuple[str, frozenset], ...] | None = None
    _rule_flat: dict[str, Any] | None = None
    _index_ok: dict[str, bool] = field(default_factory=dict)
    # input position -> ingestion ms, for matches indexed after their window time
    _delayed: dict[int, int] = field(default_factory=dict)
    _ordered: int = 0  # how many held matches (a prefix) are in order; ``_times`` holds their times
    _times: list[int] = field(default_factory=list)
    # what the rules of one engine derive alike from the event being offered; ``RuleEngine``
    # gives all its rules one, a rule compiled on its own has its own
    offered: OfferedEvent = field(default_factory=OfferedEvent)

    @property
    def rule_flat(self) -> dict[str, Any]:
        if self._rule_flat is None:
            self._rule_flat = rule_fields(self.rule)
        return self._rule_flat

    def index_allows(self, event: dict) -> bool:
        """Whether the event lives in an index the rule searches (``rule.index`` patterns).

        Events that carry no data stream or index information are taken to be in every
        index: a user's ECS NDJSON rarely says where it would be stored.
        """
        patterns = self.rule.index
        if not patterns:
            return True
        name = event.get("_index")
        if not isinstance(name, str):
            ds = event.get("data_stream.dataset")
            if not isinstance(ds, str):
                return True
            name = f"{event.get('data_stream.type') or 'logs'}-{ds}-{event.get('data_stream.namespace') or 'default'}"
        ok = self._index_ok.get(name)
        if ok is None:
            ok = self._index_ok[name] = any(
                fnmatchcase(name, p.strip()) for p in patterns if not p.strip().startswith("-")
            )
        return ok

    def _time(self, event: dict, seq: int) -> int | None:
        """The event's window time; remembers when it became searchable if that was later."""
        return self._placed(seq, *self.offered.times_of(event, seq, self.time_field, self.fallback))

    def _placed(self, seq: int, ts: int | None, indexed: int | None) -> int | None:
        """``_time`` of the event at input position ``seq`` from its derived times: None (counted
        untimed) without a time; a later indexing time remembered for the executions."""
        if ts is None:
            self.untimed += 1
            return None
        if self.models_delivery and indexed is not None and indexed > ts:
            self._delayed[seq] = indexed
        return ts

    def searchable_since(self, match: Any) -> int:
        """When a match became searchable (its time, or its later indexing time), forgetting the
        delay: for a path that folds the match at once instead of holding it (``esql_stream``)."""
        return self._delayed.pop(match.seq, match.ts)

    def _searchable(self, executed_at: int, window: Sequence[Any]) -> Sequence[Any]:
        """The part of a window already indexed when the execution ran."""
        if not self._delayed:
            return window
        delayed = self._delayed
        return [m for m in window if delayed.get(m.seq, m.ts) <= executed_at]

    def _window(self, items: list[Any], lo: int, hi: int) -> Sequence[Any]:
        """The matches of one execution's window, ``items[lo:hi]`` (``_execute`` may keep it)."""
        return items[lo:hi]

    def offer(self, event: dict, seq: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def offer_batch(
        self, events: Sequence[dict], positions: Sequence[int], first_seq: int, failed: Callable[[Any, int, Exception], None]
    ) -> None:
        """``offer`` of ``events[i]`` (input position ``first_seq + i``) for each ``i`` of
        ``positions`` in turn (``RuleEngine.feed_batch``); an event the rule chokes on is
        handed to ``failed(rule, seq, exc)`` and the next one offered. A rule that can test a
        batch at once overrides it (``PredicateRule``)."""
        offer = self.offer
        for i in positions:
            try:
                offer(events[i], first_seq + i)
            except Exception as exc:  # noqa: BLE001 - noted by the engine, never fatal
                failed(self, first_seq + i, exc)

    def _execute(self, executed_at: int, window: Sequence[Any]) -> None:  # pragma: no cover - abstract
        """One emulated execution over the matches of its window (ascending time)."""
        raise NotImplementedError

    def _keep(self, item: Any) -> None:
        """Store a match (anything with ``ts`` and ``seq``); settle old executions now and then."""
        ts = item.ts
        if self.settled_until is not None and ts < self.settled_until - self.schedule.lookback_ms + self.schedule.interval_ms:
            self.late += 1
        self.matches.append(item)
        if self.newest is None or ts > self.newest:
            self.newest = ts
        if not len(self.matches) % SETTLE_EVERY:
            self._settle(self.newest - SETTLE_SLACK_MS)

    def _keep_all(self, items: Sequence[Any], hold: Callable[[Sequence[Any]], None] | None = None) -> None:
        """``_keep`` of each of ``items`` in turn, without a Python call per item: what the
        rules that admit a whole batch of matches at once (``EsqlRule``'s slices) hold.

        The items are taken in runs that end where ``_keep`` would settle (every
        ``SETTLE_EVERY`` held matches), so each settle sees what it sees when the items come
        one at a time: ``hold`` (given a run, before it is held: the slices' ``add_all``) has
        placed exactly the items up to that point, ``newest`` is the newest of them, and a
        run's ``late`` test reads the ``settled_until`` of the last settle, which no item of
        the run changes."""
        matches, n, start = self.matches, len(items), 0
        lookback, interval = self.schedule.lookback_ms, self.schedule.interval_ms
        while start < n:
            run = items[start:start + SETTLE_EVERY - len(matches) % SETTLE_EVERY]
            start += len(run)
            if hold is not None:
                hold(run)
            times = [item.ts for item in run]
            if self.settled_until is not None:
                floor = self.settled_until - lookback + interval
                self.late += sum(ts < floor for ts in times)
            matches.extend(run)
            top = max(times)
            if self.newest is None or top > self.newest:
                self.newest = top
            if not len(matches) % SETTLE_EVERY:
                self._settle(self.newest - SETTLE_SLACK_MS)

    def _order(self) -> list[int]:
        """Put the held matches in time order and return their times.

        The prefix ordered at the last settle stays as it is: only the matches that arrived
        since are sorted, then appended, or merged with the end of the prefix they reach back
        into (input in time order up to the slack reaches back little). ``(ts, seq)`` is
        unique per match, so the order is the one a full sort gives."""
        items, k, times = self.matches, self._ordered, self._times
        if k == len(items):
            return times
        fresh = items[k:]
        sort_held(fresh)
        if k and MATCH_ORDER(items[k - 1]) > MATCH_ORDER(fresh[0]):
            at = bisect_left(times, fresh[0].ts, 0, k)  # the prefix's matches from there on may follow some fresh ones
            tail = items[at:k] + fresh
            sort_held(tail)  # two ordered runs: one merge
            items[at:] = tail
            times[at:] = [m.ts for m in tail]
        else:
            items[k:] = fresh
            times.extend([m.ts for m in fresh])
        self._ordered = len(items)
        return times

    def _settle(self, limit: int | None) -> None:
        """Run every execution up to ``limit`` (``None``: all) and drop matches no later one sees."""
        items = self.matches
        if not items:
            return
        times = self._order()
        for t, lo, hi in self.schedule.windows(times, after=self.settled_until):
            if limit is not None and t > limit:
                break
            window = self._searchable(t, self._window(items, lo, hi))
            if window:
                self._execute(t, window)
            self.settled_until = t
        if limit is None:
            items.clear()
            times.clear()
            self._ordered = 0
            self._delayed.clear()
        elif self.settled_until is not None:
            keep_from = self.settled_until + self.schedule.interval_ms - self.schedule.lookback_ms
            first = bisect_left(times, keep_from)
            if first:
                if self._delayed:
                    for m in items[:first]:
                        self._delayed.pop(m.seq, None)
                del items[:first]
                del times[:first]
                self._ordered -= first

    def finish(self, anomalies: list[Finding]) -> list[Finding]:
        """Run the executions not yet run; every alert of the rule, in execution order."""
        self._settle(None)
        return self.output


@dataclass(slots=True)
class PredicateRule(CompiledRule):
    """A rule whose per-event test is one predicate; ``_take`` holds what an event that passes it
    gives (here the match, kept in full)."""

    predicate: Predicate = lambda event: False

    def offer(self, event: dict, seq: int) -> None:
        if self.predicate(event):
            self._take(event, seq)

    def offer_batch(
        self, events: Sequence[dict], positions: Sequence[int], first_seq: int, failed: Callable[[Any, int, Exception], None]
    ) -> None:
        """The predicate over the positions in one comprehension (most offers end there), then
        ``_take`` of each event that passed, in order."""
        predicate = self.predicate
        try:
            passed = [i for i in positions if predicate(events[i])]
        except Exception:  # noqa: BLE001 - one at a time, so the events that raise are noted
            CompiledRule.offer_batch(self, events, positions, first_seq, failed)  # predicates hold no state
            return
        take = self._take
        for i in passed:
            try:
                take(events[i], first_seq + i)
            except Exception as exc:  # noqa: BLE001 - as in ``CompiledRule.offer_batch``
                failed(self, first_seq + i, exc)

    def _take(self, event: dict, seq: int) -> None:
        """An event the predicate accepted: kept if it is in the rule's indices and has a time."""
        if self.index_allows(event):
            ts = self._time(event, seq)
            if ts is not None:
                self._keep(Match(ts, seq, event))
