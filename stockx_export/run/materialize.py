"""The executors of seeds, models and snapshots: check and compile, then build through the run's adapter.

A model's enforced contract (stockx_export.run.testing.contracts) is the check
the adapter runs on the new relation before it replaces the old one. A
snapshot's time is the project's ``snapshot_get_time()`` macro rendered (dbt's,
so a project may pin it), and its SQL is the adapter's (stockx_export.adapters.snapshot_sql).
"""

from __future__ import annotations

from stockx_export.core import csv_files
from stockx_export.core.config import should_full_refresh
from stockx_export.core.jinja.render import Frame
from stockx_export.core.nodes import Node
from stockx_export.core.snapshots import snapshot_spec
from stockx_export.core.window import STRATEGY as WINDOW_STRATEGY
from stockx_export.core.window import plan_window, window_config
from stockx_export.db import first_line
from stockx_export.errors import StockxError
from stockx_export.run.results import NodeResult, rest_lines, shorten
from stockx_export.run.testing.contracts import contract_check


def run_seed(runner, node: Node) -> NodeResult:
    """Load a seed; its layout may type its columns (dbt projects type them as dbt-duckdb does)."""
    project, adapter = runner.project, runner.adapter
    csv_path = project.config.root / node.path
    if csv_files.is_empty(csv_path):
        return NodeResult(node, "error", f"{node.path}: the file is empty; a seed needs a header line naming its columns")
    dialect = adapter.seed_dialect(node.config)
    if node.config.get("header", True):
        # A column_types name missing from the header is most often a missing header line.
        typed = [str(name) for name in node.config.get("column_types") or {}]
        where = f"column_types in {node.patch_path or 'the seed config'}"
        problem = csv_files.header_problem(csv_path, node.path, dialect, typed, what=where)
        if problem is not None:
            return NodeResult(node, "error", str(problem))
    try:
        column_types = project.layout.seed_column_types(csv_path, node.config)
        outcome = adapter.load_seed(node.relation, csv_path, node.config, column_types)
    except adapter.error_types as exc:
        problem = csv_files.row_problem(csv_path, node.path, dialect, fix="set the seed's delimiter")
        if problem is not None:
            return NodeResult(node, "error", str(problem))
        return NodeResult(node, "error", f"{node.path}: {shorten(first_line(str(exc)))}", detail=rest_lines(str(exc)))
    return NodeResult(node, "success", verb=outcome.verb, rows=outcome.rows)


def run_model(runner, node: Node) -> NodeResult:
    """Build a model as its ``materialized`` config says."""
    project, adapter = runner.project, runner.adapter
    relation = node.relation
    kind = node.materialized
    full_refresh = should_full_refresh(node.config, project.full_refresh)
    window = None
    if kind == "incremental" and node.config.get("incremental_strategy") == WINDOW_STRATEGY:
        # One window per build: the model's in_window() filter and the strategy's delete are written from it.
        with project.renderer.lock:  # not while a unit test running at the same time has its vars overridden
            settings = window_config(node.path, node.name, node.config, project.renderer.context["var"])
        rebuild = adapter.relation_kind(relation) != "table" or full_refresh
        try:
            newest = None if rebuild else adapter.newest_date(relation, settings.column)
        except StockxError as exc:
            return NodeResult(node, "error", f"{node.path}: {exc}")
        window = plan_window(settings, project.today, newest)
    sql = project.compiler.compile(node, window=window)
    shown = runner.write_compiled(node, sql)
    patch = project.properties.models.get(node.name)
    check = contract_check(node, patch.constraints if patch is not None else ())
    try:
        if kind == "view":
            outcome = adapter.build_view(relation, sql, check)
        elif kind == "table":
            outcome = adapter.build_table(relation, sql, check)
        elif kind == "incremental":
            outcome = adapter.build_incremental(
                relation,
                sql,
                unique_key=node.config.get("unique_key"),
                full_refresh=full_refresh,
                check=check,
                on_schema_change=node.config.get("on_schema_change"),
                strategy=node.config.get("incremental_strategy"),
                window=window,
            )
        else:
            return NodeResult(
                node,
                "error",
                f"{node.path}: materialized='{kind}' is not supported; use view, table, incremental or ephemeral",
                compiled_path=shown,
            )
    except adapter.error_types as exc:
        return _failed(node, exc, shown, from_database=True)
    except StockxError as exc:
        return _failed(node, exc, shown, from_database=False)
    return NodeResult(node, "success", verb=outcome.verb, rows=outcome.rows, compiled_path=shown, message=outcome.detail)


def _failed(node: Node, exc: BaseException, shown: str, *, from_database: bool) -> NodeResult:
    """A node's error: the database's first line as the message and the rest as detail, or stockx's own."""
    if from_database:
        return NodeResult(node, "error", f"{node.path}: {first_line(str(exc))}",
                          detail=f"{rest_lines(str(exc))}\ncompiled SQL: {shown}".lstrip("\n"), compiled_path=shown)
    return NodeResult(node, "error", f"{node.path}: {exc}", detail=f"compiled SQL: {shown}", compiled_path=shown)


SNAPSHOT_TIME = "{{ snapshot_get_time() }}"


def run_snapshot(runner, node: Node) -> NodeResult:
    """Record a snapshot's query in its history table (stockx_export.core.snapshots)."""
    project, adapter = runner.project, runner.adapter
    try:
        spec = snapshot_spec(node)
    except StockxError as exc:
        return NodeResult(node, "error", str(exc))
    sql = project.compiler.compile(node)
    shown = runner.write_compiled(node, sql)
    frame = Frame(node.name, f"{node.path}#snapshot_get_time", "snapshot", dict(node.config), "compile",
                  extra={"node": node})
    now = project.renderer.render(SNAPSHOT_TIME, frame).strip()
    try:
        outcome = adapter.build_snapshot(node.relation, sql, spec, now)
    except adapter.error_types as exc:
        return _failed(node, exc, shown, from_database=True)
    except StockxError as exc:
        return _failed(node, exc, shown, from_database=False)
    return NodeResult(node, "success", verb=outcome.verb, rows=outcome.rows, compiled_path=shown, message=outcome.detail)
