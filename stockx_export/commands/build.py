"""``stockx seed | run | build | test | compile``."""

from __future__ import annotations

import sys

import click

from stockx_export.cli import project_options
from stockx_export.commands.options import output_options, selection_options


def _run(command: str, project_dir, vars_, database, select, exclude, quiet, log_format, **flags) -> None:
    from stockx_export.run.engine import RunOptions, run_command
    from stockx_export.run.reporting import make_reporter

    extra = tuple(sorted((k, v) for k, v in flags.items() if k not in ("full_refresh", "fail_fast")))
    options = RunOptions(
        project_dir=project_dir,
        vars=vars_,
        database=database,
        select=select,
        exclude=exclude,
        full_refresh=flags.get("full_refresh", False),
        fail_fast=flags.get("fail_fast", False),
        extra=extra,
    )
    run = run_command(command, options, make_reporter(log_format, quiet))
    sys.exit(1 if run.failed else 0)


# Options several commands share, spelled once.
full_refresh = click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from scratch.")
fail_fast = click.option("--fail-fast", "-x", is_flag=True, help="Stop at the first failure.")
junit = click.option("--junit", type=click.Path(dir_okay=False), default=None, help="Write JUnit XML results here.")


@click.command()
@project_options
@selection_options
@output_options
@click.option("--full-refresh", is_flag=True, help="Accepted as in dbt; seeds are always reloaded whole.")
def seed(**kwargs) -> None:
    """Load seeds/*.csv into DuckDB tables."""
    _run("seed", **kwargs)


@click.command()
@project_options
@selection_options
@output_options
@full_refresh
@fail_fast
def run(**kwargs) -> None:
    """Build models in DAG order."""
    _run("run", **kwargs)


@click.command()
@project_options
@selection_options
@output_options
@full_refresh
@fail_fast
@junit
def build(**kwargs) -> None:
    """Load seeds, build models and run their tests, in DAG order."""
    _run("build", **kwargs)


@click.command()
@project_options
@selection_options
@output_options
@fail_fast
@junit
def test(**kwargs) -> None:
    """Run data tests and unit tests."""
    _run("test", **kwargs)


@click.command("compile")
@project_options
@selection_options
@click.option(
    "--dialect",
    type=click.Choice(["snowflake", "bigquery", "postgres", "spark", "databricks"]),
    default=None,
    help="Also transpile each model into target/compiled/<dialect>/.",
)
def compile_(project_dir, vars_, database, select, exclude, state, dialect) -> None:
    """Render models to target/compiled/ without running them."""
    from stockx_export.run.engine import RunOptions, compile_project
    from stockx_export.run.reporting import TextReporter

    options = RunOptions(
        project_dir=project_dir, vars=vars_, database=database, select=select, exclude=exclude, extra=(("state", state),)
    )
    reporter = TextReporter(out=sys.stderr)
    if dialect:
        from stockx_export.analysis.transpile import transpile_project

        written = transpile_project(options, reporter, dialect)
        for path in written:
            click.echo(_shown(path, project_dir))
        click.echo(f"Transpiled {len(written)} model{'s' if len(written) != 1 else ''} to {dialect}.", err=True)
        return
    written = compile_project(options, reporter)
    for _, path in written:
        click.echo(_shown(path, project_dir))
    click.echo(f"Compiled {len(written)} model{'s' if len(written) != 1 else ''}.", err=True)


def _shown(path, project_dir) -> str:
    from pathlib import Path

    try:
        return path.relative_to(Path(project_dir).resolve()).as_posix()
    except ValueError:
        return str(path)
