"""The ``stockx`` command line: a thin layer over the library.

Commands live in ``stockx_export.commands.*`` and are imported only when invoked,
so ``stockx --help`` and ``stockx ls`` start without loading DuckDB or sqlglot.
Every :class:`~stockx_export.errors.StockxError` becomes one ``Error: ...`` line
and an exit code here, and nowhere else; any other exception is a bug in stockx
and becomes one ``Internal error: ...`` line and exit code 3 (with the traceback
under ``--debug`` or ``STOCKX_DEBUG=1``).

Exit codes: 0 success, 1 rows or tests failed, 2 a usage, project or aborted
export error, 3 an internal error.
"""

from __future__ import annotations

import datetime
import functools
import importlib
import json
import os
import re
import sys
import traceback

import click

from stockx_export.errors import StockxError
from stockx_export.redact import redact, secret_values

INTERNAL_ERROR = 3
DEBUG_ENV = "STOCKX_DEBUG"
LOG_FORMAT = "stockx.log_format"  # ctx.meta key: the --log-format of the command being run
MAX_MESSAGE = 1000

# command name -> "module:attribute"; each module owns one family of commands.
COMMANDS: dict[str, str] = {
    "seed": "stockx_export.commands.build:seed",
    "run": "stockx_export.commands.build:run",
    "snapshot": "stockx_export.commands.build:snapshot",
    "build": "stockx_export.commands.build:build",
    "test": "stockx_export.commands.build:test",
    "compile": "stockx_export.commands.build:compile_",
    "ls": "stockx_export.commands.inspect:ls",
    "show": "stockx_export.commands.inspect:show",
    "clean": "stockx_export.commands.inspect:clean",
    "deps": "stockx_export.commands.packages:deps",
    "parse": "stockx_export.commands.operations:parse",
    "debug": "stockx_export.commands.operations:debug",
    "run-operation": "stockx_export.commands.operations:run_operation",
    "retry": "stockx_export.commands.operations:retry",
    "source": "stockx_export.commands.sources:source",
    "check": "stockx_export.commands.analysis:check",
    "lineage": "stockx_export.commands.analysis:lineage",
    "export": "stockx_export.commands.export:export",
    "runs": "stockx_export.commands.sync:runs",
    "rejected": "stockx_export.commands.sync:rejected",
    "docs": "stockx_export.commands.docs:docs",
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

    def invoke(self, ctx: click.Context):
        # The one place every command runs through, so no command can end in a traceback.
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # usage errors, --help, ctx.exit(): click reports them
        except StockxError as exc:  # from a command, or an option callback
            report_error(exc, ctx.meta.get(LOG_FORMAT))
        except Exception as exc:
            report_internal_error(exc, bool(ctx.params.get("debug")), ctx.meta.get(LOG_FORMAT))


def report_error(exc: StockxError, log_format: str | None) -> None:
    """``Error: <message>`` on stderr (or a JSON event), then exit with the error's code."""
    message = _scrubbed(str(exc))
    _report("error", f"Error: {message}", message, exc.exit_code, log_format)


def report_internal_error(exc: Exception, debug: bool, log_format: str | None) -> None:
    """A bug: one ``Internal error: ...`` line (the traceback first under --debug), exit code 3.

    The message is one line, and the value of every secret in the environment
    is removed from it and from the traceback (see :mod:`stockx_export.redact`)."""
    # Scrubbed before it is cut short, so no part of a secret is left at the cut.
    text = re.sub(r"\s+", " ", _scrubbed(str(exc))).strip()
    text = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group(0)):02x}", text)
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if debug:
        click.echo(_scrubbed("".join(traceback.format_exception(exc))).rstrip("\n"), err=True)
    line = (f"Internal error: {message} (a bug in stockx; please report it with the output of the same "
            "command run with --debug)")
    _report("internal_error", line, message, INTERNAL_ERROR, log_format)


def _report(event: str, line: str, message: str, exit_code: int, log_format: str | None) -> None:
    if log_format == "json":
        # Machines reading the JSON log get the error as one more event.
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        record = {"ts": now, "level": "error", "event": event, "message": message, "exit_code": exit_code}
        click.echo(json.dumps(record), err=True)
    else:
        click.secho(line, fg="red", err=True)
    sys.exit(exit_code)


def _scrubbed(text: str) -> str:
    return redact(text, secret_values(os.environ))


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
        "--target", default=None,
        help="Build in this target: [tool.stockx.targets.NAME] or a profiles.yml output (default $STOCKX_TARGET, "
             "else the project's DuckDB database).",
    )
    @click.option(
        "--profiles-dir",
        default=None,
        help="Folder of a dbt project's profiles.yml (default: $DBT_PROFILES_DIR, else the project directory).",
    )
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="stockx", prog_name="stockx")
@click.option("--debug", is_flag=True, envvar=DEBUG_ENV,
              help=f"On an internal error (exit code 3), print the traceback too (also ${DEBUG_ENV}=1).")
def cli(debug: bool) -> None:
    """Build Jinja SQL models on DuckDB, test them, and ship stock_extra to Peak.

    Exit codes: 0 success, 1 rows or tests failed, 2 a usage, project or
    aborted export error, 3 an internal error (a bug in stockx).
    """


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
