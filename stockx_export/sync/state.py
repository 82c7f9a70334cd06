"""The sync state database: what each destination acknowledged, refused, and every run.

Tables (a user can query them with SQL; keys and rows are the JSON Peak received)::

    destinations  destination, base_url, object, solution_name, url, first_seen_at
    acknowledged  destination, key, fingerprint, acknowledged_at, run_id
    rejected      destination, key, fingerprint, row, status, response, page, rejected_at, run_id
    runs          run_id, destination, model, relation, mode, started_at, updated_at, ended_at,
                  status, message, table_rows, rows_new, rows_changed, rows_unchanged,
                  rows_retried, keys_gone, rows_planned, rows_sent, rows_acknowledged,
                  rows_rejected, pages, requests, retries, merged, rows_held
    held          destination, key, row, reason, held_at, run_id

``held`` lists the rows the last run to a destination held back because Peak
does not hold their parent (a foreign key into another object of the family
that the parent's own destination never acknowledged, or refused last): each
run replaces its destination's list. A state written before ``held`` existed is
given the table and ``runs.rows_held`` (0) when first opened for writing.

``key`` is the JSON array of the primary-key values as sent
(``["P1","L1","size:S","2025-01-28"]``); ``fingerprint`` is the md5 (hex) of the
row's JSON text exactly as sent, so it does not depend on DuckDB's own hashing.
Times are UTC.

Pages are appended, never updated in place: a page is one short INSERT, which
is what lets every page be its own transaction at Peak's request rate (an
indexed UPSERT into millions of keys costs far more). When a run ends, or when
the state is next opened after a crash, the run is *merged*: older entries for
the keys it acknowledged or refused are deleted, so ``acknowledged`` and
``rejected`` hold one row per key again.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
import re
import shlex
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from stockx_export.db import connect, database_error_types, first_line, literal, quote, transaction
from stockx_export.errors import ExportError, StateNotWritable, SyncStateError
from stockx_export.export.urls import normalize_url

STATE = "stockx_state"  # catalog name of the attached state database
PROJECT = "stockx_project"  # catalog name of the attached (read-only) project database
T = f"{STATE}.main"
SCHEMA_VERSION = "1"

RUNNING = "running"
SUCCESS = "success"
WITH_ERRORS = "completed with errors"
FAILED = "failed"
ABORTED = "aborted"

KILLED = "the push ended without closing its run (killed, or the machine stopped)"
NO_SPACE = os.strerror(errno.ENOSPC)  # "No space left on device", as DuckDB's messages quote it
# The system refusing to open a file for writing: its mode, its owner, chattr +i, a read-only mount.
NOT_WRITABLE = tuple(os.strerror(code) for code in (errno.EACCES, errno.EPERM, errno.EROFS))
DAMAGE = ("Corrupt database file", "Could not read enough bytes")  # DuckDB reading a damaged file

def _ddl(schema: str) -> tuple[str, ...]:
    """The statements that create the state's tables in ``schema``."""
    return (
        f"CREATE TABLE IF NOT EXISTS {schema}.meta (name VARCHAR PRIMARY KEY, value VARCHAR)",
        f"""CREATE TABLE IF NOT EXISTS {schema}.destinations (
            destination VARCHAR PRIMARY KEY, base_url VARCHAR, object VARCHAR, solution_name VARCHAR,
            url VARCHAR, first_seen_at TIMESTAMP)""",
        f"""CREATE TABLE IF NOT EXISTS {schema}.acknowledged (
            destination VARCHAR NOT NULL, key VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL,
            acknowledged_at TIMESTAMP NOT NULL, run_id BIGINT NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS {schema}.rejected (
            destination VARCHAR NOT NULL, key VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL, row VARCHAR,
            status INTEGER, response VARCHAR, page INTEGER, rejected_at TIMESTAMP NOT NULL, run_id BIGINT NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS {schema}.runs (
            run_id BIGINT PRIMARY KEY, destination VARCHAR NOT NULL, model VARCHAR, relation VARCHAR, mode VARCHAR,
            started_at TIMESTAMP, updated_at TIMESTAMP, ended_at TIMESTAMP, status VARCHAR, message VARCHAR,
            table_rows BIGINT, rows_new BIGINT, rows_changed BIGINT, rows_unchanged BIGINT, rows_retried BIGINT,
            keys_gone BIGINT, rows_planned BIGINT, rows_sent BIGINT DEFAULT 0, rows_acknowledged BIGINT DEFAULT 0,
            rows_rejected BIGINT DEFAULT 0, pages BIGINT DEFAULT 0, requests BIGINT DEFAULT 0,
            retries BIGINT DEFAULT 0, merged BOOLEAN DEFAULT false, rows_held BIGINT DEFAULT 0)""",
        f"""CREATE TABLE IF NOT EXISTS {schema}.held (
            destination VARCHAR NOT NULL, key VARCHAR NOT NULL, row VARCHAR, reason VARCHAR,
            held_at TIMESTAMP NOT NULL, run_id BIGINT NOT NULL)""",
    )


