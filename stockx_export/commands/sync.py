"""Sync state commands: ``stockx runs``, ``stockx rejected``, and the stateful ``export --push``."""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import click

from stockx_export.cli import handle_errors, project_options
from stockx_export.commands.export import plural, shown

GONE_SHOWN = 10  # gone keys listed by --plan


def _sync_settings(config, state_db):
    from stockx_export.sync.settings import resolve_sync_settings

    return resolve_sync_settings(config.root, config.settings.get("sync"), state_db)


@contextmanager
def _sigterm_interrupts():
    """SIGTERM (a CI timeout, a service stop) ends a push like Ctrl-C: the page being
    recorded is rolled back and the run is closed as aborted, not left running."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def push_with_state(config, job, full: bool, plan_only: bool, force: bool, state_db: str | None) -> None:
    """``stockx export --push`` / ``--plan``: send what changed since the last acknowledged
    push (or everything with ``full``), recording each page in the sync state."""
    from stockx_export.errors import ExportError
    from stockx_export.export import run
    from stockx_export.export.deliver import DeliveryAborted
    from stockx_export.export.progress import Progress, summary_text
    from stockx_export.export.redact import Redactor
    from stockx_export.sync.push import Sync
    from stockx_export.sync.report import plan_text, run_line

    settings = _sync_settings(config, state_db)
    token = None if plan_only else run.token_from(os.environ)
    try:
        with Sync(job, settings, config.database) as sync, _sigterm_interrupts():
            plan = sync.plan(full)
            if plan_only:
                gone = sync.gone_keys(GONE_SHOWN)
                guard = None if force else sync.guard_problem(plan)
                click.echo(plan_text(plan, job.model, sync.destination, gone, guard))
                return
            sync.check_guard(plan, force)
            rejected_path = Path(config.target_dir) / "export" / "rejected.jsonl"
            shown_path = shown(rejected_path)
            progress = Progress(plan.to_send, tty=sys.stderr.isatty())
            try:
                with run.new_client(job.settings) as client:
                    run_id, summary = sync.push(plan, client, token, rejected_path, on_page=progress.page,
                                                on_retry=progress.retry)
            except DeliveryAborted:
                progress.close()
                click.echo(f"aborted after {plural(progress.pages, 'page')} ({plural(progress.rows, 'row')}) were "
                           f"answered; {plural(progress.rejected, 'row')} rejected so far\n"
                           f"their outcome is recorded in {shown(settings.state)}: the next push sends only the rest",
                           err=True)
                raise
            finally:
                progress.close()
    except KeyboardInterrupt:
        # Exit 2 (aborted) like any other abort, not click's 1, which means "Peak rejected some rows".
        raise ExportError(
            f"interrupted (Ctrl-C or SIGTERM); the pages answered so far are recorded in {shown(settings.state)}: "
            "the next push sends only the rest"
        ) from None
    click.echo(Redactor.of(token).scrub(summary_text(summary, job.settings.url, shown_path, job.dry_run)))
    click.echo(run_line(run_id, plan, shown(settings.state)))
    if plan.gone:
        click.echo(f"{plan.gone:,} acknowledged keys are no longer in the table (Peak has no delete); "
                   "`stockx export --plan` lists them")
    if summary.rejected:
        count = len(summary.rejected)
        raise run.RowsRejected(f"Peak rejected {count:,} row{'s' if count != 1 else ''}; see {shown_path}")


def _echo_scrubbed(text: str) -> None:
    """Print state contents with the token (when PEAK_AUTH_TOKEN is set) removed in any
    encoding: a push scrubs answers before storing them; this also covers states
    written by older versions."""
    from stockx_export.export.redact import Redactor
    from stockx_export.export.run import TOKEN_ENV

    click.echo(Redactor.from_env(os.environ, [TOKEN_ENV]).scrub(text))


def _open_existing_state(config, state_db):
    """A connection to the state database with killed runs closed, or None when there is none yet."""
    from stockx_export.db import connect
    from stockx_export.sync.state import attach_state, recover

    settings = _sync_settings(config, state_db)
    if not settings.state.is_file():
        click.echo(f"no sync state yet at {shown(settings.state)} (`stockx export --push` creates it)")
        return None
    con = connect(":memory:")
    try:
        attach_state(con, settings.state)
        recover(con)
    except BaseException:
        con.close()
        raise
    return con


@click.command()
@click.option("-n", "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Runs to show.")
@click.option("--state-db", default=None, help="Sync state DuckDB file (default .stockx/state.duckdb).")
@project_options
@handle_errors
def runs(limit, state_db, project_dir, vars_, database):
    """Show recent pushes, newest first: rows planned, sent, acknowledged and
    rejected, pages, retries and status (success, completed with errors,
    failed, aborted)."""
    from stockx_export.config import load_config
    from stockx_export.sync.report import runs_text
    from stockx_export.sync.state import recent_runs

    config = load_config(project_dir, vars=vars_, database=database)
    con = _open_existing_state(config, state_db)
    if con is None:
        return
    try:
        _echo_scrubbed(runs_text(recent_runs(con, limit)))
    finally:
        con.close()


@click.command()
@click.option("--run", "run_id", type=int, default=None, help="Only the rows refused in this run.")
@click.option("-n", "--limit", type=click.IntRange(min=1), default=None, help="Rows to show at most.")
@click.option("--format", "format_", type=click.Choice(["text", "jsonl"]), default="text", show_default=True,
              help="jsonl: one JSON object per row, for scripts.")
@click.option("--state-db", default=None, help="Sync state DuckDB file (default .stockx/state.duckdb).")
@project_options
@handle_errors
def rejected(run_id, limit, format_, state_db, project_dir, vars_, database):
    """List the rows Peak refused and that no later push delivered: key, HTTP
    status, Peak's answer, the row, and the run. The next push sends them again."""
    from stockx_export.config import load_config
    from stockx_export.sync.report import rejected_jsonl, rejected_text
    from stockx_export.sync.state import current_rejections

    config = load_config(project_dir, vars=vars_, database=database)
    con = _open_existing_state(config, state_db)
    if con is None:
        return
    try:
        records = current_rejections(con, run_id, limit)
    finally:
        con.close()
    if format_ == "jsonl":
        if records:
            _echo_scrubbed(rejected_jsonl(records))
    else:
        _echo_scrubbed(rejected_text(records))
