"""The decomposition's gain controller (``gain.GainController``, ml-cpp's ``CGainController``):
the share of each error the trend learns, and when it is damped."""

from __future__ import annotations

import math

import pytest

from ctdetect.engine.anomaly.gain import DAMPED_GAIN, STABLE_GAIN, WEEK_S, GainController
from ctdetect.engine.anomaly.timeseries import CountSeries
from ctdetect.engine.anomaly.trend import TrendComponent

T0 = 1_767_225_600  # seconds, a Thursday


def _fed(amplitude, weeks: int = 3, step_s: int = 3600) -> GainController:
    g = GainController()
    for k in range(weeks * WEEK_S // step_s):
        t = T0 + k * step_s
        g.age(math.exp(-0.024 * step_s / 86400.0))
        g.add(t, [amplitude(t), -0.5 * amplitude(t)])
    return g


def test_the_share_is_the_whole_error_with_up_to_two_components_at_the_stable_gain() -> None:
    g = GainController()
    assert g.gain() == STABLE_GAIN
    # Z = max((m + 1) / 3, 1)
    assert [g.share(m) for m in range(4)] == [1.0, 1.0, 1.0, pytest.approx(0.75)]


def test_a_steady_amplitude_keeps_the_gain_and_a_growing_one_damps_it() -> None:
    steady = _fed(lambda t: 10.0)
    assert steady.slope() == pytest.approx(0.0, abs=1e-9) and steady.gain() == STABLE_GAIN
    growing = _fed(lambda t: 10.0 + 5.0 * (t - T0) / WEEK_S)
    assert growing.slope() > 0.01 * growing.amp_mean
    assert growing.gain() == DAMPED_GAIN
    # Z = max((m + 1) / 0.8, 1): the trend learns 0.8 / (m + 1) of the error
    assert growing.share(0) == pytest.approx(0.8) and growing.share(2) == pytest.approx(0.8 / 3.0)
    shrinking = _fed(lambda t: 30.0 - 5.0 * (t - T0) / WEEK_S)
    assert shrinking.gain() == STABLE_GAIN


def test_the_origin_follows_the_week_and_keeps_the_slope() -> None:
    g = _fed(lambda t: 10.0 + 5.0 * (t - T0) / WEEK_S)
    assert g.origin_s == (T0 + 3 * WEEK_S - 3600) // WEEK_S * WEEK_S
    # the same line measured from a fixed origin
    n = mt = mtt = my = mty = 0.0
    amp_n = amp_mean = 0.0
    for k in range(3 * WEEK_S // 3600):
        t = T0 + k * 3600
        f = math.exp(-0.024 * 3600 / 86400.0)
        amp_n *= f
        n *= f
        a = 1.5 * (10.0 + 5.0 * (t - T0) / WEEK_S)
        amp_n += 1.0
        amp_mean += (a - amp_mean) / amp_n
        n += amp_n
        x = (t - T0) / WEEK_S
        r = amp_n / n
        mt += r * (x - mt)
        mtt += r * (x * x - mtt)
        my += r * (amp_mean - my)
        mty += r * (x * amp_mean - mty)
    assert g.slope() == pytest.approx((mty - mt * my) / (mtt - mt * mt), rel=1e-6)


def test_no_seasonal_prediction_leaves_the_controller_alone_and_state_round_trips() -> None:
    g = GainController()
    g.add(T0, [])
    assert g.line[0] == 0.0 and g.amp_n == 0.0
    grown = _fed(lambda t: 10.0 + 5.0 * (t - T0) / WEEK_S)
    back = GainController.from_state(grown.to_state())
    assert back.to_state() == grown.to_state() and back.gain() == grown.gain()


def test_a_series_with_a_daily_profile_in_use_feeds_its_controller() -> None:
    """Three weeks of a daily shape: once the daily profile is in use its offsets are counted."""
    series = CountSeries(T0 * 1000, integer=False)
    for b in range(21 * 24):
        t = T0 + b * 3600
        value = 100.0 + (50.0 if 9 <= (t // 3600) % 24 < 17 else 0.0)
        series.step(value, t * 1000, b, 1.0, 3600, 0.01, 0.024, "two")
    assert series.daily is not None and series.daily.useful()
    assert series.gain.amp_mean > 10.0 and series.gain.line[0] > 0.0
    restored = CountSeries.from_state(series.to_state(), 3600)
    assert restored.gain.to_state() == series.gain.to_state()


def test_with_a_profile_in_use_the_trend_learns_the_whole_error() -> None:
    """At the stable gain, with one profile in use, the trend learns ``x0 + error``: the
    value less the profile (the split ``1/(m + 1)`` would learn half the error)."""
    series = CountSeries(T0 * 1000, integer=False)
    b = 0
    for b in range(21 * 24):
        t = T0 + b * 3600
        series.step(100.0 + (50.0 if 9 <= (t // 3600) % 24 < 17 else 0.0), t * 1000, b, 1.0, 3600, 0.01, 0.024, "two")
    assert series.gain.gain() == STABLE_GAIN
    t = T0 + (b + 10) * 3600  # 9:00, a value far above the shape
    seasonal, in_use = series._seasonal(t * 1000)
    assert in_use == 1
    learnt: list[float] = []

    class RecordingTrend(TrendComponent):
        """The same trend, noting each value it learns (a subclass: the compiled class's
        methods cannot be patched, but a Python override of a cpdef method is called)."""

        def add(self, t_s: float, y: float, w: float) -> None:
            learnt.append(y)
            super().add(t_s, y, w)

    assert series.trend is not None
    series.trend = RecordingTrend.from_state(series.trend.to_state())
    series.step(400.0, t * 1000, b + 10, 1.0, 3600, 0.01, 0.024, "two")
    assert learnt[0] == pytest.approx(400.0 - seasonal)
