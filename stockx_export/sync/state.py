"""The sync state database: what each destination acknowledged, refused, and every run.

Tables (a user can query them with SQL; keys and rows are the JSON Peak received)::

    destinations  destination, base_url, object, solution_name, url, first_seen_at
    acknowledged  destination, key, fingerprint, acknowledged_at, run_id
    rejected      destination, key, fingerprint, row, status, response, page, rejected_at, run_id
    runs          run_id, destination, model, relation, mode, started_at, updated_at, ended_at,
                  status, message, table_rows, rows_new, rows_changed, rows_unchanged,
                  rows_retried, keys_gone, rows_planned, rows_sent, rows_acknowledged,
                  rows_rejected, pages, requests, retries, merged

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

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from stockx_export.db import first_line, literal
from stockx_export.errors import ExportError
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

_DDL = (
    f"CREATE TABLE IF NOT EXISTS {T}.meta (name VARCHAR PRIMARY KEY, value VARCHAR)",
    f"""CREATE TABLE IF NOT EXISTS {T}.destinations (
        destination VARCHAR PRIMARY KEY, base_url VARCHAR, object VARCHAR, solution_name VARCHAR,
        url VARCHAR, first_seen_at TIMESTAMP)""",
    f"""CREATE TABLE IF NOT EXISTS {T}.acknowledged (
        destination VARCHAR NOT NULL, key VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL,
        acknowledged_at TIMESTAMP NOT NULL, run_id BIGINT NOT NULL)""",
    f"""CREATE TABLE IF NOT EXISTS {T}.rejected (
        destination VARCHAR NOT NULL, key VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL, row VARCHAR,
        status INTEGER, response VARCHAR, page INTEGER, rejected_at TIMESTAMP NOT NULL, run_id BIGINT NOT NULL)""",
    f"""CREATE TABLE IF NOT EXISTS {T}.runs (
        run_id BIGINT PRIMARY KEY, destination VARCHAR NOT NULL, model VARCHAR, relation VARCHAR, mode VARCHAR,
        started_at TIMESTAMP, updated_at TIMESTAMP, ended_at TIMESTAMP, status VARCHAR, message VARCHAR,
        table_rows BIGINT, rows_new BIGINT, rows_changed BIGINT, rows_unchanged BIGINT, rows_retried BIGINT,
        keys_gone BIGINT, rows_planned BIGINT, rows_sent BIGINT DEFAULT 0, rows_acknowledged BIGINT DEFAULT 0,
        rows_rejected BIGINT DEFAULT 0, pages BIGINT DEFAULT 0, requests BIGINT DEFAULT 0,
        retries BIGINT DEFAULT 0, merged BOOLEAN DEFAULT false)""",
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


def open_state(database: str, state_path: Path, work_dir: Path):
    """A DuckDB connection on which the project database is attached read-only
    (and is the default catalog, so ``main.stock_extra`` resolves) and the state
    database is attached read-write as ``stockx_state``; the schema is created
    when missing. DuckDB spills to ``work_dir/tmp``, never beside the project."""
    from stockx_export.db import connect, database_error_types

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


def attach_state(con: Any, state_path: Path) -> None:
    """Attach the state database as ``stockx_state`` (creating it and its tables)."""
    from stockx_export.db import database_error_types

    state_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con.execute(f"ATTACH {literal(str(state_path))} AS {STATE}")
    except database_error_types() as exc:
        raise ExportError(_state_error(state_path, str(exc))) from None
    # One transaction: a push killed while creating the state leaves none.
    con.execute("BEGIN TRANSACTION")
    try:
        for statement in _DDL:
            con.execute(statement)
        found = con.execute(f"SELECT value FROM {T}.meta WHERE name = 'schema_version'").fetchone()
        if found is None:
            con.execute(f"INSERT INTO {T}.meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if found is not None and found[0] != SCHEMA_VERSION:
        raise ExportError(
            f"sync state {state_path} has schema version {found[0]}, this stockx reads version {SCHEMA_VERSION}; "
            "upgrade stockx (or move the file away to start a new state)"
        )


def _state_error(state_path: Path, message: str) -> str:
    held = re.search(r"Conflicting lock is held in .*?\(PID (\d+)\)", message)
    if held:
        return (
            f"sync state {state_path} is in use by another stockx process (PID {held.group(1)}); "
            "wait for it to finish, or give this destination its own state with --state-db"
        )
    return f"cannot open sync state {state_path}: {first_line(message)}"


class StateStore:
    """The state of one destination, in the state database attached to ``con``.

    ``con`` plans and streams rows; a cursor of it writes, so a page can be
    recorded while the row stream is still open on ``con``.
    """

    def __init__(self, con: Any, destination: Destination, clock: Callable[[], datetime] = utc_now) -> None:
        self.con = con
        self.destination = destination
        self.clock = clock
        self.writer = con.cursor()
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
        self.writer.execute(
            f"""INSERT INTO {T}.runs (run_id, destination, model, relation, mode, started_at, updated_at, ended_at,
                status, message, table_rows, rows_new, rows_changed, rows_unchanged, rows_retried, keys_gone,
                rows_planned, merged)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [run_id, self.id, model, relation, counts.mode, now, now, ended, status, message, counts.table_rows,
             counts.new, counts.changed, counts.unchanged, counts.retried, counts.gone, counts.planned,
             status != RUNNING],
        )
        return run_id

    def record_page(self, run_id: int, keys: Sequence[str], fingerprints: Sequence[str],
                    refusals: Sequence[Refusal], sent: int, requests: int, retries: int,
                    before_commit: Callable[[], None] | None = None) -> None:
        """One page's outcome, in one transaction: its acknowledged rows (``keys``
        with their ``fingerprints``), its refused rows, and the run's counters.

        Call only after the page's 2xx answer: that order is the at-least-once
        promise. ``before_commit`` is a test hook (a kill inside the transaction).
        """
        now = self.clock()
        w = self.writer
        w.execute("BEGIN TRANSACTION")
        try:
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
            w.execute("COMMIT")
        except BaseException:
            w.execute("ROLLBACK")
            raise

    def finish_run(self, run_id: int, status: str, message: str | None = None) -> None:
        """Close the run with its final status, then merge it."""
        now = self.clock()
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
    w.execute("BEGIN TRANSACTION")
    try:
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
        w.execute("COMMIT")
    except BaseException:
        w.execute("ROLLBACK")
        raise


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


def recent_runs(con: Any, limit: int) -> list[RunRecord]:
    """The last ``limit`` runs, newest first, every destination."""
    rows = con.execute(
        f"""SELECT r.run_id, coalesce(d.url, r.destination), r.model, r.mode, r.started_at, r.ended_at, r.status,
                   r.message, r.table_rows, r.rows_planned, r.rows_sent, r.rows_acknowledged, r.rows_rejected,
                   r.pages, r.retries
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
    w.execute("BEGIN TRANSACTION")
    try:
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
        w.execute("COMMIT")
    except BaseException:
        w.execute("ROLLBACK")
        raise
    return sorted(moves)
