"""Running selected nodes in DAG order against one DuckDB connection.

A node that fails marks every descendant in this run SKIPPED; the others still
run. Executors are looked up by resource type, so tests plug in beside models.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stockx_export.core import csv_files
from stockx_export.adapters import duckdb as materialize
from stockx_export.db import database_error_types, first_line
from stockx_export.errors import StockxError
from stockx_export.core.nodes import Node
from stockx_export.core.window import STRATEGY as WINDOW_STRATEGY
from stockx_export.core.window import plan_window, window_config

FAILED = ("error", "fail")


@dataclass
class NodeResult:
    """The outcome of one node in one run."""

    node: Node
    status: str  # success | error | skipped | pass | fail | warn
    message: str = ""
    execution_time: float = 0.0
    rows: int | None = None
    failures: int | None = None
    compiled_path: str | None = None
    detail: str = ""  # multi-line text shown under the failure summary
    verb: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    started_at: float | None = None  # epoch seconds; None for nodes that did not execute
    completed_at: float | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILED


@dataclass
class RunResults:
    command: str
    results: list[NodeResult]
    elapsed: float
    started_at: float
    stopped_early: bool = False

    @property
    def failed(self) -> bool:
        return any(r.failed for r in self.results)


Executor = Callable[["Runner", Node], NodeResult]


class Runner:
    """Runs nodes of a project; one instance per command invocation."""

    def __init__(self, project, con, reporter, *, command: str, fail_fast: bool = False) -> None:
        self.project = project
        self.con = con
        self.reporter = reporter
        self.command = command
        self.fail_fast = fail_fast
        self.executors: dict[str, Executor] = {"seed": run_seed, "model": run_model}
        # Each returns a materialize.Check for a node (or None); contracts register here.
        self.model_checks: list[Callable[[Node], materialize.Check | None]] = []
        self.results: dict[str, NodeResult] = {}
        self.hooks_before: list[Callable[["Runner", list[str]], None]] = []
        self.hooks_after: list[Callable[["Runner", RunResults], None]] = []
        self.options = None  # the engine's RunOptions, for extensions that read flags

    def run(self, order: list[str]) -> RunResults:
        started = time.time()
        self.project.attach(self.con)
        for hook in self.hooks_before:
            hook(self, order)
        self.reporter.start(self.command, [self.project.nodes[u] for u in order])
        blocked: dict[str, str] = {}
        stopped = False
        total = len(order)
        for index, uid in enumerate(order, 1):
            node = self.project.nodes[uid]
            if stopped:
                result = NodeResult(node, "skipped", "skipped: --fail-fast stopped the run")
            elif uid in blocked:
                result = NodeResult(node, "skipped", f"skipped: upstream {blocked[uid]} failed")
            else:
                self.reporter.node_started(index, total, node)
                result = self.execute(node)
            self.results[uid] = result
            self.reporter.node_finished(index, total, result)
            # `stockx test` builds nothing, so a failure leaves nothing unbuilt to skip: every verdict is reported.
            if result.failed and self.command != "test":
                cause = f"{node.resource_type.replace('_', ' ')} {node.name}" if node.resource_type != "model" else node.name
                for child in self.descendants_to_block(node):
                    blocked.setdefault(child, cause)
            if result.failed and self.fail_fast:
                stopped = True
        run = RunResults(self.command, list(self.results.values()), time.time() - started, started, stopped)
        for hook in self.hooks_after:
            hook(self, run)
        self.reporter.finish(run)
        return run

    def descendants_to_block(self, node: Node) -> set[str]:
        """What a failure of ``node`` skips.

        A failed model or seed skips everything downstream of it. A failed test skips
        what is downstream of the node it tests (its attached node; for a singular
        test, every node it reads), but not the sibling tests of those nodes; a
        failed unit test also skips the model it tests.
        """
        dag, nodes = self.project.dag, self.project.nodes
        # A source is in the DAG but not in nodes: a failed source test still skips what reads the source.
        if node.resource_type == "test" and node.extra.get("attached_node") in dag:
            roots = [node.extra["attached_node"]]
        elif node.resource_type == "test":
            roots = [p for p in node.depends_on if p in dag]
        elif node.resource_type == "unit_test":
            roots = [node.extra["model_id"]]
        else:
            roots = [node.unique_id]
        found = set().union(*(dag.descendants(r) for r in roots if r in dag))
        if node.resource_type == "unit_test":
            found |= set(roots)
        found.discard(node.unique_id)
        built = {u for u in found if u in nodes and nodes[u].resource_type not in ("test", "unit_test")}
        # The tests of a failed model or seed read what was not built: they are skipped too.
        unbuilt = built | ({node.unique_id} if node.resource_type in ("model", "seed") else set())
        return built | {
            u
            for u in found - built
            if u in nodes and any(p in unbuilt for p in nodes[u].depends_on + (nodes[u].extra.get("model_id", ""),))
        }

    def execute(self, node: Node) -> NodeResult:
        executor = self.executors.get(node.resource_type)
        if executor is None:
            return NodeResult(node, "skipped", f"no executor for {node.resource_type}")
        started_at = time.time()
        started = time.perf_counter()
        try:
            result = executor(self, node)
        except StockxError as exc:
            result = NodeResult(node, "error", str(exc))
        except database_error_types() as exc:
            result = NodeResult(node, "error", first_line(str(exc)), detail=rest_lines(str(exc)))
        result.execution_time = time.perf_counter() - started
        result.started_at, result.completed_at = started_at, started_at + result.execution_time
        return result

    def write_compiled(self, node: Node, sql: str) -> Path:
        path = self.project.compiled_path(node)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql if sql.endswith("\n") else sql + "\n", encoding="utf-8")
        return path

    def display(self, path: Path) -> str:
        try:
            return path.relative_to(self.project.config.root).as_posix()
        except ValueError:
            return str(path)

    def check_for(self, node: Node) -> materialize.Check | None:
        checks = [c for c in (make(node) for make in self.model_checks) if c is not None]
        if not checks:
            return None

        def combined(con, relation: str) -> None:
            for check in checks:
                check(con, relation)

        return combined


# DuckDB quotes a CSV line it refuses whole ("Original Line: ..."), megabytes at times.
MAX_DETAIL_LINE = 300


def rest_lines(message: str) -> str:
    """A DuckDB message without its first line (which the result's message already shows), each line cut short."""
    lines = message.strip().splitlines()[1:]
    return "\n".join(shorten(line) for line in lines).strip("\n")


def shorten(line: str) -> str:
    """``line``, or its first MAX_DETAIL_LINE characters and its length when it is longer."""
    return line if len(line) <= MAX_DETAIL_LINE else line[:MAX_DETAIL_LINE] + f"… ({len(line):,} characters)"


def run_seed(runner: Runner, node: Node, select=None) -> NodeResult:
    """Load a seed; ``select`` builds its reading query (dbt projects pass dbt-duckdb's)."""
    project = runner.project
    existing = project.relation_exists(node.relation)
    csv_path = project.config.root / node.path
    if csv_files.is_empty(csv_path):
        return NodeResult(node, "error", f"{node.path}: the file is empty; a seed needs a header line naming its columns")
    dialect = materialize.seed_dialect(node.config)
    if node.config.get("header", True):
        # A column_types name missing from the header is most often a missing header line.
        typed = [str(name) for name in node.config.get("column_types") or {}]
        where = f"column_types in {node.patch_path or 'the seed config'}"
        problem = csv_files.header_problem(csv_path, node.path, dialect, typed, what=where)
        if problem is not None:
            return NodeResult(node, "error", str(problem))
    try:
        outcome = materialize.load_seed(runner.con, node.relation, csv_path, node.config, existing, select)
    except database_error_types() as exc:
        problem = csv_files.row_problem(csv_path, node.path, dialect, fix="set the seed's delimiter")
        if problem is not None:
            return NodeResult(node, "error", str(problem))
        return NodeResult(node, "error", f"{node.path}: {shorten(first_line(str(exc)))}", detail=rest_lines(str(exc)))
    project.existing[(node.relation.schema, node.relation.identifier)] = "table"
    return NodeResult(node, "success", verb=outcome.verb, rows=outcome.rows)


def run_model(runner: Runner, node: Node) -> NodeResult:
    project = runner.project
    relation = node.relation
    existing = project.relation_exists(relation)
    kind = node.materialized
    full_refresh = materialize.should_full_refresh(node.config, project.full_refresh)
    window = None
    if kind == "incremental" and node.config.get("incremental_strategy") == WINDOW_STRATEGY:
        # One window per build: the model's in_window() filter and the strategy's delete are written from it.
        settings = window_config(node.path, node.name, node.config, project.renderer.context["var"])
        try:
            window = plan_window(runner.con, relation, settings, project.today, existing != "table" or full_refresh)
        except StockxError as exc:
            return NodeResult(node, "error", f"{node.path}: {exc}")
    sql = project.compile(node, window=window)
    compiled = runner.write_compiled(node, sql)
    shown = runner.display(compiled)
    check = runner.check_for(node)
    try:
        if kind == "view":
            outcome = materialize.build_view(runner.con, relation, sql, existing, check)
        elif kind == "table":
            outcome = materialize.build_table(runner.con, relation, sql, existing, check)
        elif kind == "incremental":
            outcome = materialize.build_incremental(
                runner.con,
                relation,
                sql,
                existing,
                node.config.get("unique_key"),
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
    except database_error_types() as exc:
        return NodeResult(
            node,
            "error",
            f"{node.path}: {first_line(str(exc))}",
            detail=f"{rest_lines(str(exc))}\ncompiled SQL: {shown}".lstrip("\n"),
            compiled_path=shown,
        )
    except StockxError as exc:
        return NodeResult(node, "error", f"{node.path}: {exc}", detail=f"compiled SQL: {shown}", compiled_path=shown)
    project.existing[(relation.schema, relation.identifier)] = "view" if kind == "view" else "table"
    return NodeResult(node, "success", verb=outcome.verb, rows=outcome.rows, compiled_path=shown, message=outcome.detail)
