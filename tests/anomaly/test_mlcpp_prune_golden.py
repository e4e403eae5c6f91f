"""Golden tests of model pruning against ml-cpp's ``testPrune`` cases
(../shared/anchors/ml-cpp-golden/model-tests, elastic/ml-cpp commit 7a29b4b34):
``CEventRateModelTest.cc`` line 915 (individual counts) and
``CEventRatePopulationModelTest.cc`` line 460 (population counts and the attribute people).

Both run 1000 hourly buckets with decay rate 0.01, then prune by the model's
``defaultPruneWindow`` (4 / 0.01 = 400 buckets), and require that (1) exactly the idle people
(and attributes) are gone, (2) what is left equals a model fed only the kept entities' data
(ml-cpp compares checksums; ours compares the detector states), (3) entities that come after
the prune start afresh in both alike, and (4) pruning again with no new data removes nothing.
The inputs (counts per bucket, kept people and attributes, decay rate) are read from the test
sources at the lines named; event times within a bucket do not matter to a bucket's count.
"""

from __future__ import annotations

import re
from typing import Any

from conftest import shared_path
from helpers import record_golden

from ctdetect.engine.anomaly.config import parse_job
from ctdetect.engine.anomaly.detectors.counting import CountingDetector
from ctdetect.engine.anomaly.detectors.population import PopulationRare
from ctdetect.engine.anomaly.pruning import default_prune_window

MODEL_TEST = ("anchors", "ml-cpp-golden", "model-tests", "CEventRateModelTest.cc")
POPULATION_TEST = ("anchors", "ml-cpp-golden", "model-tests", "CEventRatePopulationModelTest.cc")


def _lines(source: tuple[str, ...]) -> list[str]:
    return shared_path(*source).read_text().splitlines()


def _constant(lines: list[str], first: int, last: int, pattern: str) -> str:
    for text in lines[first - 1 : last]:
        found = re.search(pattern, text)
        if found:
            return found.group(1)
    raise AssertionError(f"{pattern!r} not in lines {first}-{last}")


def _series_state(det: CountingDetector) -> dict[str, Any]:
    """A counting detector's state with its maps keyed (ml-cpp's checksum ignores the order
    people were added in)."""
    state = det.to_state()
    weights = {}
    for part, w in state["rate_weights"]:
        weights[part] = ({a: per for a, per in w["counts"]}, {a: t for a, t in w["totals"]}, w["people"])
    return {
        "series": {tuple(k): s for k, s in state["series"]},
        "rarity": dict(state["rarity"]),
        "weights": weights,
        "seen": {tuple(k): t for k, t in state["seen"]},
        "people_seen": {tuple(k): t for k, t in state["people_seen"]},
    }


def _people_state(det: PopulationRare) -> dict[Any, Any]:
    return {k: ({x: sorted(ys) for x, ys in m.people_of.items()}, dict(m.last_seen.times), m.first_seen, dict(m.people_seen.times))
            for k, m in det.parts.items()}


# ------------------------------------------------------------------ CEventRateModelTest.cc:915
def _individual_counts(lines: list[str]) -> tuple[list[list[int]], list[int], float, int, int]:
    """testPrune's per-person bucket counts (lines 926-942), kept people (944), decay (947)."""
    counts: list[list[int]] = []
    for text in lines[925:942]:
        pushed = re.search(r"TUInt64Vec\((\d+), (\d+)\)", text)
        if pushed:
            counts.append([int(pushed.group(2))] * int(pushed.group(1)))
        setting = re.search(r"eventCounts\[(\d+)\]\[(\d+)\] = (\d+);", text)
        if setting:
            counts[int(setting.group(1))][int(setting.group(2))] = int(setting.group(3))
    kept = [int(v) for v in re.findall(r"\d+", lines[943].split("{", 1)[1])]
    decay = float(_constant(lines, 947, 947, r"s_DecayRate = ([0-9.]+)"))
    start = int(_constant(lines, 920, 920, r"startTime\{(\d+)\}"))
    span = int(_constant(lines, 921, 921, r"bucketLength\{(\d+)\}"))
    return counts, kept, decay, start, span


