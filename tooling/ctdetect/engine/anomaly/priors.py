"""Residual priors of the count family: ml-cpp's one-of-n choice among conjugate models.

Elastic models the residual of each count series (the value less its tested trend and
seasonal components) with ``COneOfNPrior`` over a gamma, a log-normal, a normal and a
Poisson model (``CEventRateModelFactory::defaultPrior``). Each component is a conjugate
Bayesian model, so its predictive distribution is known in closed form; the one-of-n prior
treats "which component" as one more parameter and keeps a posterior weight per component.
In our words (elastic/ml-cpp 7a29b4b34, ``lib/maths/common/COneOfNPrior.cc`` and the
conjugates next to it):

- **Components.** normal: normal-gamma on the value (Student-t predictive); log-normal: the
  same on ``log(value + offset)``; gamma: shape from the sample moments, a gamma prior on the
  rate (compound-gamma predictive); Poisson: a gamma prior on the mean (negative-binomial
  predictive), only while every value is a non-negative integer. Non-informative start:
  shape 1, rate 0, no precision. Counts are integer data: the continuous components read
  a count ``x`` at ``x + 0.5``, the middle of the unit interval it stands for, and learn
  that interval's variance (1/12) with it, so a series that never changes still has a
  spread of one count (ml-cpp treats integer data as spread over ``[x, x + 1]``).
- **Weights.** Each update adds the sample's log predictive likelihood (times its count
  weight) to each component's log weight, floored at the best component's less
  ``log 1e8`` plus the best log-likelihood ratio to the component modes (so no component
  falls away on one sample none of them fits), and less ``log 1e8 · max(0, 1 − 9·sample
  variance / predictive variance)`` for a component far wider than the data. Weights only
  move once every component is informative.
- **Decay.** Every bucket multiplies sufficient statistics and log weights by
  ``e^−decayRate``, so old data lose weight as Elastic's models do.
- **Offset.** The log-normal, gamma and Poisson need positive support; when a residual falls
  below it, the offset moves under the value and those components are refitted from the
  decayed sample moments (ml-cpp's ``adjustOffset``).
- **Probability.** The weighted mean of the components' probabilities of a less likely
  sample: two-sided ``2·min(F(x), 1 − F(x⁻))``, above ``min(1, 2·P(X ≥ x))``, below
  ``min(1, 2·P(X ≤ x))``; components under 1e-3 of the weight are left out.

Not modelled: ml-cpp's fifth component, the multimodal prior (a clustering of the values
into modes, each with its own one-of-n prior); its decay-rate controllers.
"""

from __future__ import annotations

import math
import math as libm  # compiled: C's libm (priors.pxd); see LIBM_NOTE
from typing import Any

from ctdetect.engine.anomaly.stats import scalar_special

LOG_MAX_BAYES_FACTOR = math.log(1e8)
VARIANCE_MISMATCH = 9.0
MIN_RELATIVE_WEIGHT = 1e-3
NON_INFORMATIVE_SHAPE = 1.0
OFFSET_MARGIN = 0.2
MIN_GAMMA_SAMPLES = 3.5
INTEGER_JITTER = 1.0 / 12.0  # variance of a uniform over the unit interval an integer stands for
TINY = 1e-300
_NEG_INF = -math.inf  # a module constant: compared in every loop over the components
_PI = math.pi  # a C double when compiled: no attribute lookup per log-density
_N_MODELS = 4  # the one-of-n prior's models: gamma, log-normal, normal, Poisson, in this order
# LIBM_NOTE: ``libm.exp``, ``log``, ``log1p``, ``sqrt``, ``floor``, ``ceil`` (and in ``trend``
# and ``timeseries`` ``acos``, ``cos``, ``copysign``) are Python's ``math`` functions in the
# pure-Python modules and C's libm functions in the compiled ones (each ``.pxd`` cimports
# ``libc.math as libm``; a call of the Python function was a module attribute lookup, a
# float object and a call): CPython's are thin wrappers around the very same libm calls
# (``log1p`` returns a zero argument as it is, as glibc does), so the doubles are the same;
# ``floor``/``ceil`` give a float where Python gives an int of the same value, and are only
# compared with and added to floats. Where Python would raise (a log of 0, an exp above
# 709.78) the C function gives -inf or inf: no argument here comes near that.
# ``math.lgamma`` stays Python's: CPython computes it with its own Lanczos sum, not libm's
# ``lgamma``, so the C one would give other doubles.


