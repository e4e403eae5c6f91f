"""Scenarios run together read a file they all list once (``SharedInputs``): each scenario's
events are what it reads alone (repeats dropped by its own window, faults told in its own
words), and the shared history's events are the very same objects in each."""

from __future__ import annotations

import json
from pathlib import Path

from ctdetect.readers import SkipCounter
from ctdetect.services.inputs import make_mapper
from ctdetect.services.replay import find_scenarios
from ctdetect.services.scenario_events import SharedInputs, scenario_events


def _record(n: int, event_id: str) -> dict:
    return {"eventVersion": "1.08", "userIdentity": {"type": "IAMUser", "userName": "ann"}, "eventTime": f"2026-03-01T00:{n:02d}:00Z",
            "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.1",
            "userAgent": "aws-cli", "requestID": f"r{n}", "eventID": event_id, "readOnly": True, "eventType": "AwsApiCall",
            "recipientAccountId": "111122223333"}


def _lines(records: list) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def _scenario(root: Path, name: str, files: list[str]) -> Path:
    folder = root / name
    folder.mkdir()
    listed = "".join(f'[[events]]\npath = "{f}"\nformat = "cloudtrail"\n\n' for f in files)
    (folder / "scenario.toml").write_text(f'name = "{name}"\ndescription = "test"\ntags = ["benign"]\n\n{listed}'
                                          '[[expect]]\nrule = "x"\nfires = false\n')
    return folder


def _read(scenarios: list, shared: SharedInputs | None) -> list[tuple[list[dict], SkipCounter]]:
    mapper = make_mapper(None)
    out = []
    for scenario in scenarios:
        skips = SkipCounter()
        out.append((scenario_events(scenario, mapper, skips, [], shared), skips))
    return out


def _plain(events: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "_raw"} for e in events]


def test_a_history_listed_by_several_scenarios_is_read_once(tmp_path: Path) -> None:
    # the history repeats one of its own ids (dropped) and shares an id with the first scenario's
    # own file (dropped there only: each scenario has its own window)
    history = [_record(n, f"h{n}") for n in range(6)] + [_record(7, "h2")]
    (tmp_path / "_data").mkdir()
    (tmp_path / "_data" / "history.ndjson").write_text(_lines(history))
    (tmp_path / "own.ndjson").write_text(_lines([_record(8, "h4"), _record(9, "a1")]))
    first = _scenario(tmp_path, "first", ["../_data/history.ndjson", "../own.ndjson"])
    second = _scenario(tmp_path, "second", ["../_data/history.ndjson"])
    scenarios = find_scenarios([str(first), str(second)], tmp_path, [])
    shared = SharedInputs()
    together = _read(scenarios, shared)
    alone = _read(scenarios, None)
    assert [_plain(events) for events, _ in together] == [_plain(events) for events, _ in alone]
    assert [len(events) for events, _ in together] == [7, 6]
    assert [e["event.id"] for e in together[0][0]][-2:] == ["h5", "a1"]  # the repeats of h2 and h4 dropped
    assert len(shared.files) == 2  # the history once, whatever path each scenario wrote for it
    history_first = [e for e in together[0][0] if e["event.id"].startswith("h")]
    assert all(a is b for a, b in zip(history_first, together[1][0], strict=True))


def test_a_file_with_a_fault_is_read_by_each_scenario_and_told_in_its_words(tmp_path: Path) -> None:
    (tmp_path / "_data").mkdir()
    (tmp_path / "_data" / "history.ndjson").write_text(_lines([_record(1, "h1"), "{not json", _record(2, "h2")]))
    first = _scenario(tmp_path, "first", ["../_data/history.ndjson"])
    second = _scenario(tmp_path, "second", ["../_data/history.ndjson"])
    scenarios = find_scenarios([str(first), str(second)], tmp_path, [])
    shared = SharedInputs()
    together = _read(scenarios, shared)
    alone = _read(scenarios, None)
    assert shared.files == {}
    for (events, skips), (alone_events, alone_skips), name in zip(together, alone, ("first", "second"), strict=True):
        assert _plain(events) == _plain(alone_events) and len(events) == 2
        assert skips.total == alone_skips.total == 1
        assert skips.examples == alone_skips.examples
        assert all(name in str(example) for example in skips.examples)
