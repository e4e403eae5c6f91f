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
    # root and partitions share group aggregates within the bucket: same as fresh ones
    assert (h.root.raw, h.root.probability) == hierarchy.aggregate_leaves(leaves, specs)
    for (_name, value), node in h.partitions.items():
        members = [lf for lf in leaves if lf.partition_value == value]
        assert (node.raw, node.probability) == hierarchy.aggregate_leaves(members, specs)
    for (name, value), node in h.influencers.items():
        members = [lf for lf in leaves if value in lf.influencers.get(name, [])]
        raw, p = hierarchy.aggregate_leaves(members, specs)
        smallest = min(lf.probability for lf in members)
        assert (node.raw, node.probability, node.smallest) == (raw, p, smallest)
        assert node.written == (min(p, smallest) < hierarchy.MAXIMUM_ANOMALOUS_PROBABILITY)


def _plain_aggregate(ps: list[float], style: tuple[float, float, int, int]) -> tuple[float, float]:
    """``scores.aggregate`` without its fast path: the joint is always computed."""
    import math

    from ctdetect.engine.anomaly import stats
    from ctdetect.engine.anomaly.scores import MAXIMUM_ANOMALOUS_PROBABILITY as cut
    from ctdetect.engine.anomaly.scores import SMALLEST_LOG_EXTREME_PROBABILITY, SMALLEST_LOG_JOINT_PROBABILITY, _part_score, inverse_raw_score

    jw, ew, min_m, max_m = style
    if min(ps) >= 1.0:
        return 0.0, 1.0
    lj = stats.log_joint_upper_bound(ps)
    le = stats.log_extreme_probability(ps, min_m, max_m)
    if lj > math.log(cut) and le > math.log(cut):
        return 0.0, math.exp(jw * lj + ew * le)
    raw = _part_score(lj, jw, SMALLEST_LOG_JOINT_PROBABILITY) + _part_score(le, ew, SMALLEST_LOG_EXTREME_PROBABILITY)
    if raw <= 0.0:
        return 0.0, math.exp(jw * lj + ew * le)
    return raw, inverse_raw_score(min(raw / 0.8, 100.0))


@pytest.mark.parametrize("seed", range(200))
def test_people_style_without_joint_equals_plain_aggregate(seed: int) -> None:
    from ctdetect.engine.anomaly.scores import ATTRIBUTES, DETECTORS, PEOPLE, aggregate

    rng = random.Random(seed)
    n = rng.randrange(1, 30)
    kind = seed % 4
    if kind == 0:  # many mildly small p: joint small, extreme not
        ps = [rng.uniform(0.02, 0.3) for _ in range(n)]
    elif kind == 1:  # extreme near the 0.035–0.05 band
        ps = [rng.uniform(0.2, 1.0) for _ in range(n)] + [rng.uniform(0.03, 0.06) / max(n, 1)]
    elif kind == 2:
        ps = [10 ** rng.uniform(-8, 0) for _ in range(n)]
    else:
        ps = [rng.choice([1.0, rng.uniform(0.5, 1.0)]) for _ in range(n)]
    for style in (PEOPLE, ATTRIBUTES, DETECTORS):
        assert aggregate(ps, style) == _plain_aggregate(ps, style)


def test_typical_rounded_at_write_time_equals_rounded_at_leaf_time() -> None:
    """Count leaves keep ``typical`` unrounded; record_doc rounds (rare leaves arrive rounded)."""
    rng = random.Random(5)
    for _ in range(20000):
        x = rng.choice([rng.uniform(0, 2), rng.uniform(0, 1e4), 10 ** rng.uniform(-9, 6)])
        assert round(round(x, 6), 6) == round(x, 6)
    from ctdetect.engine.anomaly import AnomalyJobRunner

    runner = AnomalyJobRunner.from_config(
        {"job_id": "t", "analysis_config": {"bucket_span": "15m", "detectors": [{"function": "high_count", "by_field_name": "user.name"}]}}
    )
    t0 = 1_767_225_600_000
    for b in range(200):
        n = 40 if b == 150 else 1 + b % 3
        for i in range(n):
            runner.feed({"_ts": t0 + b * 900_000 + i, "user.name": "u1"})
    runner.flush()
    recs = [d for d in runner.results() if d["result_type"] == "record"]
    assert recs
    for rec in recs:
        assert rec["typical"] == [round(v, 6) for v in rec["typical"]]


