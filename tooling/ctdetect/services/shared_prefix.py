"""Inputs that begin alike: feed the common beginning once, then continue each in a fork.

Replay's scenarios are often built the same way: the same two weeks of history, then a
different last day (an attack, an ordinary day). Feeding the history to the rules and
jobs is nearly all of each scenario's cost, and the state it leaves depends only on the
events fed (``backends.embedded.EmbeddedRun``). So the history is fed once, the process
forks, and each child feeds its own remaining events, finishes and sends its result
back: the result is the one a run of the whole input gives, for a fraction of the work.

Only where ``os.fork`` exists (the forked child starts from the fed state, copy on write);
elsewhere the caller runs each input alone.
"""

from __future__ import annotations

import os
import pickle
import traceback
from typing import Any, Callable, Sequence, TypeVar

R = TypeVar("R")

#: below this many shared events, a fork saves less than it costs
MIN_SHARED_EVENTS = 1000


def can_fork() -> bool:
    """Whether this platform can continue a fed run in a forked process."""
    return hasattr(os, "fork")


def common_prefix(inputs: Sequence[Sequence[dict[str, Any]]]) -> int:
    """How many leading events every input has in common (equal, in the same order)."""
    if not inputs:
        return 0
    first = inputs[0]
    shared = min(len(events) for events in inputs)
    for other in inputs[1:]:
        n = 0
        limit = shared
        while n < limit and (other[n] is first[n] or other[n] == first[n]):
            n += 1
        shared = n
        if not shared:
            break
    return shared


class ForkError(RuntimeError):
    """A forked continuation failed (the message carries the child's traceback)."""


def continue_in_forks(count: int, finish_one: Callable[[int], R]) -> list[R]:
    """``finish_one(i)`` for i in range(count), each in a child forked from this process as it
    is now (so each starts from the state fed so far and none sees another's), one after
    the other; their pickled results, in order. A child that raises: ``ForkError``."""
    results: list[R] = []
    for i in range(count):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: finish, send, and leave without running the parent's cleanup
            code = 0
            try:
                os.close(read_end)
                try:
                    payload = pickle.dumps((True, finish_one(i)), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
                    payload = pickle.dumps((False, traceback.format_exc()))
                with os.fdopen(write_end, "wb") as out:
                    out.write(payload)
            except BaseException:  # noqa: BLE001 - nothing may escape a forked child
                code = 1
            finally:
                os._exit(code)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as inp:
            payload = inp.read()
        _, status = os.waitpid(pid, 0)
        if not payload:
            raise ForkError(f"a forked continuation ended without a result (wait status {status})")
        ok, value = pickle.loads(payload)
        if not ok:
            raise ForkError(f"a forked continuation failed:\n{value}")
        results.append(value)
    return results
