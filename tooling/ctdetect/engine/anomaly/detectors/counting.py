"""The count family and distinct counts: ``count``, ``high_count``, ``low_count``,
``non_zero_count`` (and high/low), ``distinct_count`` (and high/low).

ML-SEMANTICS §5.1–§5.2 and Elastic docs "Count functions" / "distinct_count". Per
partition value and per series (by value, or the whole partition without a by field):

================  ===============================  ==================  ========
function          value per bucket                 empty buckets       offset
================  ===============================  ==================  ========
count, high/low   events (or summary count sum)    0 for known series  none
non_zero_count    events                           skipped             −1
distinct_count    distinct values of field_name    skipped             −1
================  ===============================  ==================  ========

Each value is one sample of the series' ``timeseries.CountSeries``; as in ml-cpp the
series learns the bucket first (down-weighted when it is an outlier) and then scores it,
joined with its 12-bucket feature (``multi_bucket_impact`` on the record) and tempered by
its anomaly model.
For ``count`` (two-sided, no high/low) Elastic also joins the by value's rarity — the
same Dirichlet as ``rare`` — with the count probability when the count is non-zero;
without a by field that rarity is exactly 1 and the joint inflates p (§5.2, marked
unverified there; kept because it decides which buckets cross the 0.035 cut).
Empty buckets of a series present in fewer than half of the buckets are learnt with
weight ``clamp(2·frequency, 1e-6, 1)``.

With ``over_field_name`` (population counts) one series per attribute (by value, or
none) is shared by every person; each person's non-zero bucket count is scored against
it and learnt by it, weighted by its sample-rate weight (``population_weights``: a person
seen on the attribute more often than its average person counts less).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from ctdetect.engine.anomaly import stats
from ctdetect.engine.anomaly.columns import RowRun, all_strings
from ctdetect.engine.anomaly.categorical import DecayedDirichlet, decay_factor, default_decay_rate
from ctdetect.engine.anomaly.config import DetectorSpec, JobSpec
from ctdetect.engine.anomaly.detectors.base import DetectorModel, InflTuple, Leaf, infl_from_state, merge_influencers
from ctdetect.engine.anomaly.detectors.population_weights import SampleRateWeights
from ctdetect.engine.anomaly.fields import values as field_values
from ctdetect.engine.anomaly.multibucket import multi_bucket_impact
from ctdetect.engine.anomaly.pruning import LastSeen, cutoff_ms, default_prune_window
from ctdetect.engine.anomaly.timeseries import CountSeries, trend_decay_rate

SeriesKey = tuple[str | None, str | None]  # (partition value, by value)
INFLUENCE_CUTOFF = 0.4  # ml-cpp DEFAULT_INFLUENCE_CUTOFF
LARGEST_SIGNIFICANT_P = 0.05  # ml-cpp: the explanation's bounds are computed below this probability
BOUNDS_PERCENTILE = 95.0  # ml-cpp CModel::DEFAULT_BOUNDS_PERCENTILE


class CountingDetector(DetectorModel):
    def __init__(self, job: JobSpec, spec: DetectorSpec, learn_rate: float | None = None, decay_rate: float | None = None) -> None:
        """``learn_rate``/``decay_rate``: Elasticsearch's defaults for the bucket span unless
        given (ml-cpp's unit tests set their own ``SModelParams``)."""
        super().__init__(job, spec)
        fn = spec.function
        self.distinct = "distinct_count" in fn
        self.non_zero = "non_zero_count" in fn
        self.side = "high" if fn.startswith("high_") else "low" if fn.startswith("low_") else "two"
        self.include_empty = not (self.distinct or self.non_zero)
        self.offset = 1.0 if (self.distinct or self.non_zero) else 0.0
        self.rarity_joint = fn == "count" and not spec.is_population
        self.span_s = job.bucket_span_s
        self.decay_rate = default_decay_rate(job.bucket_span_s) if decay_rate is None else decay_rate
        self.learn_rate = min(1.0, job.bucket_span_s / 1800.0) if learn_rate is None else learn_rate
        self.last_impact: float | None = None
        self.trend = trend_decay_rate(job.bucket_span_s, self.decay_rate)
        self.series: dict[SeriesKey, CountSeries] = {}
        self.rarity: dict[str | None, DecayedDirichlet] = {}
        self.rate_weights: dict[str | None, SampleRateWeights] = {}  # population counts, per partition
        # for pruning (``pruning``): the last bucket with data of each series (individual) or
        # attribute series (population), and of each (partition, person) of a population
        self.seen: LastSeen[SeriesKey] = LastSeen()
        self.people_seen: LastSeen[tuple[str | None, str]] = LastSeen()
        self.buckets_seen = 0
        self.last_explanation: dict[str, Any] = {}
        # open bucket: key -> [count, distinct values set, influencer tuples, distinct
        # values per influencer tuple (distinct_count only)]; key is (partition, by) for
        # individual, (partition, by, person) for population.
        self.bucket: dict[tuple[Any, ...], list[Any]] = {}

    def add(self, event: dict[str, Any], infl: InflTuple, weight: float) -> None:
        parts = self.partition_values(event)
        if parts is None:
            return
        bys = self.split_values(event, self.spec.by_field_name)
        if bys is None:
            return
        people = self.split_values(event, self.spec.over_field_name)
        if people is None:
            return
        dvals: list[str] = []
        if self.distinct:
            dvals = field_values(event, self.spec.field_name or "")
            if not dvals:
                return
        bucket = self.bucket
        for p in parts:
            for b in bys:
                for y in people:
                    key = (p, b) if y is None else (p, b, y)
                    acc = bucket.get(key)
                    if acc is None:
                        acc = bucket[key] = [0.0, set(), {}, {}]
                    acc[0] += weight
                    if dvals:
                        acc[1].update(dvals)
                        acc[3].setdefault(infl, set()).update(dvals)
                    tally = acc[2]
                    tally[infl] = tally.get(infl, 0.0) + weight

    def add_run(self, run: RowRun) -> None:
        """``add`` of a run of events, grouped (individual detectors whose split values, and
        distinct-count values, are one string per event): the run's (series, influencers)
        pairs are counted in one ``Counter`` and the distinct (series, influencers, value)
        triples taken in one ``dict``, both in order of first appearance, so the bucket's
        series and tallies fill in the order one ``add`` at a time gives them, with the same
        sums (each event weighs 1, so a count of n is n additions of 1.0, exactly)."""
        spec = self.spec
        n = len(run.events)
        columns = []
        for name in (spec.partition_field_name, spec.by_field_name):
            column = [None] * n if name is None else run.raw(name)
            if name is not None and not all_strings(column):
                columns = None
                break
            columns.append(column)
        dvals = run.raw(spec.field_name or "") if self.distinct else None
        if spec.over_field_name is not None or columns is None or (dvals is not None and not all_strings(dvals)):
            super().add_run(run)
            return
        keys = list(zip(*columns))
        bucket = self.bucket
        for (key, infl), count in Counter(zip(keys, run.infls)).items():
            acc = bucket.get(key)
            if acc is None:
                acc = bucket[key] = [0.0, set(), {}, {}]
            acc[0] += count
            tally = acc[2]
            tally[infl] = tally.get(infl, 0.0) + count
        if dvals is not None:
            for key, infl, value in dict.fromkeys(zip(keys, run.infls, dvals)):
                acc = bucket[key]
                acc[1].add(value)
                acc[3].setdefault(infl, set()).add(value)

    # ------------------------------------------------------------------ scoring
    def _value(self, acc: list[Any]) -> float:
        return float(len(acc[1])) if self.distinct else float(acc[0])

    def _score_and_learn(self, series: CountSeries, x: float, bucket_ms: int, weight: float) -> tuple[float, float, float]:
        """(probability, modelled value, typical) of value ``x``, learnt then scored.

        Also leaves, in ``self.last_explanation``, Elastic-style explanation fields for an
        unusual value (spike or dip; the model's median and 95 % interval at the bucket,
        ``CountSeries.confidence_interval``, as typical value and bounds) and
        in ``self.last_impact`` the record's ``multi_bucket_impact``.
        """
        t_mid = bucket_ms + self.span_s * 500
        y = x - self.offset
        self.last_explanation = {}
        self.last_impact = None
        result = series.step(y, t_mid, bucket_ms // (self.span_s * 1000), weight * self.learn_rate, self.span_s, self.decay_rate, self.trend, self.side)
        p = result.probability
        typical = series.typical(t_mid) + self.offset
        if result.multi is not None and result.single is not None:
            self.last_impact = multi_bucket_impact(result.single, result.multi)
        if p < LARGEST_SIGNIFICANT_P:
            lower, median, upper = series.confidence_interval(t_mid, BOUNDS_PERCENTILE)
            self.last_explanation = {
                "anomaly_type": "spike" if y > typical - self.offset else "dip",
                "typical_value": round(median + self.offset, 6),
                "lower_confidence_bound": round(lower + self.offset, 6),
                "upper_confidence_bound": round(upper + self.offset, 6),
            }
        return p, y, typical

    def _influence(self, series: CountSeries, acc: list[Any], infl: dict[str, list[str]]) -> dict[tuple[str, str], float]:
        """Each influencer value's influence on an unusual bucket, as ml-cpp measures it.

        Counts (``CLogProbabilityComplementInfluenceCalculator``): only a high count has
        influence; the bucket less the value's events is scored on the high side, and the
        influence is ``1 − ln p(without) / ln p``. Distinct counts
        (``CLogProbabilityInfluenceCalculator``, ml-cpp ``ModelTypes.cc``
        ``influenceCalculator``): the value's own distinct count (the values seen with it)
        is scored on the tail the bucket is in, and the influence is ``ln p(value) / ln p``;
        ``low_distinct_count`` has none. Both score with the residual prior alone (no
        multi-bucket feature, no anomaly model) and clamp to [0, 1]. Values are tried from
        the one that pushes furthest into the tail and the first under the 0.4 cutoff ends
        the list: it and the rest are dropped from the record's influencers (``infl``,
        edited in place). A field with one value has influence 1. The hierarchy scores an
        influencer from ``p ** influence``.
        """
        out: dict[tuple[str, str], float] = {}
        residual = series.last_residual
        if residual is None or self.side == "low" or not series.informative():
            return out
        tail = "low" if self.distinct and residual < series.prior.mean_value() else "high"
        p_all = series.prior.probability(residual, tail)
        if p_all >= 1.0:
            return out
        if self.distinct and not acc[3]:
            return out  # a bucket restored from a state written before per-value distinct sets
        log_all = math.log(max(p_all, 1e-308))
        total = self._value(acc)
        for col, name in enumerate(self.influencer_names):
            values = infl.get(name)
            if not values or len(values) == 1:
                continue
            amounts = self._per_value(acc, col)
            order = sorted(amounts, key=lambda k: (amounts[k] if tail == "low" else -amounts[k], k))
            kept = []
            for v in order:
                if self.distinct:  # the value's own distinct count, through the same model
                    p_v = series.prior.probability(residual - (total - amounts[v]), tail)
                    influence = math.log(max(p_v, 1e-308)) / log_all
                else:  # the bucket without the value's events
                    p_v = series.prior.probability(residual - amounts[v], tail)
                    influence = 1.0 - math.log(max(p_v, 1e-308)) / log_all
                influence = min(max(influence, 0.0), 1.0)
                if influence < INFLUENCE_CUTOFF:
                    break
                kept.append(v)
                out[(name, v)] = influence
            if kept:
                infl[name] = sorted(kept)
            else:
                del infl[name]
        return out

    def _per_value(self, acc: list[Any], col: int) -> dict[str, float]:
        """Influencer column ``col``'s values with their event count, or for a distinct
        count the number of distinct values seen with each."""
        if not self.distinct:
            counts: dict[str, float] = {}
            for t, c in acc[2].items():
                for v in t[col]:
                    counts[v] = counts.get(v, 0.0) + c
            return counts
        seen: dict[str, set[str]] = {}
        for t, dvals in acc[3].items():
            for v in t[col]:
                seen.setdefault(v, set()).update(dvals)
        return {v: float(len(d)) for v, d in seen.items()}

    def close(self, bucket_ms: int) -> list[Leaf]:
        self.buckets_seen += 1
        self._mark_seen(bucket_ms)
        if self.spec.is_population:
            return self._close_population(bucket_ms)
        return self._close_individual(bucket_ms)

    def _close_individual(self, bucket_ms: int) -> list[Leaf]:
        present: dict[SeriesKey, list[Any]] = {k: v for k, v in self.bucket.items()}  # type: ignore[misc]
        self.bucket = {}
        rarity_p: dict[SeriesKey, float] = {}
        if self.rarity_joint and present:
            per_part: dict[str | None, list[str | None]] = {}
            for p, b in present:
                per_part.setdefault(p, []).append(b)
            decay = decay_factor(self.span_s)
            for part, bys in per_part.items():
                model = self.rarity.get(part)
                if model is None:
                    model = self.rarity[part] = DecayedDirichlet()
                labels = ["" if b is None else b for b in bys]
                model.observe(labels, bucket_ms, decay)
                probs = model.probabilities(labels)
                for b, label in zip(bys, labels):
                    rarity_p[(part, b)] = probs.get(label, 1.0)
        # a fixed order (bucket's series first, then the known ones): a set of keys holding
        # None iterates in an order that changes from run to run (None hashes by address
        # in Python 3.11), and the normaliser's history depends on the order of updates
        keys = list(present)
        if self.include_empty:
            keys.extend(k for k in self.series if k not in present)
        leaves: list[Leaf] = []
        index = self.spec.index
        names = self.influencer_names
        for key in keys:
            acc = present.get(key)
            series = self.series.get(key)
            if series is None:
                series = self.series[key] = CountSeries(bucket_ms)
            series.buckets += 1
            if acc is not None:
                series.present_buckets += 1
                x = self._value(acc)
                weight = 1.0
            else:
                x = 0.0
                freq = series.present_buckets / max(series.buckets, 1)
                weight = 1.0 if freq >= 0.5 else min(max(2.0 * freq, 1e-6), 1.0)
            if self.rules is not None:
                weight *= self._rule_weight(series, key[0], key[1], None, x, bucket_ms)
            p, y, typical = self._score_and_learn(series, x, bucket_ms, weight)
            infl = merge_influencers(names, acc[2]) if acc is not None else {}
            influence = self._influence(series, acc, infl) if acc is not None else {}
            if self.rarity_joint and acc is not None and x > 0:
                p = stats.joint_probability([p, rarity_p.get(key, 1.0)])
            part, by = key
            # positional (detector, partition, by, over, p, actual, typical, influencers,
            # explanation): this runs for every known series every bucket
            leaves.append(
                Leaf(
                    index,
                    part,
                    by,
                    None,
                    p,
                    [x],
                    [typical],  # rounded when written (results.record_doc)
                    infl,
                    self.last_explanation,
                    [],
                    self.last_impact,
                    influence,
                )
            )
        return leaves

    def _rule_weight(self, series: CountSeries, part: str | None, by: str | None, person: str | None, x: float, bucket_ms: int,
                     offset: float | None = None) -> float:
        """The factor ``skip_model_update`` rules put on this bucket's sample (``detection_rules``),
        judged on the bucket's value and the model's typical value before it learns the bucket."""
        off = self.offset if offset is None else offset
        t_mid = bucket_ms + self.span_s * 500

        def typical() -> float | None:
            return series.typical(t_mid) + off if series.informative() else None

        return self.rules.model_weight(part, by, person, x, typical, bucket_ms, self.span_s)  # type: ignore[union-attr]

    def sample_rate_weight(self, part: str | None, by: str | None, person: str) -> float:
        """The weight of ``person``'s sample of attribute ``by`` in the last bucket closed
        (``population_weights``)."""
        weights = self.rate_weights.get(part)
        if weights is None:
            return 1.0
        return weights.weight(by, person, weights.last_bucket, self.decay_rate)

    def _close_population(self, bucket_ms: int) -> list[Leaf]:
        present = self.bucket
        self.bucket = {}
        bucket = bucket_ms // (self.span_s * 1000)
        per_part: dict[str | None, set[tuple[str | None, str]]] = {}
        for part, by, person in present:
            per_part.setdefault(part, set()).add((by, person))
        for part, pairs in per_part.items():
            weights = self.rate_weights.get(part)
            if weights is None:
                weights = self.rate_weights[part] = SampleRateWeights()
            weights.add_bucket(pairs, bucket, self.decay_rate)
        leaves: list[Leaf] = []
        for (part, by, person), acc in present.items():
            key = (part, by)
            series = self.series.get(key)
            if series is None:
                series = self.series[key] = CountSeries(bucket_ms)
            series.buckets += 1
            x = self._value(acc)
            rate_weight = self.rate_weights[part].weight(by, person, bucket, self.decay_rate)
            if self.rules is not None:
                rate_weight *= self._rule_weight(series, part, by, person, x, bucket_ms, offset=1.0)
            # population counts model each person's non-zero count minus one (§3)
            off = self.offset
            self.offset = 1.0
            p, _y, typical = self._score_and_learn(series, x, bucket_ms, rate_weight)
            self.offset = off
            leaves.append(
                Leaf(
                    detector_index=self.spec.index,
                    partition_value=part,
                    by_value=by,
                    over_value=person,
                    probability=p,
                    actual=[x],
                    typical=[round(typical, 6)],
                    influencers=merge_influencers(self.influencer_names, acc[2]),
                    explanation=self.last_explanation,
                    multi_bucket_impact=self.last_impact,
                )
            )
        return leaves

    # ------------------------------------------------------------------ pruning
    def _mark_seen(self, bucket_ms: int) -> None:
        """Note the open bucket's series (and people) as having data in it, for ``prune``."""
        touch = self.seen.touch
        if self.spec.is_population:
            touch_person = self.people_seen.touch
            for part, by, person in self.bucket:
                touch((part, by), bucket_ms)
                touch_person((part, person), bucket_ms)
        else:
            for key in self.bucket:
                touch(key, bucket_ms)

    def prune(self, bucket_ms: int, max_age_buckets: int) -> None:
        """Forget idle series as ml-cpp does (``pruning``): an individual series' model and
        its by value's category in the rarity model (``CEventRateModel::clearPrunedResources``);
        a population attribute's model and its people counts, and an idle person's counts on
        every attribute (``CEventRatePopulationModel::prune``; the attribute totals keep what
        the person added, as ``CCountMinSketch::removeFromMap`` leaves the total)."""
        before = cutoff_ms(bucket_ms, max_age_buckets, self.span_s * 1000)
        stale = self.seen.pop_stale(before)
        for key in stale:
            self.series.pop(key, None)
        if self.spec.is_population:
            for part, by in stale:
                weights = self.rate_weights.get(part)
                if weights is not None:
                    weights.counts.pop(by, None)
                    weights.totals.pop(by, None)
            for part, person in self.people_seen.pop_stale(before):
                weights = self.rate_weights.get(part)
                if weights is not None:
                    weights.people.discard(person)
                    for per in weights.counts.values():
                        per.pop(person, None)
        elif stale and self.rarity:
            per_part: dict[str | None, list[str]] = {}
            for part, by in stale:
                per_part.setdefault(part, []).append("" if by is None else by)
            for part, labels in per_part.items():
                model = self.rarity.get(part)
                if model is not None:
                    model.forget(labels)
                    if not model.stored:
                        del self.rarity[part]

    def persistence_prune_window(self) -> int:
        return default_prune_window(self.decay_rate)

    def entity_count(self) -> int:
        return len(self.series) + sum(len(m.stored) for m in self.rarity.values())

    def to_state(self) -> dict[str, Any]:
        return {
            "series": [[list(k), s.to_state()] for k, s in self.series.items()],
            "rarity": [[k, m.to_state()] for k, m in self.rarity.items()],
            "rate_weights": [[k, w.to_state()] for k, w in self.rate_weights.items()],
            "buckets_seen": self.buckets_seen,
            "seen": self.seen.to_state(),
            "people_seen": self.people_seen.to_state(),
            "bucket": [
                [list(k), acc[0], sorted(acc[1]), [[list(map(list, t)), c] for t, c in acc[2].items()],
                 [[list(map(list, t)), sorted(d)] for t, d in acc[3].items()]]
                for k, acc in self.bucket.items()
            ],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.series = {tuple(k): CountSeries.from_state(s, self.span_s) for k, s in state["series"]}  # type: ignore[misc]
        self.rarity = {k: DecayedDirichlet.from_state(m) for k, m in state["rarity"]}
        # states written before population sample-rate weights have none: they start afresh
        self.rate_weights = {k: SampleRateWeights.from_state(w) for k, w in state.get("rate_weights", [])}
        self.buckets_seen = int(state["buckets_seen"])
        # states written before pruning have no last-seen times: their series are pruned
        # once they have had data again and gone idle
        self.seen = LastSeen.from_state(state.get("seen", []))
        self.people_seen = LastSeen.from_state(state.get("people_seen", []))
        self.bucket = {}
        for row in state["bucket"]:
            k, c, d, ts = row[:4]
            per_infl = row[4] if len(row) > 4 else []  # states written before distinct-count influence have none
            self.bucket[tuple(k)] = [
                float(c), set(d), {infl_from_state(t): float(n) for t, n in ts}, {infl_from_state(t): set(v) for t, v in per_infl},
            ]