def utc_now() -> datetime:
    """Now, as a naive UTC datetime (the state's TIMESTAMP columns are UTC)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Destination:
    """Where rows go: one Peak object of one solution at one ingestion URL.

    URLs are normalised (:func:`~stockx_export.export.urls.normalize_url`), so
    every spelling of one endpoint is one destination: one state, guard and lock.
    """

    base_url: str
    object: str
    solution_name: str
    url: str

    @classmethod
    def from_settings(cls, settings: Any) -> "Destination":
        return cls(normalize_url(settings.base_url), settings.object, settings.solution_name,
                   normalize_url(settings.url))

    @property
    def id(self) -> str:
        """A stable short id: the state's rows and the lock file are named by it."""
        text = json.dumps([self.url, self.solution_name])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def describe(self) -> str:
        return f"{self.url} (solution {self.solution_name})"


@dataclass(frozen=True)
class Refusal:
    """A row Peak refused, as the state keeps it."""

    key: str
    fingerprint: str
    row: str
    status: int
    response: str
    page: int


@dataclass(frozen=True)
class PlanCounts:
    """What a run set out to do (see :class:`stockx_export.sync.plan.SyncPlan`)."""

    mode: str
    table_rows: int
    new: int
    changed: int
    unchanged: int
    retried: int
    gone: int
    planned: int
    held: int = 0


def open_state(database: str, state_path: Path, work_dir: Path):
    """A DuckDB connection on which the project database is attached read-only
    (and is the default catalog, so ``main.stock_extra`` resolves) and the state
    database is attached read-write as ``stockx_state``; the schema is created
    when missing. DuckDB spills to ``work_dir/tmp``, never beside the project."""
    if database == ":memory:":
        raise ExportError("the project database is :memory:; set [tool.stockx] database to a file, build, then push")
    work_dir.mkdir(parents=True, exist_ok=True)
    con = connect(":memory:")
    try:
        con.execute(f"SET temp_directory = {literal(str(work_dir / 'tmp'))}")
        try:
            con.execute(f"ATTACH {literal(database)} AS {PROJECT} (READ_ONLY)")
        except database_error_types() as exc:
            raise ExportError(f"cannot open the project database {database}: {first_line(str(exc))}") from None
        attach_state(con, state_path)
        con.execute(f"USE {PROJECT}")
    except BaseException:
        con.close()
        raise
    return con


