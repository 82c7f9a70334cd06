"""Options shared by several commands: selection, output, and the export's settings."""

from __future__ import annotations

import functools

import click

from stockx_export.cli import LOG_FORMAT


# Options that take several values after one flag, as dbt's do (``-s a b c``).
GREEDY = ("-s", "--select", "-m", "--models", "--exclude", "--resource-type")


class DbtArgsCommand(click.Command):
    """A command whose selection flags take several values each, as dbt's: ``-s a b --exclude c d``
    is read as ``-s a -s b --exclude c --exclude d`` (for commands without positional arguments)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread_values(args))


def spread_values(args: list[str]) -> list[str]:
    """``args`` with each word after a greedy flag's value given its own copy of the flag."""
    out: list[str] = []
    flag = None  # the greedy flag whose values are being read
    for position, arg in enumerate(args):
        if arg == "--":
            return out + args[position:]
        name = arg.split("=", 1)[0]
        if arg.startswith("-"):
            flag = name if name in GREEDY else None
            out.append(arg)
            continue
        if flag is not None and out and out[-1] != flag:
            out.append(flag)
        out.append(arg)
    return out


def selection_options(func):
    @click.option("-s", "--select", "-m", "--models", "select", multiple=True,
                  help="Nodes to include (dbt syntax: name, +name, tag:x, path:...; several after one -s). "
                       "-m/--models: dbt's older name.")
    @click.option("--exclude", multiple=True, help="Nodes to leave out (same syntax).")
    @click.option(
        "--state",
        type=click.Path(path_type=str),
        default=None,
        help="The manifest.json of an earlier run (stockx's or dbt's), or its folder: for state:modified and --defer.",
    )
    @click.option("--target-path", default=None, help="Folder for compiled SQL and artifacts, instead of target/.")
    @click.option("--no-partial-parse", is_flag=True,
                  help="Parse every file from scratch: do not read or write target/partial_parse.json "
                       "(also STOCKX_NO_PARTIAL_PARSE=1).")
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


def run_flags(*names: str):
    """dbt's run flags among ``threads``, ``empty``, ``defer``, ``resource_types``, as click options."""
    flags = {
        "threads": click.option("--threads", type=click.IntRange(min=1), default=None,
                                help="Build up to N independent nodes at once, each on its own connection "
                                     "(default: the target's threads, else one per CPU core; 1 runs them "
                                     "one at a time in DAG order)."),
        "empty": click.option("--empty", is_flag=True, help="Build with refs and sources read as zero rows (dbt's --empty)."),
        "defer": click.option("--defer", is_flag=True,
                              help="Refs to unselected nodes missing here read the relations of the --state manifest."),
        "resource_types": click.option("--resource-type", "resource_types", multiple=True,
                                       type=click.Choice(["model", "seed", "snapshot", "test", "unit_test"]),
                                       help="Only these kinds of node (several after one flag)."),
    }

    def decorate(func):
        for name in reversed(names):
            func = flags[name](func)
        return func

    return decorate


def output_options(func):
    @click.option("-q", "--quiet", is_flag=True, help="Print only failures and warnings (and then the verdict).")
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


state_db_option = click.option("--state-db", default=None, help="Sync state DuckDB file (default .stockx/state.duckdb).")

# The export settings the command line overrides, in --help order: (option, setting, click keywords).
# Each reaches the command as one ``overrides`` mapping (None: not given).
EXPORT_SETTINGS: tuple[tuple[str, str, dict], ...] = (
    ("--object", "object", {"help": "Peak object name (default STOCK_EXTRA)."}),
    ("--solution-name", "solution_name", {"help": "solutionName sent in every payload (default QP_OOTB)."}),
    ("--prefix", "prefix", {"help": "Object prefix in the path (default QP_)."}),
    ("--suffix", "suffix", {"help": "Object suffix in the path (default _OOTB)."}),
    ("--base-url", "base_url", {"help": "Ingestion base URL (default https://ingestion.peak.ai; env PEAK_BASE_URL)."}),
    ("--path", "path", {"help": "Path template with {prefix}, {object}, {suffix}."}),
    ("--operation", "operation", {"type": click.Choice(["UPSERT", "APPEND"], case_sensitive=False),
                                  "help": "operationType (default UPSERT)."}),
    ("--timestamp-format", "timestamp_format", {"type": click.Choice(["iso", "sql"]),
                                                "help": "iso: 2025-01-28T10:00:00Z (default); sql: 2025-01-28 10:00:00."}),
    ("--page-rows", "page_rows", {"type": int, "help": "Rows per payload at most (default 500)."}),
    ("--page-bytes", "page_bytes", {"type": int, "help": "Bytes per payload body at most (default 1000000)."}),
    ("--requests-per-second", "requests_per_second", {"type": float, "help": "Client-side rate limit (default 50)."}),
    ("--in-flight", "in_flight", {"type": int, "help": "Requests in flight at once (default 4)."}),
    ("--max-attempts", "max_attempts", {"type": int, "help": "Attempts per page before giving up (default 8)."}),
    ("--retry-seconds", "retry_seconds", {"type": float, "help": "Seconds per page before giving up (default 300)."}),
    ("--timeout", "timeout", {"type": float, "help": "Seconds to wait for one answer (default 30)."}),
    ("--allow-insecure-http", "allow_insecure_http", {
        "is_flag": True, "default": None,
        "help": "Allow a plain http:// base URL to another machine (the token then crosses the network unencrypted)."}),
)


def export_settings_options(func):
    """The options of :data:`EXPORT_SETTINGS`, passed on as ``overrides``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        overrides = {setting: kwargs.pop(f"setting_{setting}") for _, setting, _ in EXPORT_SETTINGS}
        # A flag left off is "not given" (None), so a true pyproject setting stays.
        overrides["allow_insecure_http"] = True if overrides["allow_insecure_http"] else None
        return func(*args, overrides=overrides, **kwargs)

    for option, setting, keywords in reversed(EXPORT_SETTINGS):
        wrapper = click.option(option, f"setting_{setting}", **{"default": None, **keywords})(wrapper)
    return wrapper