def _non_zero_count(span: int, decay: float) -> CountingDetector:
    job = parse_job({"job_id": "golden", "analysis_config": {"bucket_span": f"{span}s", "detectors": [
        {"function": "non_zero_count", "by_field_name": "person"}]}})
    return CountingDetector(job, job.detectors[0], learn_rate=1.0, decay_rate=decay)


def _feed_individual(det: CountingDetector, counts: list[list[int]], people: list[int], start_ms: int, span_ms: int) -> int:
    """Every bucket of the counts, for the given people; the start of the last bucket."""
    bucket_ms = start_ms
    for j in range(len(counts[0])):
        bucket_ms = start_ms + j * span_ms
        for i in people:
            for _ in range(counts[i][j]):
                det.add({"person": f"p{i + 1}"}, (), 1.0)
        det.close(bucket_ms)
    return bucket_ms


def test_individual_prune_forgets_idle_people_only(record_property) -> None:
    """CEventRateModelTest.cc:915 testPrune: p1 (last data in bucket 4), p3 and p4 (bucket 15)
    are pruned after 1000 buckets by the 400-bucket default window; p2, p5, p6 (data every
    bucket) are kept, and the model equals one fed only their events (line 1029); new people
    p7-p9 start afresh in both alike (line 1057); a second prune removes nothing (line 1063)."""
    lines = _lines(MODEL_TEST)
    assert "testPrune" in lines[914]
    counts, kept, decay, start, span = _individual_counts(lines)
    model = _non_zero_count(span, decay)
    expected = _non_zero_count(span, decay)
    last = _feed_individual(model, counts, list(range(len(counts))), start * 1000, span * 1000)
    _feed_individual(expected, counts, kept, start * 1000, span * 1000)
    window = model.persistence_prune_window()
    model.prune(last, window)
    left = sorted(by for _, by in model.series)
    want = sorted(f"p{i + 1}" for i in kept)
    record_golden(record_property, "CEventRateModelTest.cc:915 testPrune", f"window 400 buckets; people left {want}",
                  f"window {window} buckets; people left {left}")
    assert window == int(4 / decay) == 400
    assert left == want
    assert _series_state(model) == _series_state(expected)
    # new people after the prune: fresh models, the same in both
    next_ms = last + span * 1000
    for det in (model, expected):
        for person in ("p7", "p8", "p9"):
            det.add({"person": person}, (), 1.0)
            det.add({"person": person}, (), 1.0)
        det.close(next_ms)
    assert _series_state(model) == _series_state(expected)
    before = len(model.series)
    model.prune(next_ms, window)
    assert len(model.series) == before == 6


# ------------------------------------------------------------------ CEventRatePopulationModelTest.cc:460
def _population_messages(lines: list[str]) -> tuple[list[tuple[int, str, str]], list[str], list[str], float, int, int]:
    """testPrune's messages (lines 472-516: each person's attributes with a default count per
    bucket, and the buckets that differ), kept people and attributes (lines 518-519), decay
    (line 522); (time, person, attribute), sorted, as the test builds them (lines 533-550)."""
    start = int(_constant(lines, 464, 464, r"startTime = (\d+)"))
    span = int(_constant(lines, 465, 465, r"bucketLength = (\d+)"))
    buckets = int(_constant(lines, 466, 466, r"numberBuckets = (\d+)"))
    people = re.findall(r'"(\w+)"', lines[467])
    attributes = re.findall(r'"(\w+)"', lines[468])
    counts: list[list[list[list[Any]]]] = [[] for _ in people]
    defaults: list[list[Any]] = []
    for text in lines[470:516]:
        if "TStrSizePrVec attributeCounts" in text:
            defaults = []
        added = re.search(r"emplace_back\(attributes\[(\d+)\], (\d+)\)", text)
        if added:
            defaults.append([attributes[int(added.group(1))], int(added.group(2))])
        resized = re.search(r"eventCounts\[(\d+)\]\.resize", text)
        if resized:
            counts[int(resized.group(1))] = [[list(pair) for pair in defaults] for _ in range(buckets)]
        setting = re.search(r"eventCounts\[(\d+)\]\[(\d+)\]\[(\d+)\]\.second = (\d+);", text)
        if setting:
            i, j, k, n = (int(g) for g in setting.groups())
            counts[i][j][k][1] = n
    kept_people = sorted(people[int(i)] for i in re.findall(r"people\[(\d+)\]", lines[517]))
    kept_attributes = sorted(attributes[int(i)] for i in re.findall(r"attributes\[(\d+)\]", lines[518]))
    decay = float(_constant(lines, 522, 522, r"s_DecayRate = ([0-9.]+)"))
    messages = []
    for i, person in enumerate(people):
        for j in range(buckets):
            for attribute, n in counts[i][j]:
                dt = span // n if n else span
                messages.extend((start + j * span + l * dt, person, attribute) for l in range(n))
    return sorted(messages), kept_people, kept_attributes, decay, start, span


