"""A push with state, end to end: lock, plan, guard, deliver, record every page.

::

    with Sync(job, settings, database) as sync:   # lock the destination, open the state
        plan = sync.plan(full=False)               # preflight, then the plan in SQL
        sync.check_guard(plan, force=False)        # VolumeGuardStop, logged as an aborted run
        run_id, summary = sync.push(plan, client, token, rejected_path)

Each page's outcome is written to the state right after its answer, in page
order, from the thread that reads the row stream (``deliver`` calls back that
way). A crash loses at most the pages handed to delivery whose outcome was not
yet written (``in_flight`` x 4 at most, ``deliver``'s queue); the next push
sends them again, which UPSERT makes harmless.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from stockx_export.db import database_error_types, first_line
from stockx_export.errors import ExportError, StockxError
from stockx_export.export.deliver import DeliveryAborted, DeliverySummary, PageResult
from stockx_export.export.pages import Page, RowTooLarge, pack_pages
from stockx_export.export.run import ExportJob
from stockx_export.export.run import preflight as export_preflight
from stockx_export.export.run import push as export_push
from stockx_export.sync.guard import History, VolumeGuardStop, guard_basis, read_history, volume_problem
from stockx_export.sync.lock import PushLock
from stockx_export.sync.plan import SyncPlan, compute_plan, gone_keys, iter_send_rows
from stockx_export.sync.settings import SyncSettings
from stockx_export.sync.state import (ABORTED, FAILED, SUCCESS, WITH_ERRORS, Destination, Refusal, StateStore,
                                      open_state, utc_now)

PAUSE_ENV = "STOCKX_SYNC_PAUSE"
PAUSE_FILE_ENV = "STOCKX_SYNC_PAUSE_FILE"
PAUSE_POINTS = ("planned", "before-record", "mid-record", "after-record")


class Pause:
    """Test hook for crash tests: with ``STOCKX_SYNC_PAUSE=<point>:<page>`` the push
    writes ``<point> <page>`` to the file named by ``STOCKX_SYNC_PAUSE_FILE`` when
    it reaches that point and then sleeps, so a test can ``kill -9`` it at an exact
    place. Points: ``planned`` (page 0: the run is logged, nothing sent),
    ``before-record`` (the page's answer is in, its state transaction not begun),
    ``mid-record`` (inside the transaction, before COMMIT), ``after-record``."""

    def __init__(self, env: Mapping[str, str], sleep: Callable[[float], Any] = time.sleep) -> None:
        spec = env.get(PAUSE_ENV, "")
        point, _, page = spec.partition(":")
        self.point = point if point in PAUSE_POINTS and page.isdigit() else None
        self.page = int(page) if self.point else -1
        self.file = env.get(PAUSE_FILE_ENV)
        self.sleep = sleep

    def at(self, point: str, page: int) -> None:
        if point != self.point or page != self.page:
            return
        if self.file:
            Path(self.file).write_text(f"{point} {page}\n", encoding="utf-8")
        self.sleep(60)
        os._exit(70)  # never killed: fail loudly rather than carry on as if nothing happened


class Sync:
    """One push (or plan) to one destination, holding its lock and its state."""

    def __init__(self, job: ExportJob, settings: SyncSettings, database: str,
                 env: Mapping[str, str] | None = None, clock: Callable[[], Any] = utc_now) -> None:
        self.job = job
        self.settings = settings
        self.database = database
        self.destination = Destination.from_settings(job.settings)
        self.clock = clock
        self.pause = Pause(env or {})
        started = clock().isoformat(sep=" ", timespec="seconds")
        lock_path = settings.locks / f"{self.destination.id}.lock"
        self.lock = PushLock(lock_path, self.destination.describe(), started)
        self.con: Any = None
        self.store: StateStore | None = None

    def __enter__(self) -> "Sync":
        self.lock.acquire()
        try:
            self.con = open_state(self.database, self.settings.state, self.settings.work_dir)
            self.store = StateStore(self.con, self.destination, self.clock)
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
    def plan(self, full: bool = False) -> SyncPlan:
        """Check the table (the export's preflight), then classify every key."""
        job = self.job
        table_rows = export_preflight(self.con, job)
        return compute_plan(self.con, job.relation, job.resource, job.settings.strftime, self.destination.id,
                            table_rows, full, self.settings.gone_policy(job.resource.object_name))

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
        raise VolumeGuardStop(
            f"volume guard: {problem}; nothing was sent (run {run_id}). "
            "Check the build; re-run with --force to send anyway"
        )

    # -- sending -----------------------------------------------------------------------
    def push(self, plan: SyncPlan, client: Any, token: str, rejected_path: Path,
             on_page: Callable[[PageResult], None] | None = None, **deliver_options: Any
             ) -> tuple[int, DeliverySummary]:
        """Send the plan's rows; returns (run id, delivery summary). The run is closed
        as success, completed with errors (rows refused), failed or aborted."""
        store, job = self.store, self.job
        assert store is not None
        run_id = store.start_run(job.model, job.relation, plan.counts())
        self.pause.at("planned", 0)
        sent: dict[str, tuple[str, str]] = {}  # row JSON -> (key, fingerprint), for pages in flight

        def batches() -> Iterator[list[str]]:
            for batch in iter_send_rows(self.con, job.relation, job.resource, job.settings.strftime, plan.full,
                                        zero=plan.zero > 0):
                rows = []
                for key, fingerprint, row in batch:
                    sent[row] = (key, fingerprint)
                    rows.append(row)
                yield rows

        def record(result: PageResult) -> None:
            number = result.page.number
            self.pause.at("before-record", number)
            keys, fingerprints = [], []
            for row in result.acknowledged:
                key, fingerprint = sent.pop(row)
                keys.append(key)
                fingerprints.append(fingerprint)
            refusals = []
            for rejection in result.rejected:
                key, fingerprint = sent.pop(rejection.row)
                refusals.append(Refusal(key, fingerprint, rejection.row, rejection.status, rejection.response,
                                        rejection.page))
            store.record_page(run_id, keys, fingerprints, refusals, len(result.page.rows), result.requests,
                              result.retries, before_commit=lambda: self.pause.at("mid-record", number))
            self.pause.at("after-record", number)
            if on_page is not None:
                on_page(result)

        # Rows this destination took before prove the payload (URL and solution make the
        # destination): then no number of refused rows is blamed on it and stops the push.
        deliver_options.setdefault("payload_proven", store.has_acknowledged())
        try:
            summary = export_push(self.con, job, client, token, rejected_path, on_page=record,
                                  pages=_pages(batches(), job), **deliver_options)
        except KeyboardInterrupt:
            store.finish_run(run_id, ABORTED, "interrupted (Ctrl-C or SIGTERM)")
            raise
        except DeliveryAborted as exc:
            store.finish_run(run_id, FAILED, str(exc))
            raise
        except StockxError as exc:
            store.finish_run(run_id, FAILED, str(exc))
            raise
        except Exception as exc:
            store.finish_run(run_id, FAILED, f"{type(exc).__name__}: {exc}")
            if isinstance(exc, database_error_types()):
                # Disk full while sorting, say: an abort (exit 2), not a traceback and exit 1.
                raise ExportError(
                    f"DuckDB failed while reading {job.relation} to send it: {first_line(str(exc))}; "
                    f"the pages answered before are recorded (run {run_id}): fix the cause and push again"
                ) from None
            raise
        store.finish_run(run_id, WITH_ERRORS if summary.rejected else SUCCESS)
        return run_id, summary


def _pages(batches: Iterator[list[str]], job: ExportJob) -> Iterator[Page]:
    try:
        yield from pack_pages(batches, job.envelope, job.settings.page_rows, job.settings.page_bytes)
    except RowTooLarge as exc:
        raise ExportError(f"{job.relation}: {exc}; raise page_bytes") from None
