"""dbt's project commands besides building: ``run-operation``, ``retry``, ``parse`` and ``debug``.

    run_operation  call one macro with arguments, against the project's database (dbt's run-operation)
    retry          run the last run's command again on what failed or was skipped (dbt's retry)
    parse          read the project and write target/manifest.json, building nothing
    debug          check the configuration and the connection, one line per check
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockx_export import adapters
from stockx_export.core.artifacts import RUN_RESULTS, read_run_results
from stockx_export.core.config import parse_vars
from stockx_export.core.jinja.render import Frame
from stockx_export.db import first_line
from stockx_export.errors import ArtifactError, ExecutionError, ProjectError, StockxError
from stockx_export.run import artifacts
from stockx_export.run.engine import ensure_target_dir, run_command
from stockx_export.run.options import RunOptions
from stockx_export.run.projects import open_project, options_config
from stockx_export.run.results import RunResults

MACRO_NAME = re.compile(r"^(?:([A-Za-z_]\w*)\.)?([A-Za-z_]\w*)$")
RETRIED = ("error", "fail", "skipped", "runtime error")  # dbt's retry re-runs these
RETRYABLE_COMMANDS = ("seed", "run", "snapshot", "build", "test")


def run_operation(options: RunOptions, reporter, macro: str, args: str | None) -> str:
    """Call ``macro`` (``name`` or ``package.name``) with ``args`` (a YAML or JSON mapping) against the
    project's database, as ``dbt run-operation`` does; what it rendered, stripped."""
    found = MACRO_NAME.match(macro)
    if found is None:
        raise ProjectError(f"run-operation: '{macro}' is not a macro name (name or package.name)")
    kwargs = _arguments(args)
    project = open_project(options, reporter)
    package, name = found.groups()
    if project.renderer.macro_from(package, name) is None:
        own = project.config.macro_paths
        known = sorted(n for n, m in project.renderer.macros.macros.items()
                       if str(m.block.path).startswith(tuple(f"{p}/" for p in own)))
        raise ProjectError(f"run-operation: no macro named '{macro}'"
                           + ("" if package else f"; the project's macros are {', '.join(known) or 'none'}"))
    frame = Frame(f"run-operation-{name}", f"run-operation {macro}", "operation", {}, "compile")
    adapter = adapters.connect(project.config.target)
    try:
        adapter.apply_target_settings()
        project.resolver.attach(adapter)
        # All or nothing, as dbt commits an operation at its end.
        with adapter.transaction():
            rendered = project.renderer.render("{{ " + macro + "(**__stockx_args__) }}", frame,
                                               {"__stockx_args__": kwargs})
    except StockxError as exc:  # located already: "run-operation <macro>: ... (in <file>:<line>)"
        raise ExecutionError(str(exc)) from None  # exit code 1, as dbt's
    except adapter.error_types as exc:
        raise ExecutionError(f"run-operation {macro}: {first_line(str(exc))}") from None
    finally:
        adapter.close()
    return rendered.strip()


def _arguments(text: str | None) -> dict[str, Any]:
    try:
        return parse_vars(text)
    except ProjectError as exc:
        raise ProjectError(str(exc).replace("--vars", "--args", 1)) from None


def retry(options: RunOptions, reporter) -> RunResults | None:
    """Run the command of the last run (``target/run_results.json``) again, with its arguments, on the
    nodes that failed or were skipped in it (and the tests of those nodes); None when there are none."""
    config = options_config(options)
    path = config.target_dir / RUN_RESULTS
    try:
        last = read_run_results(path)
    except ArtifactError as exc:
        raise ProjectError(f"retry: no previous run to retry: {exc}; run a command first") from None
    command = last.command
    if command not in RETRYABLE_COMMANDS:
        raise ProjectError(f"retry: the last run in {path} was '{command}', which retry does not run again")
    again = sorted(r.unique_id for r in last.results if r.status in RETRIED)
    if not again:
        return None
    previous = last.args
    retried = dataclasses.replace(
        options,
        select=tuple(f"unique_id:{uid}" for uid in again),
        exclude=(),
        full_refresh=bool(previous.get("full_refresh")),
        fail_fast=bool(previous.get("fail_fast")),
        threads=previous.get("threads"),
        empty=bool(previous.get("empty")),
        resource_types=tuple(previous.get("resource_types") or ()),
        vars=options.vars if options.vars is not None else (previous.get("vars") or None),
        state=options.state or previous.get("state"),
        defer=bool(previous.get("defer")),
    )
    return run_command(command, retried, reporter)


def parse(options: RunOptions, reporter) -> Path:
    """Read and check the project, then write target/manifest.json (dbt's parse); the manifest's path."""
    project = open_project(options, reporter)
    ensure_target_dir(project)
    return artifacts.write_manifest(project)


@dataclass(frozen=True)
class Check:
    """One line of ``stockx debug``."""

    name: str
    ok: bool
    detail: str


def debug(options: RunOptions) -> list[Check]:
    """Check the project's configuration and its database connection, as dbt debug does; a failed
    check ends the list (what follows depends on it)."""
    checks = []
    try:
        config = options_config(options)
    except StockxError as exc:
        return [Check("project and profile", False, str(exc))]
    target = config.target
    origin = target.origin or "the project's own settings"
    checks.append(Check("project", True, f"{config.name} ({config.root / config.layout.project_file})"))
    checks.append(Check("target", True, f"{target.name}: type {target.type}, database {target.built_in}, "
                                        f"schema {target.schema} (from {origin})"))
    try:
        adapter = adapters.connect(target)
        try:
            adapter.apply_target_settings()
            adapter.query("select 1")
        finally:
            adapter.close()
    except StockxError as exc:
        checks.append(Check("connection", False, str(exc)))
        return checks
    except Exception as exc:  # a driver's own error: the check's answer, not a bug
        checks.append(Check("connection", False, f"{type(exc).__name__}: {exc}"))
        return checks
    checks.append(Check("connection", True, "select 1 ran"))
    return checks
