"""The share of `stockx build` spent understanding the SQL (static checks and fingerprints).

    python bench/analysis.py [--models 300] [--repeat 3]

On the project bench/build.py generates, in fresh processes as a user runs them:

* ``stockx build`` in one fresh process, its wall time from interpreter start;
* the time inside the two analysis entry points (the static checks before the
  run, the fingerprints added to manifest.json), sqlglot's import included;
* both cold (no target/: every model parsed) and warm (target/ kept from the
  previous build: fingerprints come from the cache; checks still parse every model).

The target is an analysis share under 20% of the cold build.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from build import generate  # noqa: E402  (bench/build.py: the shared generated project)

# A build in this process, with the analysis entry points (the static checks the engine runs
# and the fingerprints added to the manifest) wrapped in timers; prints {"analysis": s, "total": s} last.
TIMED_BUILD = """
import json, sys, time
started = time.perf_counter()
spent = [0.0]
def timer(func):
    def wrapped(*args):
        t = time.perf_counter()
        try:
            return func(*args)
        finally:
            spent[0] += time.perf_counter() - t
    return wrapped
import stockx_export.run.artifacts as artifacts
import stockx_export.run.engine as engine
engine.run_checks = timer(engine.run_checks)
artifacts.add_to_manifest = timer(artifacts.add_to_manifest)
sys.argv = ["stockx", "build", "--quiet"]
from stockx_export.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps({"analysis": spent[0], "total": time.perf_counter() - started}))
"""


def timed_build(cwd: Path) -> tuple[float, float]:
    done = subprocess.run([sys.executable, "-c", TIMED_BUILD], cwd=cwd, check=True, capture_output=True, text=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures["analysis"], figures["total"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stockx-bench-analysis-"))
    try:
        root = work / "project"
        generate(root, args.models)
        runs: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
        for _ in range(args.repeat):
            shutil.rmtree(root / "target", ignore_errors=True)
            runs["cold"].append(timed_build(root))
            runs["warm"].append(timed_build(root))
        print(f"project: 3 seeds, {args.models} models; median of {args.repeat} runs")
        for label, figures in runs.items():
            analysis = statistics.median(a for a, _ in figures)
            total = statistics.median(t for _, t in figures)
            share = statistics.median(a / t for a, t in figures)
            print(f"{label}: stockx build {total:6.3f} s, of which analysis {analysis:6.3f} s: share {share:6.1%}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