@pytest.mark.parametrize("seed", range(50))
def test_merge_influencers_equals_plain_union(seed: int) -> None:
    from ctdetect.engine.anomaly.detectors.base import merge_influencers

    rng = random.Random(seed)
    names = ["a", "b", "c"][: rng.randrange(1, 4)]
    tuples = {
        tuple(tuple(sorted({f"v{rng.randrange(6)}" for _ in range(rng.randrange(0, 3))})) for _ in names)
        for _ in range(rng.randrange(0, 6))
    }
    plain: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        seen: dict[str, None] = {}
        for t in tuples:
            for v in t[i]:
                seen[v] = None
        if seen:
            plain[name] = sorted(seen)
    assert merge_influencers(names, tuples) == plain
    assert merge_influencers(names, list(tuples)) == plain


@pytest.mark.parametrize("seed", range(10))
def test_batch_less_likely_shared_pairs_equal_one_model_at_a_time(seed: int) -> None:
    """Partitions sharing (concentration, total) pairs are computed once in a batch."""
    from ctdetect.engine.anomaly.categorical import batch_less_likely

    rng = random.Random(seed)
    shapes = [{f"x{j}": float(rng.choice([1, 1, 2, 3, 0.5])) for j in range(rng.randrange(1, 8))} for _ in range(4)]
    requests = []
    for _ in range(40):
        conc = dict(rng.choice(shapes))  # many partitions with identical models
        if rng.random() < 0.3:
            conc[f"y{rng.randrange(3)}"] = rng.uniform(0.1, 50.0)
        keys = rng.sample(sorted(conc), rng.randrange(1, len(conc) + 1))
        requests.append((conc, keys))
    together = batch_less_likely(requests)
    alone = [batch_less_likely([r])[0] for r in requests]
    assert together == alone


def _vectorised_strata(pairs: list[tuple[float, float]], n: int) -> list[list[float]]:
    """The stratum means as ``batch_less_likely`` computed them before ``_strata``: scipy's
    ufuncs over every pair's quantiles at once."""
    import numpy as np
    import scipy.special as special

    a_arr = np.fromiter((a for a, _ in pairs), dtype=float, count=len(pairs))
    t_arr = np.fromiter((t for _, t in pairs), dtype=float, count=len(pairs))
    mean = a_arr / t_arr
    if n == 1:
        return mean[:, None].tolist()  # type: ignore[no-any-return]
    b_arr = t_arr - a_arr
    qs = np.arange(1, n) / n
    xk = special.betaincinv(a_arr[:, None], b_arr[:, None], qs[None, :])
    f = special.betainc(a_arr[:, None] + 1.0, b_arr[:, None], xk)
    f = np.concatenate([np.zeros((len(pairs), 1)), f, np.ones((len(pairs), 1))], axis=1)
    return (mean[:, None] * n * np.diff(f, axis=1)).tolist()  # type: ignore[no-any-return]


@pytest.mark.parametrize("seed", range(4))
def test_strata_one_pair_at_a_time_equal_the_vectorised_ufuncs(seed: int) -> None:
    """``categorical._strata`` (scipy's C functions called one value at a time when
    compiled, the ufuncs on scalars otherwise) gives bit for bit the vectorised form's
    means, for every strata count and for concentrations from tiny to far past the total's
    thresholds (``repr``: exact, and tells -0.0 from 0.0)."""
    from ctdetect.engine.anomaly import categorical, stats

    rng = random.Random(seed)
    special = stats.scalar_special()
    for n in (7, 5, 3, 1):
        pairs = []
        for _ in range(300):
            total = 10 ** rng.uniform(-1.0, 5.0)
            a = total * rng.choice([rng.random(), 1.0 / rng.randint(1, 5000), 1.0 - 1e-9 * rng.random()])
            pairs.append((a, total))
        want = _vectorised_strata(pairs, n)
        got = [categorical._strata(a, total, n, special) for a, total in pairs]
        assert repr(got) == repr(want)


def _digest_nodes(digest: object) -> list[tuple[int, int, int, int]]:
    return [(nd.lo, nd.hi, nd.count, nd.subtree) for nd in digest.root.pre_order()]  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", range(12))
