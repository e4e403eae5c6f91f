"""Scenarios on the same synthetic background feed it once and continue in forks: each
result is the one the scenario gives alone, with the whole package (rules and jobs)."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import orjson
import pytest
from conftest import PROJECT_ROOT

from ctdetect.backends.embedded import EmbeddedBackend
from ctdetect.readers import SkipCounter
from ctdetect.services import replay as replay_service
from ctdetect.services import shared_prefix
from ctdetect.services.content import load_content
from ctdetect.services.hunt import hunt_mapper
from ctdetect.services.inputs import make_mapper
from ctdetect.services.replay import find_scenarios, plan_groups, run_group, run_scenario
from ctdetect.services.scenario_events import scenario_events
from ctdetect.services.shared_prefix import ForkError, common_prefix, continue_in_forks

# five days of a five-person organisation, then each scenario's own last-day events
SYNTH = """[[synth]]
seed = 5
start = "2026-03-12T00:00:00Z"
days = 5
principals = 5
events_per_day = 400
"""
ATTACKS = ["ml-cloudtrail-paris-vpn-discovery", "ml-cloudtrail-denied-enumeration", "ml-cloudtrail-usual-day"]


def _scenarios(root: Path, history: bool = False) -> list[Path]:
    """The three attacks on one background (each with its own last day's file; with
    ``history``, all also reading one history file first, as the package's do), and one
    scenario on another background."""
    folders = []
    shared = ""
    if history:
        shutil.copy(PROJECT_ROOT / "scenarios" / "_data" / "cloudtrail" / "org-history.ndjson.gz", root / "history.ndjson.gz")
        shared = '[[events]]\npath = "../history.ndjson.gz"\nformat = "cloudtrail"\n\n'
    for name in ATTACKS:
        folder = root / name
        folder.mkdir(parents=True)
        shutil.copy(PROJECT_ROOT / "scenarios" / name / "cloudtrail.ndjson", folder / "cloudtrail.ndjson")
        (folder / "scenario.toml").write_text(
            f'name = "{name}"\ndescription = "test"\ntags = ["attack"]\n\n{shared}[[events]]\npath = "cloudtrail.ndjson"\nformat = "cloudtrail"\n\n'
            f'{SYNTH}\n[[expect]]\nrule = "Unusual AWS API Call for a User (ctdetect)"\nfires = false\n'
        )
        folders.append(folder)
    # one scenario on another background: a group of its own
    alone = root / "other-background"
    alone.mkdir()
    (alone / "scenario.toml").write_text(
        'name = "other-background"\ndescription = "test"\ntags = ["benign"]\n\n' + SYNTH.replace("seed = 5", "seed = 6")
        + '\n[[expect]]\nrule = "Unusual AWS API Call for a User (ctdetect)"\nfires = false\n'
    )
    folders.append(alone)
    return folders


def _same(result) -> bytes:
    # keys sorted: a rebuilt document's key order follows the mapper's cache when its event
    # was read (``ecs.projected.RawRecord``), which differs between one process and another
    return orjson.dumps(
        [result.events, result.skips.total, result.errors, result.problems, [(o.status, o.detail) for o in result.outcomes],
         [[f.kind, f.source_id, f.timestamp, f.score, f.document, f.related] for f in result.findings]],
        default=str, option=orjson.OPT_SORT_KEYS,
    )


@pytest.mark.skipif(not shared_prefix.can_fork(), reason="os.fork is not available on this platform")
def test_a_group_gives_each_scenario_its_result_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = load_content(str(PROJECT_ROOT))
    scenarios = find_scenarios([str(p) for p in _scenarios(tmp_path)], PROJECT_ROOT, [])
    assert plan_groups(scenarios) == [[0, 1, 2], [3]]
    backend = EmbeddedBackend()
    backend.prepare(content.rules)
    mapper = hunt_mapper(content, None, backend)  # as replay maps: projected, documents rebuilt for findings
    alone = [run_scenario(s, content, backend, mapper) for s in scenarios[:3]]
    assert any(f.kind == "anomaly" for r in alone for f in r.findings), "the jobs must find something, or equality proves little"
    assert all(r.findings for r in alone)
    forks: list[int] = []

    def counting(count, finish_one):
        forks.append(count)
        return continue_in_forks(count, finish_one)

    monkeypatch.setattr(replay_service, "continue_in_forks", counting)
    grouped, left = run_group(scenarios[:3], content, backend, mapper)
    assert forks == [3], "the three scenarios must have shared their background"
    assert left == []
    assert [_same(r) for r in grouped] == [_same(r) for r in alone]


@pytest.mark.skipif(not shared_prefix.can_fork(), reason="os.fork is not available on this platform")
def test_a_history_first_read_with_a_cold_cache_is_shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the first scenario reads the history file while the mapper's cache is cold, the others
    # find its records' static parts cached: the same events either way, so all three share
    # it (before stop 34: a hit carried fields and a key order a miss did not, the first
    # scenario shared 4-6 events and ran alone)
    content = load_content(str(PROJECT_ROOT))
    scenarios = find_scenarios([str(p) for p in _scenarios(tmp_path, history=True)[:3]], PROJECT_ROOT, [])
    backend = EmbeddedBackend()
    backend.prepare(content.rules)
    mapper = hunt_mapper(content, None, backend)
    cold, warm = (scenario_events(s, mapper, SkipCounter()) for s in scenarios[:2])
    assert [list(e) for e in cold[:1000]] == [list(e) for e in warm[:1000]]  # keys and their order too
    assert common_prefix([cold, warm]) > 3000  # the history (3,748 records) and the background's days before the attacks
    # each alone, each with a cold cache: what ``ctdetect replay <scenario>`` gives
    alone = [run_scenario(s, content, backend, hunt_mapper(content, None, backend)) for s in scenarios]
    assert any(f.kind == "anomaly" for r in alone for f in r.findings)
    forks: list[int] = []

    def counting(count, finish_one):
        forks.append(count)
        return continue_in_forks(count, finish_one)

    monkeypatch.setattr(replay_service, "continue_in_forks", counting)
    grouped, left = run_group(scenarios, content, backend, hunt_mapper(content, None, backend))
    assert forks == [3] and left == []
    assert [_same(r) for r in grouped] == [_same(r) for r in alone]


def test_pieces_fed_in_any_cut_end_as_one_run(tmp_path: Path) -> None:
    content = load_content(str(PROJECT_ROOT))
    (scenario,) = find_scenarios([str(_scenarios(tmp_path)[1])], PROJECT_ROOT, [])
    events = scenario_events(scenario, make_mapper(None), SkipCounter())
    before = copy.deepcopy(events)
    backend = EmbeddedBackend()
    whole = backend.run(events, content.rules, content.jobs)
    assert events == before, "a run must not change its events (scenarios share synthetic events)"
    run = backend.start(content.rules, content.jobs)
    for lo, hi in ((0, 1), (1, 777), (777, 5000), (5000, len(events))):
        run.feed(events[lo:hi])
    pieces = run.finish()
    dump = lambda r: orjson.dumps([[f.source_id, f.document, f.related] for f in r.findings], default=str)  # noqa: E731
    assert whole.findings and dump(pieces) == dump(whole)
    assert pieces.stats.events_read == whole.stats.events_read == len(events)


def test_common_prefix_counts_equal_leading_events() -> None:
    a = [{"n": i} for i in range(5)]
    assert common_prefix([a, [dict(e) for e in a]]) == 5
    assert common_prefix([a, a[:3] + [{"n": 9}], a]) == 3
    assert common_prefix([a, a[:2]]) == 2
    assert common_prefix([a, [{"n": 7}]]) == 0
    assert common_prefix([]) == 0


@pytest.mark.skipif(not shared_prefix.can_fork(), reason="os.fork is not available on this platform")
def test_forks_start_from_the_same_state_and_report_failures() -> None:
    state = [0]

    def bump(i: int) -> list[int]:
        state[0] += i + 1  # a child's change stays in the child
        return [i, state[0]]

    assert continue_in_forks(3, bump) == [[0, 1], [1, 2], [2, 3]]
    assert state == [0]

    def fail(i: int) -> None:
        raise ValueError(f"bad {i}")

    with pytest.raises(ForkError, match="ValueError: bad 0"):
        continue_in_forks(2, fail)
