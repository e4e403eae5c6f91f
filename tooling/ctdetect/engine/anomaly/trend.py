"""The long-term trend of a count series: a function of time, as ml-cpp fits it.

ml-cpp's ``CTrendComponent`` (elastic/ml-cpp 7a29b4b34,
``lib/maths/time_series/CTrendComponent.cc``), in our words. A fast level that chases the
last values (what the emulation had before) turns a slow shift into a stream of small
"anomalies" and predicts a week it has just seen from its end; a trend that is a function
of time predicts every moment of the week it has fitted.

- **Eight regressions.** Weighted least-squares polynomials of degree up to two in time
  (in weeks from an origin), each forgetting at its own time scale: the decomposition's
  decay rate λ (per day) times 144, 72, 36, 12, 4, 1, 0.25 and 0.05. A regression keeps the
  decayed means of ``t^0..t^4`` and ``t^0..t^2·y`` and its weight of samples.
- **Combined.** A prediction is the mean of the regressions' predictions, each weighted by
  ``min(s, 1/s)`` (s its time scale: how close it forgets at the decomposition's rate)
  times ``e^(−s·λ·|t − last|/day)``; regressions under 1 % of the total weight are left
  out. A regression whose normal equations are worse conditioned than 1e12 drops to a
  straight line, then to its mean. Beyond the data the prediction fades towards the
  long-run mean of the values (``1 / (1 + e^((Δ/interval − 1)/0.1))``).
- **Prediction error variance.** Before each value is learnt, the squared error of the
  prediction updates a running variance about the prediction, with the regressions'
  geometric mean sample weight as its count; the 1−α interval of the trend's value is
  the normal one with variance ``error variance / count`` (the error of the estimated
  level, not of one observation), as ml-cpp's ``value(time, confidence)``.
- **Origin.** The origin follows time, the start of the week ``day / (2λ)`` back, so the
  powers of time stay small and the equations well conditioned.

Not modelled: ml-cpp's level-shift models (a naive Bayes on the time since the last shift
and the magnitudes of shifts: used to forecast, and fed by its change-point test, which
the emulation does not have), its per-order error statistics (used only to forecast) and
its decay-rate control (the target decay rate stays the default, so the model weights are
constants).
"""

from __future__ import annotations

import math
import math as libm  # compiled: C's libm (the .pxd); see priors.LIBM_NOTE
from functools import lru_cache
from statistics import NormalDist
from typing import Any

TIME_SCALES = (144.0, 72.0, 36.0, 12.0, 4.0, 1.0, 0.25, 0.05)
MODEL_WEIGHTS = tuple(min(s, 1.0 / s) for s in TIME_SCALES)
SUM_MODEL_WEIGHTS = sum(MODEL_WEIGHTS)
MIN_MODEL_WEIGHT = 0.01
MAX_CONDITION = 1e12
DAY_S = 86400
WEEK_S = 7 * DAY_S
_BINOMIAL = ((1,), (1, 1), (1, 2, 1), (1, 3, 3, 1), (1, 4, 6, 4, 1))


