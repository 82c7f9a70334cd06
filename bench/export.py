"""Export benchmark: serialization speed and memory against DuckDB's own JSON writer,
and push throughput against a local Peak stand-in limited to 50 requests/s.

    .venv/bin/python bench/export.py                       # 1M rows, push 500 requests
    .venv/bin/python bench/export.py --rows 1000000 10000000 --push-requests 1000

For each size N a stock_extra table of N rows is generated in a DuckDB file;
then, each in a fresh subprocess so ``ru_maxrss`` is that step's own peak:

    serialize  stockx's pages (row JSON built in DuckDB, packed into 500-row bodies)
    copy       COPY (SELECT * ... ORDER BY key) TO 'x.json' (FORMAT json): same rows, same order

ratio = serialize seconds / copy seconds (target <= 1.0), in wall time and in
CPU time (user + system of the step's process: steadier on a shared machine).
Below 5M rows each step runs ``--repeat`` times and the best is kept. Both run under the
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

from stock_table import generate  # noqa: E402 (bench/ is on sys.path when run as a script)

KEY = "product_id, location_id, product_variant, stock_date_at"


def child(step: str, db: str, out: str) -> None:
    """One measured step, in its own process; prints a JSON line."""
    if step == "generate":
        generate(Path(db), int(out))
        return
    if step == "serve":
        serve()
        return
    from stockx_export.db import connect
    from stockx_export.export.contract import STOCK_EXTRA
    from stockx_export.export.run import ExportJob, pages_of
    from stockx_export.export.serialize import row_key
    from stockx_export.export.settings import resolve_settings

    settings = resolve_settings()
    con = connect(db, read_only=True)
    con.execute(f"SET memory_limit = '{settings.memory_limit}'")
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
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
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    print(json.dumps({"step": step, "seconds": elapsed, "cpu": cpu, "rows": rows, "pages": pages, "bytes": size,
                      "peak_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: on Linux ru_maxrss
    also counts the parent's memory at fork time, which would hide a flat profile."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(step: str, db: Path, out: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", step, str(db), str(out)],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def best(step: str, db: Path, out: Path, repeat: int) -> dict:
    """The fastest of ``repeat`` runs (each in a fresh process), with the highest peak memory."""
    runs = [measure(step, db, out) for _ in range(repeat)]
    fastest = min(runs, key=lambda run: run["seconds"])
    return {**fastest, "cpu": min(run["cpu"] for run in runs), "peak_mb": max(run["peak_mb"] for run in runs)}


def bench_size(rows: int, work: Path, repeat: int) -> None:
    db = work / f"stock_{rows}.duckdb"
    started = time.perf_counter()
    # In a subprocess too: this process stays small, so nothing it holds is counted in a step's memory.
    subprocess.run([sys.executable, __file__, "--child", "generate", str(db), str(rows)], check=True)
    print(f"\n{rows:,} rows (generated in {time.perf_counter() - started:.1f}s; best of {repeat})")
    copy = best("copy", db, work / "copy.json", repeat)
    serialize = best("serialize", db, work / "unused", repeat)
    (work / "copy.json").unlink(missing_ok=True)
    assert serialize["rows"] == rows, serialize
    for label, run, extra in (
        ("serialize", serialize, f"{serialize['pages']:,} pages, {serialize['bytes']:,} bytes"),
        ("COPY json", copy, f"{copy['bytes']:,} bytes"),
    ):
        print(f"  {label}  {run['seconds']:7.2f}s wall {run['cpu']:7.2f}s cpu  {rows / run['seconds']:>12,.0f} rows/s  "
              f"peak {run['peak_mb']:6.0f} MB  ({extra})")
    print(f"  ratio serialize/COPY: {serialize['seconds'] / copy['seconds']:.2f} wall, "
          f"{serialize['cpu'] / copy['cpu']:.2f} cpu (target <= 1.0)")
    db.unlink()


def serve() -> None:
    """The Peak stand-in, limited to 50 requests/s, in its own process (its own GIL, as a
    real server would be): prints its URL, serves until stdin closes, prints the statuses."""
    from peak_server import PeakServer

    with PeakServer() as server:
        server.rate_limit = 50.0
        print(json.dumps({"base_url": server.base_url, "token": server.token}), flush=True)
        sys.stdin.read()
        statuses = [entry.status for entry in server.log]
    print(json.dumps({"requests": len(statuses), "429": statuses.count(429), "200": statuses.count(200)}), flush=True)


def bench_push(requests: int, work: Path) -> None:
    """Push ``requests`` pages of 500 rows to a local server that answers 429 above 50/s."""
    import httpx

    from stockx_export.db import connect
    from stockx_export.export.contract import STOCK_EXTRA
    from stockx_export.export.run import ExportJob, send
    from stockx_export.export.settings import resolve_settings

    db = work / "push.duckdb"
    subprocess.run([sys.executable, __file__, "--child", "generate", str(db), str(requests * 500)], check=True)
    con = connect(str(db), read_only=True)
    server = subprocess.Popen([sys.executable, __file__, "--child", "serve", "-", "-"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        endpoint = json.loads(server.stdout.readline())
        settings = resolve_settings(overrides={"base_url": endpoint["base_url"]})
        job = ExportJob("stock_extra", "main.stock_extra", STOCK_EXTRA, settings)
        with httpx.Client() as client:
            summary = send(con, job, client, endpoint["token"], work / "rejected.jsonl")
    finally:
        server.stdin.close()
        seen = json.loads(server.stdout.readline() or "{}")
        server.wait()
    con.close()
    print(f"\npush: {summary.requests:,} requests ({summary.rows:,} rows) in {summary.elapsed:.2f}s = "
          f"{summary.requests / summary.elapsed:.1f} requests/s against a 50/s server (target >= 45); "
          f"server saw {seen.get('requests')} requests, {seen.get('429')} answered 429; {summary.retries} retries; "
          f"{summary.rows / summary.elapsed:,.0f} rows/s")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--push-requests", type=int, default=500, help="0 to skip the push benchmark")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step below 5M rows (one above)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stockx-bench-") as tmp:
        work = Path(tmp)
        for rows in args.rows:
            bench_size(rows, work, args.repeat if rows < 5_000_000 else 1)
        if args.push_requests:
            bench_push(args.push_requests, work)


if __name__ == "__main__":
    main()
