"""stockx from Python: what a scheduler's or an orchestrator's tasks call.

::

    from stockx_export import api

    built = api.build("/srv/stockx")     # BuildFailed if a model or an error-severity test failed
    pushed = api.push("/srv/stockx")     # VolumeGuardStop, PushLocked, DeliveryAborted, ExportError...
    if pushed.rejected:                  # rows Peak refused: `stockx rejected` lists them
        ...

    build(dir) / test(dir)                -> BuildResult     stockx build / stockx test
    write_files(dir, model, out_dir)      -> FilesResult     stockx export --out DIR
    validate(dir, model)                  -> SendResult      stockx export --validate-only
    plan(dir, model)                      -> PlanReport      stockx export --plan
    push(dir, model)                      -> PushResult      stockx export --push MODEL
    push_family(dir)                      -> FamilyResult    stockx export --push (every model with meta.peak)
    plan_family(dir)                      -> FamilyPlan      stockx export --plan
    held(dir)                             -> HeldReport      stockx rejected --held
    runs(dir) / rejected(dir)             -> RunsReport / RejectedReport    stockx runs / stockx rejected

The same library functions as the commands, with the same checks (a push is
refused unless the last build of the model and its tests succeeded). Every
result is a frozen dataclass. Every error is a
:class:`~stockx_export.errors.StockxError` whose ``exit_code`` is the command
line's: 1 for a failed build, 2 for a project error or an aborted push. Rows
Peak refused are not an error: ``PushResult.exit_code`` is 1 then, as the
command's.

Common keywords: ``vars`` (a mapping, or YAML/JSON text as ``--vars`` takes),
``database`` (instead of the configured DuckDB file), ``target`` (the target
to build in and read from, as ``--target``; default ``STOCKX_TARGET``), ``env`` (the environment
the token and ``PEAK_BASE_URL`` are read from; default ``os.environ``),
``overrides`` (export settings as on the command line: ``base_url``,
``page_rows``...), ``client`` (the httpx client to send with; tests pass one on
a mock transport).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, TextIO

from stockx_export.run.projects import load_config
from stockx_export.errors import BuildFailed
from stockx_export.export import service as export_service
from stockx_export.export.service import FilesResult, Progress, SendResult
from stockx_export.run.engine import RunOptions, run_command
from stockx_export.run.reporting import JsonReporter, TextReporter
from stockx_export.sync import family as sync_family
from stockx_export.sync import service as sync_service
from stockx_export.sync.family import FamilyPlan, FamilyResult, FamilyValidation, Outcome
from stockx_export.sync.service import HeldReport, PlanReport, PushResult, RejectedReport, RunsReport

__all__ = ["BuildResult", "FamilyPlan", "FamilyResult", "FamilyValidation", "FilesResult", "HeldReport", "PlanReport",
           "PushResult",
           "RejectedReport", "RunsReport", "SendResult", "build", "family_models", "held", "plan", "plan_family",
           "push", "push_family", "rejected", "runs", "test", "validate", "validate_family", "write_family",
           "write_files"]

Vars = Mapping[str, Any] | str | None


@dataclass(frozen=True)
class BuildResult:
    """A build (or test run) whose every node and error-severity test succeeded."""

    results: tuple[Any, ...]  # stockx_export.run.runner.NodeResult, in run order
    elapsed: float

    @property
    def warnings(self) -> tuple[str, ...]:
        """Names of the tests that warned (``warn`` severity, or under their ``error_if``)."""
        return tuple(r.node.name for r in self.results if r.status == "warn")


def build(project_dir: str = ".", *, vars: Vars = None, database: str | None = None, target: str | None = None,
          select: tuple[str, ...] = (), exclude: tuple[str, ...] = (), full_refresh: bool = False,
          out: TextIO | None = None, log_format: str = "text", quiet: bool = True) -> BuildResult:
    """``stockx build``: seeds, models and their tests, in DAG order; writes ``target/`` as the command does.

    The log goes to ``out`` (default stderr; ``quiet`` keeps only failures).
    Raises :class:`BuildFailed` (exit code 1) when a node or an error-severity
    test failed, after the whole run; a project error (exit code 2) before it.
    """
    return _run("build", project_dir, vars, database, target, select, exclude, full_refresh, out, log_format, quiet)


def test(project_dir: str = ".", *, vars: Vars = None, database: str | None = None, target: str | None = None,
         select: tuple[str, ...] = (), exclude: tuple[str, ...] = (), out: TextIO | None = None,
         log_format: str = "text", quiet: bool = True) -> BuildResult:
    """``stockx test``: the data tests, unit tests and contracts of the built models.

    Raises :class:`BuildFailed` (exit code 1) when an error-severity test failed."""
    return _run("test", project_dir, vars, database, target, select, exclude, False, out, log_format, quiet)


def _run(command: str, project_dir: str, vars: Vars, database: str | None, target: str | None, select: tuple[str, ...],
         exclude: tuple[str, ...], full_refresh: bool, out: TextIO | None, log_format: str,
         quiet: bool) -> BuildResult:
    stream = out or sys.stderr
    reporter = JsonReporter(stream, quiet) if log_format == "json" else TextReporter(stream, quiet, color=False)
    options = RunOptions(project_dir=str(project_dir), vars=_vars(vars), database=database, target=target,
                         select=tuple(select), exclude=tuple(exclude), full_refresh=full_refresh)
    run = run_command(command, options, reporter)
    results = tuple(run.results)
    if any(r.failed for r in results):
        raise BuildFailed(results, command=command)
    return BuildResult(results, run.elapsed)


def write_files(project_dir: str = ".", model: str = "stock_extra", out_dir: str | Path = "target/export", *,
                vars: Vars = None, database: str | None = None,
                profiles_dir: str | None = None, target: str | None = None, overrides: Mapping[str, Any] | None = None,
                env: Mapping[str, str] | None = None) -> FilesResult:
    """``stockx export --out DIR``: the model's payloads as page files and a manifest; nothing sent.

    A relative ``out_dir`` is taken from the working directory, as the command takes it."""
    return export_service.write_files(_config(project_dir, vars, database, profiles_dir, target), model, Path(out_dir),
                                      overrides=overrides, env=env)


def validate(project_dir: str = ".", model: str = "stock_extra", *, vars: Vars = None, database: str | None = None,
             profiles_dir: str | None = None, target: str | None = None,
             overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None, client: Any = None,
             progress: Progress | None = None) -> SendResult:
    """``stockx export --validate-only``: every row sent with ``"dryRun": true``; Peak stores none."""
    return export_service.validate(_config(project_dir, vars, database, profiles_dir, target), model,
                                   overrides=overrides, env=env,
                                   client=client, progress=progress)


def plan(project_dir: str = ".", model: str = "stock_extra", *, vars: Vars = None, database: str | None = None,
         profiles_dir: str | None = None, target: str | None = None,
         full: bool = False, force: bool = False, state_db: str | None = None,
         overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> PlanReport:
    """``stockx export --plan``: what a push would send, the gone keys, the volume guard's verdict
    (None with ``force``)."""
    return sync_service.plan(_config(project_dir, vars, database, profiles_dir, target), model,
                             full=full, force=force, state_db=state_db,
                             overrides=overrides, env=env)


def push(project_dir: str = ".", model: str = "stock_extra", *, vars: Vars = None, database: str | None = None,
         profiles_dir: str | None = None, target: str | None = None,
         full: bool = False, force: bool = False, state_db: str | None = None,
         overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None, client: Any = None,
         progress: Progress | None = None, handle_signals: bool = False) -> PushResult:
    """``stockx export --push``: send what changed since the last push to the same destination.

    The token is ``PEAK_AUTH_TOKEN`` in ``env``. Raises ExportError subclasses when the
    push cannot start or is aborted; the pages answered before an abort are recorded,
    and the next push sends only the rest. ``progress`` is called once the plan is
    known, with what is about to be sent, and returns who hears about each page.
    ``handle_signals``: SIGTERM ends the push like Ctrl-C, and either raises
    :class:`~stockx_export.errors.PushInterrupted` (as the command does).
    """
    return sync_service.push(_config(project_dir, vars, database, profiles_dir, target), model,
                             full=full, force=force, state_db=state_db,
                             overrides=overrides, env=env, client=client, progress=progress,
                             handle_signals=handle_signals)


def runs(project_dir: str = ".", limit: int = 20, *, vars: Vars = None, database: str | None = None,
         profiles_dir: str | None = None, target: str | None = None,
         state_db: str | None = None, env: Mapping[str, str] | None = None) -> RunsReport:
    """``stockx runs``: the last ``limit`` pushes recorded in the sync state, newest first."""
    return sync_service.runs(_config(project_dir, vars, database, profiles_dir, target), limit, state_db=state_db, env=env)


def rejected(project_dir: str = ".", run_id: int | None = None, limit: int | None = None, *, vars: Vars = None,
             database: str | None = None, profiles_dir: str | None = None, target: str | None = None, state_db: str | None = None,
             env: Mapping[str, str] | None = None) -> RejectedReport:
    """``stockx rejected``: rows Peak refused that no later push delivered (one run's with ``run_id``)."""
    return sync_service.rejected(_config(project_dir, vars, database, profiles_dir, target), run_id, limit,
                                 state_db=state_db, env=env)


def family_models(project_dir: str = ".", models: tuple[str, ...] = (), *, vars: Vars = None,
                  database: str | None = None, profiles_dir: str | None = None, target: str | None = None) -> tuple[str, ...]:
    """The models an export of ``models`` covers, in push order (default: every model with meta.peak)."""
    return export_service.family_models(_config(project_dir, vars, database, profiles_dir, target), tuple(models))


def write_family(project_dir: str = ".", models: tuple[str, ...] = (), out_dir: str | Path = "target/export", *,
                 vars: Vars = None, database: str | None = None, profiles_dir: str | None = None, target: str | None = None,
                 overrides: Mapping[str, Any] | None = None,
                 env: Mapping[str, str] | None = None) -> tuple[tuple[str, FilesResult], ...]:
    """``stockx export --out DIR [MODEL...]``: each model's pages, into DIR (one model) or DIR/<model>/."""
    return export_service.write_family(_config(project_dir, vars, database, profiles_dir, target), tuple(models),
                                       Path(out_dir), overrides=overrides, env=env)


def validate_family(project_dir: str = ".", models: tuple[str, ...] = (), *, vars: Vars = None,
                    database: str | None = None, profiles_dir: str | None = None, target: str | None = None,
                    overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
                    client: Any = None, progress: Progress | None = None) -> FamilyValidation:
    """``stockx export --validate-only [MODEL...]``: Peak's schema compared (attributes to add
    listed, none added), then each model sent with ``"dryRun": true``, in family order."""
    return sync_family.validate_family(_config(project_dir, vars, database, profiles_dir, target), tuple(models),
                                       overrides=overrides, env=env, client=client, progress=progress)


def push_family(project_dir: str = ".", models: tuple[str, ...] = (), *, vars: Vars = None,
                database: str | None = None, profiles_dir: str | None = None, target: str | None = None, full: bool = False,
                force: bool = False, state_db: str | None = None, overrides: Mapping[str, Any] | None = None,
                env: Mapping[str, str] | None = None, client: Any = None, progress: Progress | None = None,
                handle_signals: bool = False, check_schema: bool = False,
                on_aborted: Callable[[Outcome, bool], None] | None = None) -> FamilyResult:
    """``stockx export --push [MODEL...]``: every model with meta.peak (or ``models``), parents
    first; children of an aborted parent are skipped; rows whose parent Peak lacks are held.
    ``FamilyResult.exit_code`` is the command's (2 when a model was aborted or skipped)."""
    return sync_family.push_family(_config(project_dir, vars, database, profiles_dir, target), tuple(models), full=full,
                                   force=force, state_db=state_db, overrides=overrides, env=env, client=client,
                                   progress=progress, handle_signals=handle_signals,
                                   check_schema_always=check_schema, on_aborted=on_aborted)


def plan_family(project_dir: str = ".", models: tuple[str, ...] = (), *, vars: Vars = None,
                database: str | None = None, profiles_dir: str | None = None, target: str | None = None, full: bool = False,
                force: bool = False, state_db: str | None = None, overrides: Mapping[str, Any] | None = None,
                env: Mapping[str, str] | None = None, client: Any = None, check_schema: bool = False) -> FamilyPlan:
    """``stockx export --plan [MODEL...]``: a plan per model in push order; held rows counted."""
    return sync_family.plan_family(_config(project_dir, vars, database, profiles_dir, target), tuple(models), full=full,
                                   force=force, state_db=state_db, overrides=overrides, env=env, client=client,
                                   check_schema_always=check_schema)


def held(project_dir: str = ".", limit: int | None = None, *, vars: Vars = None, database: str | None = None,
         profiles_dir: str | None = None, target: str | None = None, state_db: str | None = None) -> HeldReport:
    """``stockx rejected --held``: rows the last push to each destination held back."""
    return sync_service.held(_config(project_dir, vars, database, profiles_dir, target), limit, state_db=state_db)



def _config(project_dir: str, vars: Vars, database: str | None, profiles_dir: str | None = None,
            target: str | None = None) -> Any:
    return load_config(str(project_dir), vars=_vars(vars), database=database, profiles_dir=profiles_dir, target=target)


def _vars(vars: Vars) -> Any:
    """``--vars`` text as it is; a mapping copied."""
    return vars if isinstance(vars, str) else dict(vars or {})
