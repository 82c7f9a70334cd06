"""How fast stockx reshapes a raw WMS export into stock_extra: today's models against the old ones.

    .venv/bin/python bench/reshape.py 1000000 [10000000 ...] [--parquet] [--repeat K] [--workdir DIR]

For each N: writes N raw inventory lines (plus products and warehouses) with
bench/gen_raw.py (every kind of rejected line among them), copies the project,
then runs three sides, each in its own child process and fresh database:

  baseline  the compiled SQL of the models before the reshape was rewritten
            (bench/baseline_reshape/, see its README), executed directly on DuckDB;
  direct    the project's models, compiled by ``stockx compile``, executed the same way;
  stockx    ``stockx run`` of the project (with its ``[tool.stockx.duckdb]`` settings).

"Executed directly" means a plain Python + DuckDB process running each model's
SQL in DAG order (``create view`` / ``create table ... as``) with DuckDB's defaults.
It reports wall time, raw lines per second, peak RSS and CPU seconds (the
child's own rusage) of each side, and the ratios to the baseline: direct /
baseline time (the SQL's own gain) and stockx / baseline lines per second (what
a user sees); CPU ratios too, which other load on a shared machine disturbs less.
With --repeat K the sides alternate K times and each side's fastest run is
reported. The three must produce identical stock_extra and stock_extra_rejects
(column types and rows), which is checked; any difference stops the bench.
The baseline predates Peak's stock resource and rejected every variant-less
line as ``no_variant``; today such a line feeds the ``stock`` model, or is
rejected as ``mixed_variants`` (or a duplicate or an overflow of a stock key).
:func:`comparable_sql` reads a current build the baseline's way for the
comparison: exactly that rule, and nothing else, is mapped back.
Files are kept in the workdir, so a rerun skips generation.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "bench" / "baseline_reshape"
sys.path.insert(0, str(ROOT / "bench"))
import bytecode  # noqa: E402  (bench/bytecode.py)

import gen_raw  # noqa: E402  (a sibling script, not a package)

STOCKX = [sys.executable, "-c", "from stockx_export.cli import main; main()"]
COMPARED = ("stock_extra", "stock_extra_rejects")

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

# How the baseline names its raw files: read_csv('@inventory_path@', <the CSV dialect>), replaced whole.
PLACEHOLDER = re.compile(r"read_csv\('@(\w+)@'[^)]*\)")


def measure(argv: list[str], cwd: Path) -> tuple[float, int, float]:
    """Run a child to completion; return (wall seconds, peak RSS in MiB, CPU seconds) of that child alone."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"{' '.join(argv[:4])} ... failed ({child.returncode}):\n{output.decode(errors='replace')}")
    return wall, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime  # Linux reports KiB


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
            models[uid]["relation_name"],
            "view" if models[uid]["config"].get("materialized") == "view" else "table",
            str(project / models[uid]["compiled_path"]),
        )
        for uid in done
    ]


def file_sources(paths: dict[str, Path], parquet: bool) -> dict[str, str]:
    """var name -> the DuckDB expression that reads its raw files, as read_raw_files() renders it."""
    sources = {}
    for var, path in paths.items():
        quoted = "'" + str(path).replace("'", "''") + "'"
        sources[var] = (
            f"read_parquet({quoted}, union_by_name=true)" if parquet else
            f"read_csv({quoted}, header=true, skip=0, all_varchar=true, union_by_name=true, delim=',', quote='\"', escape='\"')"
        )
    return sources


def baseline_plan(sources: dict[str, str], out: Path) -> list[tuple[str, str, str]]:
    """The baseline's models reading ``sources`` (var name -> relation expression), written under ``out``.

    Returns their execution plan: (relation, 'view' | 'table', file), dependencies first.
    """
    out.mkdir(parents=True, exist_ok=True)
    plan = []
    for relation, kind, name in json.loads((BASELINE / "plan.json").read_text()):
        sql = PLACEHOLDER.sub(lambda match: sources[match.group(1)], (BASELINE / name).read_text(encoding="utf-8"))
        (out / name).write_text(sql, encoding="utf-8")
        plan.append((relation, kind, str(out / name)))
    return plan


def fresh(path: Path) -> Path:
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    return path


# What the baseline called no_variant, a current build calls one of these (or accepts into stock).
NO_VARIANT_NOW = ("mixed_variants", "duplicate_line", "quantity_overflow")


