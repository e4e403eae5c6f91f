"""The cyclic garbage collector paused while a job closes a bucket.

Closing a bucket makes many short-lived containers at once: a leaf per scored series
(with its influencer dict, value lists, explanation), the hierarchy's nodes and member
lists, the normalisers' update batches. They all stay alive until the close ends, and
then all die. When the collector runs in the middle of a close (every 700 allocations
it looks at the young objects) it finds them alive and moves them to older generations;
enough of them there triggers a full collection, which walks every object of the process
(the models, the results so far). In ``bench/anomaly.py --only package`` that was 43
full collections and about a fifth of the run's CPU time, none of them finding garbage
the close had made.

With the collector paused for the close those containers are freed by reference counting
when the close ends, before the collector ever sees them, and only what the close keeps
(result documents, new model entries) ages into the older generations. Nothing of the
results depends on when the collector runs. Reference cycles made during a close (the
close makes none on purpose) wait for the first collection after it.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic collector disabled, then restore it as it was (a
    caller that disabled it itself keeps it disabled; an exception re-enables it too)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
