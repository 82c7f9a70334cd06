"""The rewritten reshape against the SQL it replaced: identical tables on messy raw files.

bench/baseline_reshape/ holds the stock_extra models' compiled SQL from before
they were rewritten for speed and portability. Run directly on DuckDB over the
same raw files as ``stockx run`` of the current models, it must give the same
int_inventory_lines, stock_extra and stock_extra_rejects, row for row and type
for type: on generated files holding every kind of rejected line, on the bundled
sample, and on hand-written edge cases of every rule. The one rule changed since
(variant-less lines feed stock instead of being rejected as no_variant) is read
back the baseline's way by ``reshape.comparable_sql``, and checked on its own.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from stockx_export.cli import cli

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import gen_raw  # noqa: E402  (bench scripts, not a package)
import reshape  # noqa: E402
from raw_edge_cases import write_edge_files  # noqa: E402

TABLES = ("int_inventory_lines", "stock_extra", "stock_extra_rejects")
REJECT_KINDS = {"bad_timestamp", "bad_quantity", "unknown_warehouse", "unknown_sku", "mixed_variants",
                "ambiguous_variant", "duplicate_line", "quantity_overflow"}

def _copy_project(root: Path) -> Path:
    root.mkdir(parents=True)
    for folder in ("models", "macros", "seeds"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def _built_both_ways(tmp_path: Path, paths: dict[str, Path]) -> tuple[Path, Path]:
    """Build the raw files with the baseline SQL and with ``stockx run``; the two databases."""
    baseline = tmp_path / "baseline.duckdb"
    plan = reshape.baseline_plan(reshape.file_sources(paths, parquet=False), tmp_path / "baseline_sql")
    with duckdb.connect(str(baseline)) as con:
        for relation, kind, sql_path in plan:
            con.execute(f"create or replace {kind} {relation} as {Path(sql_path).read_text(encoding='utf-8')}")
    current = tmp_path / "current.duckdb"
    project = _copy_project(tmp_path / "project")
    vars_ = json.dumps({name: str(path) for name, path in paths.items()})
    result = CliRunner().invoke(
        cli, ["run", "--project-dir", str(project), "--database", str(current), "--vars", vars_], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return baseline, current


def _assert_same_tables(baseline: Path, current: Path) -> None:
    with duckdb.connect() as con:
        con.execute(f"attach '{baseline}' as baseline (read_only)")
        con.execute(f"attach '{current}' as current (read_only)")
        for table in TABLES:
            columns = (
                "select column_name, data_type from information_schema.columns "
                "where table_catalog = ? and table_name = ? order by ordinal_position"
            )
            assert con.execute(columns, ["current", table]).fetchall() == con.execute(columns, ["baseline", table]).fetchall()
            old = reshape.comparable_sql("baseline", table, True, con)
            new = reshape.comparable_sql("current", table, False, con)
            assert con.execute(f"select count(*) from ({old} except all {new})").fetchone()[0] == 0, f"{table}: rows lost"
            assert con.execute(f"select count(*) from ({new} except all {old})").fetchone()[0] == 0, f"{table}: rows added"


def _reject_kinds(database: Path) -> set[str]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {row[0] for row in con.execute("select distinct reject_reason from stock_extra_rejects").fetchall()}


def test_generated_files_with_every_kind_of_bad_line(tmp_path):
    with duckdb.connect() as con:
        paths = gen_raw.write_bench(con, 20_000, tmp_path / "raw")
    baseline, current = _built_both_ways(tmp_path, paths)
    assert _reject_kinds(current) == REJECT_KINDS
    _assert_same_tables(baseline, current)


def test_the_bundled_sample(tmp_path):
    paths = {f"{name}_path": REPO / "seeds" / f"raw_{name}.csv" for name in ("inventory", "products", "warehouses")}
    baseline, current = _built_both_ways(tmp_path, paths)
    assert _reject_kinds(current) == REJECT_KINDS
    _assert_same_tables(baseline, current)


@pytest.fixture(scope="module")
def edge_builds(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("edges")
    return _built_both_ways(root, write_edge_files(root / "raw"))


def test_edge_cases_of_every_rule(edge_builds):
    baseline, current = edge_builds
    assert _reject_kinds(current) == REJECT_KINDS
    _assert_same_tables(baseline, current)


@pytest.mark.parametrize(("table", "column"), [
    ("int_inventory_lines", "reject_reason"), ("stock_extra", "stock_id"), ("stock_extra_rejects", "reject_reason"),
])
def test_one_changed_value_is_caught(edge_builds, tmp_path, table, column):
    # The comparison can fail: the current build with one value changed differs from the baseline.
    baseline, current = edge_builds
    changed = tmp_path / "changed.duckdb"
    shutil.copy(current, changed)
    with duckdb.connect(str(changed)) as con:
        con.execute(f"update {table} set {column} = 'changed' where rowid = (select min(rowid) from {table})")
    with pytest.raises(AssertionError, match=f"{table}: rows"):
        _assert_same_tables(baseline, changed)
