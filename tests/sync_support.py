"""Helpers for the sync tests: a project on disk with a built stock_extra, a
recording loopback Peak, the state read back, and the CLI run in-process or as
a real process that can be killed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import duckdb
from click.testing import CliRunner
from peak_server import Delay, PeakServer, create_stock_extra, table_rows

from stockx_export.cli import cli

TOKEN = "pat-sync-3c9e11aa"
REPO = Path(__file__).resolve().parents[1]


def make_project(root: Path, rows: int, page_rows: int = 50, sync: str = "") -> Path:
    """A project whose last build produced ``main.stock_extra`` with ``rows`` rows."""
    (root / "target").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.stockx]\nname = "proj"\ndatabase = "target/stockx.duckdb"\n\n'
        f"[tool.stockx.export]\npage_rows = {page_rows}\nrequests_per_second = 1000\nbackoff_base = 0.01\n"
        + (f"\n[tool.stockx.sync]\n{sync}\n" if sync else "")
    )
    con = duckdb.connect(str(database(root)))
    create_stock_extra(con, rows)
    con.close()
    model = "model.proj.stock_extra"
    nodes = {model: {"unique_id": model, "name": "stock_extra", "resource_type": "model",
                     "relation_name": "main.stock_extra", "meta": {}, "depends_on": {"nodes": []}}}
    results = [{"unique_id": model, "resource_type": "model", "status": "success", "attached_node": None}]
    (root / "target" / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    (root / "target" / "run_results.json").write_text(json.dumps({"metadata": {}, "results": results}))
    return root


def database(root: Path) -> Path:
    return root / "target" / "stockx.duckdb"


def state_path(root: Path) -> Path:
    return root / ".stockx" / "state.duckdb"


def change_table(root: Path, sql: str) -> None:
    """Run ``sql`` on the built table (a rebuild that changed some rows)."""
    con = duckdb.connect(str(database(root)))
    try:
        con.execute(sql)
    finally:
        con.close()


def expected_rows(root: Path) -> list[dict[str, Any]]:
    """The table as Peak rows, formatted independently of the exporter."""
    con = duckdb.connect(str(database(root)), read_only=True)
    try:
        return table_rows(con)
    finally:
        con.close()


def state_query(root: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of ``sql`` on the state database, opened read-only."""
    con = duckdb.connect(str(state_path(root)), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def acknowledged_keys(root: Path) -> set[tuple]:
    """Every key the state holds as acknowledged (merged or not), as key tuples."""
    if not state_path(root).exists():  # killed before the state was created
        return set()
    tables = state_query(root, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'acknowledged'")
    if tables == [(0,)]:  # killed while creating it (one transaction: nothing was kept)
        return set()
    return {tuple(json.loads(k)) for (k,) in state_query(root, "SELECT DISTINCT key FROM acknowledged")}


class RecordingPeak(PeakServer):
    """The loopback Peak, also keeping the keys of every request it stored, in
    order, and optionally answering every request ``delay`` seconds late (or
    ``delays(n)`` seconds late for the n-th request, counted from 1)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(token=TOKEN, **kwargs)
        self.stored: list[list[tuple]] = []  # keys of each request whose rows were stored
        self.delay = 0.0
        self.delays: Callable[[int], float] | None = None
        self.arrived = 0
        self.handled = 0
        self.arrival = threading.Condition()

    def _next_action(self) -> Any:  # called once per request, as it arrives
        with self.arrival:
            self.arrived += 1
            self.arrival.notify_all()
            number = self.arrived
        action = super()._next_action()
        if action is None and self.delays is not None:
            return Delay(self.delays(number))
        return action

    def wait_for_arrivals(self, count: int, timeout: float = 20.0) -> bool:
        with self.arrival:
            return self.arrival.wait_for(lambda: self.arrived >= count, timeout)

    def wait_for_handled(self, count: int, timeout: float = 20.0) -> bool:
        """Until ``count`` requests have been answered (or ``timeout`` seconds passed)."""
        with self.arrival:
            return self.arrival.wait_for(lambda: self.handled >= count, timeout)

    def wait_idle(self, timeout: float = 20.0) -> bool:
        """Until every request that arrived has been handled (a killed client's included)."""
        with self.arrival:
            return self.arrival.wait_for(lambda: self.handled >= self.arrived, timeout)

    def handle(self, path, headers, body):
        try:
            if self.delay:
                time.sleep(self.delay)
            answer = super().handle(path, headers, body)
            object_name = self._object_at(path)
            if answer[0] == 200 and object_name is not None:
                resource = self.full_resource(object_name)
                rows = json.loads(body)["data"]
                failed = set(self.fail_keys)
                with self._lock:
                    self.stored.append([self.key_of(r, resource) for r in rows
                                        if self.key_of(r, resource) not in failed])
            return answer
        finally:
            with self.arrival:
                self.handled += 1
                self.arrival.notify_all()

    def stored_keys(self, start: int = 0) -> list[tuple]:
        with self._lock:
            return [key for keys in self.stored[start:] for key in keys]


def invoke(root: Path, *args: str, env: dict[str, str] | None = None):
    """``stockx <args> --project-dir root`` in-process."""
    return CliRunner().invoke(cli, [*args, "--project-dir", str(root)], env=env or {}, catch_exceptions=False)


def push_env(server: PeakServer, **extra: str) -> dict[str, str]:
    return {"PEAK_AUTH_TOKEN": TOKEN, "PEAK_BASE_URL": server.base_url, **extra}


def start_push(root: Path, server: PeakServer, *args: str, pause: tuple[str, Path] | None = None,
               **env: str) -> subprocess.Popen:
    """``stockx export --push`` as a real process (so it can be killed with SIGKILL).

    ``pause``: ``("<point>:<page>", file)`` stops the push at that checkpoint
    (see ``paused_push.py``) after writing to ``file``."""
    full_env = {**os.environ, **push_env(server), **env}
    command = [sys.executable, "-m", "stockx_export.cli"]
    if pause is not None:
        command = [sys.executable, str(REPO / "tests" / "paused_push.py"), pause[0], str(pause[1])]
    return subprocess.Popen(
        [*command, "export", "--push", "--project-dir", str(root), *args],
        env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(root),
    )
