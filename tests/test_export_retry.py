"""The retry policy and the rate limiter on their own: pure rules over an injected
clock, no socket, no sleeping (delivery over a real server: test_export_deliver.py)."""

from __future__ import annotations

import threading

import pytest
from peak_server import FakeClock

from stockx_export.export.retry import RateLimiter, RetryPolicy
from stockx_export.export.settings import resolve_settings


def test_backoff_doubles_from_the_base_up_to_the_cap_with_equal_jitter():
    policy = RetryPolicy(max_attempts=10, retry_seconds=1_000, backoff_base=0.5, backoff_cap=4.0)
    assert [policy.backoff(attempt, 1.0) for attempt in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert [policy.backoff(attempt, 0.0) for attempt in range(1, 7)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert policy.backoff(3, 0.5) == 1.5


def test_a_page_gives_up_after_its_attempts_or_past_its_time_budget():
    policy = RetryPolicy(max_attempts=3, retry_seconds=60.0)
    assert not policy.gives_up(attempt=2, elapsed=10.0, delay=5.0)
    assert policy.gives_up(attempt=3, elapsed=0.0, delay=0.1)
    assert not policy.gives_up(attempt=1, elapsed=50.0, delay=10.0)  # ends exactly at the budget
    assert policy.gives_up(attempt=1, elapsed=50.0, delay=10.5)


def test_the_policy_comes_from_the_export_settings():
    settings = resolve_settings(overrides={"max_attempts": 4, "retry_seconds": 90, "backoff_base": 2, "backoff_cap": 8})
    assert RetryPolicy.of(settings) == RetryPolicy(4, 90.0, 2.0, 8.0)


def test_the_limiter_spaces_requests_evenly_from_the_first():
    clock = FakeClock()
    limiter = RateLimiter(4.0, clock, clock.sleep)
    slots = [limiter.acquire() for _ in range(5)]
    assert slots == [1_000.0, 1_000.25, 1_000.5, 1_000.75, 1_001.0]
    assert clock() == 1_001.0  # it waited exactly until each slot


def test_an_idle_limiter_does_not_save_up_a_burst():
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock, clock.sleep)
    limiter.acquire()
    clock.sleep(5.0)  # nothing sent for five seconds
    assert [limiter.acquire() for _ in range(3)] == pytest.approx([1_005.0, 1_005.1, 1_005.2])


def test_a_429_defers_every_later_slot():
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock, clock.sleep)
    limiter.acquire()
    limiter.defer(clock() + 3.0)  # Retry-After: 3
    assert limiter.acquire() == 1_003.0
    assert limiter.acquire() == pytest.approx(1_003.1)
    limiter.defer(clock() - 1.0)  # a deadline already passed changes nothing
    assert limiter.acquire() == pytest.approx(1_003.2)


def test_threads_sharing_the_limiter_each_get_their_own_slot():
    """Slots are handed out under a lock: however the threads interleave, no two
    requests share a slot and no gap is shorter than 1 / rate."""
    clock = FakeClock()
    waits: list[float] = []
    limiter = RateLimiter(50.0, clock, waits.append)  # the clock does not move: every thread asks early
    slots: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(25):
            slot = limiter.acquire()
            with lock:
                slots.append(slot)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(slots) == pytest.approx([1_000.0 + n / 50.0 for n in range(200)])
    assert sorted(waits) == pytest.approx([n / 50.0 for n in range(1, 200)])
