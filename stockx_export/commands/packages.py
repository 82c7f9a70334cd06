"""``stockx deps``: install a dbt project's packages into its packages folder."""

from __future__ import annotations

import click

from stockx_export.cli import project_options
from stockx_export.tables import plural


@click.command()
@project_options
def deps(project_dir, **_) -> None:
    """Install packages.yml's local packages into dbt_packages/ (as links, as dbt does) and check that
    hub and git packages are there already (stockx does not download: vendor them)."""
    from stockx_export.run.projects import install_packages

    names = install_packages(project_dir, lambda line: click.echo(line, err=True))
    click.echo(f"{plural(len(names), 'package')} installed" + (f": {', '.join(names)}" if names else ""))