_SPECIAL: Any = None  # what _special() returns, once asked (a C global when compiled)


def _special() -> Any:
    """``scipy.special``, or its compiled twin ``_cspecial`` (``stats.scalar_special``), kept
    after the first call: the components' c.d.f.s ask for it some twenty times a bucket, and
    a call of the memoised ``scalar_special`` (``lru_cache``) cost more than a global read."""
    global _SPECIAL
    special = _SPECIAL
    if special is None:
        special = _SPECIAL = scalar_special()
    return special


class NormalGamma:
    """A normal with unknown mean and precision (ml-cpp ``CNormalMeanPrecConjugate``)."""

    __slots__ = ("mean", "prec", "shape", "rate", "_t", "_lt", "_lc")

    def __init__(self) -> None:
        self.mean = 0.0
        self.prec = 0.0
        self.shape = NON_INFORMATIVE_SHAPE
        self.rate = 0.0
        self._t: tuple[float, float, float] | None = None  # t_params() until the state changes
        # the terms of logpdf that do not depend on the value, and the t_params tuple they
        # were computed from: learning a value reads the density at the value and at the
        # mode of one state, so the three logs of gamma functions and of the scale are
        # computed once for both (the very same floats, added in the same order)
        self._lt: tuple[float, float, float] | None = None
        self._lc = 0.0

    def informative(self) -> bool:
        return self.prec > 0.0 and self.rate > 0.0

    def add(self, y: float, w: float, jitter: float = 0.0) -> None:
        """Learn ``y`` with count weight ``w``; ``jitter``: the variance of the interval
        the value stands for (1/12 for an integer read at its middle)."""
        if w <= 0.0:
            return
        self._t = None
        if self.prec <= 0.0:
            self.mean, self.prec = y, w
        else:
            prec = self.prec + w
            d = y - self.mean
            self.rate += 0.5 * self.prec * w * d * d / prec
            self.mean += w * d / prec
            self.prec = prec
        self.rate += 0.5 * w * jitter
        self.shape += 0.5 * w

    def age(self, alpha: float) -> None:
        self._t = None
        self.prec *= alpha
        self.rate *= alpha
        self.shape = NON_INFORMATIVE_SHAPE + alpha * (self.shape - NON_INFORMATIVE_SHAPE)

    def fit(self, mean: float, var: float, n: float) -> None:
        """The posterior after ``n`` samples with this mean and variance."""
        self.__init__()  # type: ignore[misc]
        if n > 0.0:
            self.mean, self.prec = mean, n
            self.shape = NON_INFORMATIVE_SHAPE + 0.5 * n
            self.rate = 0.5 * n * max(var, 0.0)

    def t_params(self) -> tuple[float, float, float]:
        """(degrees of freedom, location, scale) of the Student-t predictive.

        Kept until the state changes: scoring and learning one value ask for it up to
        five times (the value's and the mode's density, the variance, both tails)."""
        t = self._t
        if t is None:
            df = 2.0 * self.shape
            scale = libm.sqrt(self.rate * (self.prec + 1.0) / (self.shape * self.prec))
            t = self._t = (df, self.mean, max(scale, 1e-12))
        return t

    def variance(self) -> float:
        df, _, s = self.t_params()
        return s * s * df / (df - 2.0) if df > 2.0 else s * s * 1e6

    def logpdf(self, y: float) -> float:
        t = self.t_params()
        df, loc, s = t
        if self._lt is not t:
            self._lc = math.lgamma((df + 1.0) / 2.0) - math.lgamma(df / 2.0) - 0.5 * libm.log(df * _PI) - libm.log(s)
            self._lt = t
        z = (y - loc) / s
        return self._lc - (df + 1.0) / 2.0 * libm.log1p(z * z / df)

    def cdf(self, y: float, vs: float = 1.0) -> float:
        """The predictive's c.d.f. at ``y``; ``vs``: a variance scale (the seasonal one,
        ``timeseries``), which widens the predictive about its mean by ``√vs`` (ml-cpp
        reads the value at ``m + (y − m)/√vs``)."""
        df, loc, s = self.t_params()
        if vs != 1.0:
            s *= libm.sqrt(vs)
        return float(_special().stdtr(df, (y - loc) / s))

    def sf(self, y: float, vs: float = 1.0) -> float:
        df, loc, s = self.t_params()
        if vs != 1.0:
            s *= libm.sqrt(vs)
        return float(_special().stdtr(df, (loc - y) / s))

    def log_scaled(self, vs: float) -> tuple[float, float, float]:
        """``t_params()`` of the log of a log-normal whose variance is ``vs`` times this one's,
        its mean kept (ml-cpp ``CLogNormalMeanPrecConjugate``'s ``locationAndScale``): the
        log-variance ``r`` becomes ``t = r + ln(e^−r + vs·(1 − e^−r))``, the location moves
        by ``(r − t)/2`` and the scale by ``√(t/r)``."""
        df, loc, s = self.t_params()
        if vs == 1.0 or self.shape <= 0.0 or self.rate <= 0.0:
            return df, loc, s
        r = self.rate / self.shape
        t = r + libm.log(libm.exp(-r) + vs * (1.0 - libm.exp(-r)))
        return df, loc + (r - t) / 2.0, s * libm.sqrt(t / r)

    def mode(self) -> float:
        return self.mean

    def quantile(self, q: float) -> float:
        df, loc, s = self.t_params()
        return loc + s * float(_special().stdtrit(df, q))

    def to_state(self) -> list[float]:
        return [self.mean, self.prec, self.shape, self.rate]

    def load(self, s: list[float]) -> None:
        self.mean, self.prec, self.shape, self.rate = (float(v) for v in s)
        self._t = None


