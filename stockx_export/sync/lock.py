"""One push per destination at a time: an OS lock on ``<work dir>/<destination id>.lock``.

``flock`` is held by the open file, so the operating system releases it when
the process ends in any way, ``kill -9`` included: a crashed push never leaves
a stale lock behind (only its file, which the next push to that destination
takes over). The file holds the holder's pid and start time, for the message
the second push prints.

The holder removes the file when it releases the lock, so lock files do not
pile up, one per destination ever pushed to. Removing it is safe because the
lock counts only on the file that is at the path: the holder unlinks it while
still holding the lock, and a process that opened the old file just before
then, and gets its lock just after, sees that the path no longer leads to that
file and starts over on the file now there, which is the one every other
process locks too.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any, Callable

from stockx_export.errors import PushLocked

ATTEMPTS = 100  # starts over at most this often (each one means another push came and went)


def open_lock_file(path: Path) -> int:
    """The lock file's descriptor, the file created when missing."""
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


class PushLock:
    """``with PushLock(path, what):`` holds the lock for the block, or raises :class:`PushLocked`.

    ``opener`` opens the lock file (a seam for tests of the race between opening and locking)."""

    def __init__(self, path: Path, what: str, started_at: str,
                 opener: Callable[[Path], int] = open_lock_file, action: str = "push") -> None:
        self.path = path
        self.what = what
        self.started_at = started_at
        self.opener = opener
        self.action = action  # "push" or "plan": what the holder is doing, what the one refused was to do
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(ATTEMPTS):
            fd = self.opener(self.path)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                os.close(fd)
                raise PushLocked(self.what, holder, action=self.action) from None
            if _is_at(fd, self.path):
                break
            os.close(fd)  # its holder removed it before we locked it: start over
        else:
            raise PushLocked(self.what, path=str(self.path), action=self.action)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "started_at": self.started_at, "action": self.action})
                 .encode("utf-8"))
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            # Removed while still locked (see the module docstring for why that order).
            try:
                if _is_at(self._fd, self.path):
                    self.path.unlink()
            except FileNotFoundError:
                pass
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "PushLock":
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _is_at(fd: int, path: Path) -> bool:
    """Whether ``path`` still leads to the open file ``fd``."""
    try:
        linked = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (linked.st_dev, linked.st_ino) == (opened.st_dev, opened.st_ino)


def _holder(fd: int) -> str:
    """`` (pid 123, started 2026-...)`` from the lock file (`` (a plan, pid 123, ...)`` when
    a plan holds it), or '' when unreadable."""
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        kind = "a plan, " if info.get("action") == "plan" else ""
        return f" ({kind}pid {int(info['pid'])}, started {info['started_at']} UTC)"
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ""
