"""Retries that cannot repeat a write, within one deadline for the whole run.

What is retried (``Cluster.send`` applies it):

- 429 (queues full) and 503 (node starting, shard not ready) from Elasticsearch or
  Kibana: the request was refused, not applied; retried whatever its method.
- A connection that could not be made: nothing was sent; retried.
- An uncertain outcome (a timeout after sending, a dropped connection, 500/502/504): a
  read, or a write that is the same when repeated, is retried; any other write is retried
  only after its ``Confirm`` read shows it was not applied (``elastic.confirm``).

Waits grow exponentially (``base * 2**n``, with jitter) up to ``cap``; a ``Retry-After``
is honoured but never beyond ``cap``. Every wait and every request is bounded by one
``Deadline`` for the whole run (``--timeout``): a wait that would pass it is not started,
and the run stops with a message saying so. While waiting, ``progress`` is told why and
for how long, so a long wait is never silent.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Callable

REFUSED = frozenset({429, 503})  # not applied: safe to retry any request
UNCERTAIN = frozenset({500, 502, 504})  # may have been applied
RETRYABLE = REFUSED | UNCERTAIN
DEFAULT_TIMEOUT = 600.0  # seconds for a whole deploy or replay run
CONNECT_TIMEOUT = 5.0  # seconds to open a connection
REQUEST_TIMEOUT = 60.0  # seconds for one answer (less when the deadline is nearer)


class Deadline:
    """One deadline for a whole run: ``remaining()`` seconds, never below zero."""

    def __init__(self, seconds: float = DEFAULT_TIMEOUT, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self.end = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self.end - self.clock())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0


@dataclass(slots=True)
class RetryPolicy:
    """``attempts`` tries in all; waits ``base * 2**n`` (with jitter) capped at ``cap`` seconds."""

    attempts: int = 5
    base: float = 0.5
    cap: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep)
    jitter: bool = True
    progress: Callable[[str], None] | None = None  # told about every wait (stderr in the CLI)

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

    def wait(self, attempt: int, retry_after: str | None = None, why: str = "", deadline: Deadline | None = None) -> bool:
        """Wait before the next try; False (and no wait) when the deadline would pass first."""
        seconds = self.delay(attempt, retry_after)
        if deadline is not None and seconds >= deadline.remaining():
            return False
        if self.progress is not None:
            left = f"; {deadline.remaining():.0f} s left of the run's timeout" if deadline is not None else ""
            self.progress(f"waiting {seconds:.1f} s before try {attempt + 2} of {self.attempts}{': ' + why if why else ''}{left}")
        self.sleep(seconds)
        return True


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
