"""``ecs.projected``: the projected mapper gives the full mapper's values for every needed
field, and a hunt over projected events finds exactly what it finds over whole documents.

Data: seeded ``synth`` trails (with travel, console logins, failures) and the real
CloudTrail of ../shared/datasets (Stratus Red Team detonations, the OTRF exfiltration, AWS
documentation examples, the aws integration's pipeline test inputs). Needs: the package's
rules and jobs, Elastic's AWS rules (from ../shared/anchors), and a hand-made set with
wildcard patterns.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import shared_path

from ctdetect.backends.embedded import EmbeddedBackend
from ctdetect.content.loaders import load_rules
from ctdetect.ecs.mapper import CloudTrailMapper, MappingError, _cut_general, static_key, volatile_cut
from ctdetect.ecs.projected import RAW_KEY, ProjectedMapper, full_document, mapper_for
from ctdetect.engine.needed_fields import FieldNeeds, needed_fields
from ctdetect.findings import Finding
from ctdetect.readers.stream import read_events
from ctdetect.readers.texts import RecordText, delivery_texts
from ctdetect.services.content import load_content
from ctdetect.services.inputs import make_mapper, time_ordered
from ctdetect.synth import SynthParams, generate

PROJECT = Path(__file__).resolve().parents[2]
DATASETS = ("stratus-red-team-detonation-logs", "otrf-ec2-proxy-s3-exfiltration", "aws-docs-cloudtrail-examples",
            "elastic-integration-cloudtrail-pipeline-tests")


def _synth_records() -> list[dict[str, Any]]:
    params = SynthParams(seed=11, start="2026-03-02T00:00:00Z", days=3, principals=10, events_per_day=1500, travel_rate=0.3)
    return list(generate(params))


def _dataset_records() -> list[dict[str, Any]]:
    paths = [shared_path("datasets", name) for name in DATASETS]
    return [item.record for item in read_events(paths) if item.kind == "cloudtrail"]


def _package_needs() -> FieldNeeds:
    content = load_content(PROJECT)
    return needed_fields(content.rules, content.jobs)


def _elastic_needs() -> FieldNeeds:
    return needed_fields(load_rules(shared_path("anchors", "detection-rules", "rules", "integrations", "aws")), [])


PATTERNS = FieldNeeds(frozenset({"event.action", "user.name", "@timestamp", "_ts"}),
                      frozenset({"aws.cloudtrail.flattened.*", "source.geo.*", "related.*"}))


def _assert_projection(records: list[dict[str, Any]], needs: FieldNeeds, projector: type = ProjectedMapper,
                       inputs: list[Any] | None = None) -> int:
    """Every needed field the full mapper writes is in the projection with the same value, the
    projection holds nothing the full mapper does not write, and the whole document comes back
    as the full mapper gave it, key order included; the number of needed fields compared.
    ``inputs``: what the projected mapper is given for each record (default: the record)."""
    full = make_mapper(None)
    projected = projector(make_mapper(None), needs)
    compared = 0
    for record, given in zip(records, records if inputs is None else inputs):
        try:
            whole = full.map(record)
        except MappingError:
            with pytest.raises(MappingError):
                projected.map(given)
            continue
        doc = projected.map(given)
        needed = {k for k in whole if needs.covers(k)}
        missing = needed - doc.keys()
        assert not missing, f"needed fields missing from the projection of {record.get('eventID')}: {sorted(missing)}"
        for key in needed:
            assert doc[key] == whole[key], key
        extra = {k for k in doc if k != RAW_KEY and k not in whole}
        assert not extra, extra
        assert all(doc[k] == whole[k] for k in doc if k != RAW_KEY)
        assert list(full_document(doc).items()) == list(whole.items())  # key order too: reports write it
        compared += len(needed)
    return compared


@pytest.mark.parametrize("needs", ["package", "patterns"])
def test_synth_projection_has_every_needed_field(needs: str) -> None:
    chosen = _package_needs() if needs == "package" else PATTERNS
    assert _assert_projection(_synth_records(), chosen) > 10_000


@pytest.mark.shared
@pytest.mark.parametrize("needs", ["package", "elastic", "patterns"])
def test_dataset_projection_has_every_needed_field(needs: str) -> None:
    chosen = {"package": _package_needs, "elastic": _elastic_needs, "patterns": lambda: PATTERNS}[needs]()
    assert chosen.everything is None
    assert _assert_projection(_dataset_records(), chosen) > 1_000


def _spaced(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(", ", ": ")).encode()


def _reordered(record: dict[str, Any]) -> bytes:
    return orjson.dumps(dict(reversed(record.items())))


def _escaped(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


# how a record's text may be written: orjson's own serialisation (its static part found
# from the text alone when cached), and texts that are not (whitespace, another key order,
# escapes): decoded, and cached or not exactly as the full mapper caches them
_STYLES = (orjson.dumps, _spaced, orjson.dumps, _reordered, orjson.dumps, _escaped)


def _as_texts(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[RecordText]]:
    """Each record written in a style of ``_STYLES`` in turn and read back as a delivery file's
    record text, with the record the full mapper gets for it (the text decoded)."""
    texts = []
    for i, record in enumerate(records):
        split = delivery_texts(b'{"Records":[' + _STYLES[i % len(_STYLES)](record) + b"]}")
        assert split is not None and len(split) == 1
        texts.append(split[0])
    return [orjson.loads(t.text) for t in texts], texts


@pytest.mark.parametrize("needs", ["package", "patterns"])
def test_synth_projection_from_record_texts(needs: str) -> None:
    """Records read as texts (``readers.texts``) project and rebuild as dicts do, key order
    included: the cache hits and misses are the full mapper's whatever the text's style."""
    chosen = _package_needs() if needs == "package" else PATTERNS
    records, texts = _as_texts(_synth_records())
    assert _assert_projection(records, chosen, inputs=texts) > 10_000


@pytest.mark.shared
def test_dataset_projection_from_record_texts() -> None:
    records, texts = _as_texts(_dataset_records())
    assert _assert_projection(records, _elastic_needs(), inputs=texts) > 1_000


def test_a_text_orjson_does_not_read_is_a_mapping_error() -> None:
    split = delivery_texts(b'{"Records":[{"eventTime":"2024-05-01T10:00:00Z","eventName":"X","n":1e400}]}')
    assert split is not None
    with pytest.raises(MappingError, match="not JSON"):
        ProjectedMapper(make_mapper(None), PATTERNS).map(split[0])


@pytest.mark.parametrize("fmt", ["auto", "cloudtrail", "ecs"])
def test_text_batches_map_as_their_items_do(tmp_path: Path, fmt: str) -> None:
    """``mapped_events`` maps a delivery file's ``TextBatch`` as it maps the ``RawItem``s
    ``read_events`` gives for it, one by one: the same events and the same skips in the same
    order (a record orjson does not read, one without eventName, NDJSON after the document,
    a file of another format)."""
    from ctdetect.ecs.stream import mapped_events
    from ctdetect.readers.model import BAD_RECORD, NOT_CLOUDTRAIL, SkippedInput

    records = _synth_records()[:120]
    odd = b'{"eventTime":"2024-05-01T10:00:00Z","eventName":"X","n":1e400}'
    body = b",".join([orjson.dumps(r) for r in records[:60]] + [odd, b'{"eventTime":"2024-05-01T10:00:00Z"}'])
    (tmp_path / "a.json").write_bytes(b'{"Records":[' + body + b"]}\n" + orjson.dumps(records[60]) + b"\n")
    (tmp_path / "b.json").write_bytes(b'{"Records":[' + b",".join(orjson.dumps(r) for r in records[61:]) + b"]}")
    files = [str(tmp_path / "a.json"), str(tmp_path / "b.json")]

    def one_by_one(mapper: ProjectedMapper, report: Any) -> list[dict[str, Any]]:
        out = []
        for item in read_events(files, on_skip=report, texts=True):
            if fmt != "auto" and item.kind != fmt:
                report(SkippedInput(item.file, item.position, NOT_CLOUDTRAIL if fmt == "cloudtrail" else BAD_RECORD,
                                    f"{item.kind} event where {fmt} was asked for"))
                continue
            try:
                out.append(mapper.map(item.record))
            except MappingError as exc:
                report(SkippedInput(item.file, item.position, BAD_RECORD, f"record {item.position}: {exc}"))
        return out

    told: list[tuple[list[Any], list[SkippedInput]]] = []
    for way in (one_by_one, lambda m, r: list(mapped_events(files, m, fmt, r))):
        skips: list[SkippedInput] = []
        mapper = ProjectedMapper(make_mapper(None), PATTERNS)
        events = way(mapper, skips.append)
        told.append(([{k: v for k, v in e.items() if k != RAW_KEY} | {RAW_KEY: e[RAW_KEY].record} for e in events], skips))
    assert told[0] == told[1]
    assert len(told[1][0]) == (0 if fmt == "ecs" else 120)
    assert any("not JSON" in s.message for s in told[1][1]) == (fmt != "ecs")


def test_volatile_cut_is_the_static_key() -> None:
    """The projection's key is the full mapper's, and its places tell a text that is not the
    record's own serialisation from one that is."""
    for record in _synth_records()[:300]:
        blob = orjson.dumps(record)
        cut = volatile_cut(blob, record)
        assert cut is not None and cut[0] == static_key(record)
        other = volatile_cut(_reordered(record), record)
        assert other is None or other != cut


