"""Bounded retries with exponential backoff, honouring ``Retry-After``.

Elasticsearch answers 429 when its queues are full and 503 while a node starts or a
shard is not ready; Kibana answers 429/503 under load too. Both are worth retrying a few
times; anything else (4xx) is the caller's to fix and is returned at once.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Callable

RETRYABLE = frozenset({429, 500, 502, 503, 504})


@dataclass(slots=True)
class RetryPolicy:
    """``attempts`` tries in all; waits ``base * 2**n`` (with jitter) capped at ``cap`` seconds."""

    attempts: int = 5
    base: float = 0.5
    cap: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep)
    jitter: bool = True

    def should_retry(self, status: int | None, attempt: int) -> bool:
        """``status`` None means the connection failed (also retried)."""
        return attempt + 1 < self.attempts and (status is None or status in RETRYABLE)

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before try ``attempt + 1`` (attempt counts from 0)."""
        hinted = parse_retry_after(retry_after)
        if hinted is not None:
            return min(hinted, self.cap)
        wait = min(self.cap, self.base * (2**attempt))
        if self.jitter:
            wait *= 0.5 + random.random() / 2
        return wait

    def wait(self, attempt: int, retry_after: str | None = None) -> None:
        self.sleep(self.delay(attempt, retry_after))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())
