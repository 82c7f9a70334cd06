"""The library functions behind the commands: one per command, each called by a thin CLI.

Runner extensions (data tests, contracts, static checks, hooks) are named in
``EXTENSIONS`` and imported only when a command runs nodes.
"""

from __future__ import annotations

import importlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockx_export import artifacts
from stockx_export.errors import ProjectError
from stockx_export.project import Project, load_project
from stockx_export.selector import select as select_nodes
from stockx_export.selector import unmatched as unmatched_terms

# "module:function" called with (runner, order) before a run; each may add executors or checks.
EXTENSIONS: list[str] = ["stockx_export.dbt.extension:install", "stockx_export.analysis.checks:before_run", "stockx_export.testing.install:install", "stockx_export.file_sources:install"]

RESOURCE_TYPES = {
    "seed": ("seed",),
    "run": ("model",),
    "build": ("seed", "model", "test", "unit_test"),
    "test": ("test", "unit_test"),
}


@dataclass(frozen=True)
class RunOptions:
    project_dir: str = "."
    vars: Any = None
    database: str | None = None
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    full_refresh: bool = False
    fail_fast: bool = False
    extra: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.extra).get(key, default)


def open_project(options: RunOptions, reporter) -> Project:
    project = load_project(
        options.project_dir,
        options.vars,
        options.database,
        full_refresh=options.full_refresh,
        warn=reporter.warn,
        log=reporter.log,
    )
    for warning in project.warnings:
        reporter.warn(warning)
    project.state_path = options.get("state")  # for --select state:modified
    return project


def warn_unmatched(project: Project, options: RunOptions, order: list[str], reporter) -> None:
    """Name each --select / --exclude term that matches no node; say so when nothing at all is selected."""
    if not order and options.select:
        reporter.warn(f"nothing selected by --select {' '.join(options.select)}: check names, tags and paths (stockx ls)")
        flags = (("--exclude", options.exclude),)
    else:
        flags = (("--select", options.select), ("--exclude", options.exclude))
    for flag, expressions in flags:
        for term in unmatched_terms(project, expressions):
            reporter.warn(f"{flag} '{term}' matches no node: check names, tags and paths (stockx ls)")


def ensure_target_dir(project: Project) -> None:
    """Create the target folder up front: a run that cannot write its compiled SQL and results stops here."""
    target = project.config.target_dir
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProjectError(
            f"cannot create the target folder {target}: {exc.strerror}; remove what is in the way or set target-path"
        ) from None


def run_command(command: str, options: RunOptions, reporter):
    """Run ``seed``, ``run``, ``build`` or ``test``: select, execute in DAG order, write artifacts."""
    from stockx_export.db import apply_settings, connect
    from stockx_export.runner import Runner

    project = open_project(options, reporter)
    order = select_nodes(project, options.select, options.exclude, RESOURCE_TYPES[command])
    warn_unmatched(project, options, order, reporter)
    ensure_target_dir(project)
    con = connect(project.config.database)
    try:
        apply_settings(con, project.config.settings.get("duckdb", {}), project.config.root)
        runner = Runner(project, con, reporter, command=command, fail_fast=options.fail_fast)
        runner.options = options
        for extension in EXTENSIONS:
            module, function = extension.split(":")
            getattr(importlib.import_module(module), function)(runner, order)
        run = runner.run(order)
        artifacts.write_manifest(project)
        artifacts.write_run_results(project, run)
    finally:
        con.close()
    return run


def compile_project(options: RunOptions, reporter) -> list[tuple[Any, Path]]:
    """Render every selected model to ``target/compiled/<model path>``; nothing is built."""
    from stockx_export.db import connect

    project = open_project(options, reporter)
    order = select_nodes(project, options.select, options.exclude, ("model",), ephemeral=True)
    warn_unmatched(project, options, order, reporter)
    ensure_target_dir(project)
    database = project.config.database
    con = connect(database, read_only=True) if database != ":memory:" and Path(database).exists() else connect(":memory:")
    written = []
    try:
        project.attach(con)
        from stockx_export.analysis.checks import run_checks

        run_checks(project, con, [u for u in order if project.nodes[u].relation is not None], reporter.warn)
        for uid in order:
            node = project.nodes[uid]
            path = project.compiled_path(node)
            path.parent.mkdir(parents=True, exist_ok=True)
            sql = project.compile(node)
            path.write_text(sql if sql.endswith("\n") else sql + "\n", encoding="utf-8")
            written.append((node, path))
    finally:
        con.close()
    artifacts.write_manifest(project)
    return written


def list_nodes(options: RunOptions, reporter, resource_types: tuple[str, ...]) -> list[Any]:
    project = open_project(options, reporter)
    order = select_nodes(project, options.select, options.exclude, resource_types, ephemeral=True)
    # On stderr: the listing on stdout stays clean for scripts, and an empty one is explained.
    warn_unmatched(project, options, order, reporter)
    return [project.nodes[u] for u in order]


def show(options: RunOptions, reporter, inline: str | None, limit: int):
    """Rows of a model's compiled query (or of inline SQL, Jinja allowed): (column names, rows)."""
    from stockx_export.db import connect
    from stockx_export.jinja.render import Frame

    project = open_project(options, reporter)
    if inline:
        frame = Frame("inline", "<inline>", "model", {"materialized": "view"}, "compile")
        sql = project.renderer.render(inline, frame)
    else:
        order = select_nodes(project, options.select, options.exclude, ("model", "seed"), ephemeral=True)
        if len(order) != 1:
            names = ", ".join(project.nodes[u].name for u in order[:5])
            raise ProjectError(
                f"show needs exactly one model; --select matched {len(order)}" + (f" ({names})" if names else "")
            )
        node = project.nodes[order[0]]
        sql = f"select * from {node.relation}" if node.resource_type == "seed" else None
    database = project.config.database
    con = connect(database, read_only=True) if database != ":memory:" and Path(database).exists() else connect(":memory:")
    try:
        project.attach(con)
        if sql is None:
            sql = project.compile(node)
        from stockx_export.db import database_error_types, first_line

        try:
            cursor = con.execute(f"select * from (\n{sql.strip().rstrip(';')}\n) limit {int(limit)}")
        except database_error_types() as exc:
            raise ProjectError(f"show: {first_line(str(exc))}") from None
        names = [d[0] for d in cursor.description]
        return names, cursor.fetchall()
    finally:
        con.close()


def clean(options: RunOptions) -> list[Path]:
    """Delete the target directory (compiled SQL, artifacts and, when it lives there, the database)."""
    from stockx_export.config import load_config

    config = load_config(options.project_dir, options.vars, options.database)
    removed = []
    target = config.target_dir
    if target.exists():
        shutil.rmtree(target)
        removed.append(target)
    return removed
