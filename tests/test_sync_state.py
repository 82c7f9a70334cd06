"""The sync state and plan on real DuckDB files: classification, fingerprints,
page records, merging, recovery, the guard, the lock and the settings."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from peak_server import AWKWARD_ROWS, create_stock_extra, table_rows

from stockx_export.errors import ExportError, PushLocked
from stockx_export.export.contract import STOCK_EXTRA
from stockx_export.export.serialize import iter_rows
from stockx_export.export.settings import resolve_settings
from stockx_export.sync.guard import History, volume_problem
from stockx_export.sync.lock import PushLock
from stockx_export.sync.plan import SyncPlan, compute_plan, gone_keys, iter_send_rows
from stockx_export.sync.settings import SyncSettings, resolve_sync_settings
from stockx_export.sync.state import (ABORTED, KILLED, RUNNING, SUCCESS, Destination, PlanCounts, Refusal, StateStore,
                                      open_state, recent_runs)

ISO = "%Y-%m-%dT%H:%M:%SZ"
REL = "main.stock_extra"
KEY_NAMES = STOCK_EXTRA.key_names


class Clock:
    """A fixed, advancing clock so recorded times are known."""

    def __init__(self):
        self.now = datetime(2026, 1, 5, 6, 0, 0)

    def __call__(self):
        from datetime import timedelta

        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def project_db(tmp_path):
    path = tmp_path / "project.duckdb"
    con = duckdb.connect(str(path))
    create_stock_extra(con, 300, extra=AWKWARD_ROWS)
    con.close()
    return path


def destination(name="QP_OOTB", base="http://127.0.0.1:9"):
    settings = resolve_settings(overrides={"base_url": base, "solution_name": name})
    return Destination.from_settings(settings)


class Opened:
    """A state store on the project database, as a push opens it."""

    def __init__(self, project_db: Path, state: Path, dest: Destination | None = None):
        self.con = open_state(str(project_db), state, state.parent)
        self.store = StateStore(self.con, dest or destination(), Clock())
        self.store.register()
        self.store.recover()

    def plan(self, full=False) -> SyncPlan:
        rows = self.con.execute(f"SELECT count(*) FROM {REL}").fetchone()[0]
        return compute_plan(self.con, REL, STOCK_EXTRA, ISO, self.store.id, rows, full)

    def send_rows(self, full=False):
        return [row for batch in iter_send_rows(self.con, REL, STOCK_EXTRA, ISO, full) for row in batch]

    def acknowledge_all(self, plan, full=False, rejected_keys=()) -> int:
        """Record everything the plan sends as one page, refusing ``rejected_keys``."""
        run_id = self.store.start_run("stock_extra", REL, plan.counts())
        keys, fingerprints, refusals = [], [], []
        for key, fingerprint, row in self.send_rows(full):
            if key in rejected_keys:
                refusals.append(Refusal(key, fingerprint, row, 422, '{"errorCode":"DI_E_10422"}', 1))
            else:
                keys.append(key)
                fingerprints.append(fingerprint)
        self.store.record_page(run_id, keys, fingerprints, refusals, len(keys) + len(refusals), 1, 0)
        self.store.finish_run(run_id, SUCCESS)
        return run_id

    def close(self):
        self.store.close()
        self.con.close()


def update(project_db, sql):
    con = duckdb.connect(str(project_db))
    con.execute(sql)
    con.close()


def counts(plan):
    return (plan.new, plan.changed, plan.unchanged, plan.rejected, plan.gone, plan.to_send)


def test_key_and_fingerprint_are_the_sent_json(project_db, tmp_path):
    opened = Opened(project_db, tmp_path / "s" / "state.duckdb")
    opened.plan()
    sent = opened.send_rows()
    plain = duckdb.connect(str(project_db), read_only=True)
    exported = list(iter_rows(plain, REL, STOCK_EXTRA, ISO))
    oracle = table_rows(plain)
    plain.close()
    opened.close()
    # Same rows, same order as the plain export; the fingerprint is md5 of the exact
    # UTF-8 text sent and the key is the JSON of the key values sent.
    assert [row for _, _, row in sent] == [row for _, row in exported]
    assert [json.loads(row) for _, _, row in sent] == oracle
    for key, fingerprint, row in sent:
        assert fingerprint == hashlib.md5(row.encode("utf-8")).hexdigest()
        assert json.loads(key) == [json.loads(row)[name] for name in KEY_NAMES]


def test_plan_classifies_every_key(project_db, tmp_path):
    state = tmp_path / "s" / "state.duckdb"
    opened = Opened(project_db, state)
    first = opened.plan()
    assert counts(first) == (305, 0, 0, 0, 0, 305)
    opened.acknowledge_all(first)
    assert counts(opened.plan()) == (0, 0, 305, 0, 0, 0)
    opened.close()

    # A rebuild: some rows change, some disappear, 4 appear (counted before, in SQL).
    con = duckdb.connect(str(project_db))
    changed, deleted = con.execute(
        "SELECT count(*) FILTER (stock_id LIKE 'STK-%' AND stock_units % 10 = 1), "
        "count(*) FILTER (stock_units % 10 = 3) FROM stock_extra").fetchone()
    con.execute("""
        UPDATE stock_extra SET stock_units = stock_units + 1 WHERE stock_id LIKE 'STK-%' AND stock_units % 10 = 1;
        DELETE FROM stock_extra WHERE stock_units % 10 = 3;
        INSERT INTO stock_extra SELECT 'NEW-' || i, 'LOC-1', 'size:M', DATE '2025-02-01', NULL, NULL, i, NULL
        FROM range(4) t(i)""")
    con.close()
    opened = Opened(project_db, state)
    plan = opened.plan()
    gone = gone_keys(opened.con, 100)
    opened.close()
    assert changed > 0 and deleted > 0
    assert counts(plan) == (4, changed, 305 - deleted - changed, 0, deleted, 4 + changed)
    assert len(gone) == deleted and all(json.loads(k)[0].startswith("PROD-") for k in gone)


def test_a_timestamp_format_change_resends_rows_but_keeps_keys(project_db, tmp_path):
    opened = Opened(project_db, tmp_path / "state.duckdb")
    opened.acknowledge_all(opened.plan())
    rows = opened.con.execute(f"SELECT count(*) FROM {REL}").fetchone()[0]
    plan = compute_plan(opened.con, REL, STOCK_EXTRA, "%Y-%m-%d %H:%M:%S", opened.store.id, rows)
    opened.close()
    # Rows with any timestamp change text; rows with none keep their fingerprint. No key is new or gone.
    con = duckdb.connect(str(project_db), read_only=True)
    with_timestamps = con.execute(
        "SELECT count(*) FROM stock_extra WHERE created_at IS NOT NULL OR updated_at IS NOT NULL").fetchone()[0]
    con.close()
    assert (plan.new, plan.gone, plan.changed) == (0, 0, with_timestamps)


def test_refused_rows_are_planned_again_until_acknowledged(project_db, tmp_path):
    state = tmp_path / "state.duckdb"
    opened = Opened(project_db, state)
    plan = opened.plan()
    keys = [key for key, _, _ in opened.send_rows()]
    refused = {keys[3], keys[7]}
    first_run = opened.acknowledge_all(plan, rejected_keys=refused)
    again = opened.plan()
    assert counts(again) == (0, 0, 303, 2, 0, 2)
    assert {key for key, _, _ in opened.send_rows()} == refused
    rows = opened.con.execute(
        "SELECT key, status, response, run_id FROM stockx_state.main.rejected ORDER BY key").fetchall()
    assert rows == [(k, 422, '{"errorCode":"DI_E_10422"}', first_run) for k in sorted(refused)]
    opened.acknowledge_all(again)
    assert counts(opened.plan()) == (0, 0, 305, 0, 0, 0)
    assert opened.con.execute("SELECT count(*) FROM stockx_state.main.rejected").fetchone()[0] == 0
    opened.close()


def test_a_changed_row_refused_keeps_the_old_acknowledgement(project_db, tmp_path):
    state = tmp_path / "state.duckdb"
    opened = Opened(project_db, state)
    opened.acknowledge_all(opened.plan())
    opened.close()
    update(project_db, "UPDATE stock_extra SET stock_units = 999999 WHERE product_id = 'P-café'")
    opened = Opened(project_db, state)
    plan = opened.plan()
    assert counts(plan) == (0, 1, 304, 0, 0, 1)
    [(key, fingerprint, _)] = opened.send_rows()
    opened.acknowledge_all(plan, rejected_keys={key})
    # Peak still holds the old version: the state says so, and the row is planned again.
    acked = opened.con.execute(
        "SELECT fingerprint <> ? FROM stockx_state.main.acknowledged WHERE key = ?", [fingerprint, key]).fetchall()
    assert acked == [(True,)]
    assert counts(opened.plan()) == (0, 0, 304, 1, 0, 1)
    opened.close()


def test_merging_keeps_one_row_per_key_with_the_latest_fingerprint(project_db, tmp_path):
    state = tmp_path / "state.duckdb"
    opened = Opened(project_db, state)
    opened.acknowledge_all(opened.plan())
    opened.close()
    update(project_db, "UPDATE stock_extra SET stock_units = stock_units - 7")
    opened = Opened(project_db, state)
    second = opened.acknowledge_all(opened.plan(), full=True)
    table = opened.con.execute(
        "SELECT count(*), count(DISTINCT key), min(run_id), max(run_id) FROM stockx_state.main.acknowledged").fetchone()
    sent = {key: fingerprint for key, fingerprint, _ in opened.send_rows(full=True)}
    stored = dict(opened.con.execute("SELECT key, fingerprint FROM stockx_state.main.acknowledged").fetchall())
    opened.close()
    assert table == (305, 305, second, second)
    assert stored == sent


def test_a_killed_run_is_closed_as_aborted_and_merged_when_the_state_is_next_opened(project_db, tmp_path):
    state = tmp_path / "state.duckdb"
    opened = Opened(project_db, state)
    plan = opened.plan()
    run_id = opened.store.start_run("stock_extra", REL, plan.counts())
    rows = opened.send_rows()
    opened.store.record_page(run_id, [k for k, _, _ in rows[:50]], [f for _, f, _ in rows[:50]], [], 50, 1, 0)
    opened.close()  # the process "dies": the run stays open and unmerged
    assert [r.status for r in recent_runs_of(state)] == [RUNNING]

    opened = Opened(project_db, state)
    [run] = recent_runs(opened.con, 10)
    assert (run.status, run.message, run.acknowledged, run.pages) == (ABORTED, KILLED, 50, 1)
    assert run.ended_at is not None
    assert counts(opened.plan()) == (255, 0, 50, 0, 0, 255)
    opened.close()


def recent_runs_of(state):
    con = duckdb.connect()
    con.execute(f"ATTACH '{state}' AS stockx_state (READ_ONLY)")
    try:
        return recent_runs(con, 10)
    finally:
        con.close()


def test_a_failed_commit_records_nothing_of_the_page(project_db, tmp_path):
    opened = Opened(project_db, tmp_path / "state.duckdb")
    plan = opened.plan()
    run_id = opened.store.start_run("stock_extra", REL, plan.counts())
    rows = opened.send_rows()

    def crash():
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        opened.store.record_page(run_id, [k for k, _, _ in rows], [f for _, f, _ in rows], [], len(rows), 1, 0,
                                 before_commit=crash)
    assert opened.con.execute("SELECT count(*) FROM stockx_state.main.acknowledged").fetchone()[0] == 0
    assert recent_runs(opened.con, 1)[0].pages == 0
    opened.close()


def test_destinations_are_kept_apart(project_db, tmp_path):
    state = tmp_path / "state.duckdb"
    opened = Opened(project_db, state, destination("QP_OOTB"))
    opened.acknowledge_all(opened.plan())
    opened.close()
    other = Opened(project_db, state, destination("QP_OTHER"))
    assert counts(other.plan()) == (305, 0, 0, 0, 0, 305)
    assert other.con.execute(
        "SELECT count(*) FROM stockx_state.main.destinations").fetchone()[0] == 2
    other.close()
    assert destination("QP_OOTB").id != destination("QP_OTHER").id
    assert destination("QP_OOTB").id != destination("QP_OOTB", base="http://127.0.0.1:10").id


def test_a_state_from_another_schema_version_is_refused(project_db, tmp_path):
    state = tmp_path / "state.duckdb"
    Opened(project_db, state).close()
    con = duckdb.connect(str(state))
    con.execute("UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    con.close()
    with pytest.raises(ExportError) as caught:
        open_state(str(project_db), state, tmp_path)
    assert str(caught.value) == (
        f"sync state {state} has schema version 99; this stockx reads version 1: use the stockx that wrote it, "
        f"or move it aside (mv {state} {state}.damaged), then run `stockx export --push --full`, which sends "
        "every row again and starts a new state"
    )


def test_a_state_held_by_another_process_is_named(project_db, tmp_path):
    state = tmp_path / "state.duckdb"
    Opened(project_db, state).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys, time\ncon = duckdb.connect({str(state)!r})\n"
                               "print('ready', flush=True)\ntime.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "ready\n"
        with pytest.raises(ExportError) as caught:
            open_state(str(project_db), state, tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert str(caught.value) == (
        f"sync state {state} is in use by another stockx process (PID {holder.pid}); "
        "wait for it to finish, or give this destination its own state with --state-db"
    )


# -- the volume guard ------------------------------------------------------------------
def plan_of(table_rows, new=0, changed=0, rejected=0, gone=0, full=False, zero=0, dates=0):
    policy = "zero" if zero else "keep"
    return SyncPlan(table_rows, new, changed, table_rows - new - changed - rejected, rejected, gone, full, policy, zero,
                    0, dates)


RECENT = History((9, 1000), ((9, 120), (8, 90), (6, 150)))


def test_guard_judges_a_push_by_the_destinations_recent_pushes():
    # The table's size does not matter: a push of 450 rows is normal after pushes of up to 150.
    assert volume_problem(plan_of(1100, new=300, changed=150), RECENT, 3.0, 0.2) is None
    assert volume_problem(plan_of(100_000, new=300, changed=150), History((9, 99_000), RECENT.sends), 3.0, 0.2) is None
    assert volume_problem(plan_of(1100, new=300, changed=151), RECENT, 3.0, 0.2) == (
        "451 rows would be sent (new, changed or zeroed; a key that moved counts once), above guard-tolerance 3 x 150, "
        "the most any of the last 3 pushes sent (run 6)"
    )
    # Zero rows count, beyond the new keys: a key that moved is a new key and a gone one, sent once each.
    assert volume_problem(plan_of(1100, new=100, zero=451), RECENT, 3.0, 0.2) is not None
    assert volume_problem(plan_of(1100, new=100, zero=450), RECENT, 3.0, 0.2) is None
    assert volume_problem(plan_of(1100, new=450, zero=450), RECENT, 3.0, 0.2) is None
    # Refused rows sent again do not count; --full is not judged for size.
    assert volume_problem(plan_of(1100, changed=100, rejected=900), RECENT, 3.0, 0.2) is None
    assert volume_problem(plan_of(1100, changed=1100, full=True), RECENT, 3.0, 0.2) is None


def test_guard_allows_a_day_of_the_table_however_quiet_the_last_pushes_were():
    """Review finding 6: after a quiet weekend (pushes of a row or two), the limit was a
    few rows, and the first normal day stopped, every day after it too."""
    quiet = History((3, 12), ((3, 1), (2, 1)))
    assert volume_problem(plan_of(24, new=12, dates=1), quiet, 3.0, 0.2) is None
    assert volume_problem(plan_of(36, new=24, dates=1), quiet, 3.0, 0.2) is None  # two days at once
    assert volume_problem(plan_of(49, new=37, dates=1), quiet, 3.0, 0.2) == (
        "37 rows would be sent (new, changed or zeroed; a key that moved counts once), above guard-tolerance 3 x 12, "
        "one day of the table: 12 rows Peak holds over 1 date")
    # Without a date key (no day to judge by), the recent pushes alone.
    assert volume_problem(plan_of(36, new=4, dates=0), quiet, 3.0, 0.2) is not None


def test_guard_does_not_judge_sizes_before_two_daily_pushes():
    # The first push (no history), and a job whose history holds one daily push.
    assert volume_problem(plan_of(1000, new=1000), History(None), 3.0, 0.2) is None
    assert volume_problem(plan_of(2000, new=1000), History((1, 1000)), 3.0, 0.2) is None
    assert volume_problem(plan_of(3000, new=1900), History((2, 2000), ((2, 1000),)), 3.0, 0.2) is None
    assert volume_problem(plan_of(3000, new=3100), History((3, 2000), ((3, 1000), (2, 1000))), 3.0, 0.2) is not None


def test_guard_stops_after_a_table_shrank():
    assert volume_problem(plan_of(790), History((7, 1000)), 3.0, 0.2) == (
        "the table shrank from 1,000 to 790 rows (21.0% fewer) since the last sync (run 7), "
        "above max-shrink-share 20.0%"
    )
    assert volume_problem(plan_of(800), History((7, 1000)), 3.0, 0.2) is None
    assert volume_problem(plan_of(790, full=True), History((7, 1000)), 3.0, 0.2) is not None


# -- the lock ----------------------------------------------------------------------------
def test_a_second_lock_on_the_same_destination_is_refused(tmp_path):
    path = tmp_path / "abc.lock"
    with PushLock(path, "http://x/y (solution S)", "2026-01-05 06:00:00"):
        with pytest.raises(PushLocked) as caught:
            PushLock(path, "http://x/y (solution S)", "2026-01-05 06:00:01").acquire()
    assert str(caught.value) == (
        f"another push to http://x/y (solution S) is running (pid {os.getpid()}, started 2026-01-05 06:00:00 UTC); "
        "nothing was sent: wait for it to finish, then run this push again"
    )
    with PushLock(path, "http://x/y (solution S)", "2026-01-05 06:00:02"):
        pass  # released by the first holder


def test_the_os_releases_the_lock_of_a_killed_process(tmp_path):
    path = tmp_path / "abc.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\n"
                               "from stockx_export.sync.lock import PushLock\n"
                               f"PushLock(Path({str(path)!r}), 'd', 'then').acquire()\n"
                               "print('ready', flush=True)\ntime.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "ready\n"
    with pytest.raises(PushLocked):
        PushLock(path, "d", "now").acquire()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with PushLock(path, "d", "now"):
        assert json.loads(path.read_text())["pid"] == os.getpid()


def test_a_released_lock_leaves_no_file(tmp_path):
    path = tmp_path / "abc.lock"
    for started in ("06:00:00", "06:00:01"):
        with PushLock(path, "d", started):
            assert json.loads(path.read_text()) == {"pid": os.getpid(), "started_at": started, "action": "push"}
        assert not path.exists()


def test_a_lock_file_removed_between_opening_and_locking_it_is_not_held(tmp_path):
    """The race removing lock files opens: B opens the file A holds; A releases (and
    removes it) and C takes a new one; then B gets the lock of the removed file. B
    must see that and find the lock held (by C), not go ahead beside C."""
    path = tmp_path / "abc.lock"
    first = PushLock(path, "d", "A")
    first.acquire()
    later: list[PushLock] = []

    def open_while_the_holder_changes(p):
        fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
        if not later:
            first.release()
            later.append(PushLock(path, "d", "C"))
            later[0].acquire()
        return fd

    with pytest.raises(PushLocked) as caught:
        PushLock(path, "d", "B", opener=open_while_the_holder_changes).acquire()
    assert "started C UTC" in str(caught.value)
    later[0].release()
    assert not path.exists()


def test_a_lock_file_removed_between_opening_and_locking_is_taken_anew(tmp_path):
    """B opens the file A holds; A releases (removing it) before B locks: B locks
    the removed file, sees it, and takes the lock on a new file at the path."""
    path = tmp_path / "abc.lock"
    first = PushLock(path, "d", "A")
    first.acquire()
    opened = []

    def open_then_the_holder_leaves(p):
        opened.append(os.open(p, os.O_RDWR | os.O_CREAT, 0o644))
        if len(opened) == 1:
            first.release()
        return opened[-1]

    with PushLock(path, "d", "B", opener=open_then_the_holder_leaves):
        assert len(opened) == 2
        assert json.loads(path.read_text())["started_at"] == "B"
        with pytest.raises(PushLocked):
            PushLock(path, "d", "C").acquire()
    assert not path.exists()


# -- settings ------------------------------------------------------------------------------
def test_sync_settings(tmp_path):
    locks = tmp_path / ".stockx"
    assert resolve_sync_settings(tmp_path, None) == SyncSettings(tmp_path / ".stockx" / "state.duckdb", lock_dir=locks)
    assert resolve_sync_settings(tmp_path, {"state": "st/s.duckdb", "guard-pushes": 5, "guard_tolerance": 2,
                                            "max_shrink_share": 1, "gone-keys": {"stock_extra": "zero"}}) == (
        SyncSettings(tmp_path / "st" / "s.duckdb", 1.0, 5, 2.0, (("STOCK_EXTRA", "zero"),), locks))
    elsewhere = resolve_sync_settings(tmp_path, {"state": "a.duckdb"}, "/abs/b.duckdb")
    assert (elsewhere.state, elsewhere.locks) == (Path("/abs/b.duckdb"), locks)
    assert (elsewhere.gone_policy("STOCK_EXTRA"), elsewhere.gone_policy("SALE_EXTRA")) == ("keep", "keep")
    values = {"max-send": 0.1, "max-shrink-share": 20, "guard-pushes": 0, "guard-tolerance": 0.5, "max-send-share": 0.5}
    errors = {
        "max-send": ("unknown sync setting 'max-send' (known: state, max-shrink-share, guard-pushes, guard-tolerance, "
                     "gone-keys)"),
        "max-shrink-share": "max-shrink-share must be a share above 0 and at most 1 (0.25 = 25%), got 20",
        "guard-pushes": "guard-pushes must be a whole number of pushes from 1 to 1,000, got 0",
        "guard-tolerance": "guard-tolerance must be a number from 1 to 1,000 (3 = up to three times a normal day), got 0.5",
        "max-send-share": ("max-send-share was replaced by guard-tolerance: the volume guard now compares a push with "
                           "this destination's recent pushes instead of a share of the table (README, \"The volume "
                           "guard\"); remove it"),
    }
    for key, message in errors.items():
        with pytest.raises(ExportError) as caught:
            resolve_sync_settings(tmp_path, {key: values[key]})
        assert str(caught.value) == f"[tool.stockx.sync] in pyproject.toml: {message}"
    for value, message in (("zero", "gone-keys must be a table of Peak objects and policies, e.g. "
                                    "[tool.stockx.sync.gone-keys] STOCK_EXTRA = \"zero\"; got 'zero'"),
                           ({"STOCK_EXTRA": "delete"}, "gone-keys for STOCK_EXTRA must be \"keep\" or \"zero\", "
                                                       "got 'delete'")):
        with pytest.raises(ExportError) as caught:
            resolve_sync_settings(tmp_path, {"gone-keys": value})
        assert str(caught.value) == f"[tool.stockx.sync] in pyproject.toml: {message}"


@pytest.mark.parametrize(("key", "value", "message"), [
    ("guard-tolerance", float("nan"), "guard-tolerance must be a number from 1 to 1,000 (3 = up to three times a "
                                      "normal day), got nan"),
    ("guard-tolerance", float("inf"), "guard-tolerance must be a number from 1 to 1,000 (3 = up to three times a "
                                      "normal day), got inf"),
    ("guard-tolerance", 1001, "guard-tolerance must be a number from 1 to 1,000 (3 = up to three times a normal day), "
                              "got 1001"),
    ("guard-pushes", 10**9, "guard-pushes must be a whole number of pushes from 1 to 1,000, got 1000000000"),
    ("max-shrink-share", float("nan"), "max-shrink-share must be a share above 0 and at most 1 (0.25 = 25%), got nan"),
])
def test_sync_numbers_are_finite_and_bounded(tmp_path, key, value, message):
    """Review finding 16: TOML reads nan and inf; either switched the guard off (nan < 1
    is false), and --plan crashed converting them to an integer."""
    with pytest.raises(ExportError) as caught:
        resolve_sync_settings(tmp_path, {key: value})
    assert str(caught.value) == f"[tool.stockx.sync] in pyproject.toml: {message}"


def test_plan_counts_are_what_a_run_records():
    plan = plan_of(100, new=5, changed=3, rejected=2, gone=4)
    assert plan.counts() == PlanCounts("changes", 100, 5, 3, 90, 2, 4, 10)
    assert plan_of(100, new=5, full=True).counts().planned == 100


def test_a_view_is_planned_and_sent_like_a_table(project_db, tmp_path):
    con = duckdb.connect(str(project_db))
    con.execute("CREATE VIEW stock_extra_view AS SELECT * FROM stock_extra")
    con.close()
    opened = Opened(project_db, tmp_path / "state.duckdb")
    rows = opened.con.execute("SELECT count(*) FROM main.stock_extra_view").fetchone()[0]
    destination_id = opened.store.id
    plan = compute_plan(opened.con, "main.stock_extra_view", STOCK_EXTRA, ISO, destination_id, rows)
    via_view = [r for b in iter_send_rows(opened.con, "main.stock_extra_view", STOCK_EXTRA, ISO, False) for r in b]
    opened.plan()
    via_table = opened.send_rows()
    opened.close()
    assert counts(plan) == (305, 0, 0, 0, 0, 305)
    assert via_view == via_table