def attach_state(con: Any, state_path: Path, read_only: bool = False) -> None:
    """Attach the state database as ``stockx_state`` (``read_only``: an existing file, for
    commands that only read it).

    A new (or empty) file gets the tables. An existing one is checked first:
    its schema version, every table and column this version keeps, and every
    block of every table read back (DuckDB verifies each block's checksum). A
    truncated, corrupt or foreign file raises :class:`SyncStateError` naming the
    file and the way out, before anything else reads or writes it; a file that
    cannot be opened for writing raises :class:`StateNotWritable`."""
    if state_path.is_dir():
        raise SyncStateError(
            f"sync state {state_path} is a folder, not a DuckDB file: give --state-db (or [tool.stockx.sync] state) "
            "the path of a file, e.g. .stockx/state.duckdb", path=str(state_path))
    if not read_only:
        state_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con.execute(f"ATTACH {literal(str(state_path))} AS {STATE}{' (READ_ONLY)' if read_only else ''}")
    except database_error_types() as exc:
        raise unusable_state(state_path, str(exc)) from None
    try:
        if _columns(con, STATE) or read_only:
            if not read_only:
                _add_missing(con)
            _check(con, state_path, probe_indexes=not read_only, read_only=read_only)
        else:
            _create(con)
    except database_error_types() as exc:
        raise unusable_state(state_path, str(exc)) from None


def attach_state_read_only(con: Any, state_path: Path) -> bool:
    """Attach an existing state database read-only as ``stockx_state``, for readers that
    must never change it (the docs site); False when the file holds no state yet.

    The same checks as :func:`attach_state`, except the probe that writes (and rolls
    back); a file held by a running push raises :class:`SyncStateError` saying so."""
    try:
        con.execute(f"ATTACH {literal(str(state_path))} AS {STATE} (READ_ONLY)")
    except database_error_types() as exc:
        raise unusable_state(state_path, str(exc)) from None
    try:
        if not _columns(con, STATE):
            return False
        _check(con, state_path, probe_indexes=False, read_only=True)
    except database_error_types() as exc:
        raise unusable_state(state_path, str(exc)) from None
    return True


def _create(con: Any) -> None:
    # One transaction: a push killed while creating the state leaves none.
    with transaction(con):
        for statement in _ddl(T):
            con.execute(statement)
        con.execute(f"INSERT INTO {T}.meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])


def _add_missing(con: Any) -> None:
    """Give a state of the previous layout (no ``held``, no ``runs.rows_held``) what this
    version added, in one transaction; anything else missing is left for the check."""
    found = _columns(con, STATE)
    expected = _expected()
    others = {t: c for t, c in expected.items() if t != "held"}
    if "held" in found or any(t not in found for t in others):
        return
    if found.get("runs") != [c for c in expected["runs"] if c[0] != "rows_held"]:
        return
    with transaction(con):
        con.execute(f"ALTER TABLE {T}.runs ADD COLUMN rows_held BIGINT DEFAULT 0")
        held = next(statement for statement in _ddl(T) if ".held (" in statement)
        con.execute(held)


def has_held(con: Any) -> bool:
    """Whether the attached state has the ``held`` table (a state of the previous layout
    opened read-only has not)."""
    return "held" in _columns(con, STATE)


def _check(con: Any, state_path: Path, probe_indexes: bool = True, read_only: bool = False) -> None:
    expected, found = _expected(), _columns(con, STATE)
    if read_only and "held" not in found and found.get("runs") == [c for c in expected["runs"] if c[0] != "rows_held"]:
        # The previous layout, read as it is: readers do without held rows.
        expected = {t: (c if t != "runs" else found["runs"]) for t, c in expected.items() if t != "held"}
    problems = _differences(expected, found)
    if found.get("meta") == expected["meta"]:
        row = con.execute(f"SELECT value FROM {T}.meta WHERE name = 'schema_version'").fetchone()
        if row is None:
            problems.insert(0, "meta holds no schema_version")
        elif row[0] != SCHEMA_VERSION:
            raise SyncStateError(
                f"sync state {state_path} has schema version {row[0]}; this stockx reads version {SCHEMA_VERSION}: "
                f"use the stockx that wrote it, or {way_out(state_path)}", path=str(state_path))
    if problems:
        raise SyncStateError(
            f"sync state {state_path} does not hold the tables this stockx keeps ({'; '.join(problems)}): "
            f"it was changed by hand or by another program; {way_out(state_path)}", path=str(state_path))
    _read_back(con, probe_indexes)


def _read_back(con: Any, probe_indexes: bool = True) -> None:
    """Read every block of the state, so damage anywhere is found now, not halfway
    through a push (or never, by ``stockx runs``): hashing every column reads all
    of the tables' data, and putting each keyed row back (``ON CONFLICT DO
    NOTHING``, rolled back) probes the primary-key indexes for every key (a
    write, so not on a state opened read-only, which is only read)."""
    for table in sorted(set(_expected()) & set(_columns(con, STATE))):
        con.execute(f"SELECT bit_xor(hash(COLUMNS(*))) FROM {T}.{quote(table)}").fetchall()
    if not probe_indexes:
        return
    keyed = [t for (t,) in con.execute(
        "SELECT DISTINCT table_name FROM duckdb_constraints() WHERE database_name = ? AND constraint_type = "
        "'PRIMARY KEY' ORDER BY table_name", [STATE]).fetchall()]
    con.execute("BEGIN TRANSACTION")
    try:
        for table in keyed:
            con.execute(f"INSERT INTO {T}.{quote(table)} SELECT * FROM {T}.{quote(table)} ON CONFLICT DO NOTHING")
    finally:
        # A probe: nothing it did is kept (the ROLLBACK of a transaction damage aborted may fail).
        with suppress(*database_error_types()):
            con.execute("ROLLBACK")


def _columns(con: Any, catalog: str) -> dict[str, list[tuple[str, str]]]:
    """(column, type) of each table in ``catalog``'s main schema, in column order."""
    found: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name = 'main' ORDER BY table_name, column_index",
        [catalog],
    ).fetchall():
        found.setdefault(table, []).append((column, data_type))
    return found


