"""``stockx export``: the built stock_extra table as Peak payloads, to files or over HTTP."""

from __future__ import annotations

from pathlib import Path

import click

from stockx_export.cli import project_options
from stockx_export.commands.options import export_settings_options, state_db_option
from stockx_export.tables import plural


@click.command()
@click.argument("model", default="stock_extra")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the payloads as page-000001.json ... and manifest.json in this directory.")
@click.option("--push", is_flag=True, help="Send the payloads to Peak (token from PEAK_AUTH_TOKEN).")
@click.option("--validate-only", is_flag=True, help='Send the payloads with "dryRun": true; nothing is written.')
@export_settings_options
@click.option("--full", is_flag=True, help="With --push: send every row, not only new, changed and rejected ones.")
@click.option("--plan", "plan_only", is_flag=True,
              help="Print what --push would send (new, changed, unchanged, rejected before, gone); send nothing.")
@click.option("--force", is_flag=True, help="With --push: send even when the volume guard would stop.")
@state_db_option
@project_options
def export(model, out_dir, push, validate_only, overrides, full, plan_only, force, state_db, project_dir, vars_,
           database, target, profiles_dir):
    """Export MODEL (default stock_extra) as Peak ingest payloads.

    Checks the last build and the table first; then writes the payloads to
    --out DIR, or sends them with --push (or --validate-only). --push sends
    only the rows that are new, changed or were rejected since the last push
    to the same destination (the sync state, .stockx/state.duckdb); --full
    sends every row, --plan shows what would be sent. Exit code 0 when
    every row was acknowledged, 1 when Peak rejected some rows (listed in
    target/export/rejected.jsonl), 2 when the export was aborted.
    """
    from stockx_export import api
    from stockx_export.commands.printing import echo_scrubbed
    from stockx_export.commands.progress import Watch
    from stockx_export.errors import DeliveryAborted, ExportError, RowsRejected
    from stockx_export.export.report import summary_text
    from stockx_export.paths import shown
    from stockx_export.sync.report import gone_line, plan_text, run_line

    if sum((out_dir is not None, push or plan_only, validate_only)) != 1:
        raise ExportError("choose one of --out DIR, --push or --validate-only")
    if (full or force or state_db) and not (push or plan_only):
        raise ExportError("--full, --force and --state-db go with --push or --plan")
    project = {"vars": vars_, "database": database, "profiles_dir": profiles_dir, "target": target,
               "overrides": overrides}
    if out_dir is not None:
        written = api.write_files(project_dir, model, out_dir, **project)
        click.echo(f"wrote {plural(written.pages, 'page')} ({plural(written.rows, 'row')}, {written.bytes:,} bytes) "
                   f"and manifest.json to {out_dir}")
        return
    if plan_only:
        click.echo(plan_text(api.plan(project_dir, model, full=full, force=force, state_db=state_db, **project)))
        return
    watch = Watch()
    try:
        if validate_only:
            result = api.validate(project_dir, model, progress=watch, **project)
        else:
            result = api.push(project_dir, model, full=full, force=force, state_db=state_db, progress=watch,
                              handle_signals=True, **project)
    except DeliveryAborted:
        watch.aborted()
        raise
    finally:
        watch.close()
    echo_scrubbed(summary_text(result.summary, result.url, shown(result.rejected_path), result.dry_run))
    if not validate_only:
        click.echo(run_line(result.run_id, result.plan, shown(result.state)))
        if gone_line(result.plan):
            click.echo(gone_line(result.plan))
    if result.rejected:
        raise RowsRejected(result.rejected, shown(result.rejected_path))
