"""Where the anomaly jobs' time goes when a bucket closes, per scenario: CPU seconds by part.

``bench/replay.py`` shows that feeding the anomaly jobs (which closes their buckets) is most
of ``replay``; this splits that time by the part of the engine that spends it, so work on
speed goes where the seconds are:

- ``count models``: the count family's ``close`` (its series' time-series models learn and
  score each bucket: ``timeseries``, ``priors``, ``multibucket``, ``anomaly_model``);
- ``rare models``: ``rare`` / ``freq_rare`` ``close`` (the Dirichlet and the less-likely
  probabilities, ``categorical``), individual and population;
- ``hierarchy``: aggregating the bucket's records into partition, influencer and root nodes
  (``hierarchy``, ``scores``, ``stats``);
- ``normaliser updates`` / ``normalise``: the score history (``normalizer``, ``qdigest``);
- ``close, other``: the rest of ``_close_bucket`` (result documents, bookkeeping);
- ``rest of run``: the rules, the datafeed selection and the per-event accumulation.

Each scenario runs in this process, one after the other (``ctdetect replay``'s own
reading and mapping first, then the embedded backend). CPU seconds are the process's
(``time.process_time``): on a shared machine they move less than wall seconds. The collector
runs with the CLI's thresholds (``ctdetect.cli.COLLECTOR_THRESHOLDS``), as in ``ctdetect replay``.
The parts are timed by wrapping the methods named above (the wrapper costs a little).
The first lines say which anomaly modules run compiled (``setup.py`` builds them with
Cython; a pure-Python install gives the same results, slower).

    python bench/bucket_close.py [SCENARIO ...]   # default: the quiet month and one ML scenario
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from pathlib import Path
from typing import Any, Callable

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT = ["scenarios/quiet-month", "scenarios/ml-cloudtrail-usual-day"]
PARTS = ("count models", "rare models", "hierarchy", "normaliser updates", "normalise")


_closing = [0]  # > 0 while a bucket closes: the parts count only there (renormalising at the end is not a close)


def _timed(owner: Any, name: str, part: str, totals: dict[str, float], marks_close: bool = False) -> None:
    """Replace ``owner.name`` by a wrapper adding its CPU seconds to ``totals[part]`` when
    called while a bucket closes (``marks_close``: the wrapper of the close itself)."""
    inner: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not (marks_close or _closing[0]):
            return inner(*args, **kwargs)
        _closing[0] += marks_close
        started = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            totals[part] += time.process_time() - started
            _closing[0] -= marks_close

    setattr(owner, name, wrapper)


def instrument(totals: dict[str, float]) -> None:
    """Time each part of the bucket close (module docstring) into ``totals``."""
    from ctdetect.engine.anomaly import hierarchy, normalizer, runner
    from ctdetect.engine.anomaly.detectors import counting, population, rare

    _timed(runner.AnomalyJobRunner, "_close_bucket", "close", totals, marks_close=True)
    _timed(counting.CountingDetector, "close", "count models", totals)
    _timed(rare.IndividualRare, "close", "rare models", totals)
    _timed(population.PopulationRare, "close", "rare models", totals)
    _timed(hierarchy, "build", "hierarchy", totals)
    _timed(normalizer.Normalizer, "update", "normaliser updates", totals)
    _timed(normalizer.Normalizer, "update_many", "normaliser updates", totals)
    _timed(normalizer.Normalizer, "normalize", "normalise", totals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=DEFAULT, help="scenario folders (default: %(default)s)")
    args = parser.parse_args()

    from ctdetect.backends import get_backend
    from ctdetect.cli import COLLECTOR_THRESHOLDS
    from ctdetect.engine.anomaly.accelerated import compiled_modules, stale_modules
    from ctdetect.readers import SkipCounter
    from ctdetect.services.content import load_content
    from ctdetect.services.inputs import make_mapper
    from ctdetect.services.replay import find_scenarios
    from ctdetect.services.scenario_events import scenario_events

    gc.set_threshold(*COLLECTOR_THRESHOLDS)  # the collector as a ctdetect process runs it
    os.chdir(PROJECT)
    content = load_content(str(PROJECT))
    mapper = make_mapper(None)
    backend = get_backend("embedded")
    backend.prepare(content.rules)
    totals: dict[str, float] = {}
    instrument(totals)
    print(f"CPU seconds by part, load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"compiled anomaly modules: {', '.join(compiled_modules()) or 'none (pure Python)'}")
    if stale_modules():
        print(f"WARNING: compiled {', '.join(stale_modules())} older than their source: rebuild (pip install -e .)")
    header = ["scenario", "events", "read", "run", "close", *PARTS, "close, other", "rest of run"]
    widths = [40, *(max(len(h), 10) for h in header[1:])]
    print("  ".join(f"{h:>{w}}" if i else f"{h:<{w}}" for i, (h, w) in enumerate(zip(header, widths))))
    for scenario in find_scenarios(args.scenarios, PROJECT, []):
        totals.clear()
        totals.update(dict.fromkeys(("close", *PARTS), 0.0))
        started = time.process_time()
        events = scenario_events(scenario, mapper, SkipCounter())
        read = time.process_time() - started
        started = time.process_time()
        backend.run(events, content.rules, content.jobs)
        run = time.process_time() - started
        close = totals["close"]
        row = [read, run, close, *(totals[p] for p in PARTS), close - sum(totals[p] for p in PARTS), run - close]
        cells = [f"{scenario.name:<40}", f"{len(events):>{widths[1]},}", *(f"{v:>{w}.2f}" for v, w in zip(row, widths[2:]))]
        print("  ".join(cells), flush=True)


if __name__ == "__main__":
    main()
