"""``stockx seed | run | snapshot | build | test | compile``."""

from __future__ import annotations

import sys

import click

from stockx_export.analysis.transpile import DIALECTS
from stockx_export.cli import project_options
from stockx_export.commands.options import DbtArgsCommand, output_options, run_flags, selection_options
from stockx_export.commands.project_args import run_options, shown
from stockx_export.run.reporting import TextReporter, make_reporter
from stockx_export.tables import plural

# The library is imported inside each command: cli.py imports every command module to list them in --help.
full_refresh = click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from scratch.")
fail_fast = click.option("--fail-fast", "-x", is_flag=True, help="Stop at the first failure.")
junit = click.option("--junit", type=click.Path(dir_okay=False), default=None, help="Write JUnit XML results here.")


def _run(command: str, quiet: bool, log_format: str, **params) -> None:
    from stockx_export.run.engine import run_command

    run = run_command(command, run_options(**params), make_reporter(log_format, quiet))
    sys.exit(1 if run.failed else 0)


def _node_command(name: str, doc: str, *extra):
    """A command that runs nodes: the project, selection and output options, then ``extra``."""

    def command(**params) -> None:
        _run(name, **params)

    command.__doc__ = doc
    for option in reversed((project_options, selection_options, output_options, *extra)):
        command = option(command)
    return click.command(name, cls=DbtArgsCommand)(command)


seed = _node_command(
    "seed", "Load seeds/*.csv into DuckDB tables.",
    click.option("--full-refresh", is_flag=True, help="Accepted as in dbt; seeds are always reloaded whole."),
    run_flags("threads"),
)
run = _node_command("run", "Build models in DAG order.", full_refresh, fail_fast, run_flags("threads", "empty", "defer"))
snapshot = _node_command("snapshot", "Record snapshots (history tables of their query's rows), in DAG order.", fail_fast,
                         run_flags("threads"))
build = _node_command("build", "Load seeds, build models and run their tests, in DAG order.", full_refresh, fail_fast,
                      junit, run_flags("threads", "empty", "defer", "resource_types"))
test = _node_command("test", "Run data tests and unit tests.", fail_fast, junit, run_flags("threads", "defer"))


@click.command("compile", cls=DbtArgsCommand)
@project_options
@selection_options
@run_flags("threads", "defer")
@click.option("--dialect", type=click.Choice(list(DIALECTS)), default=None,
              help="Also transpile each model into target/compiled/<dialect>/.")
def compile_(dialect, **params) -> None:
    """Render models to target/compiled/ without running them."""

    reporter = TextReporter(out=sys.stderr)
    if dialect:
        from stockx_export.run.analyse import transpile_project

        paths = transpile_project(run_options(**params), reporter, dialect)
        summary = f"Transpiled {plural(len(paths), 'model')} to {dialect}."
    else:
        from stockx_export.run.engine import compile_project

        compiled = compile_project(run_options(**params), reporter)
        paths = [path for _, path in compiled]
        kinds = {node.resource_type for node, _ in compiled}
        summary = f"Compiled {plural(len(paths), 'model' if kinds <= {'model'} else 'node')}."
    for path in paths:
        click.echo(shown(path, params["project_dir"]))
    click.echo(summary, err=True)