def test_volatile_cut_written_out_is_the_general_cut() -> None:
    """The written-out cut (the four members in CloudTrail's order) gives what the general
    loop gives, and so does every other shape: members reordered, absent, repeated in a
    nested object before the top-level one, not strings, or not found."""
    import random

    rng = random.Random(5)
    names = ("eventTime", "eventID", "requestID", "sourceIPAddress")
    shapes = 0
    for record in _synth_records()[:400]:
        variants = [record]
        keys = list(record)
        rng.shuffle(keys)
        variants.append({k: record[k] for k in keys})  # another order
        absent = dict(record)
        absent.pop(rng.choice(names), None)
        variants.append(absent)
        nested = {"requestParameters": {n: record.get(n) for n in names}, **record}  # repeats first
        variants.append(nested)
        odd = dict(record)
        odd[rng.choice(names)] = rng.choice([7, None, ["x"], ""])
        variants.append(odd)
        for variant in variants:
            blob = orjson.dumps(variant)
            assert volatile_cut(blob, variant) == _cut_general(blob, variant)
            other = dict(variant)  # values the text does not hold: not found
            other[rng.choice(names)] = "not-in-the-text"
            assert volatile_cut(blob, other) == _cut_general(blob, other)
            shapes += 1
    assert shapes == 2000


