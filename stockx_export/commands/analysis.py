"""``stockx check | lineage``: what stockx understands of the SQL, without building anything."""

from __future__ import annotations

import json
import sys

import click

from stockx_export.cli import project_options
from stockx_export.commands.options import DbtArgsCommand, selection_options
from stockx_export.commands.project_args import run_options
from stockx_export.run.reporting import TextReporter
from stockx_export.tables import plural

# The library is imported inside each command: cli.py imports every command module to list them in --help.


@click.command(cls=DbtArgsCommand)
@project_options
@selection_options
def check(**params) -> None:
    """Parse every model and run the static checks (syntax, direct reads, contracts); build nothing."""
    from stockx_export.run.analyse import check as run_check

    models = run_check(run_options(**params), TextReporter(out=sys.stderr))
    click.echo(f"All checks passed: {plural(len(models), 'model')}.")


@click.command()
@project_options
@click.argument("model")
@click.argument("column", required=False)
@click.option("--output", "-o", type=click.Choice(["tree", "json"]), default="tree", show_default=True)
def lineage(model, column, output, **params) -> None:
    """Show which source and seed columns each column of MODEL derives from."""
    from stockx_export.analysis.lineage import render_tree
    from stockx_export.run.analyse import lineage as trace

    items = trace(run_options(**params), TextReporter(out=sys.stderr), model, column)
    if output == "json":
        click.echo(json.dumps({"model": model, "columns": [i.as_dict() for i in items]}, indent=2))
    else:
        click.echo(render_tree(items))