class _Component:
    """One model of the one-of-n prior; subclasses map values onto their support."""

    name = ""
    integer_only = False

    def informative(self) -> bool:
        raise NotImplementedError

    def add(self, y: float, w: float, jitter: float = 0.0) -> None:
        """Learn ``y`` (count weight ``w``); ``jitter``: see ``NormalGamma.add``."""
        raise NotImplementedError

    def age(self, alpha: float) -> None:
        raise NotImplementedError

    def refit(self, mean: float, var: float, n: float, offset: float) -> None:
        """Start again from decayed sample moments (after the offset moved)."""
        raise NotImplementedError

    def logpdf(self, y: float) -> float:
        raise NotImplementedError

    def cdf(self, y: float, vs: float = 1.0) -> float:
        """The predictive's c.d.f. at ``y``, its variance scaled by ``vs`` about its mean."""
        raise NotImplementedError

    def sf(self, y: float, vs: float = 1.0) -> float:
        raise NotImplementedError

    def mode(self) -> float:
        raise NotImplementedError

    def variance(self) -> float:
        raise NotImplementedError

    def quantile(self, q: float) -> float:
        """The predictive's ``q`` quantile, by bisection on the c.d.f. (a closed form
        where a subclass has one): the lower bracket stops at the support's edge."""
        step = math.sqrt(max(self.variance(), 1e-12))
        edge = -getattr(self, "offset", -math.inf)
        lo = hi = self.mode()
        while self.cdf(lo) > q and lo > edge:
            lo = max(lo - step, edge)
            step *= 2.0
        step = math.sqrt(max(self.variance(), 1e-12))
        while self.cdf(hi) < q:
            hi += step
            step *= 2.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if self.cdf(mid) < q:
                lo = mid
            else:
                hi = mid
        return hi


class NormalComponent(_Component):
    name = "normal"

    def __init__(self) -> None:
        self.ng = NormalGamma()

    def informative(self) -> bool:
        return self.ng.informative()

    def add(self, y: float, w: float, jitter: float = 0.0) -> None:
        self.ng.add(y, w, jitter)

    def age(self, alpha: float) -> None:
        self.ng.age(alpha)

    def refit(self, mean: float, var: float, n: float, offset: float) -> None:
        pass  # the normal has no offset

    def logpdf(self, y: float) -> float:
        return self.ng.logpdf(y)

    def cdf(self, y: float, vs: float = 1.0) -> float:
        return self.ng.cdf(y, vs)

    def sf(self, y: float, vs: float = 1.0) -> float:
        return self.ng.sf(y, vs)

    def mode(self) -> float:
        return self.ng.mode()

    def variance(self) -> float:
        return self.ng.variance()

    def quantile(self, q: float) -> float:
        return self.ng.quantile(q)

    def to_state(self) -> list[Any]:
        return self.ng.to_state()

    def load(self, s: list[Any]) -> None:
        self.ng.load(s)