def test_a_needed_field_left_out_is_caught() -> None:
    """The comparison above fails when the projection drops a needed field."""

    class Dropping(ProjectedMapper):
        def map(self, record: dict[str, Any]) -> dict[str, Any]:
            doc = super().map(record)
            doc.pop("user.name", None)
            return doc

    needs = _package_needs()
    records = _synth_records()[:50]
    assert _assert_projection(records, needs) > 0
    with pytest.raises(AssertionError, match="needed fields missing"):
        _assert_projection(records, needs, Dropping)


def test_everything_means_the_full_mapper() -> None:
    full = make_mapper(None)
    assert mapper_for(full, FieldNeeds(frozenset(), everything="rule x reads every column")) is full
    with pytest.raises(ValueError, match="every field"):
        ProjectedMapper(full, FieldNeeds(frozenset(), everything="why"))
    assert isinstance(mapper_for(full, PATTERNS), ProjectedMapper)


def test_a_document_does_not_depend_on_what_the_cache_held() -> None:
    """A record mapped with its static part cached or not gives the same document, key order
    included, projected or whole: a hunt's mapping workers each fill a cache of their own
    from whichever files they take, and a finding's text must not depend on that."""
    records = _synth_records()[:400]
    for needs in (None, _package_needs(), PATTERNS):
        warm: Any = make_mapper(None) if needs is None else ProjectedMapper(make_mapper(None), needs)
        for record in records:
            warm.map(record)  # every static part cached
        for record in records:
            cold: Any = make_mapper(None) if needs is None else ProjectedMapper(make_mapper(None), needs)
            first, again = cold.map(record), warm.map(record)
            assert [kv for kv in first.items() if kv[0] != RAW_KEY] == [kv for kv in again.items() if kv[0] != RAW_KEY]
            assert list(full_document(first).items()) == list(full_document(again).items())


def test_raw_record_crosses_processes_as_json_and_is_bound_again() -> None:
    full = CloudTrailMapper()
    projected = ProjectedMapper(full, PATTERNS)
    record = _synth_records()[0]
    event = projected.map(record)
    copy = pickle.loads(pickle.dumps(event))
    assert type(copy[RAW_KEY].record) is bytes and copy[RAW_KEY].mapper is None
    with pytest.raises(RuntimeError, match="bind"):
        full_document(copy)
    projected.bind([copy])
    assert list(full_document(copy).items()) == list(CloudTrailMapper().map(record).items())


def _findings(findings: list[Finding]) -> str:
    rows = [(f.kind, f.source_id, f.name, f.timestamp.isoformat(), f.score, f.document, f.entity, f.related) for f in findings]
    return json.dumps(sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str)), sort_keys=True, default=str)


def _run(records: list[dict[str, Any]], rules: list, jobs: list, needs: FieldNeeds | None) -> tuple[str, int]:
    mapper: Any = make_mapper(None)
    if needs is not None:
        mapper = mapper_for(mapper, needs)
    events = []
    for record in records:
        try:
            events.append(mapper.map(record))
        except MappingError:
            continue
    result = EmbeddedBackend().run(time_ordered(events, horizon_ms=10**12), rules, jobs)
    return _findings(result.findings), len(result.findings)


def test_synth_hunt_findings_are_the_same_projected() -> None:
    content = load_content(PROJECT)
    records = _synth_records()
    whole, count = _run(records, content.rules, content.jobs, None)
    projected, _ = _run(records, content.rules, content.jobs, needed_fields(content.rules, content.jobs))
    assert count > 0
    assert projected == whole


@pytest.mark.shared
def test_dataset_hunt_findings_are_the_same_projected() -> None:
    """The package's rules, then Elastic's AWS rules (alerts of every rule type, the full
    source document in each), over the shared datasets. (The jobs are compared on synth:
    the datasets span years of mostly empty buckets, minutes of work for nothing.)"""
    records = _dataset_records()
    content = load_content(PROJECT)
    elastic = load_rules(shared_path("anchors", "detection-rules", "rules", "integrations", "aws"))
    for rules, jobs in ((content.rules, []), (elastic, [])):
        whole, count = _run(records, rules, jobs, None)
        projected, _ = _run(records, rules, jobs, needed_fields(rules, jobs))
        assert count > 10
        assert projected == whole
