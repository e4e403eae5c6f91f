"""Optimised per-bucket paths give exactly what the plain paths give.

Each test runs the fast path and a plain reference (the code it replaced) on the same
input and compares for equality, not approximately.
"""

from __future__ import annotations

import random

import pytest

from ctdetect.engine.anomaly import hierarchy
from ctdetect.engine.anomaly.config import parse_job
from ctdetect.engine.anomaly.detectors.base import Leaf
from ctdetect.engine.anomaly.normalizer import Normalizer


def _items(rng: random.Random, n: int) -> list[tuple[float, float, str]]:
    out = []
    for _ in range(n):
        if rng.random() < 0.85:
            out.append((0.0, rng.uniform(0.04, 1.0), f"s{rng.randrange(40)}"))
        else:
            p = 10 ** rng.uniform(-12, -1)
            out.append((rng.uniform(0.0, 20.0), p, f"s{rng.randrange(40)}"))
    return out


@pytest.mark.parametrize("span_s", [300, 900, 3600])
def test_normalizer_update_many_equals_sequential_updates(span_s: int) -> None:
    rng = random.Random(span_s)
    plain, fast = Normalizer(span_s, 0.0005), Normalizer(span_s, 0.0005)
    for _bucket in range(120):
        plain.age()
        fast.age()
        items = _items(rng, rng.randrange(0, 60))
        for raw, p, scope in items:
            plain.update(raw, p, scope)
        fast.update_many(items)
        assert fast.to_state() == plain.to_state()
    for raw, p, scope in _items(rng, 50):
        assert fast.normalize(raw, p, scope) == plain.normalize(raw, p, scope)


def _plain_leaf_written(h: hierarchy.BucketHierarchy, leaves: list[Leaf], specs: dict) -> list[bool]:
    """The per-leaf rule as first written: own p, ancestor, then every influencer value."""
    cut, tol = hierarchy.MAXIMUM_ANOMALOUS_PROBABILITY, hierarchy.OUTPUT_TOLERANCE
    out = []
    for leaf in leaves:
        p = leaf.probability
        ok = p < cut
        if not ok:
            pname = specs[leaf.detector_index].partition_field_name
            anc = h.partitions.get((pname, leaf.partition_value)) if pname is not None else None
            anc = anc or h.root
            ok = anc.written and p <= tol * anc.smallest
            if not ok:
                ok = any(
                    h.influencers[(n, v)].written and p <= tol * h.influencers[(n, v)].smallest
                    for n, vals in leaf.influencers.items()
                    for v in vals
                )
        out.append(ok)
    return out


@pytest.mark.parametrize("seed", range(30))
def test_hierarchy_fast_paths_match_plain_aggregation(seed: int) -> None:
    rng = random.Random(seed)
    spec = parse_job(
        {
            "job_id": "fast",
            "analysis_config": {
                "bucket_span": "15m",
                "detectors": [{"function": "rare", "by_field_name": "a", "partition_field_name": "u"}],
                "influencers": ["u", "ip"],
            },
        },
        None,
    )
    specs = {d.index: d for d in spec.detectors}
    leaves = []
    for i in range(rng.randrange(1, 40)):
        user = f"u{rng.randrange(6)}"
        ips = sorted({f"ip{rng.randrange(30)}" for _ in range(rng.randrange(1, 4))})
        p = rng.choice([10 ** rng.uniform(-6, -1), rng.uniform(0.03, 0.05), rng.uniform(0.05, 1.0)])
        leaves.append(Leaf(0, user, f"a{i}", None, p, influencers={"u": [user], "ip": ips}))
    h = hierarchy.build(leaves, specs)
    assert h.leaf_written == _plain_leaf_written(h, leaves, specs)
    for (name, value), node in h.influencers.items():
        members = [lf for lf in leaves if value in lf.influencers.get(name, [])]
        raw, p = hierarchy.aggregate_leaves(members, specs)
        smallest = min(lf.probability for lf in members)
        assert (node.raw, node.probability, node.smallest) == (raw, p, smallest)
        assert node.written == (min(p, smallest) < hierarchy.MAXIMUM_ANOMALOUS_PROBABILITY)
