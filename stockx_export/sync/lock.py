"""One push per destination at a time: an OS lock on ``<work dir>/<destination id>.lock``.

``flock`` is held by the open file, so the operating system releases it when
the process ends in any way, ``kill -9`` included: a crashed push never leaves
a stale lock behind. The file itself stays (removing it could let two
processes lock two different files); it holds the holder's pid and start
time, for the message the second push prints.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

from stockx_export.errors import ExportError


class PushLocked(ExportError):
    """Another push to the same destination holds the lock."""


class PushLock:
    """``with PushLock(path, what):`` holds the lock for the block, or raises :class:`PushLocked`."""

    def __init__(self, path: Path, what: str, started_at: str) -> None:
        self.path = path
        self.what = what
        self.started_at = started_at
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise PushLocked(
                f"another push to {self.what} is running{holder}; nothing was sent: "
                "wait for it to finish, then run this push again"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "started_at": self.started_at}).encode("utf-8"))
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "PushLock":
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _holder(fd: int) -> str:
    """`` (pid 123, started 2026-...)`` from the lock file, or '' when unreadable."""
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        return f" (pid {int(info['pid'])}, started {info['started_at']} UTC)"
    except (OSError, ValueError, KeyError, TypeError):
        return ""
