"""``rare by X over Y`` and ``freq_rare by X over Y``: population rare analysis.

ML-SEMANTICS §3; Elastic docs "Rare functions" (``rare by status over clientip``:
clients that see one or more distinct rare status codes compared with the population;
``freq_rare by uri over clientip``: clients that hit rare URIs unusually often).
Per partition value, in our words:

- For every attribute X (by value) we keep the set of people Y (over values) that have
  ever used it. It does not decay; it is only pruned (``pruning``): an attribute, or a person
  from every attribute's set, once idle for longer than the window (``freq_rare`` by the
  job's ``model_prune_window``; ``rare`` only when the job persists, as ml-cpp does).
- Each bucket a fresh Dirichlet is built with concentration_X = number of distinct Y
  that ever used X (this bucket's records included), and P(X) is its "less likely
  categories" probability (``categorical``).
- Each Y present in the bucket is scored by joining the P(X) of every attribute it used
  in the bucket with Elastic's weighted chi-square joint. ``rare`` weighs each X by 1, so
  a Y that also used many common X values is diluted; ``freq_rare`` weighs X by
  ``1 − (1 − q)^n``, q being Y's share of its bucket events on X and n the number of
  distinct X it used, so rare values that make up much of Y's activity weigh more.
- One record per Y (``over_field_value``), with ``causes`` listing the attributes whose
  P is at most ``max(1.1 · min P, 0.05)``.
"""

from __future__ import annotations

from typing import Any

from ctdetect.engine.anomaly import stats
from ctdetect.engine.anomaly.categorical import less_likely_probabilities
from ctdetect.engine.anomaly.config import DetectorSpec, JobSpec
from ctdetect.engine.anomaly.detectors.base import DetectorModel, InflTuple, Leaf, infl_from_state, merge_influencers
from ctdetect.engine.anomaly.pruning import LastSeen, cutoff_ms


class _Partition:
    __slots__ = ("people_of", "last_seen", "first_seen", "people_seen")

    def __init__(self) -> None:
        self.people_of: dict[str, set[str]] = {}
        self.last_seen: LastSeen[str] = LastSeen()  # attributes
        self.first_seen: dict[str, int] = {}
        self.people_seen: LastSeen[str] = LastSeen()

    def prune(self, before_ms: int) -> None:
        """Forget the attributes and people last seen before ``before_ms``: an attribute with
        its set of people, a person from every attribute's set (ml-cpp
        ``CEventRatePopulationModel::prune``, ``CPopulationModel::removePeople``)."""
        for x in self.last_seen.pop_stale(before_ms):
            self.people_of.pop(x, None)
            self.first_seen.pop(x, None)
        gone = self.people_seen.pop_stale(before_ms)
        if gone:
            for ys in self.people_of.values():
                ys.difference_update(gone)