def _population_detectors(span: int, decay: float) -> tuple[CountingDetector, PopulationRare]:
    """ml-cpp's model has both features: the person-attribute counts (ours: ``count`` over the
    person) and the distinct people per attribute (ours: the population rare model)."""
    job = parse_job({"job_id": "golden", "analysis_config": {"bucket_span": f"{span}s", "detectors": [
        {"function": "count", "by_field_name": "attribute", "over_field_name": "person"},
        {"function": "rare", "by_field_name": "attribute", "over_field_name": "person"}]}})
    return (CountingDetector(job, job.detectors[0], learn_rate=1.0, decay_rate=decay), PopulationRare(job, job.detectors[1]))


def _feed_population(dets: tuple[CountingDetector, PopulationRare], messages: list[tuple[int, str, str]], start: int, span: int) -> int:
    """The test's loop (line 566): a bucket is sampled when a message past its end arrives,
    and the last one after the messages; the start of the last bucket, in ms."""
    bucket = start
    for t, person, attribute in messages:
        if t >= bucket + span:
            for det in dets:
                det.close(bucket * 1000)
            bucket += span
        for det in dets:
            det.add({"person": person, "attribute": attribute}, (), 1.0)
    for det in dets:
        det.close(bucket * 1000)
    return bucket * 1000


def test_population_prune_forgets_idle_people_and_attributes(record_property) -> None:
    """CEventRatePopulationModelTest.cc:460 testPrune: person p2 and attributes c1, c2, c5 are
    pruned by the 400-bucket default window (lines 461-462); what is left equals a model fed
    only the kept people's messages on the kept attributes (line 591); a returning person on a
    pruned attribute and a new person on a new attribute start afresh in both alike
    (line 610); a second prune removes nothing (line 617)."""
    lines = _lines(POPULATION_TEST)
    assert "testPrune" in lines[459]
    messages, kept_people, kept_attributes, decay, start, span = _population_messages(lines)
    model = _population_detectors(span, decay)
    expected = _population_detectors(span, decay)
    last = _feed_population(model, messages, start, span)
    _feed_population(expected, [m for m in messages if m[1] in kept_people and m[2] in kept_attributes], start, span)
    window = default_prune_window(decay)
    for det in model:
        det.prune(last, window)
    counts, rare = model
    people_left = sorted({person for _, person in counts.people_seen.times})
    attributes_left = sorted(by for _, by in counts.series)
    record_golden(record_property, "CEventRatePopulationModelTest.cc:460 testPrune",
                  f"people left {kept_people}; attributes left {kept_attributes}",
                  f"people left {people_left}; attributes left {attributes_left} (window {window} buckets)")
    assert window == counts.persistence_prune_window() == 400
    assert people_left == kept_people and attributes_left == kept_attributes
    assert sorted(rare.parts[None].people_of) == kept_attributes
    assert _series_state(model[0]) == _series_state(expected[0])
    assert _people_state(model[1]) == _people_state(expected[1])
    # line 597: p1 on the pruned c2, new p5 on new c6, in the next bucket
    new = [(last // 1000 + span + 10, "p1", "c2"), (last // 1000 + span + 200, "p5", "c6"), (last // 1000 + span + 2100, "p5", "c6")]
    for dets in (model, expected):
        for _, person, attribute in new:
            for det in dets:
                det.add({"person": person, "attribute": attribute}, (), 1.0)
        for det in dets:
            det.close(last + span * 1000)
    assert _series_state(model[0]) == _series_state(expected[0])
    assert _people_state(model[1]) == _people_state(expected[1])
    before = (len(counts.series), len(counts.people_seen), len(rare.parts[None].people_of))
    for det in model:
        det.prune(last + span * 1000, window)
    assert (len(counts.series), len(counts.people_seen), len(rare.parts[None].people_of)) == before

