"""What every detector model shares: per-bucket accumulation and the leaf result it emits.

Per-event work is kept to a dictionary update (the maths runs once per bucket per
entity, when the bucket closes), so the engine is never the bottleneck of ``hunt``.
"""

from __future__ import annotations

from typing import Any

from ctdetect.engine.anomaly import fields
from ctdetect.engine.anomaly.categorical import default_decay_rate
from ctdetect.engine.anomaly.columns import RowRun
from ctdetect.engine.anomaly.config import DetectorSpec, JobSpec
from ctdetect.engine.anomaly.detection_rules import DetectorRules
from ctdetect.engine.anomaly.pruning import default_prune_window
from ctdetect.engine.anomaly.slotted import slots_equal, slots_repr

InflTuple = tuple[tuple[str, ...], ...]  # influencer values of one event, aligned to job.influencers


class Leaf:
    """One scored entity of one detector in one bucket (an Elastic record candidate).

    A plain class with slots rather than a dataclass: every detector makes one per entity
    per bucket, and compiled (``base.pxd``) it is a C struct built without a Python
    ``__init__`` frame. Its constructor, ``repr`` and equality are the dataclass's it replaced.
    """

    __slots__ = ("detector_index", "partition_value", "by_value", "over_value", "probability", "actual", "typical",
                 "influencers", "explanation", "causes", "multi_bucket_impact", "influence")

    def __init__(
        self,
        detector_index: int,
        partition_value: str | None,
        by_value: str | None,
        over_value: str | None,
        probability: float,
        actual: list[float] | None = None,
        typical: list[float] | None = None,
        influencers: dict[str, list[str]] | None = None,
        explanation: dict[str, Any] | None = None,
        causes: list[dict[str, Any]] | None = None,
        multi_bucket_impact: float | None = None,
        influence: dict[tuple[str, str], float] | None = None,
    ) -> None:
        self.detector_index = detector_index
        self.partition_value = partition_value
        self.by_value = by_value
        self.over_value = over_value
        self.probability = probability
        self.actual = actual
        self.typical = typical
        self.influencers = {} if influencers is None else influencers
        self.explanation = {} if explanation is None else explanation
        self.causes = [] if causes is None else causes
        self.multi_bucket_impact = multi_bucket_impact
        # influence of (influencer field, value) on this leaf when below 1 (count family,
        # ml-cpp's influence calculators): the influencer is scored from p ** influence
        self.influence = {} if influence is None else influence

    def __repr__(self) -> str:
        return slots_repr(self)

    def __eq__(self, other: object) -> bool:
        return slots_equal(self, other)


def merge_influencers(names: list[str], tuples: set[InflTuple] | list[InflTuple]) -> dict[str, list[str]]:
    """Union of the influencer values of the events behind one leaf, field by field."""
    if len(tuples) == 1:
        for t in tuples:
            # one value (the usual case) needs no set and no sort. This runs for every leaf
            # of every bucket: an indexed loop (compiled, a C loop over the names, no zip
            # and no pair per field), the fields in the names' order as zip gave them
            one: dict[str, list[str]] = {}
            for i in range(min(len(names), len(t))):
                vals = t[i]
                if vals:
                    one[names[i]] = [vals[0]] if len(vals) == 1 else sorted(set(vals))
            return one
    out: dict[str, list[str]] = {}
    # one column of values per influencer field, unioned in a single call each
    for name, column in zip(names, zip(*tuples)):
        seen: set[str] = set().union(*column)
        if seen:
            out[name] = sorted(seen)
    return out


def infl_from_state(t: list[list[str]]) -> InflTuple:
    """An influencer tuple back from its JSON form (lists of lists)."""
    return tuple(tuple(v) for v in t)


class DetectorModel:
    """Base class: reads the detector's split fields; subclasses model and score."""

    def __init__(self, job: JobSpec, spec: DetectorSpec) -> None:
        self.job = job
        self.spec = spec
        self.influencer_names = list(job.influencers)
        # the detector's custom_rules (``detection_rules.DetectorRules``), None without any:
        # the families that learn weighted samples ask it for each sample's weight
        self.rules: DetectorRules | None = DetectorRules.of(spec)

    # -- helpers for subclasses -------------------------------------------------
    def partition_values(self, event: dict[str, Any]) -> list[str] | None:
        """Partition values of an event: ``[None]`` without a partition field.

        A missing partition value is the empty string (ML-SEMANTICS §4) when
        ``use_null`` is set, else the event is skipped for this detector.
        """
        name = self.spec.partition_field_name
        if name is None:
            return [None]  # type: ignore[list-item]
        vals = fields.values(event, name)
        if vals:
            return vals
        return [""] if self.spec.use_null else None

    def split_values(self, event: dict[str, Any], name: str | None) -> list[str] | None:
        """Values of a by/over field; ``[None]`` when the detector has no such field."""
        if name is None:
            return [None]  # type: ignore[list-item]
        vals = fields.values(event, name)
        if vals:
            return vals
        return [""] if self.spec.use_null else None

    # -- interface --------------------------------------------------------------
    def add(self, event: dict[str, Any], infl: InflTuple, weight: float) -> None:
        """Accumulate one selected event into the open bucket."""
        raise NotImplementedError

    def add_run(self, run: RowRun) -> None:
        """Accumulate a run of selected events of one bucket (weight 1: no summary count),
        as ``add`` of each in turn would; detectors override it with group-bys."""
        add = self.add
        for event, infl in zip(run.events, run.infls):
            add(event, infl, 1.0)

    def close(self, bucket_ms: int) -> list[Leaf]:
        """Update the models with the open bucket, score it, and start the next bucket."""
        raise NotImplementedError

    def prune(self, bucket_ms: int, max_age_buckets: int) -> None:
        """Forget the entities that had no data in the ``max_age_buckets`` buckets before
        ``bucket_ms``, the last bucket closed (``pruning``: when and what Elastic prunes)."""
        raise NotImplementedError

    def persistence_prune_window(self) -> int:
        """ml-cpp's ``defaultPruneWindow`` of this detector's model, in buckets: the window
        every detector is pruned by when the job persists its state."""
        return default_prune_window(default_decay_rate(self.job.bucket_span_s))

    def entity_count(self) -> int:
        """How many entities (values, series) are modelled: for memory figures."""
        raise NotImplementedError

    def to_state(self) -> dict[str, Any]:
        raise NotImplementedError

    def load_state(self, state: dict[str, Any]) -> None:
        raise NotImplementedError