class LogNormalComponent(_Component):
    """Normal-gamma on ``log(y + offset)`` (ml-cpp ``CLogNormalMeanPrecConjugate``)."""

    name = "lognormal"

    def __init__(self) -> None:
        self.ng = NormalGamma()
        self.offset = 0.0

    def _log(self, y: float) -> float:
        return libm.log(max(y + self.offset, TINY))

    def informative(self) -> bool:
        return self.ng.informative()

    def add(self, y: float, w: float, jitter: float = 0.0) -> None:
        u = max(y + self.offset, TINY)
        self.ng.add(libm.log(u), w, jitter / (u * u))  # the interval's variance, on the log scale

    def age(self, alpha: float) -> None:
        self.ng.age(alpha)

    def refit(self, mean: float, var: float, n: float, offset: float) -> None:
        self.offset = offset
        m = max(mean + offset, 1e-6)
        s2 = math.log1p(max(var, 0.0) / (m * m))
        self.ng.fit(math.log(m) - 0.5 * s2, s2, n)

    def logpdf(self, y: float) -> float:
        u = y + self.offset
        if u <= 0.0:
            return -1e300
        return self.ng.logpdf(libm.log(u)) - libm.log(u)

    def cdf(self, y: float, vs: float = 1.0) -> float:
        if y + self.offset <= 0.0:
            return 0.0
        return self.ng.cdf(self._log(y)) if vs == 1.0 else self._scaled_tail(y, vs, 1.0)

    def sf(self, y: float, vs: float = 1.0) -> float:
        if y + self.offset <= 0.0:
            return 1.0
        return self.ng.sf(self._log(y)) if vs == 1.0 else self._scaled_tail(y, vs, -1.0)

    def _scaled_tail(self, y: float, vs: float, sign: float) -> float:
        """The c.d.f. (``sign`` 1) or survival function (−1) at ``y`` of the log-normal whose
        variance is ``vs`` times this one's, its mean kept (``NormalGamma.log_scaled``)."""
        df, loc, s = self.ng.log_scaled(vs)
        return float(_special().stdtr(df, sign * (self._log(y) - loc) / s))

    def mode(self) -> float:
        df, loc, s = self.ng.t_params()
        return libm.exp(loc) - self.offset

    def variance(self) -> float:
        _, loc, s = self.ng.t_params()
        s2 = min(s * s, 50.0)
        return (libm.exp(s2) - 1.0) * libm.exp(2.0 * loc + s2)

    def quantile(self, q: float) -> float:
        return math.exp(self.ng.quantile(q)) - self.offset

    def to_state(self) -> list[Any]:
        return [*self.ng.to_state(), self.offset]

    def load(self, s: list[Any]) -> None:
        self.ng.load(s[:4])
        self.offset = float(s[4])


