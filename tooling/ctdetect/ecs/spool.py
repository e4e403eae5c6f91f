"""The private spool directory a run's worker processes hand their chunks through, and the
removal of those that killed runs left behind.

Where: ``/dev/shm`` (memory, not disk) when it is writable, else the temp dir.

Why a lock: a run that ends, fails or is stopped with Ctrl-C removes its spool directory,
but one killed with SIGKILL (the out-of-memory killer, a CI timeout) cannot, and leaves up
to two chunks per worker (~9 MB each) in memory until the machine restarts. So each run
holds an exclusive ``flock`` on a ``.lock`` file inside its directory for as long as it,
or any process it forked (they inherit the descriptor), lives; the kernel drops the lock
when the last holder dies, however it died. Every new spool first removes each spool
directory whose lock it can take: nobody holds it, so nobody uses it. A check of the
owner's process id could not tell: a run in another process namespace sharing
``/dev/shm`` would look dead, and a reused id alive.

The directory is made under a hidden name, locked, then renamed to its final name, so no
other run ever sees it unlocked. A spool directory without a lock file (another user's,
which we cannot open, or one made before locks) is left alone.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

PREFIX = "ctdetect-chunks-"
_MAKING = ".ctdetect-making-"
LOCK_NAME = ".lock"


def spool_root() -> str:
    """``/dev/shm`` when it is a writable directory, else the temp dir."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else tempfile.gettempdir()


def remove_abandoned(root: str) -> list[str]:
    """Remove each spool directory under ``root`` whose lock nobody holds; their paths."""
    removed: list[str] = []
    try:
        entries = [e for e in os.scandir(root) if e.name.startswith(PREFIX) and e.is_dir(follow_symlinks=False)]
    except OSError:
        return removed
    for entry in entries:
        try:
            lock = os.open(os.path.join(entry.path, LOCK_NAME), os.O_RDONLY)
        except OSError:  # no lock file, or not ours to open: left alone
            continue
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: its run is alive
            os.close(lock)
            continue
        try:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
        finally:
            os.close(lock)
    return removed


@contextmanager
def spool_directory(root: str | None = None) -> Iterator[str]:
    """A new, locked spool directory under ``root`` (default ``spool_root()``), removed with
    what is left in it on leaving; abandoned ones are removed first."""
    root = root or spool_root()
    remove_abandoned(root)
    making = tempfile.mkdtemp(prefix=_MAKING, dir=root)
    lock = os.open(os.path.join(making, LOCK_NAME), os.O_RDONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # new and hidden: nobody else can hold it
        path = os.path.join(root, PREFIX + os.path.basename(making)[len(_MAKING):])
        os.rename(making, path)
    except BaseException:
        os.close(lock)
        shutil.rmtree(making, ignore_errors=True)
        raise
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(lock)
