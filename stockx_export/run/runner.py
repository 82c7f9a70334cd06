"""Running selected nodes in DAG order against one database (an adapter).

A node that fails marks every descendant in this run SKIPPED; the others still
run. Executors are looked up by resource type in the table the runner is given
(stockx_export.run.executors.EXECUTORS), so tests run beside models.

With ``threads`` above one, nodes whose inputs are ready run at the same time,
each in a worker thread with its own connection (``Adapter.worker``); a node
starts only when every node that could skip it has finished
(stockx_export.run.schedule), so the skip/fail verdicts are the ones a run on
one thread gives. Results are reported, and recorded, in the run's order
whatever order they finish in.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from stockx_export.adapters.base import Adapter
from stockx_export.core.nodes import Node
from stockx_export.core.project import Project
from stockx_export.db import first_line
from stockx_export.errors import StockxError
from stockx_export.run.file_sources import FileSourceChecks
from stockx_export.run.results import NodeResult, RunResults, rest_lines
from stockx_export.run.schedule import waits_on
from stockx_export.run.testing.data_tests import audit_relation

Executor = Callable[["Runner", Node], NodeResult]
BeforeStep = Callable[["Runner", list[str]], None]  # before the first node: on-run-start hooks
AfterStep = Callable[["Runner", RunResults], None]  # after the last: on-run-end hooks, reports
MAIN_THREAD = "Thread-1"
FAIL_FAST_SKIP = "skipped: --fail-fast stopped the run"


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
        threads: int = 1,
        before: Sequence[BeforeStep] = (),
        after: Sequence[AfterStep] = (),
    ) -> None:
        self.project = project
        self.main_adapter = adapter
        self.reporter = reporter
        self.command = command
        self.executors = executors
        self.fail_fast = fail_fast
        self.threads = max(1, threads)
        self.before = tuple(before)
        self.after = tuple(after)
        self.results: dict[str, NodeResult] = {}
        self.file_checks = FileSourceChecks(project, lambda: self.adapter)
        self._local = threading.local()  # a worker thread's adapter, scratch database and name
        self._opened: list[Adapter] = []  # the workers' adapters and every scratch database, closed after the run
        self._opened_lock = threading.Lock()
        self._stop = threading.Event()  # a node failed under --fail-fast: workers start nothing more
        self._busy: list[Adapter] = []  # the workers' connections, stopped on Ctrl-C

    @property
    def adapter(self) -> Adapter:
        """The connection of the thread asking: the run's own, or a worker's in a parallel run."""
        return getattr(self._local, "adapter", self.main_adapter)

    def scratch(self) -> Adapter:
        """This thread's empty scratch database for unit tests, opened on first use and closed after the run.

        Opening one costs ~20 ms, so one serves a thread for the whole run; each
        unit test works in a transaction of its own that is rolled back.
        """
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._keep(self.adapter.scratch())
        return scratch

    def _keep(self, adapter: Adapter) -> Adapter:
        with self._opened_lock:
            self._opened.append(adapter)
        return adapter

    def run(self, order: list[str]) -> RunResults:
        try:
            return self._run(order)
        finally:
            self._local = threading.local()
            opened, self._opened = self._opened, []
            for adapter in reversed(opened):  # scratch databases before the workers that opened them
                adapter.close()

    def _run(self, order: list[str]) -> RunResults:
        started = time.time()
        for step in self.before:
            step(self, order)
        self.reporter.start(self.command, [self.project.nodes[u] for u in order])
        progress = _Progress(self, order)
        if order:
            self._run_nodes(order, progress)
        results = [self.results[uid] for uid in order]
        run = RunResults(self.command, results, time.time() - started, started, progress.stopped)
        for step in self.after:
            step(self, run)
        self.reporter.finish(run)
        return run

    def _run_nodes(self, order: list[str], progress: _Progress) -> None:
        """Each node in a worker thread, so Ctrl-C reaches this thread at once and stops the statements
        running. With one thread, the one worker is the run's own connection (what on-run-start hooks
        set on it, its nodes see), and nodes run one at a time in the run's order."""
        workers = min(self.threads if self.main_adapter.concurrent_nodes else 1, len(order))
        # One worker takes the nodes in the run's order, which is a topological one: nothing to wait for.
        waits = waits_on(self, order) if workers > 1 else {uid: set() for uid in order}
        released: dict[str, list[str]] = {uid: [] for uid in order}
        for uid, parents in waits.items():
            for parent in parents:
                released[parent].append(uid)
        waiting = waits  # emptied as parents finish
        position = {uid: i for i, uid in enumerate(order)}
        ready = [(position[uid], uid) for uid in order if not waiting[uid]]  # a heap: the run's order first
        # Up front, committed: concurrent workers would conflict creating one schema, and no node need create its own.
        self.main_adapter.create_schemas(self._schemas(order))
        if workers == 1:
            idle = [self.main_adapter]
        else:
            # Opened here, before any node runs: a connection the database refuses stops the run cleanly.
            idle = [self._keep(self.main_adapter.worker()) for _ in range(workers)]
        self._busy = list(idle)
        names = {id(adapter): f"Thread-{i}" for i, adapter in enumerate(idle, 1)}
        pool = ThreadPoolExecutor(workers, thread_name_prefix="stockx",
                                  initializer=lambda: self._start_worker(idle.pop(), names))
        running: dict[Future, str] = {}

        def done(uid: str) -> None:
            for child in released[uid]:
                waiting[child].discard(uid)
                if not waiting[child]:
                    heapq.heappush(ready, (position[child], child))

        try:
            while ready or running:
                # No more at once than there are workers: a node waiting in the pool's queue could not be held back
                # by a --fail-fast failure any more.
                while ready and len(running) < workers:
                    uid = heapq.heappop(ready)[1]
                    progress.ready(uid)
                    if progress.skipped(uid):
                        done(uid)
                    else:
                        running[pool.submit(self.execute, self.project.nodes[uid])] = uid
                if running:
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in sorted(finished, key=lambda f: position[running[f]]):
                        uid = running.pop(future)
                        progress.finished(uid, future.result())
                        done(uid)
        except BaseException:
            # Ctrl-C (or a bug): stop what runs, start nothing more, and let the workers roll back.
            for adapter in self._busy:
                adapter.interrupt()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _schemas(self, order: list[str]) -> list[str]:
        """The schemas the nodes of ``order`` build in, and keep failing rows in."""
        found = set()
        for uid in order:
            node = self.project.nodes[uid]
            if node.resource_type in ("model", "seed", "snapshot") and node.relation is not None:
                found.add(node.relation.schema)
            elif node.resource_type == "test" and node.config.get("store_failures"):
                found.add(audit_relation(self.project, node).schema)
        return sorted(found)

    def _start_worker(self, adapter: Adapter, names: dict[int, str]) -> None:
        self._local.adapter = adapter
        self._local.name = names[id(adapter)]

    def descendants_to_block(self, node: Node, descendants: Callable[[str], set[str]] | None = None) -> set[str]:
        """What a failure of ``node`` skips.

        A failed model or seed skips everything downstream of it. A failed test skips
        what is downstream of the node it tests (its attached node; for a singular
        test, every node it reads), but not the sibling tests of those nodes; a
        failed unit test also skips the model it tests. ``descendants`` is the DAG's own
        walk unless given (the scheduler passes a memoised one).
        """
        dag, nodes = self.project.dag, self.project.nodes
        descendants = descendants or dag.descendants
        # A source is in the DAG but not in nodes: a failed source test still skips what reads the source.
        if node.resource_type == "test" and node.extra.get("attached_node") in dag:
            roots = [node.extra["attached_node"]]
        elif node.resource_type == "test":
            roots = [p for p in node.depends_on if p in dag]
        elif node.resource_type == "unit_test":
            roots = [node.extra["model_id"]]
        else:
            roots = [node.unique_id]
        found = set().union(*(descendants(r) for r in roots if r in dag))
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
        if self._stop.is_set():  # another worker's node failed under --fail-fast since this one was handed out
            return NodeResult(node, "skipped", FAIL_FAST_SKIP)
        try:
            result = executor(self, node)
        except StockxError as exc:
            result = NodeResult(node, "error", str(exc))
        except Exception as exc:
            if self.adapter.interrupted(exc):  # Ctrl-C reached DuckDB first: the run stops, as it does between nodes
                raise KeyboardInterrupt from None
            if not isinstance(exc, self.adapter.error_types):
                raise
            result = NodeResult(node, "error", first_line(str(exc)), detail=rest_lines(str(exc)))
        if result.failed and self.fail_fast:
            self._stop.set()  # before its completion time is taken: no node starts after a failure's end
        result.execution_time = time.perf_counter() - started
        result.started_at, result.completed_at = started_at, started_at + result.execution_time
        result.thread_id = getattr(self._local, "name", MAIN_THREAD)
        return result

    def write_compiled(self, node: Node, sql: str) -> str:
        """Write ``node``'s compiled SQL; its path as shown to users (relative to the project when inside it)."""
        return self.display(self.project.compiler.write(node, sql))

    def display(self, path: Path) -> str:
        try:
            return path.relative_to(self.project.config.root).as_posix()
        except ValueError:
            return str(path)


