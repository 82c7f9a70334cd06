"""``stockx export``: the built Peak family (or the models named) as payloads, to files or over HTTP."""

from __future__ import annotations

from pathlib import Path

import click

from stockx_export.cli import project_options
from stockx_export.commands.options import export_settings_options, state_db_option


@click.command()
@click.argument("models", nargs=-1)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write page-000001.json ... and manifest.json here (a folder per model when several).")
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
           project_dir, vars_, database, target, profiles_dir):
    """Export MODELS (default: every model with meta.peak, else stock_extra) as Peak ingest payloads.

    Parents first (relationships tests); rows whose parent Peak lacks are held
    back until it has it. --out DIR writes files; --push sends what changed
    since the last push to the destination (--full: everything; --plan: what
    would be sent). Exit code 0 all acknowledged, 1 rows refused or held
    (`stockx rejected [--held]`), 2 aborted.
    """
    from stockx_export import api
    from stockx_export.commands.printing import echo_scrubbed
    from stockx_export.commands.progress import Watch
    from stockx_export.errors import DeliveryAborted, ExportError, RowsHeld, RowsRejected
    from stockx_export.paths import shown
    from stockx_export.sync.family import family_error
    from stockx_export.sync.report import family_plan_text, family_push_text, files_text, validations_text

    if sum((out_dir is not None, push or plan_only, validate_only)) != 1:
        raise ExportError("choose one of --out DIR, --push or --validate-only")
    if (full or force or state_db or check_schema) and not (push or plan_only):
        raise ExportError("--full, --force, --check-schema and --state-db go with --push or --plan")
    project = dict(vars=vars_, database=database, profiles_dir=profiles_dir, target=target, overrides=overrides)
    if out_dir is not None:
        click.echo(files_text(api.write_family(project_dir, models, out_dir, **project)))
        return
    if plan_only:
        planned = api.plan_family(project_dir, models, full=full, force=force, state_db=state_db,
                                  check_schema=check_schema, **project)
        click.echo("".join(f"Warning: {w}\n" for w in planned.warnings), err=True, nl=False)
        click.echo(family_plan_text(planned))
        return
    watch = Watch()
    try:
        if validate_only:
            checked = api.validate_family(project_dir, models, progress=watch, **project)
        else:
            pushed = api.push_family(project_dir, models, full=full, force=force, state_db=state_db, check_schema=check_schema,
                                     progress=watch, on_aborted=watch.object_aborted, handle_signals=True, **project)
    except DeliveryAborted:
        watch.aborted()
        raise
    finally:
        watch.close()
    if validate_only:
        echo_scrubbed(validations_text(checked))
        if checked.rejected:
            raise RowsRejected(checked.rejected, shown(checked.results[-1][1].rejected_path))
        return
    for line in [f"Warning: {w}" for w in pushed.warnings] + [f"Error: {o.error}" for o in pushed.outcomes if o.error]:
        click.echo(line, err=True)
    echo_scrubbed(family_push_text(pushed))
    if pushed.exit_code == 2:
        raise family_error(pushed)
    if pushed.rejected:
        raise RowsRejected(pushed.rejected, shown(next(o.result.rejected_path for o in pushed.outcomes if o.result)))
    if pushed.held:
        raise RowsHeld(pushed.held)
