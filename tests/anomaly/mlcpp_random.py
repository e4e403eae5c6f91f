"""ml-cpp's test random numbers, so its unit tests' random inputs can be reproduced.

``test::CRandomNumbers`` draws from ``CPRNG::CXorShift1024Mult`` (xorshift1024*, seeded
with 16 outputs of splitmix64 from 0) through boost's ``uniform_real_distribution``:
one 64-bit draw x gives ``a + x / 2^64 · (b − a)``. Facts from elastic/ml-cpp
(``lib/maths/common/CPRNG.cc``, ``lib/test/CRandomNumbers.cc``), written anew for tests.
"""

from __future__ import annotations

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

    def uniform(self, a: float, b: float, n: int) -> list[float]:
        """``generateUniformSamples(a, b, n)`` for doubles."""
        out = []
        while len(out) < n:
            value = float(self._next()) / 18446744073709551616.0 * (b - a) + a
            if value < b:
                out.append(value)
        return out
