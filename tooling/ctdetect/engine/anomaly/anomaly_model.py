"""ml-cpp's anomaly model: recurring anomalies of a series are tempered.

``CTimeSeriesAnomalyModel`` (elastic/ml-cpp ``lib/maths/time_series/CTimeSeriesModel.cc``),
in our words. While a series' overall probability stays under 0.1 (twice the largest
significant probability 0.05) an anomaly is open; each of its buckets whose own
probability is under 0.1 adds its prediction error. An anomaly is described by its length
(buckets since it opened) and its mean absolute error; spikes and dips each have a model
of these features, learnt with weight ``1 / (1 + length)`` per anomalous bucket and the
remainder when the anomaly closes, decaying at ``0.1 · decayRate / 2``. Once a model is
informative, the open anomaly's features get a one-sided (larger is rarer) probability
``pA``, and the bucket's probability moves towards it:
``p = exp((1 − α)·ln p + α·λ·ln pA)``, with ``α = ½(1 − x + x·y)``,
``x = max((b + ln p) / (b − a), 0)``, ``y = 1 − b / (b − ln pA)``, ``a = −ln 0.1``,
``b = −ln 1e-4`` and ``λ = min(0.1 / p_bucket, 1)``. A burst seen every night has ordinary
features, so ``pA`` is near 1 and its probability rises towards its square root.

ml-cpp models the two features jointly (a bivariate normal). Here only the mean absolute
error has a model (a normal-gamma): most anomalies last one bucket, so a separate model
of the length alone has next to no spread and would call any longer run impossible
(p ≈ 0 pulling every such bucket to the bottom of the scale). The length is still kept:
it is the anomaly's length.
"""

from __future__ import annotations

import math
import math as libm  # compiled: C's libm (the .pxd); see priors.LIBM_NOTE
from typing import Any

from ctdetect.engine.anomaly.priors import NormalGamma

LARGEST_ANOMALY_P = 0.1  # 2 × LARGEST_SIGNIFICANT_PROBABILITY
SMALL_P = 1e-4
_A = -math.log(LARGEST_ANOMALY_P)
_B = -math.log(SMALL_P)


class AnomalyModel:
    """The open anomaly of one series and the feature models of its past anomalies."""

    __slots__ = ("open", "models")

    def __init__(self) -> None:
        # open anomaly: [first bucket, last bucket, sum of errors, sum of |errors|, count]
        self.open: list[float] | None = None
        # [spike, dip] × [length, mean |error|]
        self.models = [[NormalGamma(), NormalGamma()], [NormalGamma(), NormalGamma()]]

    def _features(self) -> tuple[float, float]:
        o = self.open
        assert o is not None
        return o[1] - o[0], o[3] / max(o[4], 1.0)

    def _weight(self) -> float:
        o = self.open
        assert o is not None
        return 1.0 / (1.0 + max(o[1] - o[0], 0.0))

    def _learn(self, weight: float) -> None:
        o = self.open
        if o is None or weight <= 0.0:
            return
        _length, err = self._features()
        self.models[0 if o[2] > 0.0 else 1][1].add(err, weight)

    def sample(self, bucket: int, error: float, p_bucket: float, p_overall: float) -> None:
        """Open, extend or close the anomaly with this bucket's result."""
        if p_overall < LARGEST_ANOMALY_P:
            if self.open is None:
                self.open = [bucket, bucket, 0.0, 0.0, 0.0]
            if p_bucket < LARGEST_ANOMALY_P:
                o = self.open
                o[1] = bucket
                o[2] += error
                o[3] += abs(error)
                o[4] += 1.0
                self._learn(self._weight())
        elif self.open is not None:
            self._learn(1.0 - self._weight())
            self.open = None

    def _anomaly_probability(self) -> float | None:
        o = self.open
        if o is None or o[4] <= 0.0:
            return None
        _length, err = self._features()
        model = self.models[0 if o[2] > 0.0 else 1][1]
        if not model.informative():
            return None
        return min(1.0, 2.0 * model.sf(err))

    def temper(self, p_bucket: float, p_overall: float) -> tuple[float, float]:
        """(tempered overall probability, anomaly probability)."""
        if p_overall >= LARGEST_ANOMALY_P:
            return p_overall, 1.0
        pa = self._anomaly_probability()
        if pa is None:
            return p_overall, 1.0
        lam = 1.0 if p_bucket == 0.0 else min(LARGEST_ANOMALY_P / p_bucket, 1.0)
        lo = libm.log(max(p_overall, 1e-308))
        la = libm.log(max(pa, 1e-308))
        x = max((_B + lo) / (_B - _A), 0.0)
        y = 1.0 - _B / (_B - la)
        alpha = 0.5 * (1.0 - x + x * y)
        return libm.exp((1.0 - alpha) * lo + alpha * lam * la), pa

    def age(self, alpha: float) -> None:
        for side in self.models:
            for m in side:
                m.age(alpha)

    def to_state(self) -> list[Any]:
        return [self.open, [[m.to_state() for m in side] for side in self.models]]

    def load(self, s: list[Any]) -> None:
        self.open = None if s[0] is None else [float(v) for v in s[0]]
        for side, ss in zip(self.models, s[1]):
            for m, ms in zip(side, ss):
                m.load(ms)
