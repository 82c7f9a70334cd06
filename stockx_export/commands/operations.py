"""``stockx run-operation | retry | parse | debug``: dbt's project commands besides building."""

from __future__ import annotations

import os
import sys

import click

from stockx_export.cli import project_options
from stockx_export.commands.options import output_options
from stockx_export.commands.project_args import run_options, shown
from stockx_export.redact import redact, secret_values
from stockx_export.run.reporting import TextReporter, make_reporter

# The library is imported inside each command: cli.py imports every command module to list them in --help.
target_path = click.option("--target-path", default=None, help="Folder of the artifacts, instead of target/.")


@click.command("run-operation")
@project_options
@click.argument("macro")
@click.option("--args", "args", default=None, help="The macro's arguments: a YAML or JSON mapping, e.g. '{days: 3}'.")
def run_operation(macro, args, **params) -> None:
    """Call MACRO (name or package.name) with --args against the project's database."""
    from stockx_export.run.operations import run_operation as call

    output = call(run_options(**params), TextReporter(out=sys.stderr), macro, args)
    if output:
        click.echo(output)


@click.command()
@project_options
@output_options
@target_path
def retry(quiet, log_format, **params) -> None:
    """Run the last run's command again on the nodes that failed or were skipped in it (target/run_results.json)."""
    from stockx_export.run.operations import retry as run_again

    run = run_again(run_options(**params), make_reporter(log_format, quiet))
    if run is None:
        click.echo("Nothing to retry: the last run had no errors, failures or skipped nodes.", err=True)
    sys.exit(1 if run is not None and run.failed else 0)


@click.command()
@project_options
@target_path
def parse(**params) -> None:
    """Read the project, check it and write target/manifest.json; build nothing."""
    from stockx_export.run.operations import parse as parse_project

    click.echo(shown(parse_project(run_options(**params), TextReporter(out=sys.stderr)), params["project_dir"]))


@click.command()
@project_options
def debug(**params) -> None:
    """Check the project's configuration, its profile or target, and the database connection."""
    from stockx_export.run.operations import debug as run_checks

    checks = run_checks(run_options(**params))
    for check in checks:
        # A connection error may quote the target's settings: secrets from the environment are removed.
        click.echo(redact(f"{'OK' if check.ok else 'ERROR':5} {check.name}: {check.detail}", secret_values(os.environ)))
    failed = any(not check.ok for check in checks)
    click.echo("Some checks failed." if failed else "All checks passed!")
    sys.exit(1 if failed else 0)
