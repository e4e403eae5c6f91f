"""A scenario's events: its files and its ``[[synth]]`` tables, mapped and in time order.

The files' events are read (each in its ``format``, repeats of an ``event.id`` dropped
within the scenario) and sorted; each ``[[synth]]`` table is generated in time order
(``ctdetect.synth``) and merged in as it is mapped (``scenario_stream``), so a month of
synthetic history is never held. Scenarios on the same synthetic background may share one
generation of it (``synth_cache``: replay's groups, ``services.replay.run_group``).
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from ctdetect.content.model import Scenario
from ctdetect.ecs.stream import EventIdWindow, iter_events
from ctdetect.readers import SkipCounter
from ctdetect.services.inputs import event_time


def scenario_events(
    scenario: Scenario, mapper: Any, skips: SkipCounter, errors: list[str] | None = None,
    synth_cache: dict[str, SynthOutcome] | None = None,
) -> list[dict]:
    """Every event of a scenario, mapped to ECS and sorted by time (then input order): the
    list of ``scenario_stream``'s events, for a caller that reads them more than once."""
    return list(scenario_stream(scenario, mapper, skips, errors, synth_cache))


def scenario_stream(
    scenario: Scenario, mapper: Any, skips: SkipCounter, errors: list[str] | None = None,
    synth_cache: dict[str, SynthOutcome] | None = None,
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

    ``synth_cache`` (canonical parameters -> what they generated) lets scenarios with the
    same ``[[synth]]`` table share its events, held: the same objects, so only for runs that
    do not change them (forked ones, ``run_group``); its faults are told at once."""
    errors = errors if errors is not None else []
    read: list[dict] = []
    window = EventIdWindow()  # one window per scenario: its files may repeat each other's events
    for src in scenario.events:
        # each file in the scenario's order, read as its ``format`` says
        read.extend(iter_events([str(src.path)], mapper=mapper, on_skip=skips, fmt=src.format,
                                order_files=False, dedupe=window))
    read.sort(key=event_time)  # stable: equal times keep the input order
    if not scenario.synth:
        return iter(read)
    if synth_cache is None:
        synth: list[Iterable[dict]] = [_synth_events(spec.params, mapper, skips, scenario, errors) for spec in scenario.synth]
    else:
        synth = []
        for spec in scenario.synth:
            key = canonical(spec.params)
            outcome = synth_cache.get(key)
            if outcome is None:
                outcome = synth_cache[key] = _synthesise(spec.params, mapper)
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


def _bad_record(where: str, n: int, why: str) -> Any:
    """How a synth record the mapper refused is told: skipped, with its number."""
    from ctdetect.readers import SkippedInput

    return SkippedInput(where, n, "bad_record", f"synth record {n}: {why}")


@dataclass(slots=True)
class SynthOutcome:
    """What one ``[[synth]]`` table gave, held for the scenarios sharing it: its mapped events,
    the records that would not map (record number, why) and, when it could not generate at
    all, why."""

    events: list[dict]
    bad: list[tuple[int, str]]
    error: str | None = None


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
