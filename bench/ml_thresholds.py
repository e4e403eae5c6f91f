"""Where each machine_learning rule's ``anomaly_threshold`` can sit: quiet-month noise against attack scores.

Why: a rule's ``anomaly_threshold`` is a bet on the emulated ``record_score``; when the
scores change (issue 12 rebuilt the normaliser and the count family), the bet has to be
re-made from the new scores, not carried over. This script replays the quiet month and every
scenario that names an ML rule or job (the whole package runs, as ``ctdetect replay`` does)
and prints, per ML rule:

1. the quiet month: anomaly records of the rule's jobs at or above each candidate threshold,
   per month and per day (the alerts the rule would raise: the rule compares the record's
   ``initial_record_score``, as ``engine.rules.ml_rule`` does);
2. the attack records each scenario expects: for a ``fires = true`` expectation on the rule, the
   score of its ``min_count``-th best matching record (the threshold must not exceed it, the
   *ceiling*); for a ``fires = false`` one, the best score of the records it must not alert
   on (the threshold must exceed it, the *floor*);
3. the chosen threshold. Start from the value Elastic's own rule for the same detection uses
   (``ELASTIC``; 50, Elastic's usual value, where it has none) and keep it when it lies in
   (floor + MARGIN, ceiling - MARGIN] and the quiet month stays within the rule's budget
   (the quiet-month scenario's ``max_count`` for the rule); else the nearest other
   conventional value (25, 50, 75; the quieter one on a tie) that does; then the same
   without the margin; else the lowest integer in (floor, ceiling] within budget. The margin
   is there because scores move by a few points when the model changes (stop 25 moved a
   quiet-month score): a threshold a point away from an attack's score is a test that
   breaks on the next model change. Then the package's total (search rules' quiet-month
   alerts plus every ML rule's at its chosen threshold) against the promise of at most 5
   alerts a day.

It also lists the job expectations (``min_score``) beside the best score they see, so an
expectation that names "the rule's threshold" can follow a changed threshold.

    python bench/ml_thresholds.py [--workers N] [--cache FILE]

``--cache FILE`` keeps the replay's results (pickle) and reads them back when the file
exists: the analysis can be re-run without the 4-8 minute replay (delete it after a
model change).

Figures are printed, never asserted (``ctdetect replay`` and ``tests/content`` check the content).

Derivation (main after stop 25, 2026-12-06; the run that chose the committed thresholds):
see the table in bench/README.md, "ML rule thresholds re-derived (issue 12)".
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
CONVENTIONAL = (25, 50, 75)  # the anomaly_threshold values Elastic's own ML rules use
CANDIDATES = (25, 30, 40, 50, 60, 70, 75, 80, 90)
MARGIN = 5.0  # score points kept between a threshold and the attack/benign scores around it
# Elastic's anomaly_threshold for the same detection (detection-rules: rules/integrations/aws/
# ml_cloudtrail_rare_error_code, _rare_method_by_user, _by_city, _by_country, _error_message_spike;
# rules/ml/credential_access_ml_{linux,windows}_anomalous_metadata_{process,user}); 50 elsewhere
ELASTIC = {
    "ml_cloudtrail_rare_error_code": 50,
    "ml_cloudtrail_rare_action_for_user": 75,
    "ml_cloudtrail_rare_action_for_city": 50,
    "ml_cloudtrail_rare_action_for_country": 50,
    "ml_cloudtrail_error_message_spike": 50,
    "ml_linux_rare_metadata_process": 50,
    "ml_linux_rare_metadata_user": 75,
    "ml_windows_rare_metadata_process": 50,
    "ml_windows_rare_metadata_user": 75,
}
QUIET = "quiet-month"


@dataclasses.dataclass(slots=True)
class Bounds:
    """What the scenarios allow for one rule: threshold in (floor, ceiling]."""

    floor: float = 0.0  # best score a silent expectation must not alert on
    ceiling: float = 100.0  # lowest score a firing expectation still needs
    why_floor: str = ""
    why_ceiling: str = ""


def ml_scenarios(package, ml_rule_ids: set[str], ml_names: set[str], job_ids: set[str]) -> list:
    """The quiet month and every scenario with an expectation naming an ML rule or job."""
    chosen = []
    for scenario in sorted(package.scenarios, key=lambda s: s.name):
        if scenario.name == QUIET or any(
            (e.rule in ml_rule_ids or e.rule in ml_names) if e.rule else e.job in job_ids for e in scenario.expectations
        ):
            chosen.append(scenario)
    return chosen


def rule_records(findings: list, rule) -> list:
    """The anomaly records a machine_learning rule reads (its jobs' record results)."""
    jobs = set(rule.machine_learning_job_id)
    return [f for f in findings if f.kind == "anomaly" and f.source_id in jobs and f.document.get("result_type", "record") == "record"]


def expectation_records(findings: list, rule, expectation) -> list:
    """The records that would become the alerts an expectation on ``rule`` counts (no score cut)."""
    from ctdetect.services.expectations import matching

    as_job = dataclasses.replace(expectation, rule=None, job=rule.machine_learning_job_id[0], min_score=None)
    jobs = set(rule.machine_learning_job_id)
    records = [f for f in findings if f.kind == "anomaly" and f.source_id in jobs]
    # matching() tests the job id; every job of the rule counts, so test each under the first's name
    renamed = [dataclasses.replace(f, source_id=as_job.job) for f in records]
    return matching(renamed, as_job)


def bounds_for(rule, results: list) -> Bounds:
    """The (floor, ceiling] the non-quiet scenarios leave for ``rule``'s threshold."""
    from ctdetect.engine.rules.ml_rule import record_score

    bounds = Bounds()
    for result in results:
        if result.scenario.name == QUIET:
            continue
        for e in result.scenario.expectations:
            if e.rule not in (rule.rule_id, rule.name):
                continue
            scores = sorted((record_score(f) for f in expectation_records(result.findings, rule, e)), reverse=True)
            where = f"{result.scenario.name}#{e.index}"
            if e.fires:
                need = e.min_count if e.min_count is not None else 1
                if need <= 0:
                    continue
                top = scores[need - 1] if len(scores) >= need else 0.0
                if top < bounds.ceiling:
                    bounds.ceiling, bounds.why_ceiling = top, where
            elif scores and scores[0] >= bounds.floor:
                bounds.floor, bounds.why_floor = scores[0], where
    return bounds


def quiet_counts(records: list, thresholds) -> dict[int, int]:
    """Quiet-month records at or above each threshold (the alerts the rule would raise)."""
    from ctdetect.engine.rules.ml_rule import record_score

    scores = [record_score(f) for f in records]
    return {t: sum(1 for s in scores if s >= t) for t in thresholds}


def quiet_budget(quiet_result, rule) -> int | None:
    """The rule's own quiet-month budget: the ``max_count`` of its quiet-month expectation."""
    for e in quiet_result.scenario.expectations:
        if e.rule in (rule.rule_id, rule.name) and e.max_count is not None:
            return e.max_count
    return None


def preference(prior: int) -> list[int]:
    """Conventional values in the order tried: Elastic's own first, then by distance (quieter first on a tie)."""
    return sorted(CONVENTIONAL, key=lambda v: (v != prior, abs(v - prior), -v))


def choose(bounds: Bounds, counts_at, budget: int | None, prior: int) -> tuple[int | None, str]:
    """The threshold and why (see the module docstring for the order of preference)."""
    within = budget if budget is not None else 10**9
    low = max(25, math.floor(bounds.floor) + 1 if bounds.floor > 0 else 25)  # tests/content: 25 <= threshold
    high = math.floor(bounds.ceiling)
    if low > high:
        return None, f"none: silence needs > {bounds.floor:.1f}, firing needs <= {bounds.ceiling:.1f}"
    for margin, label in ((MARGIN, f"margin {MARGIN:g}"), (0.0, "no margin")):
        for value in preference(prior):
            if bounds.floor + margin < value <= bounds.ceiling - margin and counts_at(value) <= within:
                return value, ("Elastic's" if value == prior else "conventional") + f", {label}"
    for value in range(low, high + 1):
        if counts_at(value) <= within:
            return value, "lowest in range within budget"
    return high, "over budget even at the ceiling"


def replay_results(scenarios: list, workers: int, cache: Path | None) -> list:
    """Scenario results of the replay (from ``cache`` when it exists; saved there otherwise)."""
    import pickle

    from ctdetect.services.replay import run_replay

    if cache is not None and cache.exists():
        print(f"results read from {cache} (delete it to replay again)")
        return pickle.loads(cache.read_bytes())
    started, cpu = time.perf_counter(), time.process_time()
    replay = run_replay([str(s.source.path.parent) for s in scenarios], package_root=str(PROJECT), workers=workers)
    children = os.times()
    print(f"replayed {len(replay.scenarios)} scenarios in {time.perf_counter() - started:.0f} s wall "
          f"({time.process_time() - cpu + children.children_user + children.children_system:.0f} CPU s), "
          f"expectations: {replay.summary()}")
    if cache is not None:
        cache.write_bytes(pickle.dumps(replay.scenarios))
    return replay.scenarios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="scenario worker processes")
    parser.add_argument("--cache", type=Path, help="pickle of the replay's results: read when it exists, else written")
    args = parser.parse_args()

    from ctdetect.content.loaders import load_package
    from ctdetect.engine.rules.ml_rule import record_score

    os.chdir(PROJECT)
    package = load_package(PROJECT)
    ml_rules = sorted((r for r in package.rules if r.type == "machine_learning"), key=lambda r: r.name)
    job_ids = {j.job_id for j in package.jobs}
    scenarios = ml_scenarios(package, {r.rule_id for r in ml_rules}, {r.name for r in ml_rules}, job_ids)
    results = replay_results(scenarios, args.workers, args.cache)
    quiet = next(r for r in results if r.scenario.name == QUIET)
    days = 30
    for spec in quiet.scenario.synth:
        days = int(spec.params.get("days", days))
    ml_ids = {r.rule_id for r in ml_rules}
    search_alerts = sum(1 for f in quiet.findings if f.kind == "alert" and f.source_id not in ml_ids)

    print(f"\nquiet month ({days} days): ML rule alerts at each candidate threshold (initial_record_score >= t), per month")
    print(f"{'rule':<62} {'now':>4} {'alerts':>6} {'max':>5} " + " ".join(f"{t:>5}" for t in CANDIDATES))
    rows = []
    for rule in ml_rules:
        records = rule_records(quiet.findings, rule)
        counts = quiet_counts(records, CANDIDATES)
        alerts = sum(1 for f in quiet.findings if f.kind == "alert" and f.source_id == rule.rule_id)
        top = max((record_score(f) for f in records), default=0.0)
        print(f"{rule.name:<62} {rule.anomaly_threshold:>4} {alerts:>6} {top:>5.1f} " + " ".join(f"{counts[t]:>5}" for t in CANDIDATES))
        rows.append((rule, records))

    print("\nattack and silence bounds per rule (threshold must lie in (floor, ceiling]); chosen threshold")
    print(f"{'rule':<62} {'floor':>6} {'ceiling':>7} {'budget':>6} {'elastic':>7} {'now':>4} {'new':>4} {'quiet@new':>9}  why / from")
    total = search_alerts
    for rule, records in rows:
        bounds = bounds_for(rule, results)
        budget = quiet_budget(quiet, rule)
        prior = ELASTIC.get(rule.source.path.stem, 50)
        value, why = choose(bounds, lambda t, recs=records: quiet_counts(recs, [t])[t], budget, prior)
        at_new = quiet_counts(records, [value])[value] if value is not None else 0
        total += at_new
        print(f"{rule.name:<62} {bounds.floor:>6.1f} {bounds.ceiling:>7.1f} {budget if budget is not None else '-':>6} "
              f"{prior:>7} {rule.anomaly_threshold:>4} {value if value is not None else '-':>4} {at_new:>9}  {why}; "
              f"floor {bounds.why_floor or '-'}, ceiling {bounds.why_ceiling or '-'}")
    print(f"\nquiet month at the chosen thresholds: {search_alerts} search-rule alerts + ML = {total} alerts, "
          f"{total / days:.2f} a day (promise: at most 5)")

    print("\njob expectations: best record_score of the matching records against min_score")
    print(f"{'scenario':<42} {'job':<48} {'fires':>5} {'min':>5} {'best':>6}  entity")
    from ctdetect.services.expectations import matching

    for result in results:
        if result.scenario.name == QUIET:
            continue
        for e in result.scenario.expectations:
            if not e.job:
                continue

            found = matching(result.findings, dataclasses.replace(e, min_score=None))
            best = max((f.score for f in found), default=0.0)
            mark = "" if (best >= (e.min_score or 0)) == e.fires or (not e.fires and e.min_score is None and not found) else "  <-"
            print(f"{result.scenario.name:<42} {e.job:<48} {str(e.fires):>5} {e.min_score if e.min_score is not None else '-':>5} "
                  f"{best:>6.1f}  {e.entity or ''}{mark}")


if __name__ == "__main__":
    sys.exit(main())
