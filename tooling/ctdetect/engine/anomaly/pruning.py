"""When the models of idle entities are forgotten, as Elastic's engine forgets them.

Without pruning, every by/over/partition value a job ever saw keeps its model for ever, so
a job's memory grows with the number of entities a trail has ever had, not with the number
active. Elastic (elastic/ml-cpp 7a29b4b34, Elasticsearch 8.17) prunes in two ways, in our
words:

1. **After every bucket, by the job's ``model_prune_window``** (``CAnomalyJob::outputResults``
   after the bucket's results are written; ``CAnomalyDetector::pruneModels(buckets)``). The
   window is rounded *up* to whole buckets. A job that does not set the option gets
   Elasticsearch's default when it is created (8.1 and later): the greater of 30 days
   (``AnalysisConfig.DEFAULT_MODEL_PRUNE_WINDOW``) and 20 bucket spans. Only the functions
   for which ``function_t::isAggressivePruningSupported`` (``FunctionTypes.cc``) holds are
   pruned this way: the whole count family (``count``, ``high_count``/``low_count``,
   ``non_zero_count`` and its sides, ``distinct_count`` and its sides), individual and
   population, and ``freq_rare``; **not** ``rare`` (individual or over a population).
2. **When the job persists its state** (``CAnomalyJob::pruneAllModels()`` before a background,
   foreground or final persist): every detector, ``rare`` included, with the model's
   ``defaultPruneWindow`` = min(4 / decay rate, 10^6) buckets (``CAnomalyDetectorModel.cc``
   line 296; ``DEFAULT_PRUNE_WINDOW_SCALE_MAXIMUM`` = 4). Ours persists in ``save_state``.

Either way an entity is pruned when, at the start time ``t`` of the last bucket processed, the
number of whole buckets since the last bucket in which it had data is greater than the
window (``(t − last) / span > window``, ``CIndividualModel::prune``,
``CPopulationModel::peopleAndAttributesToRemove``): with window ``w`` an entity last seen in
bucket ``L`` still gets its result for bucket ``L + w + 1`` and is gone after it. What goes
is the entity's model (an individual series; a population attribute's model and its people
counts; a person of a population, from every attribute's people), its category in the
by-value rarity model, and its last-seen time; a pruned entity that comes back starts afresh.
The normalisers are not touched (ml-cpp's model pruning does not reach
``CHierarchicalResultsNormalizer``). The memory soft limit's pruning is not emulated: the
embedded engine has no model memory limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, Hashable, TypeVar

if TYPE_CHECKING:  # config reads ``check_window``: no import at run time
    from ctdetect.engine.anomaly.config import JobSpec

DEFAULT_MODEL_PRUNE_WINDOW_S = 30 * 86400  # Elasticsearch AnalysisConfig.DEFAULT_MODEL_PRUNE_WINDOW
DEFAULT_MODEL_PRUNE_WINDOW_BUCKETS = 20  # ... or 20 bucket spans, whichever is longer
MINIMUM_MODEL_PRUNE_WINDOW_BUCKETS = 2  # AnalysisConfig.MINIMUM_MODEL_PRUNE_WINDOW_BUCKETS
PRUNE_WINDOW_SCALE_MAXIMUM = 4.0  # ml-cpp CAnomalyDetectorModelConfig::DEFAULT_PRUNE_WINDOW_SCALE_MAXIMUM
MAXIMUM_PERMITTED_AGE = 1_000_000  # ml-cpp CAnomalyDetectorModel::MAXIMUM_PERMITTED_AGE, in buckets

# functions whose models the job's model_prune_window prunes (isAggressivePruningSupported)
NOT_PRUNED_BY_WINDOW = frozenset({"rare"})

K = TypeVar("K", bound=Hashable)


def model_prune_window_s(spec: "JobSpec") -> int:
    """The job's ``model_prune_window`` in seconds: its own, else the default Elasticsearch
    gives a job created without one (the greater of 30 days and 20 bucket spans)."""
    if spec.model_prune_window_s:
        return spec.model_prune_window_s
    return max(DEFAULT_MODEL_PRUNE_WINDOW_S, DEFAULT_MODEL_PRUNE_WINDOW_BUCKETS * spec.bucket_span_s)


def window_buckets(window_s: int, bucket_span_s: int) -> int:
    """A prune window in whole buckets, rounded up as ``CAnomalyJob::outputResults`` does."""
    return (window_s + bucket_span_s - 1) // bucket_span_s


def pruned_by_window(function: str) -> bool:
    """Whether ``model_prune_window`` prunes a detector of this (canonical) function."""
    return function not in NOT_PRUNED_BY_WINDOW


def default_prune_window(decay_rate: float) -> int:
    """ml-cpp's ``defaultPruneWindow`` in buckets: min(4 / decay rate, 10^6), used when the
    job persists its state."""
    if decay_rate == 0.0:
        return MAXIMUM_PERMITTED_AGE
    return min(int(PRUNE_WINDOW_SCALE_MAXIMUM / decay_rate), MAXIMUM_PERMITTED_AGE)


def cutoff_ms(bucket_ms: int, max_age_buckets: int, span_ms: int) -> int:
    """Entities last seen strictly before this time are pruned at bucket ``bucket_ms``:
    ``(bucket − last) / span > max_age`` for bucket-aligned times."""
    return bucket_ms - max_age_buckets * span_ms


def check_window(window_s: int, bucket_span_s: int) -> str | None:
    """Elasticsearch's refusal of a ``model_prune_window`` when the job is put
    (``AnalysisConfig.Builder.verifyModelPruneWindow``), or None when it is accepted."""
    if window_s % bucket_span_s:
        return f"model_prune_window [{window_s}s] must be a multiple of bucket_span [{bucket_span_s}s]"
    if window_s // bucket_span_s < MINIMUM_MODEL_PRUNE_WINDOW_BUCKETS:
        return (f"model_prune_window [{window_s}s] must be at least {MINIMUM_MODEL_PRUNE_WINDOW_BUCKETS} "
                f"times greater than bucket_span [{bucket_span_s}s]")
    return None


class LastSeen(Generic[K]):
    """Entities with the start of the last bucket they had data in, oldest first.

    A touched entity moves to the end, so the entities to prune are always a prefix: finding
    them costs the number pruned, not the number known (the check runs every bucket)."""

    __slots__ = ("times",)

    def __init__(self) -> None:
        self.times: dict[K, int] = {}

    def touch(self, key: K, bucket_ms: int) -> None:
        times = self.times
        if key in times:
            del times[key]
        times[key] = bucket_ms

    def pop_stale(self, before_ms: int) -> list[K]:
        """Remove and return the entities last seen before ``before_ms``."""
        stale: list[K] = []
        for key, t in self.times.items():
            if t >= before_ms:
                break
            stale.append(key)
        for key in stale:
            del self.times[key]
        return stale

    def __len__(self) -> int:
        return len(self.times)

    def to_state(self) -> list[list[object]]:
        return [[key, t] for key, t in self.times.items()]

    @classmethod
    def from_state(cls, rows: list[list[object]], key_of: type = tuple) -> "LastSeen[K]":
        """Rows of ``to_state``; ``key_of`` rebuilds a key from its JSON form (lists)."""
        obj: LastSeen[K] = cls()
        for key, t in rows:
            obj.times[key_of(key) if isinstance(key, list) else key] = int(t)  # type: ignore[arg-type]
        return obj
