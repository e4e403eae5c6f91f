"""ml-cpp's reweighting of a seasonal fit's outliers (``robust.outlier_weights``) and what it
changes in the seasonality test (``seasonality.find_seasonality``)."""

from __future__ import annotations

import math
import random

import pytest

from ctdetect.engine.anomaly.robust import outlier_weights
from ctdetect.engine.anomaly.seasonality import find_seasonality

HOUR_MS = 3600 * 1000


def test_too_few_values_have_no_outliers() -> None:
    assert outlier_weights([0.0] * 8 + [1e6], [0.0] * 9) == [1.0] * 9  # floor(0.1 * 9) = 0 outliers
    assert outlier_weights([0.0] * 9 + [1e6], [0.0] * 10)[9] < 1.0


def test_a_far_value_keeps_a_hundredth_and_a_near_one_its_weight() -> None:
    # 20 values: 18 at distance 1, one at 4.5, one at 60; 2 outliers, 4 candidates, the
    # furthest quarter (60) is left out of the mean distance: T = 3 * 22.5 / 19
    values = [1.0 if i % 2 else -1.0 for i in range(18)] + [4.5, 60.0]
    weights = outlier_weights(values, [0.0] * 20)
    threshold = 3.0 * 22.5 / 19.0
    assert weights[:18] == [1.0] * 18  # within T/2
    assert weights[18] == pytest.approx(0.1 * (1.0 - 0.9 * math.log(4.5 / threshold) / math.log(16.0)))
    assert weights[19] == pytest.approx(0.01)  # 60 > 16 T


def test_beyond_sixteen_thresholds_the_weight_is_a_hundredth() -> None:
    weights = outlier_weights([0.0] * 19 + [100.0], [0.0] * 20)
    assert weights[:19] == [1.0] * 19
    assert weights[19] == pytest.approx(0.01)


def test_a_one_off_burst_does_not_hide_a_daily_period() -> None:
    """Three days of a small daily spike in noise, and one burst larger than the spikes
    (spikey_data's last 3-day window in ml-cpp's testRealSpikeyDaily has one)."""
    rng = random.Random(7)
    points = []
    for k in range(72):
        v = 1.0 + rng.gauss(0.0, 0.08) + (4.7 if k % 24 == 22 else 0.0) + (10.0 if k == 5 else 0.0)
        points.append((k, v))
    assert find_seasonality(points, HOUR_MS, 72).daily
