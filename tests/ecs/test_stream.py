"""The one ingest path: formats honoured, repeats dropped by eventID in a bounded window."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ctdetect.content.loaders import load_scenarios
from ctdetect.ecs.stream import EventIdWindow, iter_events
from ctdetect.readers import SkipCounter
from ctdetect.services.inputs import make_mapper
from ctdetect.services.scenario_events import scenario_events


def _record(event_id: str, second: int = 0) -> dict:
    return {"eventVersion": "1.08", "eventTime": f"2024-05-01T10:00:{second:02d}Z", "eventSource": "s3.amazonaws.com",
            "eventName": "ListBuckets", "eventID": event_id, "userIdentity": {"type": "IAMUser", "userName": "alice"}}


def test_window_drops_repeats_and_stays_bounded() -> None:
    window = EventIdWindow(size=3)
    assert [window.seen(i) for i in ("a", "b", "a", "c", "d", "e")] == [False, False, True, False, False, False]
    assert window.dropped == 1
    assert len(window) == 3  # "a" and "b" were forgotten: memory stays at the window
    assert window.seen("b") is False and window.seen("e") is True


def test_repeated_event_ids_are_read_once(tmp_path: Path) -> None:
    path = tmp_path / "dup.ndjson"
    path.write_bytes(b"\n".join(orjson.dumps(_record(i, n)) for n, i in enumerate(["E1", "E2", "E1", "E3", "E2"])))
    window = EventIdWindow()
    assert [e["event.id"] for e in iter_events([path], dedupe=window)] == ["E1", "E2", "E3"]
    assert window.dropped == 2
    assert len(list(iter_events([path]))) == 5  # without a window every event is kept


def test_format_is_honoured_and_other_kinds_reported(tmp_path: Path) -> None:
    path = tmp_path / "mixed.ndjson"
    path.write_bytes(orjson.dumps(_record("E1")) + b"\n" + orjson.dumps({"@timestamp": "2024-05-01T10:00:00Z", "event.action": "x"}))
    skips = SkipCounter()
    assert [e.get("event.id") for e in iter_events([path], fmt="cloudtrail", on_skip=skips)] == ["E1"]
    assert skips.total == 1 and "ecs event where cloudtrail was asked for" in str(skips.examples[0])
    with pytest.raises(ValueError, match="format must be one of"):
        list(iter_events([path], fmt="csv"))


def test_replay_reads_a_scenario_file_as_its_format_says(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "events.ndjson").write_bytes(orjson.dumps(_record("E1")) + b"\n")
    (folder / "scenario.toml").write_text('name = "s"\ndescription = "d"\ntags = ["benign"]\n\n'
                                          '[[events]]\npath = "events.ndjson"\nformat = "ecs"\n')
    problems: list = []
    (scenario,) = load_scenarios(folder, problems)
    skips = SkipCounter()
    assert scenario_events(scenario, make_mapper(None), skips) == []
    assert skips.total == 1 and "cloudtrail event where ecs was asked for" in str(skips.examples[0])
