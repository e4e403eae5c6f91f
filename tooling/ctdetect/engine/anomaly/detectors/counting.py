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

Each value is one sample of the series' ``timeseries.CountSeries``; the bucket is scored
before the model learns it (the learning is down-weighted when it is an outlier).
For ``count`` (two-sided, no high/low) Elastic also joins the by value's rarity — the
same Dirichlet as ``rare`` — with the count probability when the count is non-zero;
without a by field that rarity is exactly 1 and the joint inflates p (§5.2, marked
unverified there; kept because it decides which buckets cross the 0.035 cut).
Empty buckets of a series present in fewer than half of the buckets are learnt with
weight ``clamp(2·frequency, 1e-6, 1)``.

With ``over_field_name`` (population counts) one series per attribute (by value, or
none) is shared by every person; each person's non-zero bucket count is scored against
it and learnt by it.
"""

from __future__ import annotations

from typing import Any

from ctdetect.engine.anomaly import stats
from ctdetect.engine.anomaly.categorical import DecayedDirichlet, decay_factor, default_decay_rate
from ctdetect.engine.anomaly.config import DetectorSpec, JobSpec
from ctdetect.engine.anomaly.detectors.base import DetectorModel, InflTuple, Leaf, infl_from_state, merge_influencers
from ctdetect.engine.anomaly.fields import values as field_values
from ctdetect.engine.anomaly.timeseries import CountSeries, count_cdf, count_sf, sided_probability, trend_decay_rate

SeriesKey = tuple[str | None, str | None]  # (partition value, by value)


class CountingDetector(DetectorModel):
    def __init__(self, job: JobSpec, spec: DetectorSpec) -> None:
        super().__init__(job, spec)
        fn = spec.function
        self.distinct = "distinct_count" in fn
        self.non_zero = "non_zero_count" in fn
        self.side = "high" if fn.startswith("high_") else "low" if fn.startswith("low_") else "two"
        self.include_empty = not (self.distinct or self.non_zero)
        self.offset = 1.0 if (self.distinct or self.non_zero) else 0.0
        self.rarity_joint = fn == "count" and not spec.is_population
        self.span_s = job.bucket_span_s
        self.decay_rate = default_decay_rate(job.bucket_span_s)
        self.learn_rate = min(1.0, job.bucket_span_s / 1800.0)
        self.trend = trend_decay_rate(job.bucket_span_s, self.decay_rate)
        self.series: dict[SeriesKey, CountSeries] = {}
        self.rarity: dict[str | None, DecayedDirichlet] = {}
        self.buckets_seen = 0
        self.last_explanation: dict[str, Any] = {}
        # open bucket: key -> [count, distinct values set, influencer tuples]; key is
        # (partition, by) for individual, (partition, by, person) for population.
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
                        acc = bucket[key] = [0.0, set(), set()]
                    acc[0] += weight
                    if dvals:
                        acc[1].update(dvals)
                    acc[2].add(infl)

    # ------------------------------------------------------------------ scoring
    def _value(self, acc: list[Any]) -> float:
        return float(len(acc[1])) if self.distinct else float(acc[0])

    def _score_and_learn(self, series: CountSeries, x: float, bucket_ms: int, weight: float) -> tuple[float, float, float]:
        """(probability, modelled value, typical) of value ``x``, then learn it.

        Also leaves, in ``self.last_explanation``, Elastic-style explanation fields for an
        unusual value: spike or dip, the typical value and a 95 % interval around it.
        """
        t_mid = bucket_ms + self.span_s * 500
        y = x - self.offset
        self.last_explanation = {}
        typical: float | None = None
        base: float | None = None
        if series.informative():
            base = series.baseline(t_mid)  # once: prediction, typical and the update share it
            mean, var = series.predictive(t_mid, base)  # once: probability, tail and explanation share it
            typical = base + self.offset
            p = sided_probability(y, mean, var, self.side)
            p_tail = min(stats_tail(y, mean, var), 1.0)
            if p < 0.05:
                sd = var**0.5
                self.last_explanation = {
                    "anomaly_type": "spike" if y > mean else "dip",
                    "typical_value": round(mean + self.offset, 6),
                    "lower_confidence_bound": round(max(mean - 1.96 * sd, 0.0) + self.offset, 6),
                    "upper_confidence_bound": round(mean + 1.96 * sd + self.offset, 6),
                }
        else:
            p = 1.0
            p_tail = 1.0
        series.update(y, t_mid, weight * self.learn_rate, self.span_s, self.decay_rate, p_tail, base, self.trend)
        return p, y, (typical if typical is not None else x)

    def close(self, bucket_ms: int) -> list[Leaf]:
        self.buckets_seen += 1
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
            p, _y, typical = self._score_and_learn(series, x, bucket_ms, weight)
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
                    merge_influencers(names, acc[2]) if acc is not None else {},
                    self.last_explanation,
                )
            )
        return leaves

    def _close_population(self, bucket_ms: int) -> list[Leaf]:
        present = self.bucket
        self.bucket = {}
        leaves: list[Leaf] = []
        for (part, by, person), acc in present.items():
            key = (part, by)
            series = self.series.get(key)
            if series is None:
                series = self.series[key] = CountSeries(bucket_ms)
            series.buckets += 1
            x = self._value(acc)
            # population counts model each person's non-zero count minus one (§3)
            off = self.offset
            self.offset = 1.0
            p, _y, typical = self._score_and_learn(series, x, bucket_ms, 1.0)
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
                )
            )
        return leaves

    def entity_count(self) -> int:
        return len(self.series) + sum(len(m.stored) for m in self.rarity.values())

    def to_state(self) -> dict[str, Any]:
        return {
            "series": [[list(k), s.to_state()] for k, s in self.series.items()],
            "rarity": [[k, m.to_state()] for k, m in self.rarity.items()],
            "buckets_seen": self.buckets_seen,
            "bucket": [[list(k), acc[0], sorted(acc[1]), [list(map(list, t)) for t in acc[2]]] for k, acc in self.bucket.items()],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.series = {tuple(k): CountSeries.from_state(s, self.span_s) for k, s in state["series"]}  # type: ignore[misc]
        self.rarity = {k: DecayedDirichlet.from_state(m) for k, m in state["rarity"]}
        self.buckets_seen = int(state["buckets_seen"])
        self.bucket = {tuple(k): [float(c), set(d), {infl_from_state(t) for t in ts}] for k, c, d, ts in state["bucket"]}


def stats_tail(y: float, mean: float, var: float) -> float:
    """One-tailed probability of ``y`` on its own side of the mean (for outlier weights)."""
    return count_sf(y, mean, var) if y >= mean else count_cdf(y, mean, var)
