"""Helpers for the docs site tests: the sample project built in a scratch folder, a Peak
stand-in whose refusals quote the token and markup, and a few pushes to it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
from click.testing import CliRunner
from peak_server import PeakServer

from stockx_export.cli import cli
from stockx_export.sync.state import attach_state

REPO = Path(__file__).resolve().parents[1]
TOKEN = "pat-docs-9d41c2e7f0"
SAMPLE_PARTS = ("pyproject.toml", "models", "macros", "seeds", "snapshots", "tests/sql")
# The contract's eight columns, in order.
STOCK_EXTRA_COLUMNS = ["product_id", "location_id", "product_variant", "stock_date_at", "created_at", "stock_id",
                       "stock_units", "updated_at"]


def stockx(*args: str, env: dict[str, str] | None = None):
    """The real command, in-process."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def sample_copy(root: Path) -> Path:
    """The repository's sample project (with its SQL tests) copied to ``root``, not built."""
    root.mkdir(parents=True)
    for part in SAMPLE_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, root / part)
        else:
            shutil.copy(source, root / part)
    return root


def built_sample(root: Path, *build_args: str) -> Path:
    """The repository's sample project (with its SQL tests) copied to ``root`` and built."""
    sample_copy(root)
    done = stockx("build", "--quiet", "--project-dir", str(root), *build_args)
    assert done.exit_code == 0, done.output
    return root


class EchoingPeak(PeakServer):
    """Peak behind a careless proxy: each refusal quotes the request's Authorization
    header, the token, as a hostile or broken server might."""

    def handle(self, path: str, headers: Any, body: bytes):
        status, answer_headers, text, rows, dry_run = super().handle(path, headers, body)
        if status == 422:
            answer = json.loads(text)
            answer["message"] += f" (request authorised by {headers.get('Authorization')})"
            text = json.dumps(answer)
        return status, answer_headers, text, rows, dry_run


def first_key(root: Path) -> tuple:
    """The first stock_extra key, as Peak's stand-in keys rows."""
    con = duckdb.connect(str(root / "target" / "stockx.duckdb"), read_only=True)
    try:
        return con.execute("SELECT product_id, location_id, product_variant, strftime(stock_date_at, '%Y-%m-%d') "
                           "FROM main.stock_extra ORDER BY ALL LIMIT 1").fetchone()
    finally:
        con.close()


def change_rows(root: Path, every: int) -> None:
    """Change every ``every``-th row of the built table, as a rebuild with corrections would."""
    con = duckdb.connect(str(root / "target" / "stockx.duckdb"))
    try:
        con.execute(f"UPDATE main.stock_extra SET stock_units = stock_units + 1 WHERE hash(stock_id) % {every} = 0")
    finally:
        con.close()


def push(root: Path, server: PeakServer, *args: str):
    """``stockx export --push`` to ``server`` with the token in the environment."""
    return stockx("export", "--push", "--project-dir", str(root), "--page-rows", "40", *args,
                  env={"PEAK_AUTH_TOKEN": TOKEN, "PEAK_BASE_URL": server.base_url})


def push_history(root: Path, server: PeakServer) -> tuple:
    """Three pushes: the first sends the whole table, two later ones the rows changed since;
    Peak refuses one key every time. Returns that key."""
    key = first_key(root)
    server.token = TOKEN
    server.reject_keys = {key}
    for changed_every in (None, 7, 13):
        if changed_every:
            change_rows(root, changed_every)
        done = push(root, server)
        assert done.exit_code == 1, done.output  # 1: Peak refused a row, the rest delivered
    assert server.violations == []
    return key


def generate(root: Path, *args: str, env: dict[str, str] | None = None):
    """``stockx docs generate`` of the project at ``root``."""
    return stockx("docs", "generate", "--project-dir", str(root), *args, env=env)


def site_data(root: Path) -> dict[str, Any]:
    """What the page reads: ``target/docs/data.js`` as JSON."""
    text = (root / "target" / "docs" / "data.js").read_text(encoding="ascii")
    prefix = "window.STOCKX_DOCS = "
    assert text.startswith(prefix) and text.endswith(";\n")
    return json.loads(text[len(prefix):-2])