class GammaComponent(_Component):
    """A gamma with its shape estimated from the data and a conjugate prior on the rate
    (ml-cpp ``CGammaRateConjugate``); predictive: the compound gamma."""

    name = "gamma"

    def __init__(self) -> None:
        self.offset = 0.0
        self.n = 0.0
        self.s1 = 0.0  # weighted sum of (y + offset)
        self.s2 = 0.0  # weighted sum of (y + offset)²
        self._p: tuple[float, float, float] | None = None  # _params() until the state changes
        # logpdf's terms that do not depend on the value, for the _params tuple ``_lp``
        # (as ``NormalGamma._lc``): the gamma functions' logs and ``log b``
        self._lp: tuple[float, float, float] | None = None
        self._lc = 0.0
        self._logb = 0.0

    def _moments(self) -> tuple[float, float]:
        m = self.s1 / self.n
        return m, max(self.s2 / self.n - m * m, 0.0)

    def informative(self) -> bool:
        n = self.n
        if n < MIN_GAMMA_SAMPLES:  # ml-cpp: the gamma needs 3.5 weighted samples
            return False
        m = self.s1 / n  # _moments() inlined: this runs several times per series and bucket
        return m > 0.0 and max(self.s2 / n - m * m, 0.0) > 0.0

    def add(self, y: float, w: float, jitter: float = 0.0) -> None:
        u = max(y + self.offset, TINY)
        self._p = None
        self.n += w
        self.s1 += w * u
        self.s2 += w * (u * u + jitter)

    def age(self, alpha: float) -> None:
        self._p = None
        self.n *= alpha
        self.s1 *= alpha
        self.s2 *= alpha

    def refit(self, mean: float, var: float, n: float, offset: float) -> None:
        self.offset = offset
        m = mean + offset
        self.n, self.s1, self.s2 = n, n * m, n * (max(var, 0.0) + m * m)
        self._p = None

    def _params(self) -> tuple[float, float, float]:
        """(shape k, rate-prior shape a, rate-prior rate b), kept until the state changes."""
        p = self._p
        if p is None:
            m, v = self._moments()
            k = min(max(m * m / max(v, 1e-12), 1e-3), 1e8)
            p = self._p = (k, NON_INFORMATIVE_SHAPE + k * self.n, self.s1)
        return p

    def logpdf(self, y: float) -> float:
        u = y + self.offset
        if u <= 0.0:
            return -1e300
        p = self._params()
        k, a, b = p
        if self._lp is not p:
            self._lc = math.lgamma(k + a) - math.lgamma(k) - math.lgamma(a)
            self._logb = libm.log(b)
            self._lp = p
        return self._lc + (k - 1.0) * libm.log(u) + a * self._logb - (k + a) * libm.log(u + b)

    def cdf(self, y: float, vs: float = 1.0) -> float:
        """With a variance scale ``vs`` the likelihood's shape is ``k/vs`` and the rate
        prior's rate ``vs·b``: the mean is kept, the variance grows by about ``vs``
        (ml-cpp ``CGammaRateConjugate``)."""
        u = y + self.offset
        if u <= 0.0:
            return 0.0
        k, a, b = self._params()
        if vs != 1.0:
            k, b = k / vs, b * vs
        return float(_special().betainc(k, a, u / (u + b)))

    def sf(self, y: float, vs: float = 1.0) -> float:
        u = y + self.offset
        if u <= 0.0:
            return 1.0
        k, a, b = self._params()
        if vs != 1.0:
            k, b = k / vs, b * vs
        return float(_special().betainc(a, k, b / (u + b)))

    def mode(self) -> float:
        k, a, b = self._params()
        return (max(k - 1.0, 0.0) * b / (a + 1.0)) - self.offset

    def variance(self) -> float:
        k, a, b = self._params()
        if a <= 2.0:
            return 1e12
        return k * (k + a - 1.0) * b * b / ((a - 2.0) * (a - 1.0) ** 2)

    def to_state(self) -> list[Any]:
        return [self.n, self.s1, self.s2, self.offset]

    def load(self, s: list[Any]) -> None:
        self.n, self.s1, self.s2, self.offset = (float(v) for v in s)
        self._p = None


class PoissonComponent(_Component):
    """A Poisson with a gamma prior on its mean (ml-cpp ``CPoissonMeanConjugate``);
    predictive: the negative binomial. Counts only: it reads the value itself, not
    ``x + 0.5``."""

    name = "poisson"
    integer_only = True

    def __init__(self) -> None:
        self.offset = 0.0
        self.shape = NON_INFORMATIVE_SHAPE
        self.rate = 0.0

    def informative(self) -> bool:
        return self.rate > 0.0

    def add(self, y: float, w: float, jitter: float = 0.0) -> None:
        self.shape += w * max(y + self.offset, 0.0)
        self.rate += w

    def age(self, alpha: float) -> None:
        self.shape = NON_INFORMATIVE_SHAPE + alpha * (self.shape - NON_INFORMATIVE_SHAPE)
        self.rate *= alpha

    def refit(self, mean: float, var: float, n: float, offset: float) -> None:
        self.offset = offset
        self.shape = NON_INFORMATIVE_SHAPE + n * max(mean + offset, 0.0)
        self.rate = n

    def _rp(self) -> tuple[float, float]:
        return self.shape, self.rate / (self.rate + 1.0)

    def logpdf(self, y: float) -> float:
        k = y + self.offset
        if k < 0.0:
            return -1e300
        r, p = self._rp()
        return math.lgamma(k + r) - math.lgamma(k + 1.0) - math.lgamma(r) + r * libm.log(p) + k * libm.log1p(-p)

    def cdf(self, y: float, vs: float = 1.0) -> float:
        """``vs`` is not read: ml-cpp's Poisson scores a count without its variance scale."""
        k = libm.floor(y + self.offset + 1e-9)
        if k < 0:
            return 0.0
        r, p = self._rp()
        return float(_special().betainc(r, k + 1.0, p))

    def sf(self, y: float, vs: float = 1.0) -> float:
        k = libm.ceil(y + self.offset - 1e-9)
        if k <= 0:
            return 1.0
        r, p = self._rp()
        return float(_special().betainc(k, r, 1.0 - p))

    def mode(self) -> float:
        r, p = self._rp()
        return max(libm.floor((r - 1.0) * (1.0 - p) / p), 0.0) - self.offset

    def variance(self) -> float:
        r, p = self._rp()
        return r * (1.0 - p) / (p * p)

    def to_state(self) -> list[Any]:
        return [self.shape, self.rate, self.offset]

    def load(self, s: list[Any]) -> None:
        self.shape, self.rate, self.offset = (float(v) for v in s)