def normal_interval(mean: float, variance: float, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` % interval of a normal (the point when the variance is 0)."""
    if variance <= 0.0 or confidence <= 0.0:
        return mean, mean
    z = NormalDist().inv_cdf((100.0 + confidence) / 200.0)
    sd = math.sqrt(variance)
    return mean - z * sd, mean + z * sd


def _condition_ok(e1: float, e2: float, e3: float) -> bool:
    """Whether eigenvalues ``e1, e2, e3`` (a 2x2 system repeats one) are positive and
    within ``MAX_CONDITION`` of each other. Three floats, not a tuple: this runs for each
    of the eight regressions a trend solves at every value; the smallest and largest are
    picked as ``min`` and ``max`` pick them (the first of equals, strict comparisons)."""
    lo = e2 if e2 < e1 else e1
    lo = e3 if e3 < lo else lo
    hi = e2 if e2 > e1 else e1
    hi = e3 if e3 > hi else hi
    return lo > 0.0 and hi <= MAX_CONDITION * lo


_TWO_PI_3 = 2.0 * math.pi / 3.0  # the expression as written in the closed form, evaluated once


def _sym3_eigenvalues(a: float, b: float, c: float, d: float, e: float, f: float) -> tuple[float, float, float]:
    """Eigenvalues of the symmetric matrix [[a, b, c], [b, d, e], [c, e, f]] (closed form;
    compiled, a C tuple of three doubles: nothing is allocated)."""
    p1 = b * b + c * c + e * e
    q = (a + d + f) / 3.0
    p2 = (a - q) ** 2 + (d - q) ** 2 + (f - q) ** 2 + 2.0 * p1
    if p2 <= 0.0:
        return q, q, q
    p = libm.sqrt(p2 / 6.0)
    ba, bd, bf = (a - q) / p, (d - q) / p, (f - q) / p
    bb, bc, be = b / p, c / p, e / p
    r = (ba * (bd * bf - be * be) - bb * (bb * bf - be * bc) + bc * (bb * be - bd * bc)) / 2.0
    phi = libm.acos(min(max(r, -1.0), 1.0)) / 3.0
    e1 = q + 2.0 * p * libm.cos(phi)
    e3 = q + 2.0 * p * libm.cos(phi + _TWO_PI_3)
    return e1, 3.0 * q - e1 - e3, e3


@lru_cache(maxsize=256)
def _prediction_weights(rate: float, dt_s: float) -> tuple[tuple[float, ...], float]:
    """The regressions' weights ``min(s, 1/s)·e^(−s·λ·dt/day)`` for a prediction ``dt_s``
    from the last value, and the cut under which a regression is left out (1 % of their
    sum). Series of a job share ``rate`` and mostly ask at one bucket span from their last
    value, so the same few arguments recur: memoised, as the very same floats."""
    weights = tuple(w * math.exp(-s * rate * dt_s / DAY_S) for s, w in zip(TIME_SCALES, MODEL_WEIGHTS))
    return weights, MIN_MODEL_WEIGHT * sum(weights)


@lru_cache(maxsize=256)
def _age_factors(rate: float, dt_s: float) -> tuple[float, ...]:
    """Each regression's ageing factor ``e^(−s·λ·dt/day)`` over ``dt_s`` seconds
    (memoised as ``_prediction_weights``: the gap between buckets recurs)."""
    return tuple(math.exp(-s * rate * dt_s / DAY_S) for s in TIME_SCALES)


class Regression:
    """A decayed weighted least-squares quadratic in time: means of ``t^0..t^4``, ``t^0..t^2·y``."""

    # the eight means are eight floats, not a list: a list holds each as a Python float,
    # and every value a trend learns replaced all 64 of them (eight regressions) with new
    # objects; ``s`` reads them as a list
    __slots__ = ("n", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "c0", "c1", "c2", "solved")

    def __init__(self) -> None:
        self.n = 0.0
        self.s0 = self.s1 = self.s2 = self.s3 = self.s4 = self.s5 = self.s6 = self.s7 = 0.0
        # the fit ``c0 + c1·t + c2·t²`` while ``solved`` (until the statistics change): three
        # floats rather than a tuple, so a prediction builds and unpacks nothing
        self.c0 = self.c1 = self.c2 = 0.0
        self.solved = False

    def add(self, t: float, y: float, w: float) -> None:
        if w <= 0.0:
            return
        self.n += w
        a = w / self.n
        t2 = t * t
        # unrolled ``s[i] += a * (v - s[i])`` over (1, t, t², t³, t⁴, y, t·y, t²·y): the same
        # operations in the same order, without the loop (eight regressions a value)
        self.s0 += a * (1.0 - self.s0)
        self.s1 += a * (t - self.s1)
        self.s2 += a * (t2 - self.s2)
        self.s3 += a * (t2 * t - self.s3)
        self.s4 += a * (t2 * t2 - self.s4)
        self.s5 += a * (y - self.s5)
        self.s6 += a * (t * y - self.s6)
        self.s7 += a * (t2 * y - self.s7)
        self.solved = False

    @property
    def s(self) -> list[float]:
        """The eight means ``t^0..t^4``, ``t^0..t^2·y`` as a list (a copy: set them with ``_set``)."""
        return [self.s0, self.s1, self.s2, self.s3, self.s4, self.s5, self.s6, self.s7]

    def _set(self, s: list[float]) -> None:
        """Set the eight means from a list (see ``s``)."""
        self.s0, self.s1, self.s2, self.s3, self.s4, self.s5, self.s6, self.s7 = s
        self.solved = False

    def age(self, factor: float) -> None:
        self.n *= factor

    def shift_abscissa(self, d: float) -> None:
        """Re-express the statistics in ``t' = t + d``."""
        if self.n <= 0.0:
            return
        old = self.s
        new = old[:]
        powers = [d**k for k in range(5)]
        for i in range(5):
            new[i] = sum(_BINOMIAL[i][j] * powers[i - j] * old[j] for j in range(i + 1))
        for i in range(3):
            new[5 + i] = sum(_BINOMIAL[i][j] * powers[i - j] * old[5 + j] for j in range(i + 1))
        self._set(new)

    def shift_level(self, d: float) -> None:
        """Re-express the statistics for ``y' = y + d``."""
        self.s5 += d * self.s0
        self.s6 += d * self.s1
        self.s7 += d * self.s2
        self.solved = False

    def params(self) -> tuple[float, float, float]:
        """(c0, c1, c2) of ``c0 + c1·t + c2·t²``: the best-conditioned fit up to degree two."""
        if not self.solved:
            self._solve()
        return self.c0, self.c1, self.c2

    def _solve(self) -> None:
        """Set ``c0, c1, c2`` (see ``params``) and mark them solved: the full quadratic when
        the normal equations are well conditioned, else a straight line, else the mean."""
        self.solved = True
        if self.n <= 0.0:
            self.c0, self.c1, self.c2 = 0.0, 0.0, 0.0
            return
        m00, m01, m02, m11, m12, m22 = self.s0, self.s1, self.s2, self.s2, self.s3, self.s4
        y0, y1, y2 = self.s5, self.s6, self.s7
        e1, e2, e3 = _sym3_eigenvalues(m00, m01, m02, m11, m12, m22)
        if _condition_ok(e1, e2, e3):
            c00 = m11 * m22 - m12 * m12
            c01 = m02 * m12 - m01 * m22
            c02 = m01 * m12 - m02 * m11
            det = m00 * c00 + m01 * c01 + m02 * c02
            if det != 0.0:
                c11 = m00 * m22 - m02 * m02
                c12 = m01 * m02 - m00 * m12
                c22 = m00 * m11 - m01 * m01
                self.c0 = (c00 * y0 + c01 * y1 + c02 * y2) / det
                self.c1 = (c01 * y0 + c11 * y1 + c12 * y2) / det
                self.c2 = (c02 * y0 + c12 * y1 + c22 * y2) / det
                return
        tr, det2 = m00 + m11, m00 * m11 - m01 * m01
        disc = libm.sqrt(max(tr * tr / 4.0 - det2, 0.0))
        if det2 != 0.0 and _condition_ok(tr / 2.0 + disc, tr / 2.0 - disc, tr / 2.0 - disc):
            self.c0, self.c1, self.c2 = (m11 * y0 - m01 * y1) / det2, (m00 * y1 - m01 * y0) / det2, 0.0
            return
        self.c0, self.c1, self.c2 = y0, 0.0, 0.0

    def predict(self, t: float) -> float:
        if not self.solved:
            self._solve()
        return self.c0 + t * (self.c1 + t * self.c2)

    def to_state(self) -> list[Any]:
        return [self.n, self.s]

    def load(self, state: list[Any]) -> None:
        self.n = float(state[0])
        self._set([float(v) for v in state[1]])


class TrendComponent:
    """ml-cpp's trend of one series (see module docstring); times in seconds."""

    __slots__ = ("rate", "first_s", "last_s", "origin_s", "models", "error_variance", "values_n", "values_mean", "values_m2", "_memo")

    def __init__(self, decay_rate_per_day: float) -> None:
        self.rate = decay_rate_per_day
        self.first_s: float | None = None
        self.last_s: float | None = None
        self.origin_s = 0.0
        self.models = [Regression() for _ in TIME_SCALES]
        self.error_variance = 0.0
        self.values_n = 0.0  # the values' (undecayed) moments: the long-run level
        self.values_mean = 0.0
        self.values_m2 = 0.0
        self._memo: tuple[float, float] | None = None  # (time, value) until the state changes

    def initialized(self) -> bool:
        return self.last_s is not None

    def _scaled(self, t_s: float) -> float:
        return (t_s - self.origin_s) / WEEK_S

    def _follow_origin(self, t_s: float) -> None:
        # floats, as restored from a saved state: a saved model persists identically. Compiled,
        # ``libm.floor`` gives a float and the product is of floats: the same float as
        # Python's integer product made a float while it is below 2**53 (times below ~9e15 s)
        origin = float(libm.floor((t_s - DAY_S / self.rate / 2.0) / WEEK_S) * WEEK_S)
        if self.first_s is None:
            self._memo = None
            self.origin_s = float(libm.floor(t_s / WEEK_S) * WEEK_S)
        elif origin > self.origin_s:
            self._memo = None  # the regressions are re-expressed: the kept value is of the old origin
            shift = (origin - self.origin_s) / WEEK_S
            for m in self.models:
                m.shift_abscissa(-shift)
            self.origin_s = origin

    def count(self) -> float:
        """The regressions' geometric mean sample weight (by model weight)."""
        # plain loops, not generator expressions: this runs at every value a series learns,
        # and a compiled generator is a closure object per call. ``sum`` of floats from 0 is
        # the same left-to-right addition as ``num`` from 0.0
        num = 0.0
        i = 0
        for m in self.models:
            if m.n <= 0.0:
                return 0.0
            num += MODEL_WEIGHTS[i] * libm.log(m.n)
            i += 1
        return libm.exp(num / SUM_MODEL_WEIGHTS)

    def _weight_of_prediction(self, t_s: float) -> float:
        assert self.first_s is not None and self.last_s is not None
        interval = self.last_s - self.first_s
        if interval == 0.0:
            return 0.0
        beyond = max(t_s - self.last_s, self.first_s - t_s, 0.0)
        if beyond == 0.0:
            return 1.0
        x = (beyond / interval - 1.0) / 0.1
        return 0.0 if x > 700 else 1.0 / (1.0 + libm.exp(x))

    def value(self, t_s: float) -> float:
        """The trend's prediction at ``t_s`` (0 before any value); kept for the last time
        asked until the state changes (a bucket asks for it several times)."""
        if self.last_s is None:
            return 0.0
        memo = self._memo
        if memo is not None and memo[0] == t_s:
            return memo[1]
        result = self._value(t_s)
        self._memo = (t_s, result)
        return result

    def _value(self, t_s: float) -> float:
        assert self.last_s is not None
        a = self._weight_of_prediction(t_s)
        weights, cut = _prediction_weights(self.rate, abs(t_s - self.last_s))
        x = self._scaled(t_s)
        num = den = 0.0
        models = self.models
        # an index loop, not ``zip`` (a zip object and a pair per regression, every bucket):
        # the same regressions in the same order (both are TIME_SCALES long)
        for i in range(len(models)):
            w = weights[i]
            if w > cut:
                m = models[i]
                num += w * m.predict(x)
                den += w
        fitted = num / den if den > 0.0 else self.values_mean
        return a * fitted + (1.0 - a) * self.values_mean

    def interval(self, t_s: float, confidence: float) -> tuple[float, float]:
        """The ``confidence`` % interval of the trend's value at ``t_s``."""
        mean = self.value(t_s)
        if self.last_s is None or self.error_variance <= 0.0:
            return mean, mean
        a = self._weight_of_prediction(t_s)
        values_var = self.values_m2 / self.values_n if self.values_n > 0.0 else 0.0
        variance = a * self.error_variance / max(self.count(), 1.0) + (1.0 - a) * values_var / max(self.values_n, 1.0)
        return normal_interval(mean, variance, confidence)

    def shift_level(self, d: float) -> None:
        """Raise every regression by ``d`` (a seasonal component handed its level over)."""
        if d == 0.0:
            return
        self._memo = None
        for m in self.models:
            m.shift_level(d)

    def add(self, t_s: float, y: float, w: float) -> None:
        """Learn value ``y`` at ``t_s`` with sample weight ``w``."""
        if w <= 0.0:
            return
        # the value kept for ``t_s`` stays valid unless the origin moves (``_follow_origin``
        # drops it then): a series asks for it just before it learns the value at ``t_s``,
        # and the same eight predictions are not made again here
        self._follow_origin(t_s)
        if self.last_s is not None:
            prediction = self.value(t_s)
            n = self.count()
            if n > 0.0:
                n1 = n + w
                d = y - prediction
                self.error_variance = (n * self.error_variance + w * d * (d - w * d / n1)) / n1
        x = self._scaled(t_s)
        for m in self.models:
            m.add(x, y, w)
        self.values_n += w
        d = y - self.values_mean
        self.values_mean += w * d / self.values_n
        self.values_m2 += w * d * (y - self.values_mean)
        self.first_s = t_s if self.first_s is None else min(self.first_s, t_s)
        self.last_s = t_s if self.last_s is None else max(self.last_s, t_s)
        self._memo = None

    def age(self, dt_s: float) -> None:
        """Forget as ``dt_s`` seconds pass: each regression at its own time scale."""
        if dt_s <= 0.0:
            return
        self._memo = None
        factors = _age_factors(self.rate, dt_s)
        models = self.models
        for i in range(len(models)):  # index loop, not zip, as in ``_value``
            m = models[i]
            m.n *= factors[i]  # Regression.age inlined

    def to_state(self) -> list[Any]:
        return [self.rate, self.first_s, self.last_s, self.origin_s, [m.to_state() for m in self.models],
                self.error_variance, self.values_n, self.values_mean, self.values_m2]

    @classmethod
    def from_state(cls, state: list[Any]) -> "TrendComponent":
        obj = cls(float(state[0]))
        obj.first_s = None if state[1] is None else float(state[1])
        obj.last_s = None if state[2] is None else float(state[2])
        obj.origin_s = float(state[3])
        for m, ms in zip(obj.models, state[4]):
            m.load(ms)
        obj.error_variance, obj.values_n, obj.values_mean, obj.values_m2 = (float(v) for v in state[5:9])
        return obj