def test_qdigest_known_leaf_path_equals_walk_from_root(seed: int) -> None:
    """Adding to a value whose leaf is held (the parent-chain walk) builds the same digest,
    node for node with their subtree counts, as always walking down from the root."""
    from ctdetect.engine.anomaly.qdigest import QDigest

    class PlainDigest(QDigest):
        def add(self, value: int, count: int = 1) -> None:
            self._leaves.clear()  # never a known leaf: every add walks down from the root
            super().add(value, count)

    rng = random.Random(seed)
    fast, plain = QDigest(k=rng.choice([5, 21, 201]), decay_rate=0.01), None
    plain = PlainDigest(k=fast.k, decay_rate=0.01)
    hits = 0
    for step in range(3000):
        value = int(rng.paretovariate(1.1)) - 1 if rng.random() < 0.9 else rng.randrange(5000)
        count = 1 if rng.random() < 0.9 else rng.randrange(1, 4)
        hits += value in fast._leaves
        fast.add(value, count)
        plain.add(value, count)
        if step % 400 == 399:
            fast.propagate_forwards_by_time(1.0)
            plain.propagate_forwards_by_time(1.0)
        if step % 97 == 0:
            assert _digest_nodes(fast) == _digest_nodes(plain)
    assert fast.n == plain.n
    assert _digest_nodes(fast) == _digest_nodes(plain)
    assert hits > 1000  # most adds find their value's leaf recorded (about 2,600 of 3,000)


def _plain_log_extreme(ps: list[float], min_m: int, max_m: int) -> float:
    """``stats.log_extreme_probability`` as it was: every m sorts the values again."""
    import math

    from ctdetect.engine.anomaly import stats

    n = min(len(ps), max_m)
    if n == 0:
        return 0.0
    best = 0.0
    for m in range(max(1, min(min_m, n)), n + 1):
        best = min(best, stats.log_m_from_n_extreme(ps, m) / (1.0 + math.log(min(m, len(ps))) / 2.1))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_log_extreme_sorted_once_equals_per_m(seed: int) -> None:
    from ctdetect.engine.anomaly import stats

    rng = random.Random(seed)
    ps = [10 ** rng.uniform(-320, 0) if rng.random() < 0.3 else rng.uniform(0.0, 1.2) for _ in range(rng.randrange(1, 40))]
    for min_m, max_m in ((1, 1), (1, 5), (2, 5), (3, 3)):
        assert stats.log_extreme_probability(ps, min_m, max_m) == _plain_log_extreme(ps, min_m, max_m)


@pytest.mark.parametrize("span_s", [900, 3600])
def test_normalizer_bulk_samples_equal_one_at_a_time(span_s: int) -> None:
    """Long runs of equal scores (a bucket of normal entities) crossing every digest
    boundary (the high digest's start, each multiple of k, ageing) update the digests in
    bulk exactly as one sample at a time (``update_score`` per item)."""
    rng = random.Random(span_s + 1)
    plain, fast = Normalizer(span_s, 0.01), Normalizer(span_s, 0.01)
    bulked: list[int] = []
    bulk_count = fast._bulk_count
    fast._bulk_count = lambda d, most: bulked.append(bulk_count(d, most)) or bulked[-1]  # type: ignore[method-assign]
    for _bucket in range(60):
        plain.age()
        fast.age()
        items = []
        for _ in range(rng.randrange(0, 700)):
            if rng.random() < 0.9:
                items.append((0.0, 0.5, f"s{rng.randrange(300)}"))
            else:
                items.append((rng.choice([0.3, 2.0, rng.uniform(0.0, 60.0)]), 1e-4, f"s{rng.randrange(300)}"))
        for raw, p, scope in items:
            plain.update_score(raw if p <= 0.035 else 0.0, scope)
        fast.update_many(items)
        assert fast.to_state() == plain.to_state()
    assert plain.digest.n > 5 * plain.digest.k  # the digest compressed and started its high digest
    assert sum(bulked) > 5000 and 0 in bulked  # most samples went in bulk; some could not
    for raw in (0.0, 0.3, 2.0, 17.5, 60.0):
        assert fast.normalize(raw, 1e-4, "s1") == plain.normalize(raw, 1e-4, "s1")