def _integer_only(model: _Component) -> bool:
    """``model.integer_only`` (the Poisson: it reads a count as it is) as a type test: the
    prior asks it of every component several times a bucket, and a class attribute of a
    compiled class is a dictionary lookup where ``isinstance`` is a pointer comparison
    (``tests/anomaly/test_count_fastpaths.py`` checks the two agree for every component)."""
    return isinstance(model, PoissonComponent)


def sided(cdf: float, sf: float, side: str) -> float:
    """Elastic's probability of a less likely sample from one component's tails."""
    if side == "high":
        return min(1.0, 2.0 * sf)
    if side == "low":
        return min(1.0, 2.0 * cdf)
    return min(1.0, 2.0 * min(cdf, sf))


def _sided_tails(model: _Component, y: float, vs: float, side: str) -> float:
    """``sided(model.cdf(y, vs), model.sf(y, vs), side)``, computing only the tails that
    ``side`` reads: a one-sided score ("high", "low": every count job but ``count``) reads
    one tail, and each tail is a special function (an incomplete beta, a Student t c.d.f.)
    whose result was thrown away. The tail not read is given as 1.0, which ``sided`` does
    not look at; the tails are pure (their parameter memos aside), so the double is the same."""
    if side == "high":
        return sided(1.0, model.sf(y, vs), side)
    if side == "low":
        return sided(model.cdf(y, vs), 1.0, side)
    return sided(model.cdf(y, vs), model.sf(y, vs), side)


