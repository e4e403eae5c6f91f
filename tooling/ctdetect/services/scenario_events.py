"""A scenario's events: its files and its ``[[synth]]`` tables, mapped and in time order.

The files' events are read (each in its ``format``, repeats of an ``event.id`` dropped
within the scenario) and sorted; each ``[[synth]]`` table is generated in time order
(``ctdetect.synth``) and merged in as it is mapped (``scenario_stream``), so a month of
synthetic history is never held. Scenarios run together (replay's groups,
``services.replay.run_group``) may share what they read alike (``SharedInputs``): one
generation of a ``[[synth]]`` table, one reading of a file several of them list (the
background's history of named principals).
"""

from __future__ import annotations

import heapq
import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from ctdetect.content.model import Scenario
from ctdetect.ecs.stream import EventIdWindow, iter_events, unrepeated
from ctdetect.readers import SkipCounter, SkippedInput
from ctdetect.services.inputs import event_time


def scenario_events(
    scenario: Scenario, mapper: Any, skips: SkipCounter, errors: list[str] | None = None,
    shared: SharedInputs | None = None,
) -> list[dict]:
    """Every event of a scenario, mapped to ECS and sorted by time (then input order): the
    list of ``scenario_stream``'s events, for a caller that reads them more than once."""
    return list(scenario_stream(scenario, mapper, skips, errors, shared))


def scenario_stream(
    scenario: Scenario, mapper: Any, skips: SkipCounter, errors: list[str] | None = None,
    shared: SharedInputs | None = None,
) -> Iterator[dict]:
    """Every event of a scenario, mapped to ECS, in time order (then input order: the files in
    the scenario's order, then each ``[[synth]]`` table).

    The files' events are read and sorted at once (a file may hold its events in any order);
    each ``[[synth]]`` table is generated in time order (``synth.generate``), so it is merged
    in as it is mapped, never held: the order is the one a stable sort of all of them gives.
    A ``[[synth]]`` table that cannot generate is appended to ``errors`` (it fails the
    scenario: its expectations would be judged on the wrong history) when the stream reaches it.
    A synth record the mapper refuses (none does: the generator writes what the mapper reads)
    is reported to ``skips`` as the merge reaches it, so two tables' skips would interleave in
    time order where the list kept each table's together.

    ``shared`` lets scenarios run together share what they read alike (``SharedInputs``),
    held: the same event objects, so only for runs that do not change them (forked ones,
    ``run_group``); a shared table's faults are told at once."""
    errors = errors if errors is not None else []
    read: list[dict] = []
    window = EventIdWindow()  # one window per scenario: its files may repeat each other's events
    for src in scenario.events:
        # each file in the scenario's order, read as its ``format`` says
        if shared is None:
            read.extend(iter_events([str(src.path)], mapper=mapper, on_skip=skips, fmt=src.format,
                                    order_files=False, dedupe=window))
        else:
            read.extend(shared.file_events(str(src.path), src.format, mapper, skips, window))
    read.sort(key=event_time)  # stable: equal times keep the input order
    if not scenario.synth:
        return iter(read)
    if shared is None:
        synth: list[Iterable[dict]] = [_synth_events(spec.params, mapper, skips, scenario, errors) for spec in scenario.synth]
    else:
        synth = []
        for spec in scenario.synth:
            key = canonical(spec.params)
            outcome = shared.synth.get(key)
            if outcome is None:
                outcome = shared.synth[key] = _synthesise(spec.params, mapper)
            synth.append(_report_synth(outcome, spec.params, skips, scenario, errors))
    # ties go to the earlier source (heapq.merge is stable), as in a stable sort of them all
    return heapq.merge(read, *synth, key=event_time)


def _synth_place(scenario: Scenario) -> tuple[str, str]:
    """The scenario's file, and its file and line of ``[[synth]]`` (how a synth fault is told)."""
    where = str(scenario.source.path)
    line = scenario.source.line_of("synth")
    return where, f"{where}:{line}" if line else where


