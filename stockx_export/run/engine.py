"""The library functions behind the commands: one per command, each called by a thin CLI.

    run_command   seed, run, snapshot, build, test: select, check, execute in DAG order, write artifacts
    compile_project, show, clean (list_nodes: stockx_export.run.selection, which ``ls`` imports alone)

``check``, ``lineage`` and ``compile --dialect`` are in stockx_export.run.analyse.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from stockx_export import adapters
from stockx_export.analysis.checks import first_checks, run_checks
from stockx_export.analysis.parse import load_parser_ahead
from stockx_export.core.config import run_threads
from stockx_export.core.jinja.render import Frame
from stockx_export.core.nodes import Node
from stockx_export.core.project import Project
from stockx_export.db import first_line
from stockx_export.errors import ProjectError
from stockx_export.run import artifacts
from stockx_export.run.deferral import prepare_refs
from stockx_export.run.executors import EXECUTORS
from stockx_export.run.hooks import connection_hooks, run_end_hooks, run_start_hooks
from stockx_export.run.options import RunOptions
from stockx_export.run.projects import open_project, options_config
from stockx_export.run.results import RunResults
from stockx_export.run.runner import Runner
from stockx_export.run.selection import list_nodes, selected, warn_unmatched  # noqa: F401 (the commands' names)
from stockx_export.run.targets import attach
from stockx_export.run.testing.junit import write_report

RESOURCE_TYPES = {
    "seed": ("seed",),
    "run": ("model",),
    "snapshot": ("snapshot",),
    "build": ("seed", "snapshot", "model", "test", "unit_test"),
    "test": ("test", "unit_test"),
}


def ensure_target_dir(project: Project) -> None:
    """Create the target folder up front: a run that cannot write its compiled SQL and results stops here."""
    target = project.config.target_dir
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProjectError(
            f"cannot create the target folder {target}: {exc.strerror}; remove what is in the way or set target-path"
        ) from None


def run_command(command: str, options: RunOptions, reporter) -> RunResults:
    """Run ``seed``, ``run``, ``snapshot``, ``build`` or ``test``: select, check, execute in DAG order, write artifacts."""
    project = open_project(options, reporter)
    types = tuple(t for t in RESOURCE_TYPES[command] if not options.resource_types or t in options.resource_types)
    order = selected(project, options, types, reporter=reporter)
    ensure_target_dir(project)
    loaded = load_parser_ahead() if first_checks(project, order) else None
    try:
        adapter = adapters.connect(project.config.target)
    finally:
        if loaded is not None:
            loaded()
    try:
        adapter.apply_target_settings()
        attach(project, adapter)  # is_incremental() renders in the checks as it will at run time
        prepare_refs(project, options, order, adapter)
        analyzer = run_checks(project, adapter, order, reporter.warn)
        runner = Runner(project, adapter, reporter, command=command, executors=EXECUTORS,
                        fail_fast=options.fail_fast, threads=threads_for(project, options, order, reporter),
                        before=(run_start_hooks,), after=(run_end_hooks,))
        manifest = artifacts.PendingManifest(project, analyzer.parses)  # written while the nodes run
        try:
            run = runner.run(order)
        except BaseException:
            manifest.wait(quietly=True)  # the run's own error is the one to report
            raise
        manifest.wait()
        artifacts.write_run_results(project, run, options.args())
    finally:
        adapter.close()
    project.parse_cache.save(project.renderer.codes)  # templates compiled while running (tests, hooks)
    if options.junit:
        write_report(options.junit, run, project.config.name)
    return run


def threads_for(project: Project, options: RunOptions, order: list[str], reporter) -> int:
    """How many nodes build at once. Asked for (``--threads``, the target's ``threads``): that many.
    By default one per core, unless hooks may set the state of a connection (each worker has its
    own): then one at a time, as the hooks' author saw it, and the log says why."""
    threads = run_threads(options.threads, project.config.target)
    if threads > 1 and options.threads is None and project.config.target.threads is None:
        why = connection_hooks(project, order)
        if why is not None:
            reporter.log(f"{why}: nodes run one at a time (--threads N runs N at once, each on its own connection)")
            return 1
    return threads


def compile_project(options: RunOptions, reporter) -> list[tuple[Node, Path]]:
    """Render every selected model and snapshot to ``target/compiled/<its path>``; nothing is built."""
    project = open_project(options, reporter)
    order = selected(project, options, ("model", "snapshot"), ephemeral=True, reporter=reporter)
    ensure_target_dir(project)
    written = []
    with adapters.for_reading(project.config.target) as adapter:
        attach(project, adapter)
        prepare_refs(project, options, order, adapter)
        analyzer = run_checks(project, adapter, [u for u in order if project.nodes[u].relation is not None], reporter.warn)
        for uid in order:
            node = project.nodes[uid]
            written.append((node, project.compiler.write(node, project.compiler.compile(node))))
    artifacts.write_manifest(project, analyzer.parses)
    project.parse_cache.save(project.renderer.codes)
    return written


def show(options: RunOptions, reporter, inline: str | None, limit: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Rows of a model's compiled query (or of inline SQL, Jinja allowed): (column names, rows)."""
    project = open_project(options, reporter)
    node = None
    if inline:
        frame = Frame("inline", "<inline>", "model", {"materialized": "view"}, "compile")
        sql = project.renderer.render(inline, frame)
    else:
        order = selected(project, options, ("model", "seed"), ephemeral=True)
        if len(order) != 1:
            names = ", ".join(project.nodes[u].name for u in order[:5])
            raise ProjectError(
                f"show needs exactly one model; --select matched {len(order)}" + (f" ({names})" if names else "")
            )
        node = project.nodes[order[0]]
        sql = f"select * from {node.relation}" if node.resource_type == "seed" else None
    with adapters.for_reading(project.config.target) as adapter:
        attach(project, adapter)
        prepare_refs(project, options, [node.unique_id] if node is not None else [], adapter)
        if sql is None:
            sql = project.compiler.compile(node)
        try:
            rows = adapter.sample(sql.strip().rstrip(";"), limit)
        except adapter.error_types as exc:
            raise ProjectError(f"show: {first_line(str(exc))}") from None
    return rows.names, rows.rows


def clean(options: RunOptions) -> list[Path]:
    """Delete the target directory (compiled SQL, artifacts and, when it lives there, the database)."""
    config = options_config(options)
    removed = []
    target = config.target_dir
    if target.exists():
        shutil.rmtree(target)
        removed.append(target)
    return removed
