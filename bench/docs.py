"""The docs site on a large project: `stockx docs generate`, and the page in Chromium.

    python bench/docs.py [--models 300] [--repeat 3]

On the project bench/build.py generates (3 seeds, a few hundred layered models), with
a property file giving every model a description, its columns and two tests each, built
once, then measured in the same run, on the same machine:

* ``stockx docs generate`` in a fresh process (a user's wall time: start, parse, compile,
  catalog, lineage of every column, write), against ``stockx compile`` of the same
  project in a fresh process (parse and render every model: what any docs generator
  must do), and the ratio; the target is under 2 s for each of: the first generate
  after ``stockx build`` (no target/lineage_memo.json: every column traced), a fully
  cold one (no target/ at all: nothing built, no cache of any kind; on a copy of the
  project), and a regenerate of the unchanged project (the memo reused). Each is
  measured ``--repeat`` times, interleaved, and the medians printed;
* in headless Chromium (Debian's, as the browser tests drive it): the page opened from
  file:// until it is usable (the overview and the sidebar drawn, search answering),
  against the same data.js loaded by an empty page, and the ratio; the target is under
  1 s; then the whole DAG laid out and drawn (done after the page is usable).

Absolute times drift on a shared machine; the ratios are the figures to compare.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bytecode  # noqa: E402  (bench/bytecode.py)
from build import generate  # noqa: E402  (bench/build.py: the shared generated project)

STOCKX = [sys.executable, "-m", "stockx_export.cli"]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BARE_PAGE = '<!doctype html><meta charset="utf-8"><script src="data.js"></script>\n'


def add_properties(root: Path) -> int:
    """A property file per layer: each model described, its columns listed, id tested twice."""
    tests = 0
    for folder in sorted((root / "models").iterdir()):
        lines = ["version: 2", "models:"]
        for model in sorted(folder.glob("*.sql")):
            lines += [f"  - name: {model.stem}",
                      f"    description: Generated model {model.stem}, three columns from one to three parents.",
                      "    columns:",
                      "      - name: id", "        description: The key.", "        data_tests: [not_null, unique]",
                      "      - name: grp", "        description: A group.",
                      "      - name: val", "        description: A scaled value."]
            tests += 2
        (folder / "_models.yml").write_text("\n".join(lines) + "\n")
    return tests


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of a fresh process: CPU time drifts less than wall time on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def browser_times(site: Path, repeat: int, models: int) -> tuple[list[float], list[float], list[float]] | None:
    """(usable, bare page, DAG drawn) in milliseconds, each run in a new page."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    (site / "bare.html").write_text(BARE_PAGE)
    usable, bare, dag = [], [], []
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="stockx-bench-chromium-"), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": 1400, "height": 900})
        try:
            for _ in range(repeat + 1):  # the first of each warms the browser's caches: dropped below
                page = context.new_page()
                page.goto((site / "index.html").as_uri())
                page.wait_for_selector("html[data-ready]")
                page.fill("#search", f"model_{models // 2:04d}")  # one in the middle, whatever --models
                page.wait_for_selector("#search-results li[data-id]")
                usable.append(page.evaluate("performance.now()"))
                page.evaluate("window.__t = performance.now(); location.hash = '#/dag'")
                page.wait_for_selector(".graph.dag[data-drawn]", timeout=60_000)
                dag.append(page.evaluate("performance.now() - window.__t"))
                page.close()
                page = context.new_page()
                page.goto((site / "bare.html").as_uri(), wait_until="load")
                bare.append(page.evaluate("performance.now()"))
                page.close()
        finally:
            context.close()
    return usable[1:], bare[1:], dag[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"(stockx byte-compiled first, as an install does: {bytecode.compile_package()})")
    work = Path(tempfile.mkdtemp(prefix="stockx-bench-docs-"))
    try:
        root = work / "project"
        generate(root, args.models)
        tests = add_properties(root)
        fresh = work / "fresh"  # the same project, never built: generated with no target/ at all
        shutil.copytree(root, fresh)
        load_before = os.getloadavg()[0]
        subprocess.run([*STOCKX, "build", "--quiet"], cwd=root, check=True, stdout=subprocess.DEVNULL)
        runs: dict[str, list[tuple[float, float]]] = {"bare": [], "cold": [], "warm": [], "compile": []}
        for _ in range(args.repeat):
            shutil.rmtree(fresh / "target", ignore_errors=True)
            runs["bare"].append(timed([*STOCKX, "docs", "generate"], fresh))
            (root / "target" / "lineage_memo.json").unlink(missing_ok=True)
            runs["cold"].append(timed([*STOCKX, "docs", "generate"], root))
            runs["warm"].append(timed([*STOCKX, "docs", "generate"], root))
            runs["compile"].append(timed([*STOCKX, "compile"], root))
        wall = {name: statistics.median(w for w, _ in found) for name, found in runs.items()}
        cpu = {name: statistics.median(c for _, c in found) for name, found in runs.items()}
        data = (root / "target" / "docs" / "data.js").stat().st_size
        print(f"project: 3 seeds, {args.models} models, {tests} data tests; median of {args.repeat} runs; "
              f"load {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
        print(f"stockx docs generate after a build (no memo) {wall['cold']:7.3f} s   {cpu['cold']:6.3f} s CPU"
              "  (target: under 2 s)")
        print(f"stockx docs generate, no target/ at all      {wall['bare']:7.3f} s   {cpu['bare']:6.3f} s CPU"
              "  (target: under 2 s)")
        print(f"stockx docs generate again (memo reused)     {wall['warm']:7.3f} s   {cpu['warm']:6.3f} s CPU"
              "  (target: under 2 s)")
        print(f"stockx compile (fresh process, baseline)     {wall['compile']:7.3f} s   {cpu['compile']:6.3f} s CPU")
        for name, label in (("cold", "after a build"), ("bare", "no target/"), ("warm", "memo reused")):
            print(f"generate ({label}) / compile{' ' * (19 - len(label))}{wall[name] / wall['compile']:7.2f}x  "
                  f"{cpu[name] / cpu['compile']:6.2f}x CPU")
        print(f"data.js                                  {data / 1e6:7.2f} MB")
        times = browser_times(root / "target" / "docs", args.repeat, args.models)
        if times is None:
            print("Chromium or Playwright missing: page times not measured")
            return
        usable, bare, dag = (statistics.median(t) for t in times)
        print(f"page usable in Chromium (file://)        {usable:7.0f} ms  (target: under 1,000 ms)")
        print(f"bare page loading the same data.js       {bare:7.0f} ms")
        print(f"usable / bare                            {usable / bare:7.2f}x")
        print(f"whole DAG laid out and drawn after that  {dag:7.0f} ms  ({args.models + 6} nodes)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
