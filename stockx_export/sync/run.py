"""A push with state from a project's settings to its result: what ``stockx export --push``
and ``--plan`` do, callable without the command line (``stockx_export.api`` wraps it).

::

    report = plan_push(config, job)                      # the plan, gone keys, the guard's verdict
    result = push_changes(config, job, env=os.environ)   # lock, plan, guard, deliver, record

Errors are :class:`~stockx_export.errors.ExportError` subclasses (``VolumeGuardStop``,
``PushLocked``, ``DeliveryAborted``...); rows Peak refused are a result, not an
error (``PushResult.rejected``). A KeyboardInterrupt closes the run as aborted
and propagates.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from stockx_export.export import run as export_run
from stockx_export.export.deliver import DeliverySummary, PageResult, RetryEvent
from stockx_export.sync.plan import SyncPlan
from stockx_export.sync.push import Sync
from stockx_export.sync.settings import SyncSettings, resolve_sync_settings
from stockx_export.sync.state import Destination

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

    @property
    def rejected(self) -> int:
        """Rows Peak refused (listed in ``rejected_path`` and by ``stockx rejected``)."""
        return len(self.summary.rejected)

    @property
    def exit_code(self) -> int:
        """The command line's exit code for this push: 0 every row acknowledged, 1 some refused."""
        return 1 if self.summary.rejected else 0


def sync_settings(config: Any, state_db: str | None = None) -> SyncSettings:
    """``[tool.stockx.sync]`` of the project, with ``--state-db`` applied."""
    return resolve_sync_settings(config.root, config.settings.get("sync"), state_db)


def plan_push(config: Any, job: export_run.ExportJob, *, full: bool = False, force: bool = False,
              state_db: str | None = None, env: Mapping[str, str] | None = None) -> PlanReport:
    """Plan a push without sending anything (no token needed)."""
    settings = sync_settings(config, state_db)
    with Sync(job, settings, config.database) as sync:
        plan = sync.plan(full)
        return PlanReport(plan, job.model, sync.destination, tuple(sync.gone_keys(GONE_SHOWN)),
                          None if force else sync.guard_problem(plan), sync.guard_basis(plan))


def push_changes(config: Any, job: export_run.ExportJob, *, full: bool = False, force: bool = False,
                 state_db: str | None = None, env: Mapping[str, str] | None = None, client: Any = None,
                 on_plan: Callable[[SyncPlan], None] | None = None,
                 on_page: Callable[[PageResult], None] | None = None,
                 on_retry: Callable[[RetryEvent], None] | None = None) -> PushResult:
    """Send what changed since the last push to the same destination (everything with
    ``full``), recording every page in the sync state.

    The token is read from ``env`` (default ``os.environ``: ``PEAK_AUTH_TOKEN``). ``client`` is the
    httpx client to send with (default: a new one for the job's settings);
    ``on_plan`` is called once the plan is known and the guard passed it.
    """
    env = os.environ if env is None else env
    settings = sync_settings(config, state_db)
    token = export_run.token_from(env)
    with Sync(job, settings, config.database) as sync:
        plan = sync.plan(full)
        sync.check_guard(plan, force)
        if on_plan is not None:
            on_plan(plan)
        rejected_path = Path(config.target_dir) / "export" / "rejected.jsonl"
        if client is None:
            with export_run.new_client(job.settings) as own:
                run_id, summary = sync.push(plan, own, token, rejected_path, on_page=on_page, on_retry=on_retry)
        else:
            run_id, summary = sync.push(plan, client, token, rejected_path, on_page=on_page, on_retry=on_retry)
        return PushResult(run_id, plan, summary, sync.destination, settings.state, rejected_path)
