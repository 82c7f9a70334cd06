"""Export benchmark: serialization speed and memory against DuckDB's own JSON writer,
and push throughput against a local Peak stand-in limited to 50 requests/s.

    .venv/bin/python bench/export.py                       # 1M rows, push 500 requests
    .venv/bin/python bench/export.py --rows 1000000 10000000 --push-requests 1000

For each size N a stock_extra table of N rows is generated in a DuckDB file;
then, each in a fresh subprocess so ``ru_maxrss`` is that step's own peak:

    serialize  stockx's pages (row JSON built in DuckDB, packed into 500-row bodies)
    copy       COPY (SELECT * ... ORDER BY key) TO 'x.json' (FORMAT json): same rows, same order

ratio = serialize seconds / copy seconds (target <= 1.0). Both run under the
same DuckDB memory_limit (the export's default, 256MB), as the export does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

KEY = "product_id, location_id, product_variant, stock_date_at"


def generate(path: Path, rows: int) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute(f"""
        CREATE TABLE stock_extra AS
        SELECT 'PROD-' || lpad((i % 5000)::VARCHAR, 6, '0') AS product_id,
               'LOC-UK-' || lpad(((i // 5000) % 100)::VARCHAR, 4, '0') AS location_id,
               'size:' || (['S', 'M', 'L', 'XL'])[(i // 500000) % 4 + 1] AS product_variant,
               DATE '2025-01-01' + (i // 2000000)::INTEGER AS stock_date_at,
               CASE WHEN i % 7 = 0 THEN NULL ELSE TIMESTAMP '2025-01-28 00:00:00' + to_seconds(i % 86400) END AS created_at,
               CASE WHEN i % 3 = 0 THEN NULL ELSE 'STK-' || i END AS stock_id,
               (i % 1000)::INTEGER AS stock_units,
               TIMESTAMP '2025-01-28 10:00:00' AS updated_at
        FROM range({rows}) AS t(i)
        ORDER BY hash(i)""")
    con.close()


def child(step: str, db: str, out: str) -> None:
    """One measured step, in its own process; prints a JSON line."""
    from stockx_export.db import connect
    from stockx_export.export.contract import STOCK_EXTRA
    from stockx_export.export.run import ExportJob, pages_of
    from stockx_export.export.serialize import row_key
    from stockx_export.export.settings import resolve_settings

    settings = resolve_settings()
    con = connect(db, read_only=True)
    con.execute(f"SET memory_limit = '{settings.memory_limit}'")
    started = time.perf_counter()
    rows = pages = size = 0
    if step == "serialize":
        job = ExportJob("stock_extra", "main.stock_extra", STOCK_EXTRA, settings)
        previous = None
        for page in pages_of(con, job):
            rows += len(page.rows)
            pages += 1
            size += page.size
            # Key order across page boundaries, checked on the fly (two rows per page).
            first, last = row_key(STOCK_EXTRA, page.rows[0]), row_key(STOCK_EXTRA, page.rows[-1])
            assert previous is None or previous < first <= last, (previous, first, last)
            previous = last
    else:
        con.execute(f"COPY (SELECT * FROM stock_extra ORDER BY {KEY}) TO '{out}' (FORMAT json)")
        size = os.path.getsize(out)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"step": step, "seconds": elapsed, "rows": rows, "pages": pages, "bytes": size, "peak_mb": peak_mb}))


def measure(step: str, db: Path, out: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", step, str(db), str(out)],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_size(rows: int, work: Path) -> None:
    db = work / f"stock_{rows}.duckdb"
    started = time.perf_counter()
    generate(db, rows)
    print(f"\n{rows:,} rows (generated in {time.perf_counter() - started:.1f}s)")
    copy = measure("copy", db, work / "copy.json")
    serialize = measure("serialize", db, work / "unused")
    (work / "copy.json").unlink(missing_ok=True)
    assert serialize["rows"] == rows, serialize
    print(f"  serialize  {serialize['seconds']:7.2f}s  {rows / serialize['seconds']:>12,.0f} rows/s  "
          f"peak {serialize['peak_mb']:7.0f} MB  ({serialize['pages']:,} pages, {serialize['bytes']:,} bytes)")
    print(f"  COPY json  {copy['seconds']:7.2f}s  {rows / copy['seconds']:>12,.0f} rows/s  "
          f"peak {copy['peak_mb']:7.0f} MB  ({copy['bytes']:,} bytes)")
    print(f"  ratio serialize/COPY: {serialize['seconds'] / copy['seconds']:.2f} (target <= 1.0)")
    db.unlink()


def bench_push(requests: int, work: Path) -> None:
    """Push ``requests`` pages of 500 rows to a local server that answers 429 above 50/s."""
    import httpx
    from peak_server import PeakServer

    from stockx_export.db import connect
    from stockx_export.export.contract import STOCK_EXTRA
    from stockx_export.export.run import ExportJob, push
    from stockx_export.export.settings import resolve_settings

    db = work / "push.duckdb"
    generate(db, requests * 500)
    con = connect(str(db), read_only=True)
    with PeakServer() as server:
        server.rate_limit = 50.0
        settings = resolve_settings(overrides={"base_url": server.base_url})
        job = ExportJob("stock_extra", "main.stock_extra", STOCK_EXTRA, settings)
        with httpx.Client() as client:
            summary = push(con, job, client, server.token, work / "rejected.jsonl")
        statuses = [entry.status for entry in server.log]
    con.close()
    print(f"\npush: {summary.requests:,} requests ({summary.rows:,} rows) in {summary.elapsed:.2f}s = "
          f"{summary.requests / summary.elapsed:.1f} requests/s against a 50/s server (target >= 45); "
          f"{statuses.count(429)} answered 429, {summary.retries} retries, "
          f"{summary.rows / summary.elapsed:,.0f} rows/s")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--push-requests", type=int, default=500, help="0 to skip the push benchmark")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stockx-bench-") as tmp:
        work = Path(tmp)
        for rows in args.rows:
            bench_size(rows, work)
        if args.push_requests:
            bench_push(args.push_requests, work)


if __name__ == "__main__":
    main()
