"""``stockx ls | show | clean``: look at a project without building it."""

from __future__ import annotations

import json
import sys

import click

from stockx_export.cli import project_options
from stockx_export.commands.options import DbtArgsCommand, run_flags, selection_options
from stockx_export.commands.project_args import run_options
from stockx_export.errors import ProjectError
from stockx_export.run.reporting import TextReporter
from stockx_export.tables import format_table

# The library is imported inside each command: cli.py imports every command module to list them in --help.

RESOURCE_CHOICES = ["all", "model", "seed", "snapshot", "test", "unit_test", "source"]
LISTED = ("seed", "snapshot", "model", "test", "unit_test")


def _line(node, output: str) -> str:
    if output == "json":
        relation = str(node.relation) if node.relation is not None else None
        return json.dumps({"unique_id": node.unique_id, "name": node.name, "resource_type": node.resource_type,
                           "path": node.path, "relation": relation, "materialized": node.config.get("materialized"),
                           "tags": list(node.tags), "depends_on": list(node.depends_on)})
    if output == "path":
        return node.path
    if output == "name":
        return node.name
    return ".".join(node.fqn) if node.fqn else node.name


@click.command(cls=DbtArgsCommand)
@project_options
@selection_options
@click.option("--resource-type", "resource_type", type=click.Choice(RESOURCE_CHOICES), multiple=True, help="Only these kinds of node.")
@click.option("--output", "-o", type=click.Choice(["name", "path", "json", "selector"]), default="selector", show_default=True)
def ls(resource_type, output, **params) -> None:
    """List the nodes a selection picks, in DAG order."""
    from stockx_export.run.selection import list_nodes

    types = tuple(t for t in resource_type if t != "all") or LISTED
    for node in list_nodes(run_options(**params), TextReporter(out=sys.stderr), types):
        click.echo(_line(node, output))


@click.command(cls=DbtArgsCommand)
@project_options
@selection_options
@run_flags("defer")
@click.option("--inline", default=None, help="SQL to run instead of a model (Jinja and ref() allowed).")
@click.option("--limit", default=10, show_default=True, type=int, help="Rows to show.")
@click.option("--output", "-o", type=click.Choice(["table", "json"]), default="table", show_default=True)
def show(inline, limit, output, **params) -> None:
    """Preview the rows of one model's query (against the built upstream tables)."""
    from stockx_export.run.engine import show as show_rows

    if not inline and not params["select"]:
        raise ProjectError("show needs --select MODEL or --inline 'select ...'")
    names, rows = show_rows(run_options(**params), TextReporter(out=sys.stderr), inline, limit)
    if output == "json":
        click.echo(json.dumps([dict(zip(names, row)) for row in rows], default=str, ensure_ascii=False))
    else:
        click.echo(format_table(names, rows))


@click.command()
@project_options
@click.option("--target-path", default=None, help="The folder to delete, instead of target/.")
def clean(**params) -> None:
    """Delete target/ (compiled SQL, artifacts, and the default database file)."""
    from stockx_export.run.engine import clean as clean_target

    removed = clean_target(run_options(**params))
    for path in removed:
        click.echo(f"removed {path}")
    if not removed:
        click.echo("nothing to clean")
