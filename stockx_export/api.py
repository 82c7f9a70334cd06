"""Build and push from Python: what a scheduler's or an orchestrator's tasks call.

::

    from stockx_export import api

    built = api.build("/srv/stockx")     # BuildFailed if a model or an error-severity test failed
    pushed = api.push("/srv/stockx")     # VolumeGuardStop, PushLocked, DeliveryAborted, ExportError...
    if pushed.rejected:                  # rows Peak refused: `stockx rejected` lists them
        ...

The same library functions as ``stockx build`` and ``stockx export --push``,
with the same checks (a push is refused unless the last build of the model and
its tests succeeded). Every error is a :class:`~stockx_export.errors.StockxError`
whose ``exit_code`` is the command line's: 1 for a failed build, 2 for an
aborted push. Rows Peak refused are not an error: ``PushResult.exit_code`` is 1
then, as the command's.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, Mapping, TextIO

from stockx_export.errors import BuildFailed
from stockx_export.sync.run import PlanReport, PushResult

__all__ = ["BuildResult", "PlanReport", "PushResult", "build", "plan", "push"]

SHOWN_FAILURES = 3  # failures named in a BuildFailed message


@dataclass(frozen=True)
class BuildResult:
    """A build whose every node and error-severity test succeeded."""

    results: tuple[Any, ...]  # stockx_export.run.runner.NodeResult, in run order
    elapsed: float

    @property
    def warnings(self) -> tuple[str, ...]:
        """Names of the tests that warned (``warn`` severity, or under their ``error_if``)."""
        return tuple(r.node.name for r in self.results if r.status == "warn")


def build(project_dir: str = ".", *, vars: Mapping[str, Any] | None = None, database: str | None = None,
          select: tuple[str, ...] = (), exclude: tuple[str, ...] = (), full_refresh: bool = False,
          out: TextIO | None = None, log_format: str = "text", quiet: bool = True) -> BuildResult:
    """``stockx build``: seeds, models and their tests, in DAG order; writes ``target/`` as the command does.

    The log goes to ``out`` (default stderr; ``quiet`` keeps only failures).
    Raises :class:`BuildFailed` (exit code 1) when a node or an error-severity
    test failed, after the whole run; a project error (exit code 2) before it.
    """
    from stockx_export.run.engine import RunOptions, run_command
    from stockx_export.run.reporting import JsonReporter, TextReporter

    stream = out or sys.stderr
    reporter = JsonReporter(stream, quiet) if log_format == "json" else TextReporter(stream, quiet, color=False)
    options = RunOptions(project_dir=str(project_dir), vars=dict(vars or {}), database=database,
                         select=tuple(select), exclude=tuple(exclude), full_refresh=full_refresh)
    run = run_command("build", options, reporter)
    results = tuple(run.results)
    failed = [r for r in results if r.failed]
    if failed:
        named = "; ".join(f"{r.node.name}: {r.message}" for r in failed[:SHOWN_FAILURES])
        more = f"; and {len(failed) - SHOWN_FAILURES} more" if len(failed) > SHOWN_FAILURES else ""
        skipped = sum(1 for r in results if r.status == "skipped")
        raise BuildFailed(
            f"build failed: {len(failed)} failed, {skipped} skipped ({named}{more}); nothing can be exported "
            "until a build succeeds", results)
    return BuildResult(results, run.elapsed)


def _job(project_dir: str, model: str, vars: Mapping[str, Any] | None, database: str | None,
         overrides: Mapping[str, Any] | None, env: Mapping[str, str]):
    from stockx_export.export import run
    from stockx_export.run.projects import load_config

    config = load_config(str(project_dir), vars=dict(vars or {}), database=database)
    return config, run.plan(config, model, dict(overrides or {}), env, dry_run=False)


def plan(project_dir: str = ".", model: str = "stock_extra", *, vars: Mapping[str, Any] | None = None,
         database: str | None = None, full: bool = False, state_db: str | None = None,
         overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> PlanReport:
    """``stockx export --plan``: what a push would send, the gone keys, the volume guard's verdict."""
    from stockx_export.sync.run import plan_push

    env = os.environ if env is None else env
    config, job = _job(project_dir, model, vars, database, overrides, env)
    return plan_push(config, job, full=full, state_db=state_db, env=env)


def push(project_dir: str = ".", model: str = "stock_extra", *, vars: Mapping[str, Any] | None = None,
         database: str | None = None, full: bool = False, force: bool = False, state_db: str | None = None,
         overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
         client: Any = None) -> PushResult:
    """``stockx export --push``: send what changed since the last push to the same destination.

    ``overrides`` are export settings as on the command line (``base_url``,
    ``page_rows``...); the token is ``PEAK_AUTH_TOKEN`` in ``env`` (default
    ``os.environ``); ``client`` replaces the httpx client (tests pass one on a
    mock transport). Raises ExportError subclasses when the push cannot start
    or is aborted; the pages answered before an abort are recorded, and the
    next push sends only the rest.
    """
    from stockx_export.sync.run import push_changes

    env = os.environ if env is None else env
    config, job = _job(project_dir, model, vars, database, overrides, env)
    return push_changes(config, job, full=full, force=force, state_db=state_db, env=env, client=client)
