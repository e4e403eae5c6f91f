"""ml-cpp's test random numbers, so its unit tests' random inputs can be reproduced.

``test::CRandomNumbers`` draws from ``CPRNG::CXorShift1024Mult`` (xorshift1024*, seeded
with 16 outputs of splitmix64 from 0) through boost's ``uniform_real_distribution``:
one 64-bit draw x gives ``a + x / 2^64 · (b − a)``. Facts from elastic/ml-cpp
(``lib/maths/common/CPRNG.cc``, ``lib/test/CRandomNumbers.cc``), written anew for tests.

Integer uniforms and Poisson counts follow boost.random (1.81, the algorithms ml-cpp's
tests get from ``uniform_int_distribution`` and ``poisson_distribution``): an integer in
[a, b] is one draw divided by a bucket size ⌊(2^64 − 1) / (b − a + 1)⌋ (plus one when the
remainder is b − a), redrawn when the quotient exceeds b − a; a Poisson count below mean
10 is found by inversion from one uniform on [0, 1), from 10 up by Hörmann's transformed
rejection (PTRD) with boost's constants.
"""

from __future__ import annotations

import math

MASK = (1 << 64) - 1


def _splitmix64(state: int) -> tuple[int, int]:
    state = (state + 0x9E3779B97F4A7C15) & MASK
    x = state
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return state, x ^ (x >> 31)


class RandomNumbers:
    """A fresh ``test::CRandomNumbers`` (every ml-cpp test makes its own)."""

    def __init__(self) -> None:
        state = 0
        self.x = []
        for _ in range(16):
            state, value = _splitmix64(state)
            self.x.append(value)
        self.p = 0

    def _next(self) -> int:
        x0 = self.x[self.p]
        self.p = (self.p + 1) & 15
        x1 = self.x[self.p]
        x1 ^= (x1 << 31) & MASK
        self.x[self.p] = x1 ^ x0 ^ (x1 >> 11) ^ (x0 >> 30)
        return (self.x[self.p] * 1181783497276652981) & MASK

    def _unit(self) -> float:
        """boost's ``uniform_01``: a draw over 2^64, redrawn when it rounds to 1."""
        while True:
            value = float(self._next()) / 18446744073709551616.0
            if value < 1.0:
                return value

    def uniform(self, a: float, b: float, n: int) -> list[float]:
        """``generateUniformSamples(a, b, n)`` for doubles."""
        out = []
        while len(out) < n:
            value = float(self._next()) / 18446744073709551616.0 * (b - a) + a
            if value < b:
                out.append(value)
        return out

    def uniform_int(self, a: int, b: int, n: int) -> list[int]:
        """``generateUniformSamples(a, b, n)`` for ``size_t``: integers in [a, b)."""
        span = b - 1 - a
        if span == 0:
            return [a] * n
        bucket = MASK // (span + 1)
        if MASK % (span + 1) == span:
            bucket += 1
        out = []
        while len(out) < n:
            value = self._next() // bucket
            if value <= span:
                out.append(a + value)
        return out

    def poisson(self, mean: float, n: int) -> list[int]:
        """``generatePoissonSamples(mean, n)``."""
        if mean < 10.0:
            return [self._poisson_inversion(mean) for _ in range(n)]
        return [self._poisson_ptrd(mean) for _ in range(n)]

    def _poisson_inversion(self, mean: float) -> int:
        p = math.exp(-mean)
        x = 0
        u = self._unit()
        while u > p:
            u -= p
            x += 1
            p = mean * p / x
        return x

    def _poisson_ptrd(self, mean: float) -> int:
        smu = math.sqrt(mean)
        b = 0.931 + 2.53 * smu
        a = -0.059 + 0.02483 * b
        inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
        v_r = 0.9277 - 3.6224 / (b - 2)
        while True:
            v = self._unit()
            if v <= 0.86 * v_r:
                u = v / v_r - 0.43
                return int(math.floor((2 * a / (0.5 - abs(u)) + b) * u + mean + 0.445))
            if v >= v_r:
                u = self._unit() - 0.5
            else:
                u = v / v_r - 0.93
                u = (-0.5 if u < 0 else 0.5) - u
                v = self._unit() * v_r
            us = 0.5 - abs(u)
            if us < 0.013 and v > us:
                continue
            k = math.floor((2 * a / us + b) * u + mean + 0.445)
            v = v * inv_alpha / (a / (us * us) + b)
            if k >= 10:
                bound = ((k + 0.5) * math.log(mean / k) - mean - 0.91893853320467267 + k
                         - (1 / 12.0 - (1 / 360.0 - 1 / (1260.0 * k * k)) / (k * k)) / k)
                if math.log(v * smu) <= bound:
                    return int(k)
            elif k >= 0:
                if math.log(v) <= k * math.log(mean) - mean - _LOG_FACTORIAL[int(k)]:
                    return int(k)


_LOG_FACTORIAL = [math.log(math.factorial(k)) for k in range(10)]  # boost's poisson_table
