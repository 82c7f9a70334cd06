"""Engine overhead: `stockx build` of a generated project vs the same SQL run directly on DuckDB.

    python bench/build.py [--models 300] [--repeat 3] [--threads 1 4]

Generates a project of a few hundred models (3 seeds, layered views and tables
that ref one to three earlier models, a macro in every model), then in the same
run and on the same machine measures:

* ``stockx build --threads N`` wall time for each N, in a fresh process as a user
  runs it (``--threads 1`` builds one node at a time in DAG order), twice per round:
  *fresh* (no target/: a full parse, render and check of every model) and *warm*
  (target/ kept from the build before, so the parse and check caches answer, but a
  new database: the same database work as the fresh build and the baseline);
* the baseline: a fresh Python process that executes the very statements
  stockx compiled (target/compiled/**) on DuckDB in the same order, one at a time,
  on a new database, creating each schema once up front as stockx does (a
  ``create schema`` per statement costs DuckDB ~0.2-0.4 ms each, which stockx
  no longer pays: the baseline must not pay it either);
* each build's ratio to the baseline (issue 17's targets: at most 1.05x with one
  thread, at most 0.8x with four);
* the cold-start time of ``stockx ls`` and of ``stockx --help``.

The sides alternate within each round, so drifting load hits each alike. The
database work of this project varies by 15-30% from run to run on a shared
2-core machine (the same statements, the same process), far more than the
difference being measured, so the figure a target is judged on is each side's
**fastest** run of the K (the least disturbed one, as ``timeit`` advises and as
bench/reshape.py does); the medians are printed beside them. The fastest run
flatters whichever side varies more under load (here the builds vary far more
than the direct run, the parallel ones most): a target met by the fastest runs
but not by the medians was measured on a busy machine; measure again when idle.
Absolute times drift on shared machines; the ratios are the figures to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bytecode  # noqa: E402  (bench/bytecode.py)

STOCKX = [sys.executable, "-m", "stockx_export.cli"]

BASELINE = textwrap.dedent(
    """
    import json, sys, time
    import duckdb
    plan = json.load(open(sys.argv[1]))
    con = duckdb.connect(sys.argv[2])
    for schema in sorted({schema for _, schema, _, _ in plan}):  # once each, up front, as stockx does
        con.execute(f"create schema if not exists {schema}")
    for kind, schema, name, sql in plan:
        if kind == "seed":
            con.execute(f"create or replace table {schema}.{name} as select * from read_csv('{sql}', sample_size=-1)")
        elif kind == "view":
            con.execute(f"create or replace view {schema}.{name} as ({sql})")
        else:
            con.execute(f"create or replace table {schema}.{name} as ({sql})")
    con.close()
    """
)


def generate(root: Path, models: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    (root / "models").mkdir(parents=True)
    (root / "macros").mkdir()
    (root / "seeds").mkdir()
    (root / "pyproject.toml").write_text('[tool.stockx]\nname = "bench"\n[tool.stockx.models.layer_3]\nmaterialized = "table"\n')
    for s in range(3):
        rows = "\n".join(f"{i},{rng.randint(1, 50)},{rng.random():.4f}" for i in range(1000))
        (root / "seeds" / f"seed_{s}.csv").write_text(f"id,grp,val\n{rows}\n")
    (root / "macros" / "m.sql").write_text(
        "{% macro scaled(col, factor) -%}({{ col }} * {{ factor }}){%- endmacro %}\n"
    )
    names = [f"seed_{s}" for s in range(3)]
    per_layer = max(1, models // 5)
    for i in range(models):
        layer = min(4, i // per_layer)
        folder = root / "models" / f"layer_{layer}"
        folder.mkdir(exist_ok=True)
        parents = rng.sample(names[-40:], k=min(len(names[-40:]), rng.randint(1, 3)))
        first, rest = parents[0], parents[1:]
        joins = "".join(f"\nleft join {{{{ ref('{p}') }}}} as t{j} using (id)" for j, p in enumerate(rest))
        name = f"model_{i:04d}"
        (folder / f"{name}.sql").write_text(
            f"select t.id, t.grp, {{{{ scaled('t.val', {rng.randint(1, 9)}) }}}} as val\n"
            f"from {{{{ ref('{first}') }}}} as t{joins}\n"
        )
        names.append(name)


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def baseline_plan(root: Path) -> list[list[str]]:
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    run_results = json.loads((root / "target" / "run_results.json").read_text())
    plan = []
    for result in run_results["results"]:
        node = manifest["nodes"][result["unique_id"]]
        schema, name = node["schema"], node["alias"]
        if node["resource_type"] == "seed":
            plan.append(["seed", schema, name, str(root / node["original_file_path"])])
        elif node["resource_type"] == "model":
            sql = (root / node["compiled_path"]).read_text()
            plan.append([node["config"].get("materialized", "view"), schema, name, sql])
    return plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    print(f"(stockx byte-compiled first, as an install does: {bytecode.compile_package()})")
    load_before = f"{os.getloadavg()[0]:.2f}"
    work = Path(tempfile.mkdtemp(prefix="stockx-bench-build-"))
    try:
        root = work / "project"
        generate(root, args.models)
        modes = [(threads, warm) for threads in args.threads for warm in (False, True)]
        builds: dict[tuple[int, bool], list[float]] = {mode: [] for mode in modes}
        baselines, lss, helps = [], [], []
        for _ in range(args.repeat):
            for threads, warm in modes:
                if warm:  # the caches of the build before stay; the database goes
                    for name in ("stockx.duckdb", "stockx.duckdb.wal"):
                        (root / "target" / name).unlink(missing_ok=True)
                else:
                    shutil.rmtree(root / "target", ignore_errors=True)
                builds[(threads, warm)].append(timed([*STOCKX, "build", "--quiet", "--threads", str(threads)], root))
            plan_file = work / "plan.json"
            plan_file.write_text(json.dumps(baseline_plan(root)))
            script = work / "baseline.py"
            script.write_text(BASELINE)
            db = work / "baseline.duckdb"
            db.unlink(missing_ok=True)
            Path(f"{db}.wal").unlink(missing_ok=True)
            baselines.append(timed([sys.executable, str(script), str(plan_file), str(db)], work))
            lss.append(timed([*STOCKX, "ls"], root))
            helps.append(timed([*STOCKX, "--help"], root))
        base, base_median = min(baselines), statistics.median(baselines)
        print(f"project: 3 seeds, {args.models} models; fastest (and median) of {args.repeat} runs; "
              f"{os.cpu_count()} cores; load average before: {load_before}, after: {os.getloadavg()[0]:.2f}")
        print(f"same compiled SQL on DuckDB directly      {base:7.3f} s  (median {base_median:6.3f} s)")
        for (threads, warm), times in builds.items():
            fastest, median = min(times), statistics.median(times)
            label = f"stockx build --threads {threads:<2} ({'warm' if warm else 'fresh'})"
            print(f"{label:<40} {fastest:7.3f} s  {fastest / base:5.2f}x the direct run  "
                  f"(median {median:6.3f} s, {median / base_median:5.2f}x)")
        print(f"cold start: stockx ls                    {min(lss):7.3f} s")
        print(f"cold start: stockx --help                {min(helps):7.3f} s")
        analysis = Path(__file__).with_name("analysis.py")
        if analysis.exists():
            print(f"(analysis share of the build: python {analysis.relative_to(Path.cwd()) if analysis.is_relative_to(Path.cwd()) else analysis})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
