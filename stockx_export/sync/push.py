"""A push with state, end to end: lock, plan, guard, deliver, record every page.

::

    with Sync(job, settings, database) as sync:   # lock the destination, open the state
        plan = sync.plan(full=False)               # preflight, then the plan in SQL
        sync.check_guard(plan, force=False)        # VolumeGuardStop, logged as an aborted run
        run_id, summary = sync.push(plan, client, token, rejected_path)

Each page's outcome is written to the state as soon as its own answer is in,
whatever its place in the page order, by the delivery worker that sent it and
before that worker sends another page (``deliver``'s ``on_answer``). A crash
(even ``kill -9``) therefore loses the outcome of at most the pages in flight,
``in_flight`` of them; the next push sends them again, which UPSERT makes
harmless.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from stockx_export.db import database_error_types, first_line
from stockx_export.errors import ExportError, StockxError, SyncStateError, VolumeGuardStop
from stockx_export.export.deliver import DeliverySummary, Listeners, PageResult
from stockx_export.export.retry import Clock
from stockx_export.export.run import ExportJob, check_transport, configure, pack_job_pages
from stockx_export.export.run import preflight as export_preflight
from stockx_export.export.run import send
from stockx_export.redact import Redactor
from stockx_export.sync.guard import History, guard_basis, read_history, volume_problem
from stockx_export.sync.lock import PushLock
from stockx_export.sync.plan import ParentKey, SyncPlan, compute_plan, gone_keys, held_rows, iter_send_rows
from stockx_export.sync.settings import SyncSettings
from stockx_export.sync.state import (ABORTED, FAILED, SUCCESS, WITH_ERRORS, Destination, Refusal, StateStore,
                                      open_state, utc_now)

# Where ``Sync.push`` calls its ``checkpoint`` callback, with the page number:
# the run is logged and nothing sent yet (page 0); a page's answer is in and its
# state transaction not begun; inside that transaction, before COMMIT; after it.
CHECKPOINTS = ("planned", "before-record", "mid-record", "after-record")


class Sync:
    """One push (or plan) to one destination, holding its lock and its state.

    ``state_writer``, given the state connection, returns what the state is
    written with (default: a cursor of it); a seam for write faults such as a
    full disk. ``action`` (``push`` or ``plan``) is what the lock says it is held
    for, and what a refusal says to run again."""

    def __init__(self, job: ExportJob, settings: SyncSettings, database: str,
                 clock: Callable[[], Any] = utc_now,
                 state_writer: Callable[[Any], Any] | None = None, action: str = "push",
                 parents: Sequence[ParentKey] = ()) -> None:
        self.job = job
        self.parents = tuple(parents)
        self.settings = settings
        self.database = database
        self.destination = Destination.from_settings(job.settings)
        self.clock = clock
        self.state_writer = state_writer
        started = clock().isoformat(sep=" ", timespec="seconds")
        lock_path = settings.locks / f"{self.destination.id}.lock"
        self.lock = PushLock(lock_path, self.destination.describe(), started, action=action)
        self.con: Any = None
        self.store: StateStore | None = None

    def __enter__(self) -> "Sync":
        self.lock.acquire()
        try:
            self.con = open_state(self.database, self.settings.state, self.settings.work_dir)
            writer = self.state_writer(self.con) if self.state_writer is not None else None
            self.store = StateStore(self.con, self.destination, self.clock, writer)
            self.store.register()
            self.store.recover()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
        if self.con is not None:
            self.con.close()
            self.con = None
        self.lock.release()

    # -- planning ----------------------------------------------------------------------
    def plan(self, full: bool = False, table_rows: int | None = None) -> SyncPlan:
        """Check the table (the export's preflight), then classify every key. ``table_rows``:
        the table was checked already (by a family push, before its schema check), and has
        that many rows."""
        job = self.job
        if table_rows is None:
            table_rows = export_preflight(self.con, job)
        else:
            configure(self.con, job)
        return compute_plan(self.con, job.relation, job.resource, job.settings.strftime, self.destination.id,
                            table_rows, full, self.settings.gone_policy(job.resource.object_name), self.parents)

    def gone_keys(self, limit: int) -> list[str]:
        return gone_keys(self.con, limit)

    def history(self) -> History:
        """This destination's recent pushes, as the volume guard reads them."""
        assert self.store is not None
        return read_history(self.store.writer, self.destination.id, self.settings.guard_pushes,
                            self.store.last_sync())

    def guard_problem(self, plan: SyncPlan) -> str | None:
        return volume_problem(plan, self.history(), self.settings.guard_tolerance, self.settings.max_shrink_share)

    def guard_basis(self, plan: SyncPlan) -> str:
        return guard_basis(plan, self.history(), self.settings.guard_tolerance)

    def check_guard(self, plan: SyncPlan, force: bool) -> None:
        """Stop (logging an aborted run) when the volume guard objects, unless ``force``."""
        problem = None if force else self.guard_problem(plan)
        if problem is None:
            return
        assert self.store is not None
        run_id = self.store.start_run(self.job.model, self.job.relation, plan.counts(), ABORTED,
                                      f"volume guard: {problem}")
        raise VolumeGuardStop(problem, run_id)

    # -- sending -----------------------------------------------------------------------
    def push(self, plan: SyncPlan, client: Any, token: str, rejected_path: Path,
             listeners: Listeners = Listeners(), clock: Clock = Clock(),
             checkpoint: Callable[[str, int], None] | None = None) -> tuple[int, DeliverySummary]:
        """Send the plan's rows; returns (run id, delivery summary). The run is closed
        as success, completed with errors (rows refused), failed or aborted.

        ``listeners.on_page`` sees each page's result in page order, after it is
        recorded (``on_answer`` is the state's own). ``checkpoint(point, page)`` is
        called at each of :data:`CHECKPOINTS` (an observer: the crash tests stop the
        process there)."""
        store, job = self.store, self.job
        assert store is not None
        check_transport(job.settings)  # before a run is logged: nothing was attempted
        redactor = Redactor.of(token)
        reached = checkpoint or (lambda point, page: None)
        run_id = store.start_run(job.model, job.relation, plan.counts())
        store.record_held(run_id, held_rows(self.con, job.relation, job.resource, job.settings.strftime)
                          if plan.held else [])
        reached("planned", 0)
        sent: dict[str, tuple[str, str]] = {}  # row JSON -> (key, fingerprint), for pages not yet recorded
        sent_lock = threading.Lock()  # filled by this thread, emptied by the delivery workers

        def batches() -> Iterator[list[str]]:
            for batch in iter_send_rows(self.con, job.relation, job.resource, job.settings.strftime, plan.full,
                                        zero=plan.zero > 0):
                rows = []
                with sent_lock:
                    for key, fingerprint, row in batch:
                        sent[row] = (key, fingerprint)
                        rows.append(row)
                yield rows

        def record(result: PageResult) -> None:
            # Called by the worker that sent the page, as soon as its outcome is known.
            number = result.page.number
            reached("before-record", number)
            keys, fingerprints, refusals = [], [], []
            with sent_lock:
                for row in result.acknowledged:
                    key, fingerprint = sent.pop(row)
                    keys.append(key)
                    fingerprints.append(fingerprint)
                for rejection in result.rejected:
                    key, fingerprint = sent.pop(rejection.row)
                    refusals.append(Refusal(key, fingerprint, rejection.row, rejection.status,
                                            redactor.scrub(rejection.response), rejection.page))
            store.record_page(run_id, keys, fingerprints, refusals, len(result.page.rows), result.requests,
                              result.retries, before_commit=lambda: reached("mid-record", number))
            reached("after-record", number)

        # Rows this destination took before prove the payload (URL and solution make the
        # destination): then no number of refused rows is blamed on it and stops the push.
        payload_proven = store.has_acknowledged()

        def close(status: str, message: str) -> None:
            # The run is closed on a best-effort basis: when the state cannot be written
            # (the disk is still full) the first error is the one to report, and the
            # next push closes the run as aborted.
            try:
                store.finish_run(run_id, status, message)
            except SyncStateError:
                pass

        try:
            summary = send(self.con, job, client, token, rejected_path, pages=pack_job_pages(batches(), job),
                           listeners=Listeners(listeners.on_page, record, listeners.on_retry), clock=clock,
                           payload_proven=payload_proven)
        except KeyboardInterrupt:
            close(ABORTED, "interrupted (Ctrl-C or SIGTERM)")
            raise
        except StockxError as exc:
            close(FAILED, redactor.scrub(str(exc)))
            raise
        except Exception as exc:
            close(FAILED, redactor.scrub(f"{type(exc).__name__}: {exc}"))
            if isinstance(exc, database_error_types()):
                # Disk full while sorting, say: an abort (exit 2), not a traceback and exit 1.
                raise ExportError(
                    f"DuckDB failed while reading {job.relation} to send it: {first_line(str(exc))}; "
                    f"the pages answered before are recorded (run {run_id}): fix the cause and push again"
                ) from None
            raise
        store.finish_run(run_id, WITH_ERRORS if summary.rejected else SUCCESS)
        return run_id, summary

