"""``rare by X`` (optionally ``partition_field_name``): individual rare analysis.

ML-SEMANTICS §2 and §4; Elastic docs "Rare functions" (ml-rare-functions). Per
partition value there is one independent model (its own Dirichlet over the by values,
created cold when the partition value is first seen). Each bucket:

1. the set of by values present in the bucket (presence, not counts) is added to the
   partition's Dirichlet, which then decays by one bucket — the current bucket is part
   of the model that scores it;
2. every by value present is scored with the "less likely categories" probability
   (``categorical.less_likely_probabilities``); absent values are not scored.

The record explains itself as Elastic does: ``by_field_first_occurrence`` (the value's
first bucket is this one) and ``by_field_relative_rarity`` (median concentration over
the value's: "seen once every n buckets" relative to a typical value).
"""

from __future__ import annotations

from typing import Any

from ctdetect.engine.anomaly.categorical import DecayedDirichlet, batch_less_likely, decay_factor
from ctdetect.engine.anomaly.columns import RowRun, all_strings
from ctdetect.engine.anomaly.config import DetectorSpec, JobSpec
from ctdetect.engine.anomaly.detectors.base import DetectorModel, InflTuple, Leaf, infl_from_state, merge_influencers
from ctdetect.engine.anomaly.pruning import cutoff_ms


EXPLAIN_BELOW = 0.05  # records are written only below 0.035 (or within 1.2x of a written ancestor)


def _median(values: Any) -> float:
    vals = sorted(values)
    m = len(vals)
    return vals[m // 2] if m % 2 else 0.5 * (vals[m // 2 - 1] + vals[m // 2])


class IndividualRare(DetectorModel):
    def __init__(self, job: JobSpec, spec: DetectorSpec) -> None:
        super().__init__(job, spec)
        self.decay = decay_factor(job.bucket_span_s)
        self.models: dict[str | None, DecayedDirichlet] = {}
        self.bucket: dict[tuple[str | None, str], set[InflTuple]] = {}

    def add(self, event: dict[str, Any], infl: InflTuple, weight: float) -> None:
        by_name = self.spec.by_field_name
        b = event.get(by_name)  # type: ignore[arg-type]
        if type(b) is str and b:
            # the common cases, without helper calls: one by value, one (or no) partition value
            pname = self.spec.partition_field_name
            p = None if pname is None else event.get(pname)
            if p is None and pname is None or type(p) is str and p:
                key = (p, b)
                s = self.bucket.get(key)
                if s is None:
                    self.bucket[key] = {infl}
                else:
                    s.add(infl)
                return
        parts = self.partition_values(event)
        if parts is None:
            return
        bys = self.split_values(event, by_name)
        if bys is None:
            return
        bucket = self.bucket
        for p in parts:
            for b in bys:
                s = bucket.get((p, b))
                if s is None:
                    bucket[(p, b)] = {infl}
                else:
                    s.add(infl)

    def add_run(self, run: RowRun) -> None:
        """``add`` of a run of events, grouped: when every event has one string by value (and
        one string partition value, if partitioned), the run's (key, influencers) pairs are
        made distinct in one set, and the keys enter the bucket in order of first appearance
        (as one ``add`` at a time would order them); otherwise event by event."""
        bys = run.raw(self.spec.by_field_name)  # type: ignore[arg-type]
        pname = self.spec.partition_field_name
        if not all_strings(bys):
            super().add_run(run)
            return
        if pname is None:
            keys: list[tuple[str | None, str]] = [(None, b) for b in bys]
        else:
            parts = run.raw(pname)
            if not all_strings(parts):
                super().add_run(run)
                return
            keys = list(zip(parts, bys))
        bucket = self.bucket
        for key in dict.fromkeys(keys):
            if key not in bucket:
                bucket[key] = set()
        for key, infl in set(zip(keys, run.infls)):
            bucket[key].add(infl)

    def close(self, bucket_ms: int) -> list[Leaf]:
        if not self.bucket:
            return []
        present: dict[str | None, list[str]] = {}
        for p, b in self.bucket:
            present.setdefault(p, []).append(b)
        leaves: list[Leaf] = []
        models = []
        for part, values in present.items():
            model = self.models.get(part)
            if model is None:
                model = self.models[part] = DecayedDirichlet()
            model.observe(values, bucket_ms, self.decay)
            models.append(model)
        # every partition's probabilities in one vectorised pass
        all_probs = batch_less_likely([(m.conc, values) for m, values in zip(models, present.values())])
        index = self.spec.index
        names = self.influencer_names
        bucket = self.bucket
        for (part, values), model, probs in zip(present.items(), models, all_probs):
            stored = model.stored
            first_seen = model.first_seen
            total = sum(stored.values())
            median: float | None = None
            for value in values:
                p = probs.get(value)
                if p is None:
                    continue
                explanation: dict[str, Any] = {"by_field_first_occurrence": first_seen.get(value) == bucket_ms}
                if p < EXPLAIN_BELOW:  # only records need the rarity explanation: keep normal buckets cheap
                    if median is None:
                        median = _median(stored.values())
                    explanation["by_field_relative_rarity"] = round(median / stored[value], 6)
                # positional (detector, partition, by, over, p, actual, typical, influencers,
                # explanation): this runs for every value present in every bucket
                leaves.append(
                    Leaf(
                        index,
                        part,
                        value,
                        None,
                        p,
                        [1.0],
                        [round(stored[value] / total, 6)] if total > 0 else None,
                        merge_influencers(names, bucket[(part, value)]),
                        explanation,
                    )
                )
        self.bucket = {}
        return leaves

    def prune(self, bucket_ms: int, max_age_buckets: int) -> None:
        """Forget by values idle for more than ``max_age_buckets`` (``pruning``). ``rare`` is
        not pruned by ``model_prune_window`` (ml-cpp: no aggressive pruning for
        ``E_IndividualRare``), only when the job persists, by the decay-derived window."""
        before = cutoff_ms(bucket_ms, max_age_buckets, self.job.bucket_span_s * 1000)
        for part in list(self.models):
            model = self.models[part]
            model.prune(before)
            if not model.stored:
                del self.models[part]

    def entity_count(self) -> int:
        return sum(len(m.stored) for m in self.models.values())

    def to_state(self) -> dict[str, Any]:
        return {
            "partitions": [[k, m.to_state()] for k, m in self.models.items()],
            "bucket": [[p, b, [list(map(list, t)) for t in s]] for (p, b), s in self.bucket.items()],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.models = {k: DecayedDirichlet.from_state(v) for k, v in state["partitions"]}
        self.bucket = {(p, b): {infl_from_state(t) for t in s} for p, b, s in state["bucket"]}
