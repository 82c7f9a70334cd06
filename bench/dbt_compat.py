"""`stockx build` of the classic dbt fixture, next to dbt-duckdb's recorded `dbt build`.

    python bench/dbt_compat.py [--repeat 3]

Each run is a new `stockx` process on a fresh copy of tests/fixtures/dbt_classic
(no target/, a new .duckdb file), timed wall clock from launch to exit: the
same conditions as the **fresh** column of
tests/fixtures/dbt_classic_golden/DBT_TIMINGS.md, which this script reads for
dbt's figure. The build exits 1 by design (one test fails on purpose).

The machine is shared, so the CPU time of each process (user + system) is
printed too: it moves much less than wall time when other work competes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "dbt_classic"
TIMINGS = REPO / "tests" / "fixtures" / "dbt_classic_golden" / "DBT_TIMINGS.md"
STOCKX = Path(sys.executable).with_name("stockx")


def dbt_fresh_seconds(text: str) -> list[float]:
    """The fresh-run figures of the classic fixture's table in DBT_TIMINGS.md."""
    section = text.split("## tests/fixtures/dbt_classic", 1)[1].split("\n## ", 1)[0]
    return [float(m) for m in re.findall(r"^\|\s*\d+\s*\|\s*([\d.]+) s", section, re.M)]


def timed_build(workdir: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `stockx build` process."""
    project = workdir / "dbt_classic"
    shutil.copytree(FIXTURE, project, ignore=shutil.ignore_patterns("target", "logs"))
    before = os.times()
    started = time.perf_counter()
    done = subprocess.run([str(STOCKX), "build", "--quiet"], cwd=project, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = os.times()
    if done.returncode != 1:  # 0 would mean the failing test passed; 2 a project error
        sys.exit(f"stockx build exited {done.returncode}:\n{done.stdout}{done.stderr}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="stockx_dbt_compat_") as tmp:
            runs.append(timed_build(Path(tmp)))
    dbt = dbt_fresh_seconds(TIMINGS.read_text())
    walls = [wall for wall, _ in runs]
    ours, theirs = statistics.mean(walls), statistics.mean(dbt)
    print(f"stockx build (fresh process, fresh copy): {', '.join(f'{r:.2f} s' for r in walls)}; mean {ours:.2f} s")
    print(f"  CPU time (user + system): {', '.join(f'{cpu:.2f} s' for _, cpu in runs)}; load average {os.getloadavg()[0]:.1f}")
    print(f"dbt build, recorded in DBT_TIMINGS.md (fresh): {', '.join(f'{r:.2f} s' for r in dbt)}; mean {theirs:.2f} s")
    print(f"dbt / stockx: {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
