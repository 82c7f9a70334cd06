"""The ``stockx`` command line: a thin layer over the library.

Commands live in ``stockx_export.commands.*`` and are imported only when invoked,
so ``stockx --help`` and ``stockx ls`` start without loading DuckDB or sqlglot.
Every :class:`~stockx_export.errors.StockxError` becomes one ``Error: ...`` line
and an exit code here, and nowhere else.
"""

from __future__ import annotations

import functools
import importlib
import sys

import click

from stockx_export.errors import StockxError

# command name -> "module:attribute"; each module owns one family of commands.
COMMANDS: dict[str, str] = {
    "seed": "stockx_export.commands.build:seed",
    "run": "stockx_export.commands.build:run",
    "build": "stockx_export.commands.build:build",
    "test": "stockx_export.commands.build:test",
    "compile": "stockx_export.commands.build:compile_",
    "ls": "stockx_export.commands.inspect:ls",
    "show": "stockx_export.commands.inspect:show",
    "clean": "stockx_export.commands.inspect:clean",
    "check": "stockx_export.commands.analysis:check",
    "lineage": "stockx_export.commands.analysis:lineage",
    "export": "stockx_export.commands.export:export",
    "runs": "stockx_export.commands.sync:runs",
    "rejected": "stockx_export.commands.sync:rejected",
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


def handle_errors(func):
    """Turn library errors into ``Error: ...`` on stderr and the error's exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except StockxError as exc:
            if kwargs.get("log_format") == "json":
                # Machines reading the JSON log get the error as one more event.
                import datetime
                import json

                now = datetime.datetime.now(datetime.timezone.utc).isoformat()
                record = {"ts": now, "level": "error", "event": "error", "message": str(exc), "exit_code": exc.exit_code}
                click.echo(json.dumps(record), err=True)
            else:
                click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(exc.exit_code)

    return wrapper


def _set_profiles_dir(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    # Read only by dbt projects; kept out of every command's signature.
    from stockx_export.dbt_project import set_profiles_dir

    set_profiles_dir(value)
    return value


def project_options(func):
    """The options every command takes: where the project is and how to override it."""

    @click.option(
        "--project-dir",
        type=click.Path(file_okay=False, path_type=str),
        default=".",
        show_default="current directory",
        help="Directory holding pyproject.toml (or dbt_project.yml).",
    )
    @click.option("--vars", "vars_", default=None, help="YAML or JSON mapping overriding project vars.")
    @click.option("--database", default=None, help="The project's DuckDB file (or :memory:), instead of the configured one.")
    @click.option(
        "--profiles-dir",
        default=None,
        expose_value=False,
        callback=_set_profiles_dir,
        help="Folder of a dbt project's profiles.yml (default: $DBT_PROFILES_DIR, else the project directory).",
    )
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="stockx", prog_name="stockx")
def cli() -> None:
    """Build Jinja SQL models on DuckDB, test them, and ship stock_extra to Peak."""


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