def write_state(path: Path, runs, rejected) -> None:
    """A sync state as stockx writes it, with the given runs (id, status, message) and refusals."""
    con = duckdb.connect()
    try:
        attach_state(con, path)
        s = "stockx_state.main"
        con.execute(f"INSERT INTO {s}.destinations VALUES ('d1', 'https://peak.test', 'STOCK_EXTRA', 'QP_OOTB', "
                    "'https://peak.test/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB', TIMESTAMP '2026-01-05 06:00:00')")
        for run_id, status, message in runs:
            con.execute(f"INSERT INTO {s}.runs (run_id, destination, model, relation, mode, started_at, updated_at, "
                        "status, message, table_rows, rows_planned, rows_sent, rows_acknowledged, rows_rejected, "
                        "merged) VALUES (?, 'd1', 'stock_extra', 'main.stock_extra', 'changes', "
                        "TIMESTAMP '2026-01-05 06:00:00', TIMESTAMP '2026-01-05 06:00:09', ?, ?, 10, 10, 10, 9, 1, "
                        "false)", [run_id, status, message])
        for run_id, key, response in rejected:
            con.execute(f"INSERT INTO {s}.rejected VALUES ('d1', ?, 'f', '{{}}', 422, ?, 1, "
                        "TIMESTAMP '2026-01-05 06:00:05', ?)", [key, response, run_id])
    finally:
        con.close()


def write_family_state(path: Path) -> None:
    """A sync state of a family export: products and stock_extra pushed to their own Peak
    objects, run after run; Peak refused one stock_extra row."""
    con = duckdb.connect()
    try:
        attach_state(con, path)
        s = "stockx_state.main"
        for destination, obj in (("dp", "PRODUCTS"), ("ds", "STOCK_EXTRA")):
            con.execute(f"INSERT INTO {s}.destinations VALUES (?, 'https://peak.test', ?, 'QP_OOTB', ?, "
                        "TIMESTAMP '2026-01-05 06:00:00')",
                        [destination, obj, f"https://peak.test/api/v2/ingest/object/QP_{obj}_OOTB"])
        runs = [(1, "dp", "products", 5), (2, "ds", "stock_extra", 10), (3, "dp", "products", 1),
                (4, "ds", "stock_extra", 3)]
        for run_id, destination, model, sent in runs:
            con.execute(f"INSERT INTO {s}.runs (run_id, destination, model, relation, mode, started_at, updated_at, "
                        "status, message, table_rows, rows_planned, rows_sent, rows_acknowledged, rows_rejected, "
                        "merged) VALUES (?, ?, ?, ?, 'changes', TIMESTAMP '2026-01-05 06:00:00' + to_days(?), "
                        "TIMESTAMP '2026-01-05 06:00:09' + to_days(?), 'success', NULL, 10, ?, ?, ?, ?, false)",
                        [run_id, destination, model, f"main.{model}", run_id, run_id, sent, sent,
                         sent - (model == "stock_extra"), int(model == "stock_extra")])
        con.execute(f"INSERT INTO {s}.rejected VALUES ('ds', '[\"SKU-1\"]', 'f', '{{}}', 422, 'no such product', 1, "
                    "TIMESTAMP '2026-01-09 06:00:05', 4)")
    finally:
        con.close()


def hold_rows(path: Path, held: int, rows: list[tuple[int, str, str]]) -> None:
    """Every run of the state at ``path`` held ``held`` rows back; the ``held`` table lists
    ``rows`` (run, key, reason) of destination d1, as a family export records them."""
    con = duckdb.connect()
    try:
        attach_state(con, path)
        s = "stockx_state.main"
        con.execute(f"UPDATE {s}.runs SET rows_held = ?", [held])
        for run_id, key, reason in rows:
            con.execute(f"INSERT INTO {s}.held VALUES ('d1', ?, '{{\"stock_units\": 1}}', ?, "
                        "TIMESTAMP '2026-01-05 06:00:05', ?)", [key, reason, run_id])
    finally:
        con.close()


def drop_held(path: Path) -> None:
    """Turn the state at ``path`` into the layout before held rows existed: no ``held`` table,
    no ``runs.rows_held``."""
    con = duckdb.connect(str(path))
    try:
        con.execute("DROP TABLE held")
        con.execute("ALTER TABLE runs DROP COLUMN rows_held")
    finally:
        con.close()
