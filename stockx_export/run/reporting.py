"""What a run prints: one line per node like dbt, a summary, or JSON lines for machines."""

from __future__ import annotations

import datetime
import json
import sys
from collections import Counter
from typing import TextIO

from stockx_export.tables import plural

WIDTH = 72
STATUS_WORD = {
    "success": "OK",
    "pass": "PASS",
    "warn": "WARN",
    "fail": "FAIL",
    "error": "ERROR",
    "skipped": "SKIP",
}
COLORS = {"OK": "green", "PASS": "green", "WARN": "yellow", "FAIL": "red", "ERROR": "red", "SKIP": "yellow"}
# ANSI foreground colours, as click.style writes them (the library does not import click).
ANSI = {"green": "\x1b[32m", "yellow": "\x1b[33m", "red": "\x1b[31m"}
RESET = "\x1b[0m"


def describe(result) -> str:
    """The words of a node's line: 'OK created table marts.stock_extra'."""
    node = result.node
    word = STATUS_WORD.get(result.status, result.status.upper())
    target = str(node.relation) if node.relation is not None else node.name
    if result.status == "success":
        return f"{word} {result.verb or 'built'} {target}"
    if result.status == "skipped":
        return f"{word} {node.resource_type.replace('_', ' ')} {target}"
    if node.resource_type in ("test", "unit_test"):
        return f"{word} {node.name}"
    return f"{word} {node.resource_type} {target}"


def timing(result) -> str:
    seconds = f"{result.execution_time:.2f}s"
    if result.status == "skipped":
        return "[SKIP]"
    if result.rows is not None and result.status == "success":
        return f"[{plural(result.rows, 'row')} in {seconds}]"
    if result.failures and result.status != "pass":  # a pass under its warn_if threshold is just a pass
        return f"[{result.failures:,} failing in {seconds}]"
    return f"[{seconds}]"


KINDS = ("seed", "snapshot", "model", "test", "unit_test")  # in the order a run's summary counts them


class TextReporter:
    """dbt-style lines; ``quiet`` keeps only failures and warnings, and the final verdict
    of a run that had any (a clean run prints nothing, so a scheduler's log holds what
    needs a look)."""

    def __init__(self, out: TextIO | None = None, quiet: bool = False, color: bool | None = None) -> None:
        self.out = out or sys.stdout
        self.quiet = quiet
        self.color = self.out.isatty() if color is None else color

    def _print(self, text: str = "", color: str | None = None, force: bool = False) -> None:
        if self.quiet and not force:
            return
        if color and self.color:
            text = f"{ANSI[color]}{text}{RESET}"
        print(text, file=self.out, flush=True)

    def warn(self, message: str) -> None:
        self._print(f"Warning: {message}", "yellow", force=True)

    def log(self, message: str) -> None:
        self._print(message)

    def start(self, command: str, nodes) -> None:
        counts = Counter(n.resource_type for n in nodes)
        parts = [plural(counts[k], k.replace("_", " ")) for k in KINDS if counts[k]]
        self._print(f"Running {', '.join(parts) if parts else 'nothing'}")

    def node_started(self, index: int, total: int, node) -> None:
        pass

    def node_finished(self, index: int, total: int, result) -> None:
        shown = result.failed or result.status == "warn"
        if self.quiet and not shown:
            return
        now = datetime.datetime.now().strftime("%H:%M:%S")
        head = f"{now}  {index} of {total} {describe(result)} "
        tail = f" {timing(result)}"
        line = head + "." * max(3, WIDTH - len(head)) + tail
        word = STATUS_WORD.get(result.status, "")
        self._print(line, COLORS.get(word), force=shown)
        if shown and result.extra.get("preview"):
            self._print(result.extra["preview"], force=True)

    def finish(self, run) -> None:
        counts = Counter(r.status for r in run.results)
        kinds = Counter(r.node.resource_type for r in run.results)
        described = ", ".join(plural(kinds[k], k.replace("_", " ")) for k in KINDS if kinds[k])
        self._print()
        self._print(f"Finished running {described or 'nothing'} in {run.elapsed:.2f}s.")
        failures = [r for r in run.results if r.failed]
        warnings = [r for r in run.results if r.status == "warn"]
        for result in warnings:
            node = result.node
            self._print(force=True)
            self._print(f"Warning in {node.resource_type.replace('_', ' ')} {node.name} ({node.path})", "yellow",
                        force=True)
            self._print(f"  {result.message}", force=True)
            for line in (result.detail or "").splitlines():
                self._print(f"  {line}", force=True)
        for result in failures:
            node = result.node
            self._print()
            self._print(f"Failure in {node.resource_type.replace('_', ' ')} {node.name} ({node.path})", "red", force=True)
            self._print(f"  {result.message}", force=True)
            for line in (result.detail or "").splitlines():
                self._print(f"  {line}", force=True)
        passed = counts["success"] + counts["pass"]
        summary = (
            f"Done. PASS={passed} WARN={counts['warn']} ERROR={counts['error'] + counts['fail']} "
            f"SKIP={counts['skipped']} TOTAL={len(run.results)}"
        )
        self._print(force=bool(failures or warnings))
        color = "red" if failures else "yellow" if warnings else "green"
        self._print(summary, color, force=bool(failures or warnings))


class JsonReporter:
    """One JSON object per line (``--log-format json``): ``level`` is ``error`` for a
    failure, ``warn`` for a warning (a test that warned, and a run that had one), else
    ``info``; ``quiet`` drops the ``info`` lines."""

    def __init__(self, out: TextIO | None = None, quiet: bool = False) -> None:
        self.out = out or sys.stdout
        self.quiet = quiet

    def _emit(self, event: str, level: str = "info", **fields) -> None:
        if self.quiet and level == "info":
            return
        record = {"ts": datetime.datetime.now(datetime.timezone.utc).isoformat(), "level": level, "event": event, **fields}
        print(json.dumps(record, default=str), file=self.out, flush=True)

    def warn(self, message: str) -> None:
        self._emit("warning", "warn", message=message)

    def log(self, message: str) -> None:
        self._emit("log", message=message)

    def start(self, command: str, nodes) -> None:
        self._emit("run_started", command=command, nodes=len(nodes))

    def node_started(self, index: int, total: int, node) -> None:
        pass

    def node_finished(self, index: int, total: int, result) -> None:
        node = result.node
        self._emit(
            "node_finished",
            "error" if result.failed else "warn" if result.status == "warn" else "info",
            index=index,
            total=total,
            unique_id=node.unique_id,
            name=node.name,
            resource_type=node.resource_type,
            relation=str(node.relation) if node.relation is not None else None,
            status=result.status,
            rows=result.rows,
            failures=result.failures,
            execution_time=round(result.execution_time, 4),
            message=result.message,
            compiled_path=result.compiled_path,
        )

    def finish(self, run) -> None:
        counts = Counter(r.status for r in run.results)
        warned = any(r.status == "warn" for r in run.results)
        self._emit(
            "run_finished",
            "error" if run.failed else "warn" if warned else "info",
            elapsed=round(run.elapsed, 4),
            counts=dict(sorted(counts.items())),
            success=not run.failed,
        )


def make_reporter(log_format: str = "text", quiet: bool = False):
    return JsonReporter(quiet=quiet) if log_format == "json" else TextReporter(quiet=quiet)
