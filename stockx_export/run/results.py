"""What running a node gives: a NodeResult per node, RunResults per run, and error details trimmed for the log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stockx_export.core.nodes import Node
from stockx_export.db import first_line

FAILED = ("error", "fail")
# DuckDB quotes a CSV line it refuses whole ("Original Line: ..."), megabytes at times.
MAX_DETAIL_LINE = 300


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
    thread_id: str = "Thread-1"  # the worker that ran it (run_results.json)

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


def rest_lines(message: str) -> str:
    """A database message without its first line (which the result's message already shows), each line cut short."""
    lines = message.strip().splitlines()[1:]
    return "\n".join(shorten(line) for line in lines).strip("\n")


def shorten(line: str) -> str:
    """``line``, or its first MAX_DETAIL_LINE characters and its length when it is longer."""
    return line if len(line) <= MAX_DETAIL_LINE else line[:MAX_DETAIL_LINE] + f"… ({len(line):,} characters)"


def query_error(node: Node, what: str, exc: BaseException, shown: str) -> NodeResult:
    """An error result for a query the database rejected, pointing at the compiled SQL."""
    detail = f"{rest_lines(str(exc))}\ncompiled SQL: {shown}".lstrip("\n")
    return NodeResult(node, "error", f"{what}: {first_line(str(exc))}", detail=detail, compiled_path=shown)