class _Progress:
    """A run's verdicts so far: which nodes are skipped (a failed upstream, --fail-fast), and the
    results reported in the run's order (a node's line waits for the lines of those before it)."""

    def __init__(self, runner: Runner, order: list[str]) -> None:
        self.runner = runner
        self.order = order
        self.index = {uid: i for i, uid in enumerate(order, 1)}
        self.blocked: dict[str, tuple[int, str]] = {}  # node -> (index, name) of the first failure in run order
        self.stopped = False
        self._reported = 0

    def ready(self, uid: str) -> None:
        """``uid`` may start: everything that could skip it has finished."""
        node = self.runner.project.nodes[uid]
        if self.stopped:
            self.finished(uid, NodeResult(node, "skipped", FAIL_FAST_SKIP))
        elif uid in self.blocked:
            self.finished(uid, NodeResult(node, "skipped", f"skipped: upstream {self.blocked[uid][1]} failed"))

    def skipped(self, uid: str) -> bool:
        return uid in self.runner.results

    def finished(self, uid: str, result: NodeResult) -> None:
        runner, node = self.runner, result.node
        runner.results[uid] = result
        # `stockx test` builds nothing, so a failure leaves nothing unbuilt to skip: every verdict is reported.
        if result.failed and runner.command != "test":
            cause = f"{node.resource_type.replace('_', ' ')} {node.name}" if node.resource_type != "model" else node.name
            failure = (self.index[uid], cause)
            for child in runner.descendants_to_block(node):
                self.blocked[child] = min(self.blocked.get(child, failure), failure)
        if result.failed and runner.fail_fast:
            self.stopped = True
        total = len(self.order)
        while self._reported < total and self.order[self._reported] in runner.results:
            done = runner.results[self.order[self._reported]]
            self._reported += 1
            if done.status != "skipped":
                runner.reporter.node_started(self._reported, total, done.node)
            runner.reporter.node_finished(self._reported, total, done)
