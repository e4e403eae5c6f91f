"""The EQL sequence state machine, as Elasticsearch documents it.

From the EQL syntax reference ("How sequence queries handle matches"), in our words:

- every item (stage) of a sequence is a state of a finite-state machine; a pending
  sequence sits in the state of the last stage it has matched;
- only one pending sequence can be in each state at a time: when a newer one reaches a
  state already held, the newer overwrites the older (so a new event of stage 1 restarts
  the pending stage-1 sequence with the more recent event);
- with ``by`` keys, each distinct key (the sequence-level ``by`` values followed by the
  stage's own ``by`` values, compared position by position across stages) has its own
  machine;
- ``with maxspan=D``: a sequence matches only if its last event is at most ``D`` after its
  first; a pending sequence that can no longer complete in time is dropped;
- ``until [...]``: an expiration event of the same key arriving *between* matching events
  drops the key's pending sequences; one arriving after a completed sequence changes
  nothing; it is never part of the results;
- ``[...] with runs=N`` is the same stage written N times in a row.

Events are taken in ascending (time, input position) order. One event may match several
stages, but a stage only advances a sequence whose previous event came strictly earlier,
so one event never fills two stages of the same sequence: we try stages from last to
first for each event.

Join keys must be non-null: an event missing a ``by`` field cannot join any sequence,
unless the field is optional (``?field``), whose missing value joins as ``null``
(Elasticsearch PR #79677, "limit joining keys on non-null values only", and the EQL docs
on optional fields). Our choice where the documentation is silent: an array value is
compared as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

JoinKey = tuple[Any, ...]


@dataclass(slots=True)
class SeqEvent:
    """A source event that matched at least one stage (or the ``until`` clause)."""

    ts: int
    seq: int
    event: dict
    steps: tuple[int, ...]  # indexes of the query steps it matched
    keys: dict[int, JoinKey]  # step index -> join key (steps it matched only); -1 for until
    until: bool = False


def join_key(event: dict, fields: Sequence[str]) -> JoinKey | None:
    """The join key of ``event`` over ``fields``; ``None`` when a field is missing."""
    values = []
    for name in fields:
        optional = name.startswith("?")
        value = event.get(name[1:] if optional else name)
        if value is None or value == []:
            if optional:
                values.append(None)
                continue
            return None
        values.append(tuple(value) if isinstance(value, list) else value)
    return tuple(values)


@dataclass(slots=True)
class SequenceSpec:
    """Stages after expanding ``runs``: ``stage_step[i]`` is the query step of stage ``i``."""

    stage_step: tuple[int, ...]
    maxspan_ms: int | None

    @classmethod
    def of(cls, runs: Iterable[int], maxspan_ms: int | None) -> "SequenceSpec":
        stages: list[int] = []
        for step, n in enumerate(runs):
            stages.extend([step] * max(1, int(n)))
        return cls(tuple(stages), maxspan_ms)


@dataclass(slots=True)
class _Pending:
    first_ts: int
    events: list[SeqEvent] = field(default_factory=list)


def run_sequences(spec: SequenceSpec, events: Iterable[SeqEvent]) -> list[list[SeqEvent]]:
    """Complete sequences, in completion order, over ``events`` (sorted by time, position)."""
    n = len(spec.stage_step)
    last = n - 1
    machines: dict[JoinKey, list[_Pending | None]] = {}
    done: list[list[SeqEvent]] = []
    maxspan = spec.maxspan_ms
    stage_step = spec.stage_step
    for ev in events:
        if ev.until:
            key = ev.keys.get(-1)
            if key is not None and key in machines:
                del machines[key]
        if not ev.steps:
            continue
        for stage in range(last, -1, -1):
            step = stage_step[stage]
            if step not in ev.steps:
                continue
            key = ev.keys.get(step)
            if key is None:
                continue
            states = machines.get(key)
            if stage == 0:
                if states is None:
                    states = machines[key] = [None] * n
                states[0] = _Pending(ev.ts, [ev])
                if n == 1:
                    done.append(states[0].events)  # type: ignore[union-attr]
                    states[0] = None
                continue
            if states is None:
                continue
            prev = states[stage - 1]
            if prev is None:
                continue
            states[stage - 1] = None
            if maxspan is not None and ev.ts - prev.first_ts > maxspan:
                continue  # expired: it can never complete within maxspan
            moved = _Pending(prev.first_ts, prev.events + [ev])
            if stage == last:
                done.append(moved.events)
            else:
                states[stage] = moved
    return done