class PopulationRare(DetectorModel):
    def __init__(self, job: JobSpec, spec: DetectorSpec) -> None:
        super().__init__(job, spec)
        self.freq = spec.function == "freq_rare"
        self.parts: dict[str | None, _Partition] = {}
        # (partition, person, attribute) -> [event count, influencer tuples]
        self.bucket: dict[tuple[str | None, str, str], list[Any]] = {}

    def add(self, event: dict[str, Any], infl: InflTuple, weight: float) -> None:
        parts = self.partition_values(event)
        if parts is None:
            return
        people = self.split_values(event, self.spec.over_field_name)
        if people is None:
            return
        attrs = self.split_values(event, self.spec.by_field_name)
        if attrs is None:
            return
        bucket = self.bucket
        for p in parts:
            for y in people:
                for x in attrs:
                    acc = bucket.get((p, y, x))
                    if acc is None:
                        bucket[(p, y, x)] = [weight, {infl}]
                    else:
                        acc[0] += weight
                        acc[1].add(infl)

    def close(self, bucket_ms: int) -> list[Leaf]:
        if not self.bucket:
            return []
        grouped: dict[str | None, dict[str, dict[str, list[Any]]]] = {}
        for (p, y, x), acc in self.bucket.items():
            grouped.setdefault(p, {}).setdefault(y, {})[x] = acc
        leaves: list[Leaf] = []
        for part, people in grouped.items():
            model = self.parts.get(part)
            if model is None:
                model = self.parts[part] = _Partition()
            for y, attrs in people.items():
                model.people_seen.touch(y, bucket_ms)
                for x in attrs:
                    model.people_of.setdefault(x, set()).add(y)
                    model.last_seen.touch(x, bucket_ms)
                    model.first_seen.setdefault(x, bucket_ms)
            conc = {x: float(len(ys)) for x, ys in model.people_of.items()}
            wanted = {x for attrs in people.values() for x in attrs}
            probs = less_likely_probabilities(conc, wanted)
            for y, attrs in people.items():
                xs = sorted(attrs)
                ps = [probs.get(x, 1.0) for x in xs]
                if self.freq:
                    total = sum(attrs[x][0] for x in xs)
                    n = len(xs)
                    weights = [1.0 - (1.0 - attrs[x][0] / total) ** n if total > 0 else 1.0 for x in xs]
                    p_y = stats.joint_probability(ps, weights)
                else:
                    p_y = stats.joint_probability(ps)
                limit = max(1.1 * min(ps), 0.05)
                causes = []
                for x, px in sorted(zip(xs, ps), key=lambda t: t[1]):
                    if px <= limit:
                        causes.append(self._cause(part, y, x, px, attrs[x][0]))
                infl_tuples: set[InflTuple] = set()
                for x in xs:
                    infl_tuples |= attrs[x][1]
                leaves.append(
                    Leaf(
                        detector_index=self.spec.index,
                        partition_value=part,
                        by_value=None,
                        over_value=y,
                        probability=p_y,
                        actual=None,
                        typical=None,
                        influencers=merge_influencers(self.influencer_names, infl_tuples),
                        causes=causes,
                        explanation={"by_field_first_occurrence": any(model.first_seen.get(x) == bucket_ms for x in xs)},
                    )
                )
        self.bucket = {}
        return leaves

    def _cause(self, part: str | None, y: str, x: str, p: float, count: float) -> dict[str, Any]:
        spec = self.spec
        cause: dict[str, Any] = {
            "probability": p,
            "function": spec.function,
            "function_description": spec.function,
            "by_field_name": spec.by_field_name,
            "by_field_value": x,
            "over_field_name": spec.over_field_name,
            "over_field_value": y,
            "actual": [count],
            "typical": [],
        }
        if spec.partition_field_name and part is not None:
            cause["partition_field_name"] = spec.partition_field_name
            cause["partition_field_value"] = part
        return cause

    def prune(self, bucket_ms: int, max_age_buckets: int) -> None:
        before = cutoff_ms(bucket_ms, max_age_buckets, self.job.bucket_span_s * 1000)
        for part in list(self.parts):
            model = self.parts[part]
            model.prune(before)
            if not model.people_of:
                del self.parts[part]

    def entity_count(self) -> int:
        return sum(len(m.people_of) + sum(len(s) for s in m.people_of.values()) for m in self.parts.values())

    def to_state(self) -> dict[str, Any]:
        return {
            "partitions": [
                [k, {"people_of": {x: sorted(ys) for x, ys in m.people_of.items()}, "last": m.last_seen.times, "first": m.first_seen,
                     "people_last": m.people_seen.times}]
                for k, m in self.parts.items()
            ],
            "bucket": [[p, y, x, acc[0], [list(map(list, t)) for t in acc[1]]] for (p, y, x), acc in self.bucket.items()],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.parts = {}
        for k, s in state["partitions"]:
            m = _Partition()
            m.people_of = {x: set(ys) for x, ys in s["people_of"].items()}
            # oldest first, as ``LastSeen`` keeps them (states written before pruning kept
            # first-seen order; they have no people's times: people are noted when next seen)
            m.last_seen = LastSeen.from_state(sorted(([x, t] for x, t in s["last"].items()), key=lambda r: r[1]))
            m.people_seen = LastSeen.from_state(sorted(([y, t] for y, t in s.get("people_last", {}).items()), key=lambda r: r[1]))
            m.first_seen = {x: int(t) for x, t in s["first"].items()}
            self.parts[k] = m
        self.bucket = {(p, y, x): [float(c), {infl_from_state(t) for t in ts}] for p, y, x, c, ts in state["bucket"]}
