"""``stockx docs generate | serve``: the docs site of the project and its sync."""

from __future__ import annotations

import sys

import click

from stockx_export.cli import project_options
from stockx_export.commands.options import state_db_option
from stockx_export.commands.project_args import run_options, shown
from stockx_export.run.reporting import TextReporter

# The library is imported inside each command: cli.py imports every command module to list them in --help.


@click.group()
def docs() -> None:
    """Generate and serve the docs site: models, columns, tests, lineage, the last build and the sync to Peak."""


@docs.command()
@state_db_option
@project_options
def generate(state_db, **params) -> None:
    """Write target/docs/ (index.html, its assets and data; opens from file://) and target/catalog.json."""
    from stockx_export.docs.generate import generate as generate_site

    made = generate_site(run_options(**params), TextReporter(out=sys.stderr), state_db=state_db)
    project_dir = params["project_dir"]
    click.echo(f"Documented {made.nodes:,} models, seeds, snapshots and sources ({made.relations:,} built) "
               f"in {made.seconds:.2f}s: {shown(made.index, project_dir)}, {shown(made.catalog, project_dir)}")


@docs.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback shows the site (Peak's answers too) to the network.")
@project_options
def serve(port, host, **params) -> None:
    """Serve the generated site (run `stockx docs generate` first) until Ctrl-C."""
    from stockx_export.docs.serve import is_loopback, open_server, url_of
    from stockx_export.run.projects import load_config

    config = load_config(params["project_dir"], params["vars_"], params["database"],
                         profiles_dir=params["profiles_dir"])
    server = open_server(config.target_dir / "docs", host, port)
    if not is_loopback(host):
        click.secho(f"Warning: {host} is not loopback: anyone who can reach this machine can read the site",
                    fg="yellow", err=True)
    click.echo(f"Serving the docs at {url_of(server)} (Ctrl-C to stop)")
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            click.echo("Stopped.")
