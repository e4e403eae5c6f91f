"""The compiled anomaly modules give exactly what their pure-Python source gives.

``setup.py`` compiles the modules in ``accelerated.ACCELERATED`` with Cython from their own
``.py`` files, typed by the ``.pxd`` beside each; C doubles are IEEE doubles as Python's
floats are, so every probability and every saved state must be equal bit for bit. This
test runs the same generated series (gamma, log-normal, bursty, zero-heavy, seasonal and
trending counts, and non-integer values), bucket hierarchies, every function of ``stats``
on edge values, ``categorical``'s rare models fed random category streams and normalisers
(with their q-digests) fed random bucket scores through the compiled modules in this process and through the ``.py`` sources in a child process
(``CTDETECT_PURE_PYTHON=1``: the package's meta-path finder loads the ``.py`` of each
accelerated module instead of its extension), and compares ``repr`` of every result and of every saved state: ``repr`` of a float is exact, and tells ``-0.0`` from
``0.0`` and ``1`` from ``1.0``. It also checks that the compiled objects survive ``pickle``
and ``copy.deepcopy`` and state round trips.

It skips when the extensions are not built (a pure-Python install), and fails instead in
CI, where the build makes them.

    python tests/anomaly/test_compiled_agrees.py --pure   # the child: prints the results as JSON
"""

from __future__ import annotations

import copy
import json
import math
import os
import pickle
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

SPAN_S = 900
T0_MS = 1_767_225_600_000
TOOLING = Path(__file__).resolve().parents[2] / "tooling"