@functools.cache
def _expected() -> dict[str, list[tuple[str, str]]]:
    """The tables and columns of a state this version creates (built once, in memory)."""
    scratch = connect(":memory:")
    try:
        for statement in _ddl("main"):
            scratch.execute(statement)
        return _columns(scratch, "memory")
    finally:
        scratch.close()


def _differences(expected: dict[str, list[tuple[str, str]]], found: dict[str, list[tuple[str, str]]]) -> list[str]:
    problems = []
    for table in sorted(expected):
        if table not in found:
            problems.append(f"no table {table}")
            continue
        want, have = expected[table], found[table]
        missing = [c for c, _ in want if c not in dict(have)]
        if missing:
            problems.append(f"{table} has no column {', '.join(missing)}")
        elif have != want:
            problems.append(f"{table} has columns ({', '.join(f'{c} {t}' for c, t in have)}), "
                            f"not ({', '.join(f'{c} {t}' for c, t in want)})")
    return problems


def way_out(state_path: Path) -> str:
    """How to start over from a state that cannot be used (its .wal goes with it)."""
    aside = Path(f"{state_path}.damaged")
    moves = f"mv {shlex.quote(str(state_path))} {shlex.quote(str(aside))}"
    wal = Path(f"{state_path}.wal")
    if wal.exists():
        moves += f" && mv {shlex.quote(str(wal))} {shlex.quote(str(aside))}.wal"
    return (f"move it aside ({moves}), then run `stockx export --push --full`, which sends every row "
            "again and starts a new state")


def unusable_state(state_path: Path, message: str) -> SyncStateError:
    """The error for a state DuckDB could not open or read, by what DuckDB said."""
    held = re.search(r"Conflicting lock is held in .*?\(PID (\d+)\)", message)
    if held:
        return SyncStateError(
            f"sync state {state_path} is in use by another stockx process (PID {held.group(1)}); "
            "wait for it to finish, or give this destination its own state with --state-db", path=str(state_path))
    if NO_SPACE in message:
        return SyncStateError(f"no space left on the device of sync state {state_path}; free space there, then "
                              "run the command again", path=str(state_path))
    if any(sign in message for sign in NOT_WRITABLE):
        return StateNotWritable(
            f"cannot open sync state {state_path} for writing ({first_line(message)}); the file is not damaged: fix "
            "its permissions (or those of its folder), then run the command again", path=str(state_path))
    return SyncStateError(f"sync state {state_path} cannot be read, it is damaged: {first_line(message)}; "
                          f"{way_out(state_path)}", path=str(state_path))