def comparable_sql(catalog: str, table: str, baseline: bool, con) -> str:
    """A query over ``catalog``'s ``table`` as the baseline would have built it (see the
    module docstring): the baseline's own table as it is, a current build's with its
    variant-less lines' verdicts read back as ``no_variant``."""
    if baseline or table == "stock_extra":
        return f"select * from {catalog}.main.{table}"
    lines = f"{catalog}.main.int_inventory_lines"
    mapped = (f"case when product_variant is null and (reject_reason is null or reject_reason in "
              f"{NO_VARIANT_NOW!r}) then 'no_variant' else reject_reason end")
    if table == "int_inventory_lines":
        return (f"select * replace (coalesce(invalid_reason, case when product_variant is null then 'no_variant' end)"
                f" as invalid_reason, {mapped} as reject_reason) from {lines}")
    columns = [name for (name,) in con.execute(
        "select column_name from information_schema.columns where table_catalog = ? and table_name = ? "
        "order by ordinal_position", [catalog, table]).fetchall() if name != "reject_reason"]
    listed = ", ".join(f'"{name}"' for name in columns)
    return (f"select * from (select r.* replace (case when i.product_variant is null and r.reject_reason in {NO_VARIANT_NOW!r} "
            f"then 'no_variant' else r.reject_reason end as reject_reason) "
            f"from {catalog}.main.{table} r join {lines} i using (line_number) "
            f"union all select {listed}, 'no_variant' from {lines} "
            f"where reject_reason is null and product_variant is null)")


def differences(databases: dict[str, Path]) -> list[str]:
    """What differs between the sides' stock_extra and stock_extra_rejects: types, or rows (as multisets)."""
    import duckdb

    found = []
    con = duckdb.connect()
    for side, path in databases.items():
        con.execute(f"attach '{path}' as {side} (read_only)")
    first, *others = databases
    for table in COMPARED:
        types = {side: con.execute(f"select column_name, data_type from information_schema.columns where "
                                   f"table_catalog = '{side}' and table_name = '{table}' order by ordinal_position").fetchall()
                 for side in databases}
        for other in others:
            if types[other] != types[first]:
                found.append(f"{table}: {first} has columns {types[first]}, {other} {types[other]}")
                continue
            this = comparable_sql(first, table, first == "baseline", con)
            that = comparable_sql(other, table, other == "baseline", con)
            differ = con.execute(
                f"select count(*) from (({this} except all {that}) union all ({that} except all {this}))"
            ).fetchone()[0]
            if differ:
                found.append(f"{table}: {first} and {other} disagree on {differ} rows")
    con.close()
    return found


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

    compile_db = fresh(workdir / "compile.duckdb")
    measure([*STOCKX, "compile", *common, "--database", str(compile_db)], project)
    databases = {side: workdir / f"{side}.duckdb" for side in ("baseline", "direct", "stockx")}
    argv = {
        "baseline": [sys.executable, "-c", DIRECT, str(databases["baseline"]),
                     json.dumps(baseline_plan(file_sources(paths, parquet), workdir / "baseline"))],
        "direct": [sys.executable, "-c", DIRECT, str(databases["direct"]), json.dumps(execution_plan(project))],
        "stockx": [*STOCKX, "run", "--quiet", *common, "--database", str(databases["stockx"])],
    }

    # Alternate the sides and keep each one's best run: on a shared machine the
    # minimum is the figure least disturbed by other load.
    runs: dict[str, list[tuple[float, int, float]]] = {side: [] for side in argv}
    for _ in range(repeat):
        for side, command in argv.items():
            fresh(databases[side])
            runs[side].append(measure(command, project))
    best = {side: min(measured) for side, measured in runs.items()}

    problems = differences(databases)
    if problems:
        sys.exit("the sides disagree:\n  " + "\n  ".join(problems))
    with duckdb.connect(str(databases["stockx"]), read_only=True) as con:
        rows, rejects = con.execute(
            "select (select count(*) from stock_extra), (select count(*) from stock_extra_rejects)"
        ).fetchone()
    result: dict = {"lines": n, "format": "parquet" if parquet else "csv", "generate_s": round(generated, 2)}
    for side, (wall, rss, cpu) in best.items():
        result |= {f"{side}_s": round(wall, 2), f"{side}_lines_per_s": round(n / wall), f"{side}_peak_mib": rss,
                   f"{side}_cpu_s": round(min(run[2] for run in runs[side]), 2)}
    baseline_wall = best["baseline"][0]
    result |= {
        "direct_time_vs_baseline": round(best["direct"][0] / baseline_wall, 3),
        "stockx_time_vs_baseline": round(best["stockx"][0] / baseline_wall, 3),
        "stockx_lines_per_s_vs_baseline": round(baseline_wall / best["stockx"][0], 3),
        "stockx_time_vs_direct": round(best["stockx"][0] / best["direct"][0], 3),
        "direct_cpu_vs_baseline": round(result["direct_cpu_s"] / result["baseline_cpu_s"], 3),
        "stockx_cpu_vs_baseline": round(result["stockx_cpu_s"] / result["baseline_cpu_s"], 3),
        "runs_each": repeat,
        "stock_extra_rows": rows,
        "rejected_lines": rejects,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lines", nargs="+", type=int, help="raw inventory lines to generate, e.g. 1000000")
    parser.add_argument("--parquet", action="store_true", help="write the raw files as Parquet instead of CSV")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/stockx-bench"), help="where files and databases go")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side, alternated; the best counts")
    args = parser.parse_args()
    print(f"(stockx byte-compiled first, as an install does: {bytecode.compile_package()})")
    for n in args.lines:
        result = bench(n, args.workdir / f"{n}", args.parquet, args.repeat)
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
