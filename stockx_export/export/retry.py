"""When to send again, and how fast to send at all: pure rules over an injected clock.

    Clock          the time delivery reads and waits on (tests pass their own: nothing sleeps)
    RetryPolicy    backoff with equal jitter, bounded by attempts and by seconds per page
    retry_after    seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)
    RateLimiter    a token bucket shared by the delivery workers; a 429 empties it for every worker

Nothing here touches the network; every rule is a function of its arguments and
of the clock it is given.
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable

from stockx_export.export.settings import ExportSettings

_SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?")  # delta-seconds; float() would also read nan, inf and -5


@dataclass(frozen=True)
class Clock:
    """Time as delivery sees it.

    ``monotonic`` measures waits, deadlines and budgets; ``wall`` (seconds since the
    epoch) reads HTTP dates; ``sleep`` waits (None: delivery waits on its own stop
    event, so an abort wakes a worker out of its backoff); ``random`` draws jitter
    in [0, 1)."""

    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], Any] | None = None
    random: Callable[[], float] = random.random


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long one page is tried before the delivery gives up."""

    max_attempts: int = 8
    retry_seconds: float = 300.0
    backoff_base: float = 0.5
    backoff_cap: float = 30.0

    @classmethod
    def of(cls, settings: ExportSettings) -> "RetryPolicy":
        return cls(settings.max_attempts, settings.retry_seconds, settings.backoff_base, settings.backoff_cap)

    def backoff(self, attempt: int, draw: float) -> float:
        """The wait after failed attempt ``attempt`` (1-based), for a ``draw`` in [0, 1):
        equal jitter, between half and all of ``backoff_base * 2**(attempt-1)`` (capped),
        so retries spread out and never come at once."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + draw * ceiling / 2

    def gives_up(self, attempt: int, elapsed: float, delay: float) -> bool:
        """Whether the page stops after ``attempt`` attempts in ``elapsed`` seconds, rather
        than wait ``delay`` more: out of attempts, or the wait would end past the budget."""
        return attempt >= self.max_attempts or elapsed + delay > self.retry_seconds


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds (digits, a fraction
    allowed) or an HTTP date (``now`` is the wall clock, seconds since the epoch). None
    when absent or unreadable (``nan``, ``-5``, ``inf``...): the caller then backs off
    as for any retry, rather than retry at once."""
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        # asctime dates (``Sun Nov  6 08:49:37 1994``) carry no zone; HTTP dates are
        # always GMT, and a naive datetime's timestamp() would read it as local time.
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


class RateLimiter:
    """At most ``per_second`` acquisitions per second across threads, evenly spaced: a
    token bucket holding one token, refilled every ``1 / per_second`` seconds, so no
    two requests go out closer together than that (Peak counts requests per second,
    and a burst at the start of a push would be answered 429).

    The bucket is kept as the time its next token comes: acquiring takes that slot
    under a lock and sleeps, outside it, until the slot comes."""

    def __init__(self, per_second: float, clock: Callable[[], float], sleep: Callable[[float], Any]) -> None:
        self._interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = clock()

    def acquire(self) -> float:
        """Wait for the token; returns the time (by the clock) the request may go."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            self._sleep(slot - now)
        return slot

    def defer(self, until: float) -> None:
        """No token before ``until``: a 429 slows every worker, not just the one that saw it."""
        with self._lock:
            self._next = max(self._next, until)
