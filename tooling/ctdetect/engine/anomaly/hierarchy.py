"""The per-bucket results hierarchy: aggregation of leaf probabilities and what is written.

References: ML-SEMANTICS §6.3 and §6.5; Elastic blog "Machine Learning Anomaly Scoring
and Elasticsearch – How it Works" (record, influencer and bucket levels).

How a set of leaves (records) is aggregated into one node, in our words:

1. Leaves are grouped by detector and partition value (and person, for population
   detectors). A group of several leaves is combined with the *attribute* style for
   individual detectors (half joint, half "m of n extreme" with m ≤ 5) and the *people*
   style ("minimum of n") for population detectors.
2. Several groups of one detector are combined with the people style.
3. The per-detector probabilities are combined with the *detector* style; the node's
   raw score is that combination's and its probability is the inverse of its raw score.

An influencer value's node sees each of its leaves as ``p ** influence`` (the leaf's
``influence`` of that value; 1 unless the count family measured less), as ml-cpp weighs
influencers by their influence.

Written results: a leaf, a partition node or the root is written when its probability,
or its smallest descendant's, is below 0.035; a node is also written when its
probability is within 1.2× of the smallest descendant probability of a written
ancestor or influencer. That second rule is why both tied rare values of the ml-cpp
golden case are written in the bucket where each alone scores p ≈ 0.036: their joint
at the root is well below 0.035.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctdetect.engine.anomaly.config import DetectorSpec
from ctdetect.engine.anomaly.detectors.base import Leaf
from ctdetect.engine.anomaly.scores import (
    ATTRIBUTES,
    DETECTORS,
    MAXIMUM_ANOMALOUS_PROBABILITY,
    NORMAL_RANGE_SCORE_FRACTION,
    PEOPLE,
    aggregate,
    inverse_raw_score,
    raw_score,
)
from ctdetect.engine.anomaly.slotted import slots_equal, slots_repr

OUTPUT_TOLERANCE = 1.2


class Node:
    """An aggregated node: raw score, probability and smallest descendant probability.

    A plain class with slots rather than a dataclass: a bucket makes one per partition and
    per influencer value (hundreds of thousands in a month's replay), and compiled
    (``hierarchy.pxd``) it is a C struct built without a Python ``__init__`` frame. Its
    ``repr`` is the dataclass's it replaced."""

    __slots__ = ("raw", "probability", "smallest", "written", "children")

    def __init__(self, raw: float, probability: float, smallest: float, written: bool = False,
                 children: list[int] | None = None) -> None:
        self.raw = raw
        self.probability = probability
        self.smallest = smallest
        self.written = written
        self.children: list[int] = [] if children is None else children  # indices into the bucket's leaves

    def __repr__(self) -> str:
        return slots_repr(self)

    def __eq__(self, other: object) -> bool:
        return slots_equal(self, other)


class Groups:
    """The aggregation groups of a bucket's leaves, numbered: a group is a detector, a
    partition value and, for a population detector, a person.

    Worked out once per bucket for every node that holds a leaf (the root, its partition,
    each of its influencer values): a node then groups its leaves by a small integer, not by
    hashing a (detector, partition, person) tuple per leaf per node. Groups are numbered in
    order of first appearance, so a node's groups come in the order its first members do,
    as they did keyed by tuple."""

    __slots__ = ("of_leaf", "detector", "population")

    def __init__(self, leaves: list[Leaf], specs: dict[int, DetectorSpec]) -> None:
        population: dict[int, bool] = {}
        numbers: dict[tuple[int, str | None, str | None], int] = {}
        self.of_leaf: list[int] = []  # each leaf's group
        self.detector: list[int] = []  # each group's detector
        self.population: list[bool] = []  # each group's detector is a population one
        for leaf in leaves:
            det = leaf.detector_index
            pop = population.get(det)
            if pop is None:
                pop = population[det] = specs[det].is_population
            key = (det, leaf.partition_value, leaf.over_value if pop else None)
            g = numbers.get(key)
            if g is None:
                g = numbers[key] = len(self.detector)
                self.detector.append(det)
                self.population.append(pop)
            self.of_leaf.append(g)

    def of(self, idx: list[int]) -> "Groups":
        """These groups for the leaves ``idx`` renumbered from 0 (``idx[k]`` is leaf k): for
        a node that aggregates values other than the bucket's leaves' probabilities."""
        out = Groups([], {})
        out.detector = self.detector
        out.population = self.population
        out.of_leaf = [self.of_leaf[i] for i in idx]
        return out


def aggregate_leaves(leaves: list[Leaf], specs: dict[int, DetectorSpec]) -> tuple[float, float]:
    """(raw score, probability) of a node whose descendants are ``leaves``."""
    probs = [lf.probability for lf in leaves]
    return _aggregate_idx(list(range(len(leaves))), probs, Groups(leaves, specs), {})


def _aggregate_idx(idx: list[int], probs: list[float], groups: Groups, group_cache: dict[tuple[int, ...], float]) -> tuple[float, float]:
    """``aggregate_leaves`` of the leaves ``idx`` (their probabilities ``probs`` and
    ``groups``, indexed as the bucket's leaves); ``group_cache`` keeps each group's
    probability for the bucket (the root and a partition node share that partition's
    group, in the same leaf order, so it is aggregated once)."""
    n = len(idx)
    if not n:
        return 0.0, 1.0
    if n == 1:
        p = probs[idx[0]]
        return raw_score(p), p
    of_leaf = groups.of_leaf
    members_of: dict[int, list[int]] = {}
    for i in idx:
        g = of_leaf[i]
        members = members_of.get(g)
        if members is None:
            members_of[g] = [i]
        else:
            members.append(i)
    detector = groups.detector
    per_detector: dict[int, list[float]] = {}
    for g, gidx in members_of.items():
        det = detector[g]
        if len(gidx) == 1:
            p = probs[gidx[0]]
        else:
            gkey = tuple(gidx)
            p = group_cache.get(gkey)  # type: ignore[assignment]
            if p is None:
                style = PEOPLE if groups.population[g] else ATTRIBUTES
                p = group_cache[gkey] = aggregate([probs[i] for i in gidx], style)[1]
        ps = per_detector.get(det)
        if ps is None:
            per_detector[det] = [p]
        else:
            ps.append(p)
    det_ps = [ps[0] if len(ps) == 1 else aggregate(ps, PEOPLE)[1] for ps in per_detector.values()]
    if len(det_ps) == 1:
        # the detector style on one probability scales its score by 0.8 (same as aggregate())
        p = det_ps[0]
        if p > MAXIMUM_ANOMALOUS_PROBABILITY:
            return 0.0, p
        raw = NORMAL_RANGE_SCORE_FRACTION * raw_score(p)
        return raw, inverse_raw_score(raw) if raw > 0.0 else p
    raw, p = aggregate(det_ps, DETECTORS)
    if raw > 0.0:
        p = inverse_raw_score(raw)
    return raw, p


@dataclass(slots=True)
class BucketHierarchy:
    """Everything the writer needs about one bucket's results."""

    root: Node
    partitions: dict[tuple[str, str], Node]
    influencers: dict[tuple[str, str], Node]
    influencer_fields: dict[str, Node]
    leaf_written: list[bool]


def _node(
    idx: list[int],
    probs: list[float],
    raws: list[float],
    groups: Groups,
    cache: dict[tuple[int, ...], tuple[float, float, float]],
    group_cache: dict[tuple[int, ...], float],
) -> Node:
    """A node over the leaves ``idx`` (a single leaf is its own aggregate).

    Nodes over the same leaves (a user's partition and that user's influencer value,
    an IP used for all of a user's calls…) aggregate identically: ``cache`` keeps each
    distinct leaf set's result for the bucket.
    """
    if len(idx) == 1:
        i = idx[0]
        p = probs[i]
        return Node(raws[i], p, p, False, idx)
    key = tuple(idx)
    hit = cache.get(key)
    if hit is None:
        raw, p = _aggregate_idx(idx, probs, groups, group_cache)
        hit = cache[key] = (raw, p, min([probs[i] for i in idx]))
    return Node(hit[0], hit[1], hit[2], False, idx)


def build(leaves: list[Leaf], specs: dict[int, DetectorSpec], raws: list[float] | None = None) -> BucketHierarchy:
    """Aggregate a bucket's leaves into partition, root and influencer nodes and decide what is written.

    ``raws`` are the leaves' raw scores when the caller has them already.
    """
    if raws is None:
        raws = [raw_score(lf.probability) for lf in leaves]
    cut = MAXIMUM_ANOMALOUS_PROBABILITY
    n = len(leaves)
    probs = [lf.probability for lf in leaves]
    groups = Groups(leaves, specs)
    cache: dict[tuple[int, ...], tuple[float, float, float]] = {}
    group_cache: dict[tuple[int, ...], float] = {}
    root = _node(list(range(n)), probs, raws, groups, cache, group_cache)
    root.written = min(root.probability, root.smallest) < cut

    part_members: dict[tuple[str, str], list[int]] = {}
    infl_members: dict[tuple[str, str], list[int]] = {}
    for i, leaf in enumerate(leaves):
        pname = specs[leaf.detector_index].partition_field_name
        if pname is not None and leaf.partition_value is not None:
            part_members.setdefault((pname, leaf.partition_value), []).append(i)
        for name, vals in leaf.influencers.items():
            for v in vals:
                key = (name, v)
                members = infl_members.get(key)
                if members is None:
                    infl_members[key] = [i]
                else:
                    members.append(i)

    partitions: dict[tuple[str, str], Node] = {}
    for key, idx in part_members.items():
        node = _node(idx, probs, raws, groups, cache, group_cache)
        node.written = min(node.probability, node.smallest) < cut or (
            root.written and min(node.probability, node.smallest) <= OUTPUT_TOLERANCE * root.smallest
        )
        partitions[key] = node

    influencers: dict[tuple[str, str], Node] = {}
    by_field: dict[str, list[Node]] = {}
    # the (field, value) pairs some leaf weighs by an influence: the others, most of them,
    # have every power 1 and need no look-up per member leaf
    weighed_keys = {key for leaf in leaves if leaf.influence for key in leaf.influence}
    for key, idx in infl_members.items():
        powers = [leaves[i].influence.get(key, 1.0) for i in idx] if key in weighed_keys else None
        if powers is not None and any([w != 1.0 for w in powers]):  # weighed by influence: each leaf as p ** influence
            weighed = [probs[i] ** w for i, w in zip(idx, powers)]
            raw, p = _aggregate_idx(list(range(len(weighed))), weighed, groups.of(idx), {})
            smallest = min(weighed)
            node = Node(raw, p, smallest, min(p, smallest) < cut, idx)
        elif len(idx) == 1:  # most influencer values (source IPs…) sit on one leaf: no aggregation
            i = idx[0]
            p = probs[i]
            node = Node(raws[i], p, p, p < cut, idx)
        else:
            node = _node(idx, probs, raws, groups, cache, group_cache)
            node.written = min(node.probability, node.smallest) < cut
        influencers[key] = node
        nodes = by_field.get(key[0])
        if nodes is None:
            by_field[key[0]] = [node]
        else:
            nodes.append(node)

    influencer_fields: dict[str, Node] = {}
    for name, nodes in by_field.items():
        if len(nodes) == 1:
            raw, p = nodes[0].raw, nodes[0].probability
        else:
            raw, p = aggregate([nd.probability for nd in nodes], PEOPLE)
            if raw > 0.0:
                p = inverse_raw_score(raw)
        influencer_fields[name] = Node(raw, p, min([nd.smallest for nd in nodes]))

    written: list[bool] = []
    for i, leaf in enumerate(leaves):
        p = probs[i]
        ok = p < cut
        if not ok:
            pname = specs[leaf.detector_index].partition_field_name
            ancestor = partitions.get((pname, leaf.partition_value)) if pname is not None else None  # type: ignore[arg-type]
            if ancestor is None:
                ancestor = root
            ok = ancestor.written and p <= OUTPUT_TOLERANCE * ancestor.smallest
        written.append(ok)
    # a leaf is also written when within tolerance of a written influencer node it belongs
    # to: walk only the written influencer nodes' members (few), not every leaf's values
    for node in influencers.values():
        if node.written:
            limit = OUTPUT_TOLERANCE * node.smallest
            for i in node.children:
                if not written[i] and probs[i] <= limit:
                    written[i] = True
    return BucketHierarchy(root, partitions, influencers, influencer_fields, written)
