"""A real ``stockx export --push`` process killed with SIGKILL, then run again.

Each kill is placed exactly (``paused_push.py`` injects a checkpoint callback
that makes the push pause at a named point, and the test kills it there) or at
moments drawn from a seeded generator and defined by what Peak has seen (the
n-th request arrived, or was answered), never by wall-clock sleeps. After every
kill the accounting must hold:

- the state never holds a row Peak did not take (never "marked sent but not sent");
- the next push sends exactly the rows the state does not hold, each once;
- so the rows sent twice are exactly those Peak took but the state had not
  recorded: at most the pages in flight (``in_flight`` x ``page_rows``), since
  every page is recorded as soon as its own answer is in, whatever its place
  in the page order;
- and in the end Peak holds exactly the table's rows.
"""

from __future__ import annotations

import random
import signal
import time

import pytest
from peak_server import Delay, Stall
from sync_support import (RecordingPeak, acknowledged_keys, expected_rows, make_project, start_push, state_query)

ROWS = 600
PAGE = 50
KEYS = ("product_id", "location_id", "product_variant", "stock_date_at")


@pytest.fixture
def server():
    with RecordingPeak() as peak:
        yield peak


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "proj", ROWS, page_rows=PAGE)


def table_keys(root):
    return {tuple(r[k] for k in KEYS) for r in expected_rows(root)}


def page_keys(root, first, last):
    """Keys of pages ``first``..``last`` (1-based) of a full push, in key order."""
    keys = [tuple(r[k] for k in KEYS) for r in expected_rows(root)]
    return set(keys[(first - 1) * PAGE:last * PAGE])


def wait_for(predicate, process, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"push ended (exit {process.returncode}) before the kill point:\n{out}\n{err}")
        assert time.monotonic() < deadline, "kill point never reached"
        time.sleep(0.01)


def kill(process):
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL


class Ledger:
    """What Peak took and what the state recorded, across killed and finished runs."""

    def __init__(self, root, server):
        self.root = root
        self.server = server
        self.acknowledged: set = set()
        self.unrecorded: set = set()  # taken by Peak during killed runs, not in the state
        self.resent_rows = 0

    def killed_run(self, start: int) -> set:
        """After a kill: check the state against what Peak took; returns the unrecorded keys."""
        assert self.server.wait_idle()
        taken = set(self.server.stored_keys(start))
        acknowledged = acknowledged_keys(self.root)
        assert acknowledged >= self.acknowledged
        assert acknowledged - self.acknowledged <= taken, "the state holds rows Peak never took"
        self.acknowledged = acknowledged
        self.unrecorded = (self.unrecorded | taken) - acknowledged
        return taken - acknowledged

    def next_run(self, start: int, finished: bool) -> None:
        """After the next run: it sent only rows the state did not hold, each once."""
        assert self.server.wait_idle()
        sent = self.server.stored_keys(start)
        assert len(sent) == len(set(sent)), "a row was sent twice in one run"
        assert not set(sent) & self.acknowledged, "an acknowledged row was sent again"
        self.resent_rows += len(set(sent) & self.unrecorded)
        if finished:
            assert set(sent) == table_keys(self.root) - self.acknowledged
            assert self.server.held_rows() == expected_rows(self.root)


def run_to_the_end(root, server, *args):
    process = start_push(root, server, *args)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, out + err
    return out


def killed_at(root, server, tmp_path, point, page):
    """Start a push (one page in flight) that pauses at ``point`` of ``page``, wait
    for it, and kill -9 it. Returns the server's stored count before."""
    pause = tmp_path / f"paused-{point}-{page}"
    start = len(server.stored)
    process = start_push(root, server, "--in-flight", "1", pause=(f"{point}:{page}", pause))
    wait_for(pause.exists, process)
    kill(process)
    return start


@pytest.mark.parametrize("point, recorded_pages, page_3_unrecorded", [
    ("before-record", 2, True),  # page 3 answered, its state transaction not begun
    ("mid-record", 2, True),  # inside page 3's transaction, before COMMIT: rolled back
    ("after-record", 3, False),  # page 3 committed
])
def test_kill_around_the_state_write(project, server, tmp_path, point, recorded_pages, page_3_unrecorded):
    ledger = Ledger(project, server)
    start = killed_at(project, server, tmp_path, point, 3)
    unrecorded = ledger.killed_run(start)
    assert ledger.acknowledged == page_keys(project, 1, recorded_pages)
    assert (page_keys(project, 3, 3) <= unrecorded) is page_3_unrecorded
    assert len(unrecorded) <= 1 * PAGE  # at most the page in flight
    again = len(server.stored)
    run_to_the_end(project, server)
    ledger.next_run(again, finished=True)
    assert ledger.resent_rows == len(unrecorded)
    assert state_query(project, "SELECT run_id, status, message FROM runs ORDER BY run_id") == [
        (1, "aborted", "the push ended without closing its run (killed, or the machine stopped)"),
        (2, "success", None),
    ]


def test_kill_after_planning_sends_nothing_twice(project, server, tmp_path):
    ledger = Ledger(project, server)
    start = killed_at(project, server, tmp_path, "planned", 0)
    assert ledger.killed_run(start) == set() and server.stored == []
    again = len(server.stored)
    run_to_the_end(project, server)
    ledger.next_run(again, finished=True)
    assert ledger.resent_rows == 0


