"""``stockx runs`` and ``stockx rejected``: what the sync state recorded."""

from __future__ import annotations

import click

from stockx_export.cli import project_options
from stockx_export.commands.options import state_db_option
from stockx_export.commands.printing import echo_scrubbed, no_state


@click.command()
@click.option("-n", "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Runs to show.")
@state_db_option
@project_options
def runs(limit, state_db, project_dir, vars_, database, target, profiles_dir):
    """Show recent pushes, newest first: rows planned, sent, acknowledged and
    rejected, pages, retries and status (success, completed with errors,
    failed, aborted)."""
    from stockx_export import api
    from stockx_export.sync.report import runs_text

    report = api.runs(project_dir, limit, vars=vars_, database=database, profiles_dir=profiles_dir, target=target,
                      state_db=state_db)
    if not report.found:
        no_state(report.state)
        return
    echo_scrubbed(runs_text(report.runs))


@click.command()
@click.option("--run", "run_id", type=int, default=None, help="Only the rows refused in this run.")
@click.option("-n", "--limit", type=click.IntRange(min=1), default=None, help="Rows to show at most.")
@click.option("--format", "format_", type=click.Choice(["text", "jsonl"]), default="text", show_default=True,
              help="jsonl: one JSON object per row, for scripts.")
@click.option("--held", "held_only", is_flag=True,
              help="List the rows the last push held back instead (their parent is not on Peak yet), with why.")
@state_db_option
@project_options
def rejected(run_id, limit, format_, held_only, state_db, project_dir, vars_, database, target, profiles_dir):
    """List the rows Peak refused and that no later push delivered: key, HTTP
    status, Peak's answer, the row, and the run. The next push sends them again.
    With --held: the rows held back for a parent Peak does not hold yet."""
    from stockx_export import api
    from stockx_export.sync.report import held_jsonl, held_text, rejected_jsonl, rejected_text

    if held_only:
        report = api.held(project_dir, limit, vars=vars_, database=database, profiles_dir=profiles_dir,
                          target=target, state_db=state_db)
        if not report.found:
            no_state(report.state)
        elif format_ == "text":
            echo_scrubbed(held_text(report.rows))
        elif report.rows:
            echo_scrubbed(held_jsonl(report.rows))
        return

    report = api.rejected(project_dir, run_id, limit, vars=vars_, database=database, profiles_dir=profiles_dir,
                          target=target, state_db=state_db)
    if not report.found:
        no_state(report.state)
    elif format_ == "text":
        echo_scrubbed(rejected_text(report.rows))
    elif report.rows:
        echo_scrubbed(rejected_jsonl(report.rows))
