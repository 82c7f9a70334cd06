"""Options shared by the commands that select and run nodes."""

from __future__ import annotations

import functools

import click

from stockx_export.cli import LOG_FORMAT


def selection_options(func):
    @click.option("-s", "--select", "select", multiple=True, help="Nodes to include (dbt syntax: name, +name, tag:x, path:...).")
    @click.option("--exclude", multiple=True, help="Nodes to leave out (same syntax).")
    @click.option(
        "--state",
        type=click.Path(path_type=str),
        default=None,
        help="Previous manifest.json (or its folder) for state:modified; default target/manifest.json.",
    )
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


def output_options(func):
    @click.option("-q", "--quiet", is_flag=True, help="Print only failures.")
    @click.option(
        "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Line format of the log.",
        callback=_remember_log_format,
    )
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


def _remember_log_format(ctx: click.Context, param: click.Parameter, value: str) -> str:
    # Read by the CLI group, which reports an internal error in the command's log format.
    ctx.meta[LOG_FORMAT] = value
    return value
