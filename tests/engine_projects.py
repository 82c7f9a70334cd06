"""The sample project on a generated raw file, built on a target and read back for comparison.

Each engine test builds the same project (the sample's models, macros, tests
and a 20k-line raw file from bench/gen_raw.py, every kind of messy line included) with
``stockx build --target NAME`` and ``stockx export --target NAME --out``, and
compares what it got with the DuckDB build of the same project.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from conftest import REPO, Invoker, node_results

# Every table the export sends (Peak's inventory family) and the rejects.
COMPARED = ("product_categories", "products", "locations", "stock", "stock_extra", "stock_extra_rejects")
# Enough for every kind of rejected line and a few dozen pages of stock_extra (Built asserts both); more
# lines add nothing to the comparison but minutes on Spark.
RAW_LINES = 20_000
REJECT_KINDS = {"bad_timestamp", "bad_quantity", "unknown_warehouse", "unknown_sku", "ambiguous_variant",
                "duplicate_line", "mixed_variants", "quantity_overflow"}


def generate_raw(folder: Path, lines: int = RAW_LINES) -> Path:
    """bench/gen_raw.py's files for ``lines`` inventory lines, as seeds (raw_inventory.csv, ...)."""
    import duckdb

    sys.path.insert(0, str(REPO / "bench"))
    try:
        import gen_raw
    finally:
        sys.path.pop(0)
    paths = gen_raw.write_bench(duckdb.connect(), lines, folder / "generated")
    seeds = folder / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    for key, name in (("inventory_path", "raw_inventory.csv"), ("products_path", "raw_products.csv"),
                      ("warehouses_path", "raw_warehouses.csv")):
        shutil.copy(paths[key], seeds / name)
    return seeds


def sample_project(dest: Path, seeds: Path, targets: str = "") -> Path:
    """The sample project (models, macros, tests/sql, seeds.yml) reading ``seeds``, with ``targets`` appended."""
    dest.mkdir(parents=True)
    for part in ("models", "macros"):
        shutil.copytree(REPO / part, dest / part)
    shutil.copytree(REPO / "tests" / "sql", dest / "tests" / "sql")
    shutil.copytree(seeds, dest / "seeds")
    shutil.copy(REPO / "seeds" / "seeds.yml", dest / "seeds" / "seeds.yml")
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    (dest / "pyproject.toml").write_text(text + "\n" + targets, encoding="utf-8")
    return dest


@dataclass(frozen=True)
class Built:
    """What a build of the project gave: the compared tables, each test's verdict, each page's sha256."""

    columns: dict[str, list[tuple[str, str]]]
    rows: dict[str, list[tuple]]
    verdicts: dict[str, str]
    pages: dict[str, str]


def build_and_export(project: Path, target: str | None) -> Built:
    """``stockx build`` and ``stockx export --out`` on ``target`` (None: the default DuckDB database)."""
    from stockx_export import adapters
    from stockx_export.run.projects import load_config

    stockx = Invoker(project)
    chosen = ["--target", target] if target else []
    built = stockx("build", *chosen)
    assert built.exit_code == 0, built.output[-3000:]
    verdicts = {r["unique_id"]: r["status"] for r in node_results(project)}
    out = project / "target" / f"pages-{target or 'duckdb'}"
    exported = stockx("export", *chosen, "--out", str(out))
    assert exported.exit_code == 0, exported.output[-3000:]
    # One folder per exported model (the family): pages keyed by their path under the output folder.
    pages = {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(out.rglob("*.json"))}
    config = load_config(project, target=target)
    columns, rows = {}, {}
    with adapters.connect(config.target) as adapter:
        for table in COMPARED:
            relation = f"{adapter.quote(config.target.schema)}.{adapter.quote(table)}"
            columns[table] = adapter.columns(relation)
            names = ", ".join(adapter.quote(name) for name, _ in columns[table])
            rows[table] = adapter.query(f"select * from {relation} order by {names}").rows
    return Built(columns, rows, verdicts, pages)


def assert_same_build(actual: Built, expected: Built) -> None:
    """Tables identical row for row and type for type, the same verdict for every test, the same pages."""
    for table in COMPARED:
        assert actual.columns[table] == expected.columns[table], table
        assert len(actual.rows[table]) == len(expected.rows[table]), table
        for got, want in zip(actual.rows[table], expected.rows[table]):
            assert got == want, table
            assert [type(v) for v in got] == [type(v) for v in want], table
    assert actual.verdicts == expected.verdicts
    assert actual.pages == expected.pages
    # Each model's manifest.json and, for stock_extra, more than one page: the comparison covers paging.
    assert len([name for name in actual.pages if name.startswith("stock_extra/")]) > 2
    # and every kind of rejected line the models know (but value_too_long, which gen_raw writes none of)
    reasons = {row[-1] for row in actual.rows["stock_extra_rejects"]}
    assert reasons == REJECT_KINDS, reasons
