"""Running selected nodes in DAG order against one database (an adapter).

A node that fails marks every descendant in this run SKIPPED; the others still
run. Executors are looked up by resource type in the table the runner is given
(stockx_export.run.executors.EXECUTORS), so tests run beside models.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from stockx_export.adapters.base import Adapter
from stockx_export.core.nodes import Node
from stockx_export.core.project import Project
from stockx_export.db import first_line
from stockx_export.errors import StockxError
from stockx_export.run.file_sources import FileSourceChecks
from stockx_export.run.results import NodeResult, RunResults, rest_lines

Executor = Callable[["Runner", Node], NodeResult]
BeforeStep = Callable[["Runner", list[str]], None]  # before the first node: on-run-start hooks
AfterStep = Callable[["Runner", RunResults], None]  # after the last: on-run-end hooks, reports


class Runner:
    """Runs nodes of a project; one instance per command invocation."""

    def __init__(
        self,
        project: Project,
        adapter: Adapter,
        reporter,
        *,
        command: str,
        executors: Mapping[str, Executor],
        fail_fast: bool = False,
        before: Sequence[BeforeStep] = (),
        after: Sequence[AfterStep] = (),
    ) -> None:
        self.project = project
        self.adapter = adapter
        self.reporter = reporter
        self.command = command
        self.executors = executors
        self.fail_fast = fail_fast
        self.before = tuple(before)
        self.after = tuple(after)
        self.results: dict[str, NodeResult] = {}
        self.file_checks = FileSourceChecks(project, adapter)
        self._scratch: Adapter | None = None

    def scratch(self) -> Adapter:
        """The run's empty scratch database for unit tests, opened on first use and closed after the run.

        Opening one costs ~20 ms, so one serves the whole run; each unit test
        works in a transaction of its own that is rolled back.
        """
        if self._scratch is None:
            self._scratch = self.adapter.scratch()
        return self._scratch

    def run(self, order: list[str]) -> RunResults:
        try:
            return self._run(order)
        finally:
            if self._scratch is not None:
                self._scratch.close()
                self._scratch = None

    def _run(self, order: list[str]) -> RunResults:
        started = time.time()
        for step in self.before:
            step(self, order)
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
        for step in self.after:
            step(self, run)
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
        unbuilt = built | ({node.unique_id} if node.resource_type in ("model", "seed", "snapshot") else set())
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
        except self.adapter.error_types as exc:
            result = NodeResult(node, "error", first_line(str(exc)), detail=rest_lines(str(exc)))
        result.execution_time = time.perf_counter() - started
        result.started_at, result.completed_at = started_at, started_at + result.execution_time
        return result

    def write_compiled(self, node: Node, sql: str) -> str:
        """Write ``node``'s compiled SQL; its path as shown to users (relative to the project when inside it)."""
        return self.display(self.project.compiler.write(node, sql))

    def display(self, path: Path) -> str:
        try:
            return path.relative_to(self.project.config.root).as_posix()
        except ValueError:
            return str(path)