def _synth_events(params: dict[str, Any], mapper: Any, skips: SkipCounter, scenario: Scenario, errors: list[str]) -> Iterator[dict]:
    where, place = _synth_place(scenario)
    try:
        records = _generate(params)
    except Exception as exc:  # noqa: BLE001 - bad synth parameters are the scenario author's to fix
        errors.append(f"{place}: [[synth]] {params}: {exc}")
        return
    yield from _mapped(records, mapper, lambda n, why: skips(_bad_record(where, n, why)))


def _generate(params: dict[str, Any]) -> Iterator[dict]:
    """The raw records of a ``[[synth]]`` table (raises for parameters it cannot generate from)."""
    from ctdetect.synth import SynthParams, generate

    return generate(SynthParams.from_mapping(params))


def _mapped(records: Iterable[dict], mapper: Any, on_bad: Callable[[int, str], None]) -> Iterator[dict]:
    """``records`` mapped; a record the mapper refuses is told to ``on_bad`` (its number from 1,
    why) and the others go on."""
    for n, record in enumerate(records, 1):
        try:
            yield mapper.map(record)
        except Exception as exc:  # noqa: BLE001 - reported per record, the others go on
            on_bad(n, str(exc))


def _bad_record(where: str, n: int, why: str) -> SkippedInput:
    """How a synth record the mapper refused is told: skipped, with its number."""
    return SkippedInput(where, n, "bad_record", f"synth record {n}: {why}")


@dataclass(slots=True)
class SynthOutcome:
    """What one ``[[synth]]`` table gave, held for the scenarios sharing it: its mapped events,
    the records that would not map (record number, why) and, when it could not generate at
    all, why."""

    events: list[dict]
    bad: list[tuple[int, str]]
    error: str | None = None


@dataclass(slots=True)
class SharedInputs:
    """What scenarios run together read once (``run_group``): each ``[[synth]]`` table's outcome
    by its canonical parameters, and each file read without a fault, by its real path and
    ``format``: its events in file order, repeats not yet dropped (each scenario drops them
    with its own ``EventIdWindow``, as ``iter_events`` would have).

    Why files: the scenarios on one background each list the same history of the named
    principals (3,748 records): ten readings and mappings of it were ~1 CPU s of a group.
    A file whose reading told a fault (a skip) is not kept: each scenario reads it again, so
    its reports name the file as that scenario lists it."""

    synth: dict[str, SynthOutcome] = field(default_factory=dict)
    files: dict[tuple[str, str], list[dict]] = field(default_factory=dict)

    def file_events(self, path: str, fmt: str, mapper: Any, skips: SkipCounter, window: EventIdWindow) -> Iterator[dict]:
        """The events of one of a scenario's files, its repeats (by ``window``) dropped: what
        ``iter_events([path], ..., dedupe=window)`` gives, read once for all who list it."""
        key = (os.path.realpath(path), fmt)
        events = self.files.get(key)
        if events is None:
            told: list[SkippedInput] = []
            events = list(iter_events([path], mapper=mapper, on_skip=told.append, fmt=fmt, order_files=False))
            for skip in told:
                skips(skip)
            if not told:  # else not kept: the next scenario reads it again and its reports name its own path
                self.files[key] = events
        return unrepeated(events, window)


def canonical(params: Any) -> str:
    """One text for equal parameters (keys sorted): what tables and scenarios are compared by."""
    return json.dumps(params, sort_keys=True, default=str)


def _synthesise(params: dict[str, Any], mapper: Any) -> SynthOutcome:
    bad: list[tuple[int, str]] = []
    try:
        events = list(_mapped(_generate(params), mapper, lambda n, why: bad.append((n, why))))
    except Exception as exc:  # noqa: BLE001 - bad synth parameters are the scenario author's to fix
        return SynthOutcome([], [], str(exc))
    return SynthOutcome(events, bad)


def _report_synth(outcome: SynthOutcome, params: dict[str, Any], skips: SkipCounter, scenario: Scenario, errors: list[str]) -> list[dict]:
    """A held ``[[synth]]`` table's events, its faults told in the scenario's words (its file and line)."""
    where, place = _synth_place(scenario)
    if outcome.error is not None:
        errors.append(f"{place}: [[synth]] {params}: {outcome.error}")
        return []
    for n, why in outcome.bad:
        skips(_bad_record(where, n, why))
    return outcome.events