def _state_file(con: Any) -> str:
    (path,) = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = ?", [STATE]).fetchone()
    return path


@contextmanager
def _writes(path: str) -> Iterator[None]:
    """Turn DuckDB's failure to write the state into a :class:`SyncStateError` saying why."""
    try:
        yield
    except database_error_types() as exc:
        message = str(exc)
        if NO_SPACE in message:
            raise SyncStateError(
                f"no space left on the device to write sync state {path} ({first_line(message)}); what was "
                "recorded before is kept: free space there, then run the command again (a push then sends only "
                "the rows not yet acknowledged)", path=path) from None
        if any(sign in message for sign in DAMAGE):
            raise unusable_state(Path(path), message) from None
        raise SyncStateError(f"cannot write sync state {path}: {first_line(message)}; what was recorded before is "
                             "kept: fix the cause, then run the command again", path=path) from None


class StateStore:
    """The state of one destination, in the state database attached to ``con``.

    ``con`` plans and streams rows; a cursor of it writes, so a page can be
    recorded while the row stream is still open on ``con``. ``writer`` replaces
    that cursor (anything with DuckDB's ``execute``: a seam for write faults).
    A write that fails raises :class:`SyncStateError` saying why (no space
    left, say); what was committed before stays.
    """

    def __init__(self, con: Any, destination: Destination, clock: Callable[[], datetime] = utc_now,
                 writer: Any = None) -> None:
        self.con = con
        self.destination = destination
        self.clock = clock
        self.path = _state_file(con)
        self.writer = writer if writer is not None else con.cursor()
        self.writer.execute(f"USE {PROJECT}")

    @property
    def id(self) -> str:
        return self.destination.id

    def close(self) -> None:
        self.writer.close()

    # -- opening ---------------------------------------------------------------------
    def register(self) -> None:
        """Record the destination (first use only)."""
        d = self.destination
        with _writes(self.path):
            self.writer.execute(
                f"INSERT INTO {T}.destinations SELECT ?, ?, ?, ?, ?, ? "
                f"WHERE NOT EXISTS (SELECT 1 FROM {T}.destinations WHERE destination = ?)",
                [d.id, d.base_url, d.object, d.solution_name, d.url, self.clock(), d.id],
            )

    def recover(self) -> list[int]:
        """See :func:`adopt_spellings` and :func:`recover`."""
        adopt_spellings(self.writer)
        return recover(self.writer)

    # -- questions the guard asks ------------------------------------------------------
    def last_sync(self) -> tuple[int, int] | None:
        """(run id, table rows) of the last run that finished its sends, or None."""
        return self.writer.execute(
            f"SELECT run_id, table_rows FROM {T}.runs WHERE destination = ? AND status IN (?, ?) "
            "ORDER BY run_id DESC LIMIT 1",
            [self.id, SUCCESS, WITH_ERRORS],
        ).fetchone()

    def has_acknowledged(self) -> bool:
        """Whether this destination has ever acknowledged a row (its payloads are known good)."""
        return self.writer.execute(
            f"SELECT 1 FROM {T}.acknowledged WHERE destination = ? LIMIT 1", [self.id]).fetchone() is not None

    # -- one run ---------------------------------------------------------------------
    def start_run(self, model: str, relation: str, counts: PlanCounts, status: str = RUNNING,
                  message: str | None = None) -> int:
        """Log a run (committed at once, so a killed run is still on record)."""
        now = self.clock()
        run_id = self.writer.execute(f"SELECT coalesce(max(run_id), 0) + 1 FROM {T}.runs").fetchone()[0]
        ended = None if status == RUNNING else now
        with _writes(self.path):
            self.writer.execute(
                f"""INSERT INTO {T}.runs (run_id, destination, model, relation, mode, started_at, updated_at,
                    ended_at, status, message, table_rows, rows_new, rows_changed, rows_unchanged, rows_retried,
                    keys_gone, rows_planned, merged, rows_held)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [run_id, self.id, model, relation, counts.mode, now, now, ended, status, message, counts.table_rows,
                 counts.new, counts.changed, counts.unchanged, counts.retried, counts.gone, counts.planned,
                 status != RUNNING, counts.held],
            )
        return run_id

    def record_held(self, run_id: int, held: Sequence[tuple[str, str, str]]) -> None:
        """The rows ``run_id`` holds back, as ``(key, row JSON, reason)``: they replace the
        destination's list (a row no longer held was sent, or left the table)."""
        now = self.clock()
        with _writes(self.path), transaction(self.writer):
            self.writer.execute(f"DELETE FROM {T}.held WHERE destination = ?", [self.id])
            if held:
                self.writer.execute(
                    f"INSERT INTO {T}.held SELECT ?, unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
                    "unnest(?::VARCHAR[]), ?, ?",
                    [self.id, [h[0] for h in held], [h[1] for h in held], [h[2] for h in held], now, run_id])

    def record_page(self, run_id: int, keys: Sequence[str], fingerprints: Sequence[str],
                    refusals: Sequence[Refusal], sent: int, requests: int, retries: int,
                    before_commit: Callable[[], None] | None = None) -> None:
        """One page's outcome, in one transaction: its acknowledged rows (``keys``
        with their ``fingerprints``), its refused rows, and the run's counters.

        Call only after the page's 2xx answer: that order is the at-least-once
        promise. ``before_commit`` is a test hook (a kill inside the transaction).
        """
        with _writes(self.path):
            self._record_page(run_id, keys, fingerprints, refusals, sent, requests, retries, before_commit)

    def _record_page(self, run_id: int, keys: Sequence[str], fingerprints: Sequence[str],
                     refusals: Sequence[Refusal], sent: int, requests: int, retries: int,
                     before_commit: Callable[[], None] | None) -> None:
        now = self.clock()
        w = self.writer
        with transaction(w):
            if keys:
                w.execute(
                    f"INSERT INTO {T}.acknowledged SELECT ?, unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), ?, ?",
                    [self.id, list(keys), list(fingerprints), now, run_id],
                )
            if refusals:
                w.execute(
                    f"INSERT INTO {T}.rejected SELECT ?, unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
                    "unnest(?::VARCHAR[]), unnest(?::INTEGER[]), unnest(?::VARCHAR[]), unnest(?::INTEGER[]), ?, ?",
                    [self.id, [r.key for r in refusals], [r.fingerprint for r in refusals], [r.row for r in refusals],
                     [r.status for r in refusals], [r.response for r in refusals], [r.page for r in refusals],
                     now, run_id],
                )
            w.execute(
                f"""UPDATE {T}.runs SET rows_sent = rows_sent + ?, rows_acknowledged = rows_acknowledged + ?,
                    rows_rejected = rows_rejected + ?, pages = pages + 1, requests = requests + ?,
                    retries = retries + ?, updated_at = ? WHERE run_id = ?""",
                [sent, len(keys), len(refusals), requests, retries, now, run_id],
            )
            if before_commit is not None:
                before_commit()

    def finish_run(self, run_id: int, status: str, message: str | None = None) -> None:
        """Close the run with its final status, then merge it."""
        now = self.clock()
        with _writes(self.path):
            self.writer.execute(
                f"UPDATE {T}.runs SET status = ?, message = ?, ended_at = ?, updated_at = ? WHERE run_id = ?",
                [status, message, now, now, run_id],
            )
            touched = self.writer.execute(
                f"SELECT rows_acknowledged + rows_rejected FROM {T}.runs WHERE run_id = ?", [run_id]).fetchone()[0]
            _merge(self.writer, run_id, self.id, touched)


def recover(w: Any) -> list[int]:
    """Close runs left 'running' by a killed push (as aborted) and merge every
    unmerged run. Safe only while this process holds the state database, which
    DuckDB's own file lock guarantees (no other process can have it open).
    Returns the ids of the runs closed."""
    stale = [r for (r,) in w.execute(
        f"SELECT run_id FROM {T}.runs WHERE status = ? ORDER BY run_id", [RUNNING]).fetchall()]
    with _writes(_state_file(w)):
        if stale:
            w.execute(
                f"UPDATE {T}.runs SET status = ?, message = ?, ended_at = updated_at WHERE status = ?",
                [ABORTED, KILLED, RUNNING],
            )
        for run_id, destination, touched in w.execute(
            f"SELECT run_id, destination, rows_acknowledged + rows_rejected FROM {T}.runs "
            "WHERE NOT merged ORDER BY run_id"
        ).fetchall():
            _merge(w, run_id, destination, touched)
    return stale


def _merge(w: Any, run_id: int, destination: str, touched: int) -> None:
    """Delete entries a later run superseded; one transaction."""
    with transaction(w):
        if touched:
            this_run = "destination = $d AND run_id = $r"
            w.execute(
                f"DELETE FROM {T}.acknowledged WHERE destination = $d AND run_id < $r "
                f"AND key IN (SELECT key FROM {T}.acknowledged WHERE {this_run})",
                {"d": destination, "r": run_id},
            )
            w.execute(
                f"DELETE FROM {T}.rejected WHERE destination = $d AND run_id < $r AND key IN ("
                f"SELECT key FROM {T}.acknowledged WHERE {this_run} "
                f"UNION ALL SELECT key FROM {T}.rejected WHERE {this_run})",
                {"d": destination, "r": run_id},
            )
        w.execute(f"UPDATE {T}.runs SET merged = true WHERE run_id = ?", [run_id])


@dataclass(frozen=True)
class RunRecord:
    """One row of ``runs``, as ``stockx runs`` shows it."""

    run_id: int
    url: str
    model: str
    mode: str
    started_at: datetime
    ended_at: datetime | None
    status: str
    message: str | None
    table_rows: int
    planned: int
    sent: int
    acknowledged: int
    rejected: int
    pages: int
    retries: int
    held: int = 0


def recent_runs(con: Any, limit: int) -> list[RunRecord]:
    """The last ``limit`` runs, newest first, every destination."""
    held = "coalesce(r.rows_held, 0)" if has_held(con) else "0"
    rows = con.execute(
        f"""SELECT r.run_id, coalesce(d.url, r.destination), r.model, r.mode, r.started_at, r.ended_at, r.status,
                   r.message, r.table_rows, r.rows_planned, r.rows_sent, r.rows_acknowledged, r.rows_rejected,
                   r.pages, r.retries, {held}
            FROM {T}.runs r LEFT JOIN {T}.destinations d USING (destination)
            ORDER BY r.run_id DESC LIMIT ?""",
        [limit],
    ).fetchall()
    return [RunRecord(*row) for row in rows]


@dataclass(frozen=True)
class RejectedRecord:
    """One row of ``rejected``, as ``stockx rejected`` shows it."""

    run_id: int
    url: str
    rejected_at: datetime
    key: str
    status: int
    response: str
    row: str


def current_rejections(con: Any, run_id: int | None = None, limit: int | None = None) -> list[RejectedRecord]:
    """Rows refused and not acknowledged since, by run then key; one run's only with ``run_id``."""
    where = "WHERE r.run_id = ?" if run_id is not None else ""
    params: list[Any] = [run_id] if run_id is not None else []
    tail = ""
    if limit is not None:
        tail, params = "LIMIT ?", [*params, limit]
    rows = con.execute(
        f"""SELECT r.run_id, coalesce(d.url, r.destination), r.rejected_at, r.key, r.status, r.response, r.row
            FROM {T}.rejected r LEFT JOIN {T}.destinations d USING (destination)
            {where} ORDER BY r.run_id, r.destination, r.key {tail}""",
        params,
    ).fetchall()
    return [RejectedRecord(*row) for row in rows]


@dataclass(frozen=True)
class HeldRecord:
    """One row of ``held``, as ``stockx rejected --held`` shows it."""

    run_id: int
    url: str
    held_at: datetime
    key: str
    reason: str
    row: str


def current_held(con: Any, limit: int | None = None) -> list[HeldRecord]:
    """Rows held back by the last run to each destination, by destination then key."""
    if not has_held(con):
        return []
    params: list[Any] = []
    tail = ""
    if limit is not None:
        tail, params = "LIMIT ?", [limit]
    rows = con.execute(
        f"""SELECT h.run_id, coalesce(d.url, h.destination), h.held_at, h.key, h.reason, h.row
            FROM {T}.held h LEFT JOIN {T}.destinations d USING (destination)
            ORDER BY coalesce(d.url, h.destination), h.key {tail}""", params).fetchall()
    return [HeldRecord(*row) for row in rows]


def acknowledged_keys_sql(destination: str) -> str:
    """The keys Peak holds at ``destination`` (a destination id): acknowledged, and not
    refused since (a refusal after an acknowledgement is merged away only by a later
    acknowledgement)."""
    d = destination.replace("'", "''")
    return (f"(SELECT key FROM {T}.acknowledged WHERE destination = '{d}' "
            f"EXCEPT SELECT key FROM {T}.rejected WHERE destination = '{d}')")


def adopt_spellings(w: Any) -> list[str]:
    """Move state recorded under a destination id made from an unnormalised URL
    (``HTTPS://Host:443/a/``, as stockx wrote before URLs were normalised) to the
    id of the normalised URL, in one transaction; two spellings of one endpoint
    become one destination, each key keeping its latest entries as a merge would.
    Returns the ids moved away from."""
    moves: dict[str, tuple[Destination, Any]] = {}
    for old, base_url, object_, solution_name, url, first_seen in w.execute(
            f"SELECT destination, base_url, object, solution_name, url, first_seen_at FROM {T}.destinations "
            "ORDER BY destination").fetchall():
        new = Destination(normalize_url(base_url), object_, solution_name, normalize_url(url))
        if new.id != old:
            moves[old] = (new, first_seen)
    if not moves:
        return []
    with transaction(w):
        for old, (new, first_seen) in moves.items():
            for table in ("acknowledged", "rejected", "runs"):
                w.execute(f"UPDATE {T}.{table} SET destination = ? WHERE destination = ?", [new.id, old])
            w.execute(f"DELETE FROM {T}.destinations WHERE destination = ?", [old])
            w.execute(
                f"INSERT INTO {T}.destinations SELECT ?, ?, ?, ?, ?, ? "
                f"WHERE NOT EXISTS (SELECT 1 FROM {T}.destinations WHERE destination = ?)",
                [new.id, new.base_url, new.object, new.solution_name, new.url, first_seen, new.id],
            )
            w.execute(f"UPDATE {T}.destinations SET first_seen_at = least(first_seen_at, ?) WHERE destination = ?",
                      [first_seen, new.id])
        for destination in sorted({new.id for new, _ in moves.values()}):
            # As merging every run in order would: the latest acknowledgement of a key
            # stays; a refusal stays unless a later run acknowledged or refused the key.
            w.execute(
                f"""DELETE FROM {T}.acknowledged WHERE rowid IN (
                    SELECT rowid FROM (SELECT rowid, row_number() OVER (PARTITION BY key ORDER BY run_id DESC) AS n
                                       FROM {T}.acknowledged WHERE destination = $d) WHERE n > 1)""",
                {"d": destination},
            )
            w.execute(
                f"""DELETE FROM {T}.rejected WHERE rowid IN (
                    SELECT r.rowid FROM {T}.rejected r
                    WHERE r.destination = $d AND (
                        EXISTS (SELECT 1 FROM {T}.acknowledged a
                                WHERE a.destination = $d AND a.key = r.key AND a.run_id > r.run_id)
                        OR EXISTS (SELECT 1 FROM {T}.rejected q
                                   WHERE q.destination = $d AND q.key = r.key AND q.run_id > r.run_id)))""",
                {"d": destination},
            )
    return sorted(moves)
