"""Sync state commands: ``stockx runs``, ``stockx rejected``, and the stateful ``export --push``."""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager

import click

from stockx_export.cli import handle_errors, project_options
from stockx_export.commands.export import plural, shown


def _sync_settings(config, state_db):
    from stockx_export.sync.run import sync_settings

    return sync_settings(config, state_db)


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
    """``stockx export --push`` / ``--plan``: the library's push (stockx_export.sync.run), printed."""
    from stockx_export.errors import ExportError
    from stockx_export.export import run
    from stockx_export.export.deliver import DeliveryAborted
    from stockx_export.export.progress import Progress, summary_text
    from stockx_export.export.redact import Redactor
    from stockx_export.sync.report import gone_line, plan_text, run_line
    from stockx_export.sync.run import plan_push, push_changes

    if plan_only:
        report = plan_push(config, job, full=full, force=force, state_db=state_db, env=os.environ)
        click.echo(plan_text(report))
        return
    state = _sync_settings(config, state_db).state
    progress: list[Progress] = []  # made once the plan is known

    def planned(plan) -> None:
        progress.append(Progress(plan.to_send, tty=sys.stderr.isatty()))

    try:
        with _sigterm_interrupts():
            result = push_changes(config, job, full=full, force=force, state_db=state_db, env=os.environ,
                                  on_plan=planned, on_page=lambda page: progress[0].page(page),
                                  on_retry=lambda event: progress[0].retry(event))
    except DeliveryAborted:
        done = progress[0]
        done.close()
        click.echo(f"aborted after {plural(done.pages, 'page')} ({plural(done.rows, 'row')}) were answered; "
                   f"{plural(done.rejected, 'row')} rejected so far\n"
                   f"their outcome is recorded in {shown(state)}: the next push sends only the rest", err=True)
        raise
    except KeyboardInterrupt:
        # Exit 2 (aborted) like any other abort, not click's 1, which means "Peak rejected some rows".
        raise ExportError(
            f"interrupted (Ctrl-C or SIGTERM); the pages answered so far are recorded in {shown(state)}: "
            "the next push sends only the rest"
        ) from None
    finally:
        for bar in progress:
            bar.close()
    shown_path = shown(result.rejected_path)
    click.echo(Redactor.from_env(os.environ, [run.TOKEN_ENV]).scrub(
        summary_text(result.summary, job.settings.url, shown_path, job.dry_run)))
    click.echo(run_line(result.run_id, result.plan, shown(result.state)))
    line = gone_line(result.plan)
    if line:
        click.echo(line)
    if result.rejected:
        raise run.RowsRejected(f"Peak rejected {result.rejected:,} row{'s' if result.rejected != 1 else ''}; "
                               f"see {shown_path}")


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
def runs(limit, state_db, project_dir, vars_, database, profiles_dir):
    """Show recent pushes, newest first: rows planned, sent, acknowledged and
    rejected, pages, retries and status (success, completed with errors,
    failed, aborted)."""
    from stockx_export.run.projects import load_config
    from stockx_export.sync.report import runs_text
    from stockx_export.sync.state import recent_runs

    config = load_config(project_dir, vars=vars_, database=database, profiles_dir=profiles_dir)
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
def rejected(run_id, limit, format_, state_db, project_dir, vars_, database, profiles_dir):
    """List the rows Peak refused and that no later push delivered: key, HTTP
    status, Peak's answer, the row, and the run. The next push sends them again."""
    from stockx_export.run.projects import load_config
    from stockx_export.sync.report import rejected_jsonl, rejected_text
    from stockx_export.sync.state import current_rejections

    config = load_config(project_dir, vars=vars_, database=database, profiles_dir=profiles_dir)
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
