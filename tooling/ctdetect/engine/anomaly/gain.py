"""How much of each prediction error the decomposition's components learn: ml-cpp's gain.

ml-cpp's decomposition (elastic/ml-cpp 7a29b4b34, ``CTimeSeriesDecompositionDetail``:
``decompose`` and ``CComponents::CGainController``), in our words. Each value's error
(the value less the trend and the seasonal components in use) is handed to every
component: each learns its own prediction plus ``error / Z``, with
``Z = max((m + 1) / gain, 1)`` for m seasonal components in use. The gain is 3, so with
up to two seasonal components each component learns the whole error and follows a
change quickly; but when the components' summed amplitude grows, the sign that they feed
on each other's errors, the gain drops to 0.8 and each learns less than its share.

The controller keeps the decayed mean of the summed magnitudes of the seasonal
predictions (each less its component's mean) and a decayed weighted least-squares line of
that mean against time (in weeks from an origin that follows the week, weighted by the
mean's sample weight). The amplitude grows when the line's slope exceeds 1 % of the mean
a week. Both age at the decomposition's decay rate per day. When components are added
the controller is cleared and seeded with their predictions over the window they were
fitted to, a bucket at a time.

Earlier ml-cpp versions, and this emulation until now, split the error ``1 / (m + 1)``
to each component (a gain of 1).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

STABLE_GAIN = 3.0  # CGainController::gain: the usual gain
DAMPED_GAIN = 0.8  # ... when the summed amplitude trends upwards
GROWTH = 0.01  # the slope, per week, over the mean amplitude at which it is "trending upwards"
WEEK_S = 7 * 86400
MAX_CONDITION = 1e15  # a line over times too close together is no line: no slope


class GainController:
    """ml-cpp's ``CGainController`` for one series' decomposition (see module)."""

    __slots__ = ("origin_s", "amp_n", "amp_mean", "line")

    def __init__(self) -> None:
        self.origin_s = 0.0
        self.amp_n = 0.0  # the decayed sample weight of the mean amplitude
        self.amp_mean = 0.0
        self.line = [0.0, 0.0, 0.0, 0.0, 0.0]  # weight, then decayed means of t, t², y, t·y

    def clear(self) -> None:
        self.origin_s = 0.0
        self.amp_n = self.amp_mean = 0.0
        self.line = [0.0, 0.0, 0.0, 0.0, 0.0]

    def gain(self) -> float:
        """3, or 0.8 while the mean summed amplitude grows (see module)."""
        if self.line[0] > 0.0 and self.slope() > GROWTH * self.amp_mean:
            return DAMPED_GAIN
        return STABLE_GAIN

    def share(self, in_use: int) -> float:
        """The share ``1 / Z`` of the error each component learns with ``in_use`` seasonal
        components in use."""
        return 1.0 / max((in_use + 1) / self.gain(), 1.0)

    def slope(self) -> float:
        """The line's slope, per week (0 while its times are too close to fit one)."""
        n, mt, mtt, my, mty = self.line
        var_t = mtt - mt * mt
        if n <= 0.0 or var_t <= 0.0 or (1.0 + mtt) ** 2 > MAX_CONDITION * var_t:
            return 0.0
        return (mty - mt * my) / var_t

    def _add_amplitude(self, predictions: Iterable[float]) -> None:
        # a loop, not ``sum`` of a generator (a closure object per value learnt): the same
        # double (Python 3.11's ``sum`` of floats is these left-to-right additions; 3.12's
        # compensated sum gives them too for the at most two predictions, daily and weekly)
        amplitude = 0.0
        for p in predictions:
            amplitude += abs(p)
        self.amp_n += 1.0
        self.amp_mean += (amplitude - self.amp_mean) / self.amp_n

    def seed(self, predictions: Iterable[float]) -> None:
        """Count a bucket of the window new components were fitted to."""
        self._add_amplitude(predictions)

    def add(self, t_s: float, predictions: list[float]) -> None:
        """Count the seasonal predictions (each less its component's mean) of a value at
        ``t_s``; nothing while no seasonal component is in use."""
        if not predictions:
            return
        self._shift_origin(t_s)
        self._add_amplitude(predictions)
        t = (t_s - self.origin_s) / WEEK_S
        line = self.line
        w = self.amp_n
        line[0] += w
        a = w / line[0]
        y = self.amp_mean
        line[1] += a * (t - line[1])
        line[2] += a * (t * t - line[2])
        line[3] += a * (y - line[3])
        line[4] += a * (t * y - line[4])

    def _shift_origin(self, t_s: float) -> None:
        """Keep the origin at the start of the current week, so the times stay small."""
        origin = float(t_s // WEEK_S * WEEK_S)
        if origin <= self.origin_s:
            return
        d = (origin - self.origin_s) / WEEK_S
        line = self.line
        if line[0] > 0.0:
            # re-express the means in t' = t - d
            mt, mtt, my, mty = line[1], line[2], line[3], line[4]
            line[1] = mt - d
            line[2] = mtt - 2.0 * d * mt + d * d
            line[4] = mty - d * my
        self.origin_s = origin

    def age(self, factor: float) -> None:
        self.amp_n *= factor
        self.line[0] *= factor

    def to_state(self) -> list[Any]:
        return [self.origin_s, self.amp_n, self.amp_mean, list(self.line)]

    @classmethod
    def from_state(cls, state: list[Any]) -> "GainController":
        obj = cls()
        obj.origin_s, obj.amp_n, obj.amp_mean = float(state[0]), float(state[1]), float(state[2])
        obj.line = [float(v) for v in state[3]]
        return obj