class OneOfNPrior:
    """ml-cpp's ``COneOfNPrior`` over gamma, log-normal, normal and Poisson (see module)."""

    __slots__ = ("models", "log_weights", "integer", "offset", "n", "mean", "m2")

    def __init__(self, integer: bool = True) -> None:
        self.models: list[_Component] = [GammaComponent(), LogNormalComponent(), NormalComponent(), PoissonComponent()]
        self.log_weights = [0.0, 0.0, 0.0, 0.0 if integer else -math.inf]
        self.integer = integer
        self.offset = 0.0
        self.n = 0.0  # decayed sample moments (Welford with weights)
        self.mean = 0.0
        self.m2 = 0.0

    # ------------------------------------------------------------------ state
    def informative(self) -> bool:
        # an index loop (no zip object): this runs several times per series and bucket
        models = self.models
        log_weights = self.log_weights
        for i in range(_N_MODELS):
            m = models[i]
            if log_weights[i] > _NEG_INF and not m.informative():
                return False
        return True

    def sample_variance(self) -> float:
        return self.m2 / self.n if self.n > 0.0 else 0.0

    def _read(self, model: _Component, x: float) -> float:
        """Where a component reads value ``x``: integer data at the middle of its interval."""
        return x + 0.5 if (self.integer and not _integer_only(model)) else x

    def _best(self) -> float:
        """``max(self.log_weights)``: the first, then any larger one (the same comparisons)."""
        log_weights = self.log_weights
        best = log_weights[0]
        for i in range(1, _N_MODELS):
            lw = log_weights[i]
            if lw > best:
                best = lw
        return best

    def _total(self, best: float) -> float:
        """The sum of ``e^(lw − best)`` over the components in play, in their order: the
        normaliser of their weights."""
        log_weights = self.log_weights
        total = 0.0
        for i in range(_N_MODELS):
            lw = log_weights[i]
            if lw == _NEG_INF:
                continue
            total += libm.exp(lw - best)
        return total

    def _active(self) -> list[tuple[_Component, float]]:
        """(component, relative weight) of the components at least ``MIN_RELATIVE_WEIGHT``
        of the weight. The per-bucket callers (``probability``, ``one_tail``,
        ``probabilities_low_high``, ``variance``) walk the same weights in place, without these lists:
        ``e^(lw − best) / total``, recomputed, is the same float."""
        best = self._best()
        total = self._total(best)
        out = []
        for i in range(_N_MODELS):
            w = self._weight(i, best, total)
            if w > 0.0:
                out.append((self.models[i], w))
        return out

    def _weight(self, i: int, best: float, total: float) -> float:
        """Component ``i``'s relative weight ``e^(lw − best) / total`` if it is at least
        ``MIN_RELATIVE_WEIGHT``, else 0.0 (left out, as a component out of play)."""
        lw = self.log_weights[i]
        if lw == _NEG_INF:
            return 0.0
        w = libm.exp(lw - best) / total
        return w if w >= MIN_RELATIVE_WEIGHT else 0.0

    # ------------------------------------------------------------------ learning
    def _adjust_offset(self, x: float) -> None:
        if x + self.offset > 0.0:
            return
        # counts keep an integer offset so the Poisson still reads integers
        self.offset = math.floor(-x) + 1.0 if self.integer else -x + OFFSET_MARGIN
        for m in self.models:
            if m.name != "normal":
                m.refit(self.mean, self.sample_variance(), self.n, self.offset)

    def add(self, x: float, w: float) -> None:
        """Learn value ``x`` with count weight ``w``.

        Runs twice per series and bucket, so names are looked up once and ``_read`` is
        inlined (``xr``: where a continuous component reads ``x``); the components' weighted
        log-likelihoods are kept in ``lls`` by index (a C array when compiled, no list of
        floats and Nones: a component scores x exactly when its log weight is not −inf, which
        nothing changes in between) and the log weights are updated in place; the arithmetic
        and its order are those of the plain form, ``tests/anomaly/test_count_fastpaths.py``."""
        if w <= 0.0:
            return
        log_weights = self.log_weights
        integer = self.integer
        if integer and (x != libm.floor(x)) and log_weights[3] > _NEG_INF:
            log_weights[3] = _NEG_INF  # no longer counts: the Poisson drops out
        self._adjust_offset(x)
        was_informative = self.informative()
        models = self.models
        xr = x + 0.5 if integer else x
        lls = [0.0, 0.0, 0.0, 0.0]  # w · log-likelihood of each component that scores x
        best_ratio = _NEG_INF
        if was_informative:
            for i in range(_N_MODELS):
                if log_weights[i] == _NEG_INF:
                    continue
                m = models[i]
                ll = m.logpdf(x if _integer_only(m) else xr)
                mode_ll = m.logpdf(m.mode())  # a count model reads its mode as it is: _read is the identity there
                best_ratio = max(best_ratio, ll - max(mode_ll, ll))
                lls[i] = w * ll
        # the data's decayed moments, before the components learn x
        self.n += w
        d = x - self.mean
        self.mean += w * d / self.n
        self.m2 += w * d * (x - self.mean)
        jitter = INTEGER_JITTER if integer else 0.0
        for i in range(_N_MODELS):
            if log_weights[i] > _NEG_INF:
                m = models[i]
                m.add(x if _integer_only(m) else xr, w, jitter)
        if not was_informative:
            return
        # ``max`` of the scored values: the first, then any larger one
        scored = False
        top_ll = 0.0
        for i in range(_N_MODELS):
            if log_weights[i] == _NEG_INF:
                continue
            if not scored or lls[i] > top_ll:
                top_ll = lls[i]
                scored = True
        if not scored:
            return
        floor = top_ll - (w * LOG_MAX_BAYES_FACTOR + best_ratio)
        var = self.sample_variance()
        for i in range(_N_MODELS):
            if log_weights[i] == _NEG_INF:
                continue
            m = models[i]
            ll = lls[i]
            mv = m.variance()
            penalty = -w * LOG_MAX_BAYES_FACTOR * max(1.0 - VARIANCE_MISMATCH * var / mv, 0.0) if mv > 0 else 0.0
            log_weights[i] += max(ll, floor) + penalty
        top = self._best()
        for i in range(_N_MODELS):
            lw = log_weights[i]
            if lw > _NEG_INF:
                log_weights[i] = lw - top

    def shift(self, delta: float) -> None:
        """Move the learnt distribution by ``delta``: the decomposition has taken over
        ``−delta`` of the level (ml-cpp re-initialises the residual model when its trend
        or seasonal components change). Exact for every component: the normal moves its
        mean, the others their offset; a non-integer shift ends the Poisson's part."""
        if delta == 0.0:
            return
        self.mean += delta
        self.offset -= delta
        for m in self.models:
            if isinstance(m, NormalComponent):
                m.ng.mean += delta
                m.ng._t = None
            else:
                m.offset -= delta  # type: ignore[attr-defined]
        if delta != math.floor(delta):
            self.log_weights[3] = -math.inf

    def age(self, alpha: float) -> None:
        """Decay by ``alpha = e^−decayRate·t``."""
        for m in self.models:
            m.age(alpha)
        log_weights = self.log_weights  # in place: the same floats as a new list of them
        for i in range(_N_MODELS):
            lw = log_weights[i]
            if lw > _NEG_INF:
                log_weights[i] = alpha * lw
        self.n *= alpha
        self.m2 *= alpha

    # ------------------------------------------------------------------ prediction
    def probability(self, x: float, side: str, vs: float = 1.0) -> float:
        """Probability of a less likely sample than ``x`` (see module docstring); ``vs``:
        the seasonal variance scale at the value's time (``CountSeries.variance_scale``)."""
        if not self.informative():
            return 1.0
        best = self._best()
        total = self._total(best)
        p = 0.0
        for i in range(_N_MODELS):  # _active() in place
            w = self._weight(i, best, total)
            if w > 0.0:
                m = self.models[i]
                y = self._read(m, x)
                p += w * _sided_tails(m, y, vs, side)
        return min(max(p, 0.0), 1.0)

    def probabilities_low_high(self, x: float) -> tuple[float, float]:
        """``(probability(x, "low"), probability(x, "high"))`` in one pass: each component's
        c.d.f. and survival function are computed once for both sides (a two-sided series
        scores its multi-bucket feature on both), each side summed in the same order."""
        if not self.informative():
            return 1.0, 1.0
        best = self._best()
        total = self._total(best)
        lo = hi = 0.0
        for i in range(_N_MODELS):  # _active() in place
            w = self._weight(i, best, total)
            if w > 0.0:
                m = self.models[i]
                y = self._read(m, x)
                c, s = m.cdf(y), m.sf(y)
                lo += w * sided(c, s, "low")
                hi += w * sided(c, s, "high")
        return min(max(lo, 0.0), 1.0), min(max(hi, 0.0), 1.0)

    def one_tail(self, x: float, vs: float = 1.0) -> float:
        """The smaller one-tailed probability of ``x`` (for ml-cpp's outlier weights), the
        predictive's variance scaled by ``vs``."""
        if not self.informative():
            return 1.0
        best = self._best()
        total = self._total(best)
        lo = hi = 0.0
        for i in range(_N_MODELS):  # _active() in place
            w = self._weight(i, best, total)
            if w > 0.0:
                m = self.models[i]
                y = self._read(m, x)
                lo += w * m.cdf(y, vs)
                hi += w * m.sf(y, vs)
        return min(lo, hi, 1.0)

    def interval(self, confidence: float) -> tuple[float, float]:
        """The central ``confidence`` % interval of the predictive: the weighted mean of
        the components' intervals (ml-cpp ``COneOfNPrior::marginalLikelihoodConfidenceInterval``,
        exact when one component dominates); counts read by a continuous component at
        ``x + 0.5`` are read back."""
        ql, qu = (100.0 - confidence) / 200.0, (100.0 + confidence) / 200.0
        lo = hi = 0.0
        for m, w in self._active():
            shift = self._read(m, 0.0)
            lo += w * (m.quantile(ql) - shift)
            hi += w * (m.quantile(qu) - shift)
        return lo, hi

    def mean_value(self) -> float:
        """The predictive mean (the typical value of a record)."""
        return self.mean

    def variance(self) -> float:
        """The predictive variance: the components' variances by their weights (ml-cpp
        ``COneOfNPrior::marginalLikelihoodVariance``); 0 until informative. The seasonal
        variance scale compares the decomposition's variance with it."""
        if not self.informative():
            return 0.0
        best = self._best()
        total = self._total(best)
        v = 0.0
        for i in range(_N_MODELS):  # _active() in place: a step asks for it twice
            w = self._weight(i, best, total)
            if w > 0.0:
                m = self.models[i]
                v += w * m.variance()
        return v

    def to_state(self) -> list[Any]:
        return [
            [m.to_state() for m in self.models],  # type: ignore[attr-defined]
            [lw if lw > -math.inf else None for lw in self.log_weights],
            self.integer, self.offset, self.n, self.mean, self.m2,
        ]

    @classmethod
    def from_state(cls, s: list[Any]) -> "OneOfNPrior":
        obj = cls(bool(s[2]))
        for m, ms in zip(obj.models, s[0]):
            m.load(ms)  # type: ignore[attr-defined]
        obj.log_weights = [-math.inf if lw is None else float(lw) for lw in s[1]]
        obj.offset, obj.n, obj.mean, obj.m2 = float(s[3]), float(s[4]), float(s[5]), float(s[6])
        return obj
