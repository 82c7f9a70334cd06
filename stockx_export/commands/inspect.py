"""``stockx ls | show | clean``: look at a project without building it."""

from __future__ import annotations

import json
import sys

import click

from stockx_export.cli import project_options
from stockx_export.commands.options import selection_options

RESOURCE_CHOICES = ["all", "model", "seed", "test", "unit_test", "source"]


def _options(**kwargs):
    from stockx_export.run.engine import RunOptions

    return RunOptions(**kwargs)


@click.command()
@project_options
@selection_options
@click.option("--resource-type", "resource_type", type=click.Choice(RESOURCE_CHOICES), multiple=True, help="Only these kinds of node.")
@click.option("--output", "-o", type=click.Choice(["name", "path", "json", "selector"]), default="selector", show_default=True)
def ls(project_dir, vars_, database, select, exclude, state, resource_type, output) -> None:
    """List the nodes a selection picks, in DAG order."""
    from stockx_export.run.engine import list_nodes
    from stockx_export.run.reporting import TextReporter

    types = tuple(t for t in resource_type if t != "all") or ("seed", "model", "test", "unit_test")
    options = _options(project_dir=project_dir, vars=vars_, database=database, select=select, exclude=exclude, extra=(("state", state),))
    nodes = list_nodes(options, TextReporter(out=sys.stderr), types)
    for node in nodes:
        if output == "json":
            click.echo(
                json.dumps(
                    {
                        "unique_id": node.unique_id,
                        "name": node.name,
                        "resource_type": node.resource_type,
                        "path": node.path,
                        "relation": str(node.relation) if node.relation is not None else None,
                        "materialized": node.config.get("materialized"),
                        "tags": list(node.tags),
                        "depends_on": list(node.depends_on),
                    }
                )
            )
        elif output == "path":
            click.echo(node.path)
        elif output == "name":
            click.echo(node.name)
        else:
            click.echo(".".join(node.fqn) if node.fqn else node.name)


@click.command()
@project_options
@selection_options
@click.option("--inline", default=None, help="SQL to run instead of a model (Jinja and ref() allowed).")
@click.option("--limit", default=10, show_default=True, type=int, help="Rows to show.")
@click.option("--output", "-o", type=click.Choice(["table", "json"]), default="table", show_default=True)
def show(project_dir, vars_, database, select, exclude, state, inline, limit, output) -> None:
    """Preview the rows of one model's query (against the built upstream tables)."""
    from stockx_export.run.engine import show as show_rows
    from stockx_export.errors import ProjectError
    from stockx_export.run.reporting import TextReporter
    from stockx_export.tables import format_table

    if not inline and not select:
        raise ProjectError("show needs --select MODEL or --inline 'select ...'")
    options = _options(project_dir=project_dir, vars=vars_, database=database, select=select, exclude=exclude, extra=(("state", state),))
    names, rows = show_rows(options, TextReporter(out=sys.stderr), inline, limit)
    if output == "json":
        click.echo(json.dumps([dict(zip(names, row)) for row in rows], default=str, ensure_ascii=False))
    else:
        click.echo(format_table(names, rows))


@click.command()
@project_options
def clean(project_dir, vars_, database) -> None:
    """Delete target/ (compiled SQL, artifacts, and the default database file)."""
    from stockx_export.run.engine import clean as clean_target

    removed = clean_target(_options(project_dir=project_dir, vars=vars_, database=database))
    for path in removed:
        click.echo(f"removed {path}")
    if not removed:
        click.echo("nothing to clean")
