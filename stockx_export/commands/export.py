"""``stockx export``: the built stock_extra table as Peak payloads, to files or over HTTP."""

from __future__ import annotations

from pathlib import Path

import click

from stockx_export.cli import project_options
from stockx_export.commands.options import export_settings_options, state_db_option
from stockx_export.tables import plural


@click.command()
@click.argument("models", nargs=-1)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the payloads as page-000001.json ... and manifest.json in this directory "
                   "(one folder per model when there are several).")
@click.option("--push", is_flag=True, help="Send the payloads to Peak (token from PEAK_AUTH_TOKEN).")
@click.option("--validate-only", is_flag=True, help='Send the payloads with "dryRun": true; nothing is written.')
@export_settings_options
@click.option("--full", is_flag=True, help="With --push: send every row, not only new, changed and rejected ones.")
@click.option("--plan", "plan_only", is_flag=True,
              help="Print what --push would send (new, changed, unchanged, rejected before, held, gone); send nothing.")
@click.option("--force", is_flag=True, help="With --push: send even when the volume guard would stop.")
@click.option("--check-schema", is_flag=True,
              help="With --push or --plan: compare Peak's schema with the models even after the first push.")
@state_db_option
@project_options
def export(models, out_dir, push, validate_only, overrides, full, plan_only, force, check_schema, state_db,
           project_dir, vars_, database, profiles_dir):
    """Export MODELS (default: every model with meta.peak, else stock_extra) as Peak ingest payloads.

    Models are exported parents first (their relationships tests); a child is
    pushed only after its parents' pushes, and its rows whose parent Peak does
    not hold are held back until it does. Checks the last build and the table
    first; then writes the payloads to --out DIR, or sends them with --push (or
    --validate-only). --push sends only the rows that are new, changed or were
    rejected since the last push to the same destination (the sync state,
    .stockx/state.duckdb); --full sends every row, --plan shows what would be
    sent. Exit code 0 when every row was acknowledged, 1 when Peak rejected
    some rows or rows were held (listed by `stockx rejected`, `--held`), 2
    when the export, or one model of it, was aborted.
    """
    from stockx_export import api
    from stockx_export.commands.printing import echo_scrubbed
    from stockx_export.commands.progress import Watch
    from stockx_export.errors import DeliveryAborted, ExportError, RowsHeld, RowsRejected
    from stockx_export.export.report import summary_text
    from stockx_export.paths import shown
    from stockx_export.sync.family import describe_skip, family_error
    from stockx_export.sync.report import family_plan_text, gone_line, held_line, run_line

    if sum((out_dir is not None, push or plan_only, validate_only)) != 1:
        raise ExportError("choose one of --out DIR, --push or --validate-only")
    if (full or force or state_db or check_schema) and not (push or plan_only):
        raise ExportError("--full, --force, --check-schema and --state-db go with --push or --plan")
    project = {"vars": vars_, "database": database, "profiles_dir": profiles_dir, "overrides": overrides}
    if out_dir is not None:
        written = api.write_family(project_dir, models, out_dir, **project)
        for model, files in written:
            where = out_dir if len(written) == 1 else out_dir / model
            click.echo(f"wrote {plural(files.pages, 'page')} ({plural(files.rows, 'row')}, {files.bytes:,} bytes) "
                       f"and manifest.json to {where}")
        return
    if plan_only:
        planned = api.plan_family(project_dir, models, full=full, force=force, state_db=state_db,
                                  check_schema=check_schema, **project)
        for warning in planned.warnings:
            click.echo(f"Warning: {warning}", err=True)
        click.echo(family_plan_text(planned))
        return
    if validate_only:
        chosen = api.family_models(project_dir, models, vars=vars_, database=database, profiles_dir=profiles_dir)
        refused = 0
        for model in chosen:
            watch = Watch()
            try:
                result = api.validate(project_dir, model, progress=watch, **project)
            except DeliveryAborted:
                watch.aborted()
                raise
            finally:
                watch.close()
            heading = f"{model}: " if len(chosen) > 1 else ""
            echo_scrubbed(heading + summary_text(result.summary, result.url, shown(result.rejected_path), True))
            refused += result.rejected
        if refused:
            raise RowsRejected(refused, shown(result.rejected_path))
        return
    watch = Watch()
    try:
        pushed = api.push_family(project_dir, models, full=full, force=force, state_db=state_db, progress=watch,
                                 handle_signals=True, check_schema=check_schema, **project)
    except DeliveryAborted:
        watch.aborted()
        raise
    finally:
        watch.close()
    for warning in pushed.warnings:
        click.echo(f"Warning: {warning}", err=True)
    for line in pushed.schema.lines:
        click.echo(line)
    several = len(pushed.outcomes) > 1
    rejected_path = None
    for outcome in pushed.outcomes:
        if several:
            click.echo(f"{outcome.object} ({outcome.model}):")
        if outcome.error is not None:
            click.echo(f"Error: {outcome.error}", err=True)
            click.echo(f"  aborted: {outcome.error}")
            continue
        if outcome.result is None:
            click.echo(f"  {describe_skip(outcome)}")
            continue
        result = outcome.result
        rejected_path = result.rejected_path
        lines = [summary_text(result.summary, result.url, shown(result.rejected_path), result.dry_run),
                 run_line(result.run_id, result.plan, shown(result.state))]
        if gone_line(result.plan):
            lines.append(gone_line(result.plan))
        if held_line(result.plan):
            lines.append(held_line(result.plan))
        text = "\n".join(lines)
        echo_scrubbed("\n".join("  " + line for line in text.splitlines()) if several else text)
    if pushed.exit_code == 2:
        raise family_error(pushed)
    if pushed.rejected:
        raise RowsRejected(pushed.rejected, shown(rejected_path))
    if pushed.held:
        raise RowsHeld(pushed.held)
