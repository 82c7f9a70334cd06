"""``stockx source freshness``: how long ago each source was loaded, against its thresholds."""

from __future__ import annotations

import sys

import click

from stockx_export.cli import project_options
from stockx_export.commands.options import DbtArgsCommand, selection_options
from stockx_export.commands.project_args import run_options
from stockx_export.run.reporting import TextReporter

# The library is imported inside each command: cli.py imports every command module to list them in --help.


def _line(result) -> str:
    shown = {"pass": "PASS", "warn": "WARN", "error": "ERROR STALE", "runtime error": "ERROR"}[result.status]
    if result.age is None:
        return f"{shown} freshness of {result.name}: {result.error}"
    hours = result.age / 3600
    limits = ", ".join(f"{key.replace('_', ' ')} {value['count']} {value['period']}"
                       for key, value in sorted(result.criteria.items()) if key.endswith("_after") and value)
    return f"{shown} freshness of {result.name}: last loaded {hours:,.1f} hours ago ({limits})"


@click.command(cls=DbtArgsCommand)
@project_options
@selection_options
@click.argument("action", type=click.Choice(["freshness"]))
@click.option("-o", "--output", default=None, help="Write the results here instead of target/sources.json.")
def source(action, output, **params) -> None:
    """Check source freshness: `stockx source freshness` (-s source:NAME for some), as dbt's."""
    from stockx_export.run.freshness import source_freshness

    run = source_freshness(run_options(**params), TextReporter(out=sys.stderr), lambda r: click.echo(_line(r)),
                           output=output)
    counts = {s: sum(r.status == s for r in run.results) for s in ("pass", "warn", "error", "runtime error")}
    click.echo(f"Done. PASS={counts['pass']} WARN={counts['warn']} ERROR={counts['error']} "
               f"RUNTIME ERROR={counts['runtime error']} TOTAL={len(run.results)}")
    sys.exit(1 if run.failed else 0)