def test_kill_while_a_request_is_in_flight(project, server):
    """Killed while Peak is still answering page 4; Peak stores it after the client is gone."""
    ledger = Ledger(project, server)
    server.script(None, None, None, Stall())
    process = start_push(project, server, "--in-flight", "1")
    wait_for(lambda: server.arrived >= 4, process)
    kill(process)
    unrecorded = ledger.killed_run(0)
    assert page_keys(project, 4, 4) <= unrecorded  # taken by Peak, never recorded
    assert ledger.acknowledged <= page_keys(project, 1, 3)
    again = len(server.stored)
    run_to_the_end(project, server)
    ledger.next_run(again, finished=True)
    assert ledger.resent_rows == len(unrecorded) <= 1 * PAGE


def _run_until(process, server, target: int, answered: bool) -> bool:
    """Wait until ``target`` requests reached Peak (``answered``: and Peak answered them
    all); False when the push ended first."""
    while not server.wait_for_arrivals(target, timeout=0.05):
        if process.poll() is not None:
            return False
    while answered and not server.wait_for_handled(target, timeout=0.05):
        if process.poll() is not None:
            return False
    return True


def test_kills_at_random_moments(tmp_path, server):
    """Several kills at random moments of the sending (seeded: once a random number of
    requests arrived, and either at once, mid-request, or once Peak answered them all,
    between a response and its state write or after it), two pages in flight, a slow
    Peak; then a finished run. Every kill is accounted for; Peak ends with exactly the table.

    Moments are counted in requests, not seconds, so the kills land while pages are
    being sent on a fast machine and on a loaded one alike."""
    root = make_project(tmp_path / "proj", 2000, page_rows=PAGE)
    server.delay = 0.04
    rng = random.Random(20261127)
    ledger = Ledger(root, server)
    in_flight = 2
    kills = []
    finished_early = False
    for _ in range(4):
        start = len(server.stored)
        process = start_push(root, server, "--in-flight", str(in_flight))
        reached = _run_until(process, server, server.arrived + rng.randint(1, 6), answered=rng.random() < 0.5)
        if not reached or process.poll() is not None:  # finished before the kill
            assert process.wait() == 0
            ledger.next_run(start, finished=True)
            ledger.acknowledged = acknowledged_keys(root)
            finished_early = True
            break
        kill(process)
        ledger.next_run(start, finished=False)
        unrecorded = ledger.killed_run(start)
        assert len(unrecorded) <= in_flight * PAGE
        kills.append((len(server.stored) - start, len(unrecorded)))
    assert any(stored for stored, _ in kills), f"no kill landed while pages were being sent: {kills}"
    start = len(server.stored)
    run_to_the_end(root, server, "--in-flight", str(in_flight))
    ledger.next_run(start, finished=True)
    assert ledger.resent_rows <= len(kills) * in_flight * PAGE
    statuses = [s for (s,) in state_query(root, "SELECT status FROM runs ORDER BY run_id")]
    # A kill during start-up (before the run is logged) leaves no run behind.
    successes = 2 if finished_early else 1
    assert statuses[-successes:] == ["success"] * successes and set(statuses[:-successes]) <= {"aborted"}


def test_sigterm_closes_the_run_as_aborted(project, server):
    """SIGTERM while page 3 is in flight: the push stops taking pages, page 3's answer
    is still recorded when it comes, and the run is closed as aborted."""
    ledger = Ledger(project, server)
    server.script(None, None, Delay(1.0))
    process = start_push(project, server, "--in-flight", "1")
    wait_for(lambda: server.arrived >= 3, process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 2  # aborted; 1 would tell a scheduler that Peak rejected rows
    assert err.endswith(
        "Error: interrupted (Ctrl-C or SIGTERM); the pages answered so far are recorded in .stockx/state.duckdb: "
        "the next push sends only the rest\n")
    ledger.killed_run(0)
    assert ledger.acknowledged == page_keys(project, 1, 3)
    assert state_query(project, "SELECT status, message, merged FROM runs") == [
        ("aborted", "interrupted (Ctrl-C or SIGTERM)", True)]
    again = len(server.stored)
    run_to_the_end(project, server)
    ledger.next_run(again, finished=True)


def test_resent_rows_after_random_kills_stay_within_the_pages_in_flight(tmp_path, server):
    """Four pages in flight on a Peak that answers out of order (every fifth request
    is slow, so later pages are answered while an earlier one waits), killed at
    random moments five times (as above: counted in requests arrived or answered). Each kill re-sends at most ``in_flight`` x
    ``page_rows`` rows: every page is recorded when its own answer arrives, not
    when the pages before it are done."""
    root = make_project(tmp_path / "proj", 8000, page_rows=PAGE)
    server.delays = lambda number: 0.4 if number % 5 == 0 else 0.01
    rng = random.Random(20260511)
    ledger = Ledger(root, server)
    in_flight = 4
    resent_per_kill = []
    for _ in range(5):
        start = len(server.stored)
        process = start_push(root, server, "--in-flight", str(in_flight))
        reached = _run_until(process, server, server.arrived + rng.randint(8, 24), answered=rng.random() < 0.5)
        assert reached and process.poll() is None, "the push finished before its kill: make the table larger"
        kill(process)
        ledger.next_run(start, finished=False)
        resent_per_kill.append(len(ledger.killed_run(start)))
    start = len(server.stored)
    run_to_the_end(root, server, "--in-flight", str(in_flight))
    ledger.next_run(start, finished=True)
    assert all(resent <= in_flight * PAGE for resent in resent_per_kill), resent_per_kill
    assert ledger.resent_rows == sum(resent_per_kill) <= len(resent_per_kill) * in_flight * PAGE