def _values(kind: str, rng: random.Random, n: int) -> list[float]:
    """``n`` bucket values of one kind of series."""
    out: list[float] = []
    for b in range(n):
        hour = (b * SPAN_S // 3600) % 24
        if kind == "gamma":
            v: float = float(round(rng.gammavariate(2.0, 3.0)))
        elif kind == "lognormal":
            v = float(round(rng.lognormvariate(1.5, 0.8)))
        elif kind == "bursty":
            v = float(rng.randint(0, 2) + (rng.randint(40, 400) if rng.random() < 0.02 else 0))
        elif kind == "zero_heavy":
            v = float(rng.randint(1, 30)) if rng.random() < 0.08 else 0.0
        elif kind == "seasonal":
            v = float(max(0, round(20 + 15 * math.sin(2 * math.pi * hour / 24) + rng.gauss(0, 3))))
        elif kind == "trending":
            v = float(max(0, round(5 + b * 0.01 + rng.gauss(0, 2))))
        else:  # real-valued (a mean or a sum), integer=False
            v = rng.gauss(100.0, 10.0) * (3.0 if rng.random() < 0.01 else 1.0)
        out.append(v)
    return out


KINDS = ("gamma", "lognormal", "bursty", "zero_heavy", "seasonal", "trending", "real")


def run_series(buckets: int = 3500) -> dict[str, list[str]]:
    """Every step's result and the final saved state of one series per kind, as ``repr``."""
    from ctdetect.engine.anomaly.timeseries import CountSeries, trend_decay_rate

    out: dict[str, list[str]] = {}
    decay = 0.05 / (86400 / SPAN_S)
    trend_rate = trend_decay_rate(SPAN_S, decay)
    for seed, kind in enumerate(KINDS):
        rng = random.Random(1000 + seed)
        side = ("two", "high", "low")[seed % 3]
        series = CountSeries(T0_MS, integer=kind != "real")
        rows = []
        for b, x in enumerate(_values(kind, rng, buckets)):
            if kind == "zero_heavy" and x == 0.0 and rng.random() < 0.5:
                continue  # a bucket the series is absent from
            result = series.step(x, T0_MS + b * SPAN_S * 1000, b, 1.0, SPAN_S, decay, trend_rate, side)
            rows.append(repr(tuple(result)))
        rows.append(repr(series.to_state()))
        rows.append(repr(series.confidence_interval(T0_MS + buckets * SPAN_S * 1000, 95.0)))
        out[kind] = rows
    return out


def _probability(rng: random.Random) -> float:
    """A leaf probability: mostly unremarkable, some small, a few far below the smallest
    normal double (where the scores extend past the raw score map)."""
    u = rng.random()
    if u < 0.5:
        return rng.uniform(0.05, 1.0)
    if u < 0.8:
        return 10.0 ** rng.uniform(-6.0, math.log10(0.05))
    if u < 0.97:
        return 10.0 ** rng.uniform(-300.0, -6.0)
    return rng.choice([1.0, 5e-324, 1e-310, 0.035, 0.05, 1e-4, 1e-50])


def run_hierarchy(buckets: int = 400) -> dict[str, list[str]]:
    """Raw scores, aggregates of every style and whole bucket hierarchies (partitions,
    influencers weighed by influence, population detectors) of random leaves, as ``repr``."""
    from ctdetect.engine.anomaly import hierarchy, scores
    from ctdetect.engine.anomaly.config import DetectorSpec
    from ctdetect.engine.anomaly.detectors.base import Leaf

    rng = random.Random(77)
    specs = {
        0: DetectorSpec(0, "count", None, "user", None, None, False, None, "count by user"),
        1: DetectorSpec(1, "rare", None, "action", "user", None, False, None, "rare action over user"),
        2: DetectorSpec(2, "high_count", None, None, None, "region", False, None, "count partition region"),
    }
    rows: list[str] = []
    for _ in range(2000):
        p = _probability(rng)
        rows.append(repr((scores.raw_score(p), scores.inverse_raw_score(rng.uniform(-1.0, 101.0)), scores.absolute_cap(p))))
    for _ in range(buckets):
        n = rng.choice([1, 2, 3, 5, 8, 20, 60])
        ps = [_probability(rng) for _ in range(n)]
        rows.append(repr([scores.aggregate(ps, style) for style in (scores.PEOPLE, scores.ATTRIBUTES, scores.DETECTORS)]))
        leaves = []
        for p in ps:
            det = rng.randrange(3)
            user, ip = f"u{rng.randrange(6)}", f"ip{rng.randrange(4)}"
            influence = {("source.ip", ip): rng.choice([0.3, 0.7])} if rng.random() < 0.2 else {}
            leaves.append(Leaf(det, f"r{rng.randrange(3)}" if det == 2 else None, user, user if det == 1 else None, p,
                               influencers={"user.name": [user], "source.ip": [ip]}, influence=influence))
        rows.append(repr(hierarchy.build(leaves, specs)))
    return {"hierarchy": rows}


def _outcome(fn: Any, *args: Any, **kwargs: Any) -> str:
    """``repr`` of ``fn(*args, **kwargs)``, or the name of the exception it raised."""
    try:
        return repr(fn(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001 - both paths must raise alike too
        return f"raises {type(exc).__name__}"


EDGE_PROBABILITIES = (0.0, 5e-324, 1e-320, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-200, 1e-100, 1e-30,
                      1e-12, 1e-6, 0.001, 0.01, 0.035, 0.05, 0.5, 0.999999, 1.0 - 1e-16, 1.0, 1.0 + 1e-12, 1.2)


def _edge_or_random(rng: random.Random) -> float:
    return rng.choice(EDGE_PROBABILITIES) if rng.random() < 0.3 else _probability(rng)


def run_stats(cases: int = 1500) -> dict[str, list[str]]:
    """Every public function of ``stats`` (and the helpers the compiled module types), and
    ``scores``' raw score map and aggregation styles, over generated arguments with edge
    values: tiny, subnormal, zero, one and above-one probabilities, ties, weights and
    correlations, every m of m-from-n, as ``repr``."""
    from ctdetect.engine.anomaly import scores, stats

    rng = random.Random(2026)
    rows: list[str] = []
    for case in range(cases):
        n = rng.choice([1, 1, 2, 2, 3, 4, 5, 7, 10, 16, 30])
        ps = [_edge_or_random(rng) for _ in range(n)]
        if n > 1 and rng.random() < 0.3:  # ties
            ps = [rng.choice(ps[: max(1, n // 2)]) for _ in range(n)]
        if rng.random() < 0.05:
            ps = [1.0] * n if rng.random() < 0.5 else [0.0] * n
        weights = None if rng.random() < 0.4 else [rng.choice([0.0, 0.3, 0.5, 1.0, 1.0, 2.5]) for _ in ps]
        rho = rng.choice([0.0, 0.0, 0.1, 0.5, 0.9])
        p = ps[0]
        x, y = rng.random(), 10.0 ** rng.uniform(-3.0, 1.0)
        a, b = 10.0 ** rng.uniform(-2.0, 4.0), 10.0 ** rng.uniform(-2.0, 4.0)
        row = [
            _outcome(stats.normal_z, p),
            _outcome(stats._pow_one_minus, p, y),
            _outcome(stats._one_minus_pow_one_minus, p, y),
            _outcome(stats.joint_probability, ps),
            _outcome(stats.joint_probability, ps, weights),
            _outcome(stats.joint_probability, ps, weights, rho),
            _outcome(stats.log_joint_upper_bound, ps),
            _outcome(stats._ascending_clamped, ps),
            _outcome(stats.log_extreme_probability, ps, 1, rng.choice([1, 3, 5])),
            _outcome(stats.log_extreme_probability, ps, rng.choice([2, 3]), rng.choice([3, 5, 6])),
        ]
        # the raw score map both ways and the three aggregation styles (C's libm compiled)
        score = rng.choice([0.0, 0.5, 1.0, 3.0, 49.9, 50.0, 75.0, 100.0, 120.0, rng.uniform(0.0, 100.0)])
        row += [
            _outcome(scores.raw_score, p),
            _outcome(scores.inverse_raw_score, score),
            _outcome(scores._part_score, math.log(max(p, 5e-324)) * rng.choice([1.0, 3.0, 300.0]), 0.5, -1500.0),
            _outcome(scores.aggregate, ps, scores.PEOPLE),
            _outcome(scores.aggregate, ps, scores.ATTRIBUTES),
            _outcome(scores.aggregate, ps, scores.DETECTORS),
        ]
        # every m up to 6, and one past n (the numerical fallback costs 3^m evaluations:
        # the engine asks for m <= 5, scores.ATTRIBUTES)
        for m in range(1, min(n, 6) + 2):
            row.append(_outcome(stats.log_m_from_n_extreme, ps, m))
        smallest = tuple(stats._ascending_clamped(ps)[: rng.randint(1, min(n, 6))])
        row.append(_outcome(stats._log_m_from_n, smallest, n + rng.choice([0, 0, 1, 10, 1000])))
        if case % 10 == 0:  # the numerical fallback, and scipy's functions
            row.append(_outcome(stats._log_m_from_n_numerical, list(smallest), n + 2))
            row.append(_outcome(stats.beta_ppf, x, a, b))
            row.append(_outcome(stats.beta_cdf, x, a, b))
            row.append(_outcome(stats.beta_cdf_at_quantiles, a, b, rng.choice([2, 3, 5, 7])))
        rows.append(" | ".join(row))
    # integers and other Python objects where the sources take them
    for args in (([1],), ([1, 1],), ([0, 1, 0.5],), ([0.5], [2]), ([0.5, 0.1], [1, 1], 0), ((0.2, 0.3),), ([],)):
        rows.append(_outcome(stats.joint_probability, *args))
    for ps in ([1], [0, 1], [], (0.5, 0.5), [1e-400, 1e-320]):
        rows.append(" | ".join([_outcome(stats.log_joint_upper_bound, ps), _outcome(stats.log_extreme_probability, ps, 1, 5),
                                _outcome(stats.log_m_from_n_extreme, ps, 2), _outcome(stats._ascending_clamped, ps)]))
    rows.append(" | ".join(_outcome(stats.normal_z, v) for v in (0, 1, 2, -1.0, float("nan"), float("inf"))))
    return {"stats": rows}


def _category_stream(rng: random.Random, buckets: int) -> list[list[str]]:
    """The categories present in each bucket: a few common values, a long tail, bursts."""
    common = [f"c{i}" for i in range(rng.randint(1, 6))]
    tail = rng.randint(0, 60)
    out: list[list[str]] = []
    for _ in range(buckets):
        present = [c for c in common if rng.random() < rng.choice([0.3, 0.9, 1.0])]
        present += [f"t{rng.randrange(tail)}" for _ in range(rng.choice([0, 0, 1, 2, 5]))] if tail else []
        if rng.random() < 0.03:
            present.append(f"new{rng.randrange(10_000)}")
        out.append(present)
    return out


def run_categorical(models: int = 600) -> dict[str, list[str]]:
    """Decayed Dirichlet (``rare``) models fed random category streams: every probability
    (one model, small and numpy paths, the batch of all models, missing categories), the
    strata and tables, relative rarity and the saved state, as ``repr``."""
    from ctdetect.engine.anomaly import categorical as cat

    rng = random.Random(4242)
    rows: list[str] = []
    batch: list[tuple[dict[str, float], list[str]]] = []
    for index in range(models):
        span = rng.choice([60, 300, 900, 3600, 86400])
        decay = rng.choice([cat.decay_factor(span), 1.0, 0.5, 1e-3])
        model = cat.DecayedDirichlet()
        t0 = T0_MS + index * 1000
        for b, present in enumerate(_category_stream(rng, rng.randint(1, 40))):
            bucket_ms = t0 + b * span * 1000
            if rng.random() < 0.05:
                model.prune(bucket_ms - rng.randint(1, 10) * span * 1000)
            model.observe(present, bucket_ms, decay)
            wanted = list(dict.fromkeys(present)) or list(model.stored)[:3]
            if rng.random() < 0.1:
                wanted.append("never-seen")
            rows.append(_outcome(model.probabilities, wanted))
        conc = model.conc
        keys = list(conc)
        rows.append(" | ".join([
            repr(model.to_state()),
            repr(conc),
            _outcome(cat.less_likely_probabilities, conc),
            _outcome(cat.less_likely_probabilities, conc, keys[: rng.randint(0, len(keys))] + ["missing"]),
            _outcome(cat.cumulative_less_likely, conc),
            *(_outcome(model.relative_rarity, k) for k in keys[:5] + ["missing"]),
            repr(cat.DecayedDirichlet.from_state(json.loads(json.dumps(model.to_state()))).to_state()),
        ]))
        positive = {k: v for k, v in conc.items() if v > 0.0}
        if positive:
            vals = list(positive.values())
            total = sum(vals)
            a = rng.choice(vals)
            rows.append(" | ".join([
                _outcome(cat._table, vals),
                _outcome(cat._less_likely_small, positive, keys),
                _outcome(cat.strata_count, total),
                *(_outcome(cat.stratum_means, a, total - a, n) for n in (1, 3, 5, 7)),
                _outcome(cat._interpolated_mean, *cat._table(vals)[:2], cat.stratum_means(a, total - a, cat.strata_count(total))),
            ]))
        batch.append((conc, rng.sample(keys, rng.randint(0, len(keys))) + (["missing"] if rng.random() < 0.05 else [])))
        if len(batch) == 25:
            rows.append(_outcome(cat.batch_less_likely, batch))
            batch = []
    rows.append(_outcome(cat.batch_less_likely, batch))
    # integer and edge concentrations where the sources take them
    for conc in ({"a": 1, "b": 2}, {"a": 3.0}, {"a": 2.0, "b": 2.0}, {"a": 0.0, "b": 1.0}, {}, {"a": 1e-300, "b": 1e300},
                 {f"v{i}": float(i % 4 + 1) for i in range(30)}, {"a": 150.0, "b": 5000.0, "c": 1e5}):
        rows.append(" | ".join([_outcome(cat.less_likely_probabilities, conc), _outcome(cat.cumulative_less_likely, conc),
                                _outcome(cat.batch_less_likely, [(conc, list(conc))])]))
    rows.append(" | ".join(_outcome(cat.strata_count, t) for t in (0, 100, 100.5, 1000, 1e4, 1e4 + 1, float("nan"))))
    rows.append(" | ".join(_outcome(f, s) for f in (cat.decay_factor, cat.default_decay_rate) for s in (60, 900, 1800, 86400)))
    return {"categorical": rows}


def run_normalizer(buckets: int = 700) -> dict[str, list[str]]:
    """Normalisers (and their q-digests) fed random bucket scores one update at a time and
    in batches, ageing every bucket: each bucket's normalised scores (with and without
    the scope maximum), and the saved state now and then, as ``repr``."""
    from ctdetect.engine.anomaly.normalizer import Normalizer

    rows = []
    for seed, span_s in enumerate((300, 900, 3600)):
        rng = random.Random(3000 + seed)
        norm = Normalizer(span_s, 0.0005 * min(1.0, span_s / 1800.0))
        for b in range(buckets):
            norm.age()
            items = []
            for _ in range(rng.randrange(0, 80)):
                scope = f"s{rng.randrange(60)}"
                if rng.random() < 0.85:
                    items.append((0.0, rng.uniform(0.04, 1.0), scope))
                else:
                    items.append((rng.uniform(0.0, 60.0), 10 ** rng.uniform(-40, -1), scope))
            if b % 3:
                norm.update_many(items)
            else:
                for raw, p, scope in items:
                    norm.update(raw, p, scope)
            rows.append(" | ".join(
                f"{norm.normalize(raw, p, scope)!r} {norm.normalize(raw, p, scope, use_max=False)!r}" for raw, p, scope in items[:8]
            ))
            if b % 50 == 49:
                rows.append(repr(norm.to_state()))
    return {"normalizer": rows}


def run_seasonality(windows: int = 60) -> dict[str, list[str]]:
    """The count family's weekly window test (``seasonality.find_seasonality``, its typed
    group sums and leave-one-out errors) on generated two-week windows of hours: noise,
    daily and trading-day shapes, bursts, gaps, constant and all-zero windows; and
    ``_loo`` on edge inputs: -0.0 values, zero weights, a group of one, a group whose other
    weights are zero (both paths must raise alike), as ``repr``."""
    from ctdetect.engine.anomaly import seasonality

    hour_ms = 3600 * 1000
    rng = random.Random(2027)
    rows: list[str] = []
    for case in range(windows):
        kind = case % 6
        points = []
        for k in range(T0_MS // hour_ms, T0_MS // hour_ms + 336):
            hour, weekend = k % 24, (k // 24) % 7 in seasonality.WEEKEND_DAYS
            if kind == 0:
                v = rng.gauss(0.0, 1.0)
            elif kind == 1:
                v = (10.0 if 8 <= hour < 18 else 0.0) + rng.gauss(0.0, 1.0)
            elif kind == 2:
                v = (10.0 if 8 <= hour < 18 else 0.0) * (0.1 if weekend else 1.0) + rng.gauss(0.0, 0.5)
            elif kind == 3:
                v = float(rng.randint(0, 3) + (rng.randint(50, 500) if rng.random() < 0.02 else 0))
            elif kind == 4:
                v = 0.0 if rng.random() < 0.5 else -0.0
            else:
                v = 3.0
            if kind != 5 and rng.random() < 0.1:
                continue  # a gap in the window
            points.append((k, v))
        rows.append(_outcome(seasonality.find_seasonality, points, hour_ms, 336))
        rows.append(_outcome(seasonality.daily_amplitude_p_value, points, hour_ms))
    for case in range(400):
        n = rng.randint(1, 12)
        size = rng.randint(1, 4)
        values = [rng.choice([0.0, -0.0, 1.5, -2.0, rng.gauss(0.0, 3.0)]) for _ in range(n)]
        keys = [rng.randrange(size) for _ in range(n)]
        weights = [rng.choice([0.0, 0.0, 0.5, 1.0, 1.0, rng.random()]) for _ in range(n)]
        rows.append(f"{_outcome(seasonality._loo, values, keys, weights, size)} "
                    f"{_outcome(seasonality._slot_sums, values, keys, weights, size)}")
    return {"seasonality": rows}


def _results() -> dict[str, list[str]]:
    """Everything compared, by name."""
    return {**run_series(), **run_hierarchy(), **run_stats(), **run_categorical(), **run_normalizer(),
            **run_seasonality()}


def _pure_results() -> dict[str, list[str]]:
    from ctdetect.engine.anomaly.accelerated import PURE_PYTHON_ENV

    env = {**os.environ, PURE_PYTHON_ENV: "1"}
    done = subprocess.run([sys.executable, __file__, "--pure"], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _compiled_or_skip() -> list[str]:
    import pytest

    from ctdetect.engine.anomaly.accelerated import ACCELERATED, SPECIAL, compiled_modules

    compiled = compiled_modules()
    if compiled != [*ACCELERATED, SPECIAL]:
        missing = sorted({*ACCELERATED, SPECIAL} - set(compiled))
        why = f"the compiled anomaly modules are not built ({', '.join(missing)} run as pure Python; `pip install -e .` builds them)"
        if os.environ.get("CI"):
            pytest.fail(f"{why}: CI builds them, so the comparison must run")
        pytest.skip(why)
    return compiled


def test_compiled_modules_are_built_from_the_current_source() -> None:
    _compiled_or_skip()
    from ctdetect.engine.anomaly.accelerated import stale_modules

    stale = stale_modules()
    assert stale == [], f"compiled {stale} older than their .py/.pxd: rebuild (pip install -e . or python setup.py build_ext --inplace)"


def test_compiled_and_pure_python_give_identical_results_and_states() -> None:
    _compiled_or_skip()
    compiled = _results()
    pure = _pure_results()
    assert pure.keys() == compiled.keys()
    for kind in compiled:
        assert len(pure[kind]) == len(compiled[kind]), kind
        for i, (a, b) in enumerate(zip(compiled[kind], pure[kind])):
            assert a == b, f"{kind}: step {i} differs\ncompiled: {a}\npure:     {b}"


def test_compiled_series_pickle_deepcopy_and_state_round_trip() -> None:
    _compiled_or_skip()
    from ctdetect.engine.anomaly.timeseries import CountSeries

    decay = 0.05 / (86400 / SPAN_S)

    def steps(series: CountSeries, first: int, values: list[float]) -> list[str]:
        return [repr(tuple(series.step(x, T0_MS + b * SPAN_S * 1000, b, 1.0, SPAN_S, decay, 0.024, "two")))
                for b, x in enumerate(values, start=first)]

    rng = random.Random(5)
    series = CountSeries(T0_MS)
    steps(series, 0, _values("bursty", rng, 800))
    state = repr(series.to_state())
    twins = {
        "pickle": pickle.loads(pickle.dumps(series)),
        "deepcopy": copy.deepcopy(series),
        "saved state": CountSeries.from_state(json.loads(json.dumps(series.to_state())), SPAN_S),
    }
    more = _values("bursty", rng, 300)
    expected = steps(series, 800, more)
    for how, twin in twins.items():
        assert repr(twin.to_state()) == state, how
        assert steps(twin, 800, more) == expected, how


def test_compiled_dirichlet_pickle_deepcopy_and_state_round_trip() -> None:
    """``categorical.DecayedDirichlet`` compiled is a cdef class: it survives ``pickle``,
    ``copy.deepcopy`` and its saved state, and goes on learning as the original does."""
    _compiled_or_skip()
    from ctdetect.engine.anomaly.categorical import DecayedDirichlet, decay_factor

    rng = random.Random(9)
    decay = decay_factor(SPAN_S)
    model = DecayedDirichlet()
    for b, present in enumerate(_category_stream(rng, 300)):
        model.observe(present, T0_MS + b * SPAN_S * 1000, decay)
    twins = {
        "pickle": pickle.loads(pickle.dumps(model)),
        "deepcopy": copy.deepcopy(model),
        "saved state": DecayedDirichlet.from_state(json.loads(json.dumps(model.to_state()))),
    }
    more = _category_stream(rng, 100)

    def learn(m: DecayedDirichlet) -> list[str]:
        out = []
        for b, present in enumerate(more, start=300):
            m.observe(present, T0_MS + b * SPAN_S * 1000, decay)
            out.append(repr(m.probabilities(present)))
        return out + [repr(m.to_state())]

    state = repr(model.to_state())
    expected = learn(model)
    for how, twin in twins.items():
        assert repr(twin.to_state()) == state, how
        assert learn(twin) == expected, how


def test_compiled_special_functions_equal_scipy_ufuncs_bit_for_bit() -> None:
    """``_cspecial`` calls the C functions the ufuncs run: equal on a large random sample
    over the ranges the priors, the trend test, the rare models' strata and the seasonal
    variance scale use and far beyond (degrees of freedom up to 1e9, shapes from 1e-3 to
    1e6, tails)."""
    _compiled_or_skip()
    import numpy as np
    import scipy.special as ufuncs

    from ctdetect.engine.anomaly import _cspecial  # type: ignore[attr-defined]

    rng = np.random.default_rng(11)
    n = 100_000
    df = np.exp(rng.uniform(np.log(2.0), np.log(1e9), n))
    t = np.concatenate([rng.normal(0.0, 3.0, n // 2), rng.standard_cauchy(n - n // 2) * 10.0])
    q = rng.uniform(0.0, 1.0, n)
    a, b = np.exp(rng.uniform(np.log(1e-3), np.log(1e6), (2, n)))
    x = np.concatenate([rng.uniform(0.0, 1.0, n // 2), np.exp(rng.uniform(-40.0, 0.0, n - n // 2))])
    # the trend test's F c.d.f.: degrees of freedom from a few weighted samples up, ratios about 1
    dfn, dfd = np.exp(rng.uniform(np.log(0.5), np.log(1e5), (2, n)))
    ratio = np.exp(rng.uniform(-20.0, 20.0, n))
    # the joint probability's chi-square survival: half degrees of freedom from 1/2, half statistics from 0
    half_df = rng.integers(1, 200, n) / 2.0
    half_stat = np.concatenate([rng.exponential(2.0, n // 2), np.exp(rng.uniform(-30.0, 8.0, n - n // 2))])
    cases = (("stdtr", (df, t)), ("stdtrit", (df[:20_000], q[:20_000])), ("betainc", (a, b, x)), ("fdtr", (dfn, dfd, ratio)),
             ("gammaincc", (half_df, half_stat)), ("betaincinv", (a[:20_000], b[:20_000], q[:20_000])),
             # the seasonal variance scale's chi-squared interval: a slot's counts from 1 up, both tails
             ("chdtri", (np.exp(rng.uniform(0.0, np.log(1e6), 20_000)), q[:20_000])))
    for name, args in cases:
        want = getattr(ufuncs, name)(*args)
        got = [getattr(_cspecial, name)(*row) for row in zip(*(v.tolist() for v in args))]
        differ = sum(1 for w, g in zip(want.tolist(), got) if not (w == g or (w != w and g != g)) or math.copysign(1.0, w) != math.copysign(1.0, g))
        assert differ == 0, f"{name}: {differ} of {len(got)} values differ from the ufunc's"


if __name__ == "__main__" and sys.argv[1:] == ["--pure"]:
    from ctdetect.engine.anomaly.accelerated import compiled_modules  # CTDETECT_PURE_PYTHON=1: the sources

    assert compiled_modules() == [], compiled_modules()
    json.dump(_results(), sys.stdout)


def test_a_stale_extension_is_detected_in_a_checkout_only(tmp_path, monkeypatch) -> None:
    """An extension older than its ``.py`` is stale in a source checkout (its edit must run,
    not the old compiled code); in an installed package nothing is checked."""
    from ctdetect.engine.anomaly import accelerated

    here = tmp_path / "tooling" / "ctdetect" / "engine" / "anomaly"
    here.mkdir(parents=True)
    built = here / f"priors{accelerated.EXTENSION_SUFFIXES[0]}"
    built.write_bytes(b"")
    source = here / "priors.py"
    source.write_text("")
    os.utime(built, (1_000_000, 1_000_000))
    monkeypatch.setattr(accelerated, "HERE", here)
    assert accelerated.stale_modules() == []  # no pyproject.toml above: an installed package
    (tmp_path / "pyproject.toml").write_text("")
    assert accelerated.stale_modules() == ["priors"]
    os.utime(source, (500_000, 500_000))
    assert accelerated.stale_modules() == []


def test_an_extension_built_against_an_older_cimported_declaration_is_stale(tmp_path, monkeypatch) -> None:
    """``timeseries`` cimports ``priors``' classes: edited ``priors.pxd`` makes a ``timeseries``
    extension built before it stale, though its own sources are older."""
    from ctdetect.engine.anomaly import accelerated

    (tmp_path / "pyproject.toml").write_text("")
    here = tmp_path / "tooling" / "ctdetect" / "engine" / "anomaly"
    here.mkdir(parents=True)
    built = here / f"timeseries{accelerated.EXTENSION_SUFFIXES[0]}"
    built.write_bytes(b"")
    (here / "timeseries.py").write_text("")
    (here / "timeseries.pxd").write_text("from ctdetect.engine.anomaly.priors cimport OneOfNPrior\n")
    (here / "priors.pxd").write_text("cdef class OneOfNPrior:\n    pass\n")
    for path, when in ((built, 1_000_000), (here / "timeseries.py", 500_000), (here / "timeseries.pxd", 500_000),
                       (here / "priors.pxd", 2_000_000)):
        os.utime(path, (when, when))
    monkeypatch.setattr(accelerated, "HERE", here)
    assert accelerated.declarations("timeseries") == [here / "timeseries.pxd", here / "priors.pxd"]
    assert accelerated.stale_modules() == ["timeseries"]
    os.utime(here / "priors.pxd", (500_000, 500_000))
    assert accelerated.stale_modules() == []


def test_the_source_only_finder_serves_every_accelerated_module_from_its_source() -> None:
    import pytest

    from ctdetect.engine.anomaly.accelerated import ACCELERATED, HERE, PACKAGE, SPECIAL, SourceOnlyFinder

    finder = SourceOnlyFinder()
    for name in ACCELERATED:
        origin = finder.find_spec(f"{PACKAGE}.{name}").origin
        assert origin == str(HERE.joinpath(*name.split(".")[:-1], name.split(".")[-1] + ".py"))
        assert Path(origin).is_file(), name
    assert finder.find_spec(f"{PACKAGE}.config") is None
    assert finder.find_spec(f"{PACKAGE}.detectors") is None
    assert finder.find_spec(f"{PACKAGE}.detectors.population") is None
    assert finder.find_spec("ctdetect.engine.rules.priors") is None
    with pytest.raises(ModuleNotFoundError):
        finder.find_spec(f"{PACKAGE}.{SPECIAL}")
