"""Progress on stderr for runs that take more than a second or two, on a terminal only.

Why here: progress is for the person at the terminal, so it belongs to the front end;
services take a plain callback and never know whether anything is shown. Output redirected
to a file or a pipe (CI logs) gets no bar, so logs stay clean. rich draws the bars and
removes them when the run ends (``transient``), leaving only the command's own output.

- ``spinner(enabled, description)``: a run whose size is not known (a replay, a build).
- ``steps(enabled, description)``: yields ``tick(label, done, total)`` for a run of known
  steps (validate's checks).
- ``counter(enabled, description)``: yields ``tick(n)`` for a count with no known end
  (hunt's events read).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator


def _progress(*columns: object):  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.progress import Progress

    return Progress(*columns, console=Console(file=sys.stderr), transient=True)


@contextlib.contextmanager
def spinner(enabled: bool, description: str) -> Iterator[None]:
    """A spinner with the elapsed time while the block runs."""
    if not enabled:
        yield
        return
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    with _progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()) as bar:
        bar.add_task(description, total=None)
        yield


@contextlib.contextmanager
def steps(enabled: bool, description: str) -> Iterator[Callable[[str, int, int], None] | None]:
    """A bar over a known number of steps; ``tick(label, done, total)`` moves it."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    with _progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
        task = bar.add_task(description, total=None)

        def tick(label: str, done: int, total: int) -> None:
            bar.update(task, description=f"{description}: {label}", completed=done, total=total)

        yield tick


@contextlib.contextmanager
def counter(enabled: bool, description: str) -> Iterator[Callable[[int], None] | None]:
    """A running count (``tick(n)``: ``n`` so far) with a spinner and the elapsed time."""
    if not enabled:
        yield None
        return
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    with _progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()) as bar:
        task = bar.add_task(description, total=None)

        def tick(n: int) -> None:
            bar.update(task, description=f"{n:,} {description}")

        yield tick
