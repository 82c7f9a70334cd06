"""The same reshape on DuckDB, PostgreSQL and Spark (local), in one run, against DuckDB.

    .venv/bin/python bench/engines.py [LINES] [--workdir DIR] [--engines duckdb,postgres,spark]

Writes LINES raw inventory lines (default 1,000,000) with bench/gen_raw.py as the
sample project's seeds, then for each engine, in a fresh child process each:

  1. ``stockx seed`` + ``stockx run`` (the reshape: the seeds loaded, every model built);
  2. ``stockx test`` (data tests, unit tests, contracts on the target);
  3. ``stockx export --out`` (the table read back in key order, the payload pages written).

Reported per engine: wall time of each step, raw lines per second of the reshape,
peak memory of everything involved (the stockx process and its children, the
JVM for Spark, and for PostgreSQL the server's processes too, read from /proc
every 0.2 s), the reshape's ratio to DuckDB, and the sha256 of the payload
pages (which must be equal: the bench stops otherwise). PostgreSQL is a
throwaway cluster on 127.0.0.1 started from Debian's binaries
(tests/postgres_server.py); Spark runs local[2].
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

import gen_raw  # noqa: E402  (a sibling script, not a package)

STOCKX = [sys.executable, "-c", "from stockx_export.cli import main; main()"]
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found.setdefault(int(fields[1]), []).append(int(entry.name))
    return found


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(roots: list[int]) -> int:
    """Resident bytes of ``roots`` and all their descendants, now."""
    children = _children()
    seen, pending, total = set(), list(roots), 0
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _rss(pid)
        pending.extend(children.get(pid, []))
    return total


def run(argv: list[str], cwd: Path, extra_roots: list[int]) -> tuple[float, int]:
    """Run a stockx child to completion: (wall seconds, peak bytes of it, its children and ``extra_roots``)."""
    peak = 0
    start = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss([child.pid, *extra_roots]))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = child.stdout.read()
    child.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if child.returncode != 0:
        sys.exit(f"{' '.join(argv[3:])} failed ({child.returncode}):\n{output.decode(errors='replace')[-4000:]}")
    return wall, peak


def postmaster(port: int) -> int:
    """The pid of the PostgreSQL server listening on ``port`` (its children are the backends)."""
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmdline and cmdline[0].endswith(b"postgres") and f"-p {port}".encode() in b" ".join(cmdline):
                return int(entry.name)
    sys.exit(f"no PostgreSQL server process found for port {port}")


def project(workdir: Path, seeds: Path, engine: str, targets: str) -> Path:
    dest = workdir / f"project-{engine}"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for part in ("models", "macros"):
        shutil.copytree(ROOT / part, dest / part)
    shutil.copytree(ROOT / "tests" / "sql", dest / "tests" / "sql")
    shutil.copytree(seeds, dest / "seeds")
    shutil.copy(ROOT / "seeds" / "seeds.yml", dest / "seeds" / "seeds.yml")
    (dest / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + "\n" + targets)
    return dest


def page_sums(folder: Path) -> str:
    """One sha256 over the sha256 of every page file, in name order."""
    digest = hashlib.sha256()
    for page in sorted(folder.glob("page-*.json")):
        digest.update(hashlib.sha256(page.read_bytes()).hexdigest().encode())
    return digest.hexdigest()


def bench(engine: str, root: Path, target: str | None, extra_roots: list[int], lines: int) -> dict:
    chosen = ["--target", target] if target else []
    seed_wall, seed_peak = run([*STOCKX, "seed", *chosen], root, extra_roots)
    run_wall, run_peak = run([*STOCKX, "run", *chosen], root, extra_roots)
    test_wall, test_peak = run([*STOCKX, "test", *chosen], root, extra_roots)
    out = root / "target" / "pages"
    export_wall, export_peak = run([*STOCKX, "export", *chosen, "--out", str(out)], root, extra_roots)
    reshape = seed_wall + run_wall
    return {
        "engine": engine, "reshape": reshape, "lines_per_s": lines / reshape, "test": test_wall,
        "export": export_wall, "peak": max(seed_peak, run_peak, test_peak, export_peak),
        "pages": len(list(out.glob("page-*.json"))), "sha256": page_sums(out),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lines", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "target" / "bench-engines")
    parser.add_argument("--engines", default="duckdb,postgres,spark")
    args = parser.parse_args(argv)
    engines = args.engines.split(",")
    import duckdb

    paths = gen_raw.write_bench(duckdb.connect(), args.lines, args.workdir / "raw")
    seeds = args.workdir / f"seeds-{args.lines}"
    seeds.mkdir(parents=True, exist_ok=True)
    for key, name in (("inventory_path", "raw_inventory.csv"), ("products_path", "raw_products.csv"),
                      ("warehouses_path", "raw_warehouses.csv")):
        shutil.copy(paths[key], seeds / name)
    print(f"{args.lines:,} raw lines; machine load {os.getloadavg()[0]:.2f} (1-min average), {os.cpu_count()} cores",
          flush=True)
    results = []
    for engine in engines:
        if engine == "duckdb":
            results.append(bench(engine, project(args.workdir, seeds, engine, ""), None, [], args.lines))
        elif engine == "postgres":
            from postgres_server import postgres_server

            with postgres_server() as dsn:
                settings = dict(part.split("=", 1) for part in dsn.split())
                targets = (f'[tool.stockx.targets.pg]\ntype = "postgres"\nhost = "{settings["host"]}"\n'
                           f'port = {settings["port"]}\nuser = "{settings["user"]}"\ndbname = "postgres"\n')
                root = project(args.workdir, seeds, engine, targets)
                results.append(bench(engine, root, "pg", [postmaster(int(settings["port"]))], args.lines))
        elif engine == "spark":
            targets = ('[tool.stockx.targets.spark]\ntype = "spark"\nmaster = "local[2]"\n'
                       'conf = { "spark.sql.shuffle.partitions" = "4", "spark.driver.memory" = "2g" }\n')
            results.append(bench(engine, project(args.workdir, seeds, engine, targets), "spark", [], args.lines))
        else:
            sys.exit(f"unknown engine {engine}: use duckdb, postgres, spark")
        print(f"  {engine} done", flush=True)
    base = next((r for r in results if r["engine"] == "duckdb"), results[0])
    print(f"{'engine':<10}{'reshape s':>11}{'lines/s':>11}{'x duckdb':>10}{'test s':>9}{'export s':>10}"
          f"{'peak MiB':>10}{'pages':>7}  payload sha256")
    for r in results:
        print(f"{r['engine']:<10}{r['reshape']:>11.1f}{r['lines_per_s']:>11,.0f}{r['reshape'] / base['reshape']:>10.2f}"
              f"{r['test']:>9.1f}{r['export']:>10.1f}{r['peak'] / 2**20:>10,.0f}{r['pages']:>7}  {r['sha256'][:16]}")
    if len({r["sha256"] for r in results}) != 1:
        print("payloads DIFFER between engines", file=sys.stderr)
        return 1
    print("payloads identical on every engine")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
