"""The spool directory of ``ecs.spool``: removed at the end of its run, and, when the run was
killed with SIGKILL, by the next run; never while its run (or a process it forked) lives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from ctdetect.ecs import spool


def _spools(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.name.startswith(spool.PREFIX))


def _start_holder(root: Path, fork_child: bool = False) -> tuple[subprocess.Popen[str], int]:
    """A process that opens a spool under ``root`` and waits to be killed, optionally with
    a forked child that keeps running; it and the child's process id (0: none)."""
    code = textwrap.dedent(f"""
        import os, time
        from ctdetect.ecs.spool import spool_directory
        with spool_directory({str(root)!r}):
            child = os.fork() if {fork_child!r} else 0
            if {fork_child!r} and child == 0:
                time.sleep(60)
                os._exit(0)
            print(child, flush=True)
            time.sleep(60)
    """)
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    return holder, int(holder.stdout.readline())


def test_a_spool_is_locked_while_used_and_gone_after(tmp_path: Path) -> None:
    with spool.spool_directory(str(tmp_path)) as path:
        assert Path(path).parent == tmp_path and Path(path).name.startswith(spool.PREFIX)
        assert (Path(path) / spool.LOCK_NAME).exists()
        (Path(path) / "0").write_bytes(b"chunk")
        assert spool.remove_abandoned(str(tmp_path)) == []  # our own: held
        assert Path(path).is_dir()
    assert list(tmp_path.iterdir()) == []


def test_a_killed_runs_spool_is_removed_by_the_next_run(tmp_path: Path) -> None:
    holder, _ = _start_holder(tmp_path)
    try:
        (left,) = _spools(tmp_path)
        (left / "3").write_bytes(b"x" * 1000)
        assert spool.remove_abandoned(str(tmp_path)) == []  # alive: kept
        assert left.is_dir()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert _spools(tmp_path) == [left]  # SIGKILL: nothing could clean up
    with spool.spool_directory(str(tmp_path)) as path:
        assert _spools(tmp_path) == [Path(path)]
    assert list(tmp_path.iterdir()) == []


def test_a_spool_held_by_a_forked_child_is_kept(tmp_path: Path) -> None:
    """The lock is the open file's, which a forked worker shares: a spool whose run was
    killed while one of its workers still runs is still in use."""
    holder, child = _start_holder(tmp_path, fork_child=True)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    (left,) = _spools(tmp_path)
    assert spool.remove_abandoned(str(tmp_path)) == []
    assert left.is_dir()
    os.kill(child, signal.SIGKILL)  # the orphan is not ours to wait for: its lock goes as it dies
    deadline = time.monotonic() + 10
    while not spool.remove_abandoned(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _spools(tmp_path) == []


def test_directories_without_a_lock_are_left_alone(tmp_path: Path) -> None:
    old = tmp_path / f"{spool.PREFIX}before-locks"
    old.mkdir()
    other = tmp_path / "not-a-spool"
    other.mkdir()
    assert spool.remove_abandoned(str(tmp_path)) == []
    assert old.is_dir() and other.is_dir()
    assert spool.remove_abandoned(str(tmp_path / "missing")) == []
