"""Replay's events as a stream, mapped as hunt maps them: the same events in the same order,
the same findings with the same whole documents, as the full mapping of a sorted list gave."""

from __future__ import annotations

from pathlib import Path

import orjson
from conftest import PROJECT_ROOT

from ctdetect.backends import get_backend
from ctdetect.backends.elasticsearch import ElasticsearchBackend
from ctdetect.backends.embedded import EmbeddedBackend
from ctdetect.content.loaders import load_scenarios
from ctdetect.ecs.projected import RAW_KEY
from ctdetect.readers import SkipCounter
from ctdetect.services.content import load_content
from ctdetect.services.hunt import hunt_mapper
from ctdetect.services.inputs import event_time, make_mapper
from ctdetect.services.replay import find_scenarios, run_replay
from ctdetect.services.scenario_events import scenario_events, scenario_stream
from ctdetect.synth import SynthParams, generate

SYNTH = {"seed": 7, "start": "2026-03-02T00:00:00Z", "days": 0.25, "principals": 6, "events_per_day": 800}
# stateful rule types (an EQL sequence, a threshold, new_terms, an ES|QL aggregation) and a
# query rule: their alerts carry whole documents, rebuilt from the projected events' raw records
SCENARIOS = [
    "rule-ec2-user-data-sequence-fires",
    "rule-console-login-failure-burst-fires",
    "rule-ec2-password-data-first-fires",
    "rule-esql-access-denied-burst-fires",
    "rule-esql-multi-region-discovery-fires",
    "rule-root-console-login-fires",
]


def _scenario(root: Path, records: list[dict], synth: list[dict]) -> object:
    folder = root / "s"
    folder.mkdir()
    (folder / "events.ndjson").write_bytes(b"\n".join(orjson.dumps(r) for r in records) + b"\n")
    tables = "".join("\n[[synth]]\n" + "".join(f"{k} = {orjson.dumps(v).decode()}\n" for k, v in t.items()) for t in synth)
    (folder / "scenario.toml").write_text('name = "s"\ndescription = "d"\ntags = ["benign"]\n\n'
                                          '[[events]]\npath = "events.ndjson"\nformat = "cloudtrail"\n' + tables)
    (scenario,) = load_scenarios(folder, [])
    return scenario


def test_the_stream_is_the_stable_sort_of_every_event(tmp_path: Path) -> None:
    # two tables with the same seed and times (ties between them), and a file whose events are
    # out of order and share times with the tables' (ties between the file and the tables)
    second = dict(SYNTH, account_id="444455556666")
    synth_records = list(generate(SynthParams.from_mapping(SYNTH)))
    picked = [synth_records[n] for n in (40, 3, 3, 17)]
    records = [dict(r, eventID=f"file-{n}") for n, r in enumerate(picked)]
    scenario = _scenario(tmp_path, records, [SYNTH, second])
    mapper = make_mapper(None)

    # what replay did before it streamed: every event in a list, sorted by (time, input position)
    events = [mapper.map(r) for r in records]
    events += [mapper.map(r) for r in synth_records] + [mapper.map(r) for r in generate(SynthParams.from_mapping(second))]
    expected = [e for _, _, e in sorted(((event_time(e), i, e) for i, e in enumerate(events)), key=lambda t: t[:2])]

    got = list(scenario_stream(scenario, make_mapper(None), SkipCounter()))
    assert [(e["event.id"], e["cloud.account.id"]) for e in got] == [(e["event.id"], e["cloud.account.id"]) for e in expected]
    assert got == expected
    # every source is there, and the ties the order must break are there too
    assert len({e["cloud.account.id"] for e in got}) == 2 and sum(e["event.id"].startswith("file-") for e in got) == 4
    times = [event_time(e) for e in got]
    assert len(set(times)) < len(times) - 4


def test_a_synth_table_that_cannot_generate_is_an_error_of_the_scenario(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, [], [dict(SYNTH, days=-1)])
    errors: list[str] = []
    assert list(scenario_stream(scenario, make_mapper(None), SkipCounter(), errors)) == []
    assert len(errors) == 1 and "[[synth]]" in errors[0]


def test_replay_maps_for_the_embedded_backend_only_what_the_package_reads() -> None:
    content = load_content(str(PROJECT_ROOT))
    mapper = hunt_mapper(content, None, get_backend("embedded"))
    (scenario,) = find_scenarios([str(PROJECT_ROOT / "scenarios" / SCENARIOS[0])], PROJECT_ROOT, [])
    projected = scenario_events(scenario, mapper, SkipCounter())
    whole = scenario_events(scenario, make_mapper(None), SkipCounter())
    assert [e["event.id"] for e in projected] == [e["event.id"] for e in whole]
    assert all(RAW_KEY in e and len(e) < len(w) for e, w in zip(projected, whole))
    # a backend that indexes events gets them whole (its class says so: no cluster is needed here)
    assert type(hunt_mapper(content, None, ElasticsearchBackend)) is type(make_mapper(None))


def test_findings_and_their_documents_are_those_of_the_full_mapping() -> None:
    content = load_content(str(PROJECT_ROOT))
    paths = [str(PROJECT_ROOT / "scenarios" / name) for name in SCENARIOS]
    replayed = run_replay(paths, package_root=str(PROJECT_ROOT), workers=1)
    full = make_mapper(None)
    backend = EmbeddedBackend()
    for found, result in zip(find_scenarios(paths, PROJECT_ROOT, []), replayed.scenarios):
        events = scenario_events(found, full, SkipCounter())
        expected = backend.run(events, content.rules, content.jobs)
        assert result.findings, f"{found.name} must raise findings, or the comparison proves nothing"
        assert result.events == len(events)
        # documents in their key order: a rebuilt document must be the one the full mapping gave
        assert orjson.dumps([(f.source_id, f.document, f.related) for f in result.findings], default=str) == \
            orjson.dumps([(f.source_id, f.document, f.related) for f in expected.findings], default=str), found.name
