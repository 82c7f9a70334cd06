"""``stockx check | lineage``: what stockx understands of the SQL, without building anything."""

from __future__ import annotations

import json
import sys

import click

from stockx_export.cli import project_options
from stockx_export.commands.options import selection_options


@click.command()
@project_options
@selection_options
def check(project_dir, vars_, database, select, exclude, state=None) -> None:
    """Parse every model and run the static checks (syntax, direct reads, contracts); build nothing."""
    from stockx_export.run.analyse import check as run_check
    from stockx_export.run.engine import RunOptions
    from stockx_export.run.reporting import TextReporter

    options = RunOptions(
        project_dir=project_dir, vars=vars_, database=database, select=select, exclude=exclude, extra=(("state", state),)
    )
    models = run_check(options, TextReporter(out=sys.stderr))
    click.echo(f"All checks passed: {len(models)} model{'s' if len(models) != 1 else ''}.")


@click.command()
@project_options
@click.argument("model")
@click.argument("column", required=False)
@click.option("--output", "-o", type=click.Choice(["tree", "json"]), default="tree", show_default=True)
def lineage(project_dir, vars_, database, model, column, output) -> None:
    """Show which source and seed columns each column of MODEL derives from."""
    from stockx_export.run.analyse import lineage as trace
    from stockx_export.analysis.lineage import render_tree
    from stockx_export.run.engine import RunOptions
    from stockx_export.run.reporting import TextReporter

    options = RunOptions(project_dir=project_dir, vars=vars_, database=database)
    items = trace(options, TextReporter(out=sys.stderr), model, column)
    if output == "json":
        click.echo(json.dumps({"model": model, "columns": [i.as_dict() for i in items]}, indent=2))
    else:
        click.echo(render_tree(items))
