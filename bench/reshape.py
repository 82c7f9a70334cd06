"""How fast stockx reshapes a raw WMS export into stock_extra, against DuckDB alone.

    .venv/bin/python bench/reshape.py 1000000 [10000000 ...] [--parquet] [--repeat K] [--workdir DIR]

For each N: writes N raw inventory lines (plus products and warehouses) with
bench/gen_raw.py, copies the project, then in separate child processes

  1. ``stockx run`` with the ``*_path`` vars pointing at the files, into a fresh database;
  2. ``stockx compile`` into another fresh database (so is_incremental() is false), then a
     plain Python + DuckDB process that executes the compiled SQL of every model in DAG
     order (``create view`` / ``create table ... as``) into a third fresh database.

It reports wall time, raw lines per second and peak RSS (the child's own rusage)
of each, and the ratio stockx / direct. With --repeat K the sides alternate K
times and each side's fastest run is reported. Both produce the same stock_extra, which
is checked. Files are kept in the workdir, so a rerun skips generation.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import gen_raw  # noqa: E402  (a sibling script, not a package)

STOCKX = [sys.executable, "-c", "from stockx_export.cli import main; main()"]

# Executes compiled models in a fresh process: DuckDB and nothing else.
DIRECT = r"""
import json, sys, duckdb
database, plan = sys.argv[1], json.loads(sys.argv[2])
con = duckdb.connect(database)
for relation, kind, path in plan:
    sql = open(path, encoding="utf-8").read()
    con.execute(f"create or replace {kind} {relation} as {sql}")
con.close()
"""


def measure(argv: list[str], cwd: Path) -> tuple[float, int]:
    """Run a child to completion; return (wall seconds, peak RSS in MiB) of that child alone."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"{' '.join(argv[:4])} ... failed ({child.returncode}):\n{output.decode(errors='replace')}")
    return wall, usage.ru_maxrss // 1024  # Linux reports KiB


def copy_project(target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for folder in ("models", "macros", "seeds"):
        shutil.copytree(ROOT / folder, target / folder)
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def execution_plan(project: Path) -> list[tuple[str, str, str]]:
    """(relation, 'view' | 'table', compiled file) for every model, dependencies first."""
    nodes = json.loads((project / "target" / "manifest.json").read_text())["nodes"]
    models = {uid: node for uid, node in nodes.items() if node["resource_type"] == "model"}
    done: list[str] = []

    def visit(uid: str) -> None:
        if uid in done:
            return
        for parent in sorted(models[uid]["depends_on"]["nodes"]):
            if parent in models:
                visit(parent)
        done.append(uid)

    for uid in sorted(models):
        visit(uid)
    return [
        (
            models[uid]["relation"],
            "view" if models[uid]["config"].get("materialized") == "view" else "table",
            str(project / models[uid]["compiled_path"]),
        )
        for uid in done
    ]


def fresh(path: Path) -> Path:
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    return path


def bench(n: int, workdir: Path, parquet: bool, repeat: int = 1) -> dict:
    import duckdb

    data = workdir / "data"
    start = time.perf_counter()
    with duckdb.connect() as con:
        paths = gen_raw.write_bench(con, n, data, parquet=parquet)
    generated = time.perf_counter() - start
    vars_ = {key: str(path) for key, path in paths.items()}
    project = copy_project(workdir / "project")
    common = ["--project-dir", str(project), "--vars", json.dumps(vars_)]

    stockx_db = workdir / "stockx.duckdb"
    compile_db = fresh(workdir / "compile.duckdb")
    measure([*STOCKX, "compile", *common, "--database", str(compile_db)], project)
    direct_db = workdir / "direct.duckdb"
    direct_argv = [sys.executable, "-c", DIRECT, str(direct_db), json.dumps(execution_plan(project))]
    stockx_argv = [*STOCKX, "run", "--quiet", *common, "--database", str(stockx_db)]

    # Alternate the two sides and keep each one's best run: on a shared machine the
    # minimum is the figure least disturbed by other load.
    stockx_runs, direct_runs = [], []
    for _ in range(repeat):
        fresh(stockx_db)
        stockx_runs.append(measure(stockx_argv, project))
        fresh(direct_db)
        direct_runs.append(measure(direct_argv, project))
    stockx_wall, stockx_rss = min(stockx_runs)
    direct_wall, direct_rss = min(direct_runs)

    with duckdb.connect(str(stockx_db), read_only=True) as con:
        con.execute(f"attach '{direct_db}' as direct (read_only)")
        differ = con.execute(
            "select count(*) from ((select * from main.stock_extra except all select * from direct.main.stock_extra) "
            "union all (select * from direct.main.stock_extra except all select * from main.stock_extra))"
        ).fetchone()[0]
        rows, rejects = con.execute(
            "select (select count(*) from stock_extra), (select count(*) from stock_extra_rejects)"
        ).fetchone()
    if differ:
        sys.exit(f"stockx and direct DuckDB disagree on {differ} stock_extra rows")
    return {
        "lines": n,
        "format": "parquet" if parquet else "csv",
        "generate_s": round(generated, 2),
        "stockx_s": round(stockx_wall, 2),
        "stockx_lines_per_s": round(n / stockx_wall),
        "stockx_peak_mib": stockx_rss,
        "direct_s": round(direct_wall, 2),
        "direct_lines_per_s": round(n / direct_wall),
        "direct_peak_mib": direct_rss,
        "ratio": round(stockx_wall / direct_wall, 3),
        "runs_each": repeat,
        "stock_extra_rows": rows,
        "rejected_lines": rejects,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lines", nargs="+", type=int, help="raw inventory lines to generate, e.g. 1000000")
    parser.add_argument("--parquet", action="store_true", help="write the raw files as Parquet instead of CSV")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/stockx-bench"), help="where files and databases go")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side, alternated; the best counts")
    args = parser.parse_args()
    for n in args.lines:
        result = bench(n, args.workdir / f"{n}", args.parquet, args.repeat)
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
