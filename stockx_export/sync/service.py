"""A push with state, from a loaded project to its result: what ``stockx export --push``,
``--plan``, ``stockx runs`` and ``stockx rejected`` do, callable without the command
line (:mod:`stockx_export.api` wraps them for a project directory).

::

    report = plan(config, "stock_extra")                   # the plan, gone keys, the guard's verdict
    result = push(config, "stock_extra", env=os.environ)   # lock, plan, guard, deliver, record
    recent = runs(config, limit=20)                        # the state's recent runs
    refused = rejected(config)                             # rows refused and not delivered since

Errors are :class:`~stockx_export.errors.ExportError` subclasses (``VolumeGuardStop``,
``PushLocked``, ``DeliveryAborted``...); rows Peak refused are a result, not an
error (``PushResult.rejected``). A KeyboardInterrupt closes the run as aborted
and propagates (as :class:`~stockx_export.errors.PushInterrupted` with
``handle_signals``, which also takes SIGTERM for Ctrl-C).
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from stockx_export.db import connect
from stockx_export.errors import PushInterrupted, StateNotWritable
from stockx_export.export import run as export_run
from stockx_export.export.deliver import DeliverySummary, Listeners
from stockx_export.export.http import new_client
from stockx_export.export.retry import Clock
from stockx_export.export.service import Progress, Sending
from stockx_export.paths import shown
from stockx_export.redact import Redactor
from stockx_export.sync.plan import ParentKey, SyncPlan
from stockx_export.sync.push import Sync
from stockx_export.sync.settings import SyncSettings, resolve_sync_settings
from stockx_export.sync.state import (SUCCESS, WITH_ERRORS, Destination, HeldRecord, RejectedRecord, RunRecord, T,
                                      attach_state, current_held, current_rejections, recent_runs, recover)

GONE_SHOWN = 10  # gone keys a plan lists


@dataclass(frozen=True)
class PlanReport:
    """What a push would do now."""

    plan: SyncPlan
    model: str
    destination: Destination
    gone: tuple[str, ...]  # the first GONE_SHOWN gone keys, as key text
    guard: str | None  # why the volume guard would stop the push, or None
    guard_basis: str  # what the guard judges a push against


@dataclass(frozen=True)
class PushResult:
    """What a push did: its run in the state, its plan, and Peak's answers."""

    run_id: int
    plan: SyncPlan
    summary: DeliverySummary
    destination: Destination
    state: Path
    rejected_path: Path
    url: str
    dry_run: bool = False

    @property
    def rejected(self) -> int:
        """Rows Peak refused (listed in ``rejected_path`` and by ``stockx rejected``)."""
        return len(self.summary.rejected)

    @property
    def held(self) -> int:
        """Rows held back: a parent key Peak does not hold (``stockx rejected --held``)."""
        return self.plan.held

    @property
    def exit_code(self) -> int:
        """The command line's exit code for this push: 0 every row acknowledged, 1 some
        refused or held back."""
        return 1 if self.summary.rejected or self.plan.held else 0


@dataclass(frozen=True)
class RunsReport:
    """The recent runs of a sync state, newest first; ``found`` is False when there is no state yet."""

    state: Path
    found: bool
    runs: tuple[RunRecord, ...] = ()


@dataclass(frozen=True)
class RejectedReport:
    """Rows refused and not delivered since, by run then key; ``found`` is False when there is no state yet."""

    state: Path
    found: bool
    rows: tuple[RejectedRecord, ...] = ()


@dataclass(frozen=True)
class HeldReport:
    """Rows the last run to each destination held back (a parent Peak lacks); ``found`` is
    False when there is no state yet."""

    state: Path
    found: bool
    rows: tuple[HeldRecord, ...] = ()


def sync_settings(config: Any, state_db: str | None = None) -> SyncSettings:
    """``[tool.stockx.sync]`` of the project, with ``--state-db`` applied."""
    return resolve_sync_settings(config.root, config.settings.get("sync"), state_db)


def plan(config: Any, model: str = "stock_extra", *, full: bool = False, force: bool = False,
         state_db: str | None = None, overrides: Mapping[str, Any] | None = None,
         env: Mapping[str, str] | None = None, parents: Sequence[ParentKey] = ()) -> PlanReport:
    """Plan a push without sending anything (no token needed). ``parents``: the model's
    foreign keys into other objects (rows whose parent Peak lacks are held)."""
    env = os.environ if env is None else env
    job = export_run.prepare(config, model, dict(overrides or {}), env)
    settings = sync_settings(config, state_db)
    with Sync(job, settings, export_run.export_database(config, job), action="plan", parents=parents) as sync:
        planned = sync.plan(full)
        return PlanReport(planned, job.model, sync.destination, tuple(sync.gone_keys(GONE_SHOWN)),
                          None if force else sync.guard_problem(planned), sync.guard_basis(planned))


