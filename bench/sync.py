"""Sync benchmark: sending the day's changes vs a full export of the same table.

    .venv/bin/python bench/sync.py                          # 1M rows, 1% changed
    .venv/bin/python bench/sync.py --rows 10000000

For N rows a stock_extra table is generated in a DuckDB file and a local
ingestion server is started in its own process (it reads every body, counts
its rows and answers 200 with an empty ``failed`` array, unthrottled: with
Peak's 50 requests/s a full export of N rows would take N/25,000 s, which
would make the ratio below look far better than the code is). Then, each step
in a fresh process so its peak memory is its own:

    full     the plain export (issue 5): preflight + every row, no state
    seed     a first sync with state (--full): every row sent, 10M acknowledgements recorded
    (1% of the rows change: stock_units + 1 where a hash of the key ends in 00)
    changes  a sync: preflight + plan (SQL join with the state) + send the changed rows

ratio = changes / full (target below 0.2). Every step checks the server
received exactly the rows it should have.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stock_table import generate  # noqa: E402 (bench/ is on sys.path when run as a script)

TOKEN = "bench-token"
CHANGED = "hash(product_id, location_id, product_variant, stock_date_at) % 100 = 0"


# -- the local server, in its own process ------------------------------------------------
def serve() -> None:
    """Print the port, then answer every POST 200; ``GET /count`` returns rows received so far."""
    received = [0]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _answer(self, text: str) -> None:
            body = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            rows = body.count(b"},{") + 1  # generated rows hold no braces
            with lock:
                received[0] += rows
            self._answer('{"status":"accepted","failed":[]}')

        def do_GET(self) -> None:
            with lock:
                count, received[0] = received[0], 0
            self._answer(json.dumps({"rows": count}))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


def received_rows(base_url: str) -> int:
    """Rows the server received since the last call."""
    import httpx

    return httpx.get(base_url + "/count").json()["rows"]


# -- measured steps, each in a child process ------------------------------------------------
def child(step: str, db: str, state: str, base_url: str) -> None:
    from stockx_export.db import connect
    from stockx_export.export.contract import STOCK_EXTRA
    from stockx_export.export.http import new_client
    from stockx_export.export.run import ExportJob, preflight, send
    from stockx_export.export.settings import resolve_settings
    from stockx_export.sync.push import Sync
    from stockx_export.sync.settings import SyncSettings

    settings = resolve_settings(overrides={"base_url": base_url, "path": "/ingest",
                                           "requests_per_second": 100000.0, "in_flight": 4})
    job = ExportJob("stock_extra", "main.stock_extra", STOCK_EXTRA, settings)
    rejected = Path(state).parent / "rejected.jsonl"
    out = {"step": step}
    started = time.perf_counter()
    with new_client(settings) as client:
        if step == "full":
            con = connect(db, read_only=True)
            preflight(con, job)
            out["preflight"] = time.perf_counter() - started
            summary = send(con, job, client, TOKEN, rejected)
            con.close()
        else:
            with Sync(job, SyncSettings(Path(state)), db) as sync:
                plan = sync.plan(full=step == "seed")
                out["plan"] = time.perf_counter() - started
                out["planned"] = plan.to_send
                sending = time.perf_counter()
                _, summary = sync.push(plan, client, TOKEN, rejected)
                out["send"] = time.perf_counter() - sending
    out["seconds"] = time.perf_counter() - started
    out["rows"] = summary.rows
    out["pages"] = summary.pages
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def measure(step: str, db: Path, state: Path, base_url: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", step, str(db), str(state), base_url],
                          check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["received"] = received_rows(base_url)
    return result


def bench(rows: int, work: Path, base_url: str) -> None:
    import duckdb

    db = work / "stock.duckdb"
    state = work / ".stockx" / "state.duckdb"
    started = time.perf_counter()
    generate(db, rows)
    print(f"{rows:,} rows (generated in {time.perf_counter() - started:.1f}s)", flush=True)

    full = measure("full", db, state, base_url)
    assert full["received"] == full["rows"] == rows, full
    print(f"  full export      {full['seconds']:8.2f}s  (preflight {full['preflight']:.2f}s; {full['pages']:,} pages; "
          f"{rows / full['seconds']:,.0f} rows/s; peak {full['peak_mb']:,.0f} MB)", flush=True)

    seed = measure("seed", db, state, base_url)
    assert seed["received"] == seed["rows"] == rows, seed
    print(f"  first sync       {seed['seconds']:8.2f}s  (preflight+plan {seed['plan']:.2f}s, send+record "
          f"{seed['send']:.2f}s; {rows:,} acknowledgements; peak {seed['peak_mb']:,.0f} MB)", flush=True)

    con = duckdb.connect(str(db))
    changed = con.execute(f"SELECT count(*) FROM stock_extra WHERE {CHANGED}").fetchone()[0]
    con.execute(f"UPDATE stock_extra SET stock_units = stock_units + 1 WHERE {CHANGED}")
    con.close()

    changes = measure("changes", db, state, base_url)
    assert changes["planned"] == changes["rows"] == changes["received"] == changed, (changes, changed)
    print(f"  changes sync     {changes['seconds']:8.2f}s  (preflight+plan {changes['plan']:.2f}s, send+record "
          f"{changes['send']:.2f}s; {changed:,} rows = {changed / rows:.2%}; peak {changes['peak_mb']:,.0f} MB)")
    print(f"  ratio changes/full: {changes['seconds'] / full['seconds']:.3f} (target < 0.2)")
    print(f"  state file: {state.stat().st_size / 1e6:,.0f} MB")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve()
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True)
    try:
        base_url = f"http://127.0.0.1:{int(server.stdout.readline())}"
        for rows in args.rows:
            with tempfile.TemporaryDirectory(prefix="stockx-sync-bench-") as tmp:
                bench(rows, Path(tmp), base_url)
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