def push(config: Any, model: str = "stock_extra", *, full: bool = False, force: bool = False,
         state_db: str | None = None, overrides: Mapping[str, Any] | None = None,
         env: Mapping[str, str] | None = None, client: Any = None, progress: Progress | None = None,
         handle_signals: bool = False, clock: Clock = Clock(), parents: Sequence[ParentKey] = (),
         table_rows: int | None = None) -> PushResult:
    """Send what changed since the last push to the same destination (everything with
    ``full``), recording every page in the sync state.

    The token is read from ``env`` (default ``os.environ``: ``PEAK_AUTH_TOKEN``).
    ``client`` is the httpx client to send with (default: a new one for the job's
    settings); ``progress`` is called once the plan is known and the guard passed
    it. ``handle_signals``: SIGTERM (a CI timeout, a service stop) ends the push
    like Ctrl-C, and either raises :class:`~stockx_export.errors.PushInterrupted`
    once the run is closed as aborted (the command line's behaviour). ``parents``:
    the model's foreign keys; rows whose parent Peak lacks are held, not sent.
    ``table_rows``: the table was checked already and holds that many rows.
    """
    env = os.environ if env is None else env
    job = export_run.prepare(config, model, dict(overrides or {}), env)
    export_run.check_transport(job.settings)  # before the token is read, the state opened or anything sent
    settings = sync_settings(config, state_db)
    token = export_run.token_from(env)
    rejected_path = Path(config.target_dir) / "export" / "rejected.jsonl"
    with _interrupts(settings.state, handle_signals):
        with Sync(job, settings, export_run.export_database(config, job), parents=parents) as sync:
            planned = sync.plan(full, table_rows)
            sync.check_guard(planned, force)
            listeners = Listeners()
            if progress is not None:
                listeners = progress(Sending(planned.to_send, state=settings.state))
            if client is None:
                with new_client(job.settings) as own:
                    run_id, summary = sync.push(planned, own, token, rejected_path, listeners=listeners, clock=clock)
            else:
                run_id, summary = sync.push(planned, client, token, rejected_path, listeners=listeners, clock=clock)
            return PushResult(run_id, planned, summary, sync.destination, settings.state, rejected_path,
                              job.settings.url)


def runs(config: Any, limit: int = 20, *, state_db: str | None = None,
         env: Mapping[str, str] | None = None) -> RunsReport:
    """The last ``limit`` runs, newest first, every destination (runs a killed push left
    open are closed as aborted first). Their messages are scrubbed of the token in ``env``."""
    state = sync_settings(config, state_db).state
    with _existing_state(state) as con:
        if con is None:
            return RunsReport(state, False)
        records = recent_runs(con, limit)
    scrub = _scrubber(env)
    return RunsReport(state, True, tuple(replace(r, message=scrub(r.message)) for r in records))


def rejected(config: Any, run_id: int | None = None, limit: int | None = None, *, state_db: str | None = None,
             env: Mapping[str, str] | None = None) -> RejectedReport:
    """Rows Peak refused and no later push delivered (one run's only with ``run_id``), at
    most ``limit``. Peak's answers are scrubbed of the token in ``env``."""
    state = sync_settings(config, state_db).state
    with _existing_state(state) as con:
        if con is None:
            return RejectedReport(state, False)
        records = current_rejections(con, run_id, limit)
    scrub = _scrubber(env)
    return RejectedReport(state, True, tuple(replace(r, response=scrub(r.response)) for r in records))


def held(config: Any, limit: int | None = None, *, state_db: str | None = None) -> HeldReport:
    """Rows held back by the last run to each destination, at most ``limit``."""
    state = sync_settings(config, state_db).state
    with _existing_state(state) as con:
        if con is None:
            return HeldReport(state, False)
        return HeldReport(state, True, tuple(current_held(con, limit)))


def pushed_destinations(config: Any, state_db: str | None = None) -> set[str]:
    """Ids of the destinations a push finished sending to before (an empty set without a state)."""
    state = sync_settings(config, state_db).state
    with _existing_state(state) as con:
        if con is None:
            return set()
        return {d for (d,) in con.execute(
            f"SELECT DISTINCT destination FROM {T}.runs WHERE status IN (?, ?)", [SUCCESS, WITH_ERRORS]).fetchall()}


def acknowledged_destinations(config: Any, state_db: str | None = None) -> set[str]:
    """Ids of the destinations that acknowledged at least one row (an empty set without a state)."""
    state = sync_settings(config, state_db).state
    with _existing_state(state) as con:
        if con is None:
            return set()
        return {d for (d,) in con.execute(f"SELECT DISTINCT destination FROM {T}.acknowledged").fetchall()}


def _scrubber(env: Mapping[str, str] | None) -> Callable[[str | None], str | None]:
    """Scrubs text from the state of the token: a push scrubs answers before storing
    them; this also covers states written by older versions (and a token changed since)."""
    redactor = Redactor.from_env(os.environ if env is None else env, [export_run.TOKEN_ENV])
    return lambda text: redactor.scrub(text) if text else text


@contextmanager
def _existing_state(state: Path) -> Iterator[Any]:
    """A connection to the state database with killed runs closed, or None when there is none yet.

    A state that cannot be opened for writing is read as it is (runs a killed push
    left open then show as running): these commands only read it."""
    if not state.exists():
        yield None
        return
    con = connect(":memory:")
    try:
        try:
            attach_state(con, state)
            recover(con)
        except StateNotWritable:
            con.close()
            con = connect(":memory:")
            attach_state(con, state, read_only=True)
        yield con
    finally:
        con.close()


@contextmanager
def _interrupts(state: Path, handle_signals: bool) -> Iterator[None]:
    """With ``handle_signals``: SIGTERM raises KeyboardInterrupt like Ctrl-C (on the main
    thread: only it receives signals), and a KeyboardInterrupt leaving the block becomes
    :class:`PushInterrupted` (exit code 2, not click's 1, which means "Peak rejected some rows")."""
    if not handle_signals:
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    except KeyboardInterrupt:
        raise PushInterrupted(shown(state)) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
