"""The rewritten reshape against the SQL it replaced: identical tables on messy raw files.

bench/baseline_reshape/ holds the stock_extra models' compiled SQL from before
they were rewritten for speed and portability. Run directly on DuckDB over the
same raw files as ``stockx run`` of the current models, it must give the same
int_inventory_lines, stock_extra and stock_extra_rejects, row for row and type
for type: on generated files holding every kind of rejected line, on the bundled
sample, and on hand-written edge cases of every rule.
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

TABLES = ("int_inventory_lines", "stock_extra", "stock_extra_rejects")
REJECT_KINDS = {"bad_timestamp", "bad_quantity", "unknown_warehouse", "unknown_sku", "no_variant",
                "ambiguous_variant", "duplicate_line", "quantity_overflow"}

WAREHOUSES = [("WH-A", "LOC-A", "Site A", "GB"), (" wh-b ", "LOC-B", "Site B", "NL"), ("WH-B2", "LOC-B", "Annex", "NL"),
              ("WH-X", None, "Closed", "GB")]
PRODUCTS = [("TEE-1", "P-1", "Tee", "Apparel"), ("tee-1b", "P-1", "Tee B", "Apparel"), ("MUG-2", "P-2", "Mug", "Home"),
            ("NOPROD", "", "Unlisted", "Home")]

# (snapshot_id, snapshot_at, warehouse_code, sku, size, colour, pack, bin_code, qty_on_hand); None is an empty field.
EDGE_LINES = [
    # timestamps: every form, the ends of the years the export writes, and what is not a timestamp
    ("T1", "2026-11-20T08:00:00Z", "WH-A", "TEE-1", "M", None, None, "B1", "1"),
    ("T2", "2026-11-20 08:00", "WH-A", "TEE-1", "S", None, None, "B1", "1"),
    ("T3", "2026-11-20T08:00:00.123456789+14:00", "WH-A", "TEE-1", "L", None, None, "B1", "1"),
    ("T4", "2026-11-20T08:00:00.1234567890Z", "WH-A", "TEE-1", "M", None, None, "B2", "1"),
    ("T5", "2026-11-20T23:59:59-23:59", "WH-A", "TEE-1", "XL", None, None, "B1", "1"),
    ("T6", "2026-11-20T08:00:00+24:00", "WH-A", "TEE-1", "M", None, None, "B3", "1"),
    ("T7", "2026-11-20t08:00:00z", "WH-A", "TEE-1", "M", None, None, "B4", "1"),
    ("T8", "2026-11-20T08:00:60Z", "WH-A", "TEE-1", "M", None, None, "B5", "1"),
    ("T9", "2026-11-20T08:00:00Z ", "WH-A", "TEE-1", "M", None, None, "B6", "1"),
    ("T10", "2026-11-20T08:00:00Z\n", "WH-A", "TEE-1", "M", None, None, "B7", "1"),
    ("T11", None, "WH-A", "TEE-1", "M", None, None, "B8", "1"),
    ("T12", "9999-12-31T23:30:00-01:00", "WH-A", "TEE-1", "M", None, None, "B1", "1"),
    ("T13", "0000-12-31T23:30:00-01:00", "WH-A", "TEE-1", "M", None, None, "B1", "1"),
    ("T14", "0001-01-01T00:00:00Z", "WH-A", "TEE-1", "M", None, None, "B1", "1"),
    ("T15", "9999-12-31T23:59:59.999999Z", "WH-A", "TEE-1", "M", None, None, "B1", "1"),
    ("T16", "2026-02-29T08:00:00Z", "WH-A", "TEE-1", "M", None, None, "B1", "1"),
    ("T17", "2024-02-29T08:00:00+01:00", "WH-A", "TEE-1", "M", None, None, "B1", "1"),
    # quantities: signs, padding, the ends of 32 bits, and what is not an integer
    ("Q1", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "1", "B1", "+0"),
    ("Q2", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "2", "B1", "-0"),
    ("Q3", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "3", "B1", " -2147483648 "),
    ("Q4", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "4", "B1", "2147483648"),
    ("Q5", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "5", "B1", "\u0663"),
    ("Q6", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "6", "B1", "1_000"),
    ("Q7", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "7", "B1", "0x10"),
    ("Q8", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "8", "B1", "\u00a05\u3000"),
    ("Q9", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "9", "B1", "12\n"),
    ("Q10", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "10", "B1", "--1"),
    ("Q11", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "11", "B1", " "),
    ("Q12", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "12", "B1", None),
    # codes and dimension values: Unicode spaces, case, what makes a variant ambiguous or absent
    ("C1", "2026-11-22T08:00:00Z", "\u3000wh-a\u3000", "\ttee-1 ", "\u00a0M\u2003", "navy\u2003\u00a0blue", None, "B1", "2"),
    ("C2", "2026-11-22T08:00:00Z", "wh-b2", "MUG-2", None, " ", "\u205f6\u000b", "B1", "3"),
    ("C3", "2026-11-22T08:00:00Z", "WH-X", "MUG-2", "M", None, None, "B1", "3"),
    ("C4", "2026-11-22T08:00:00Z", None, "MUG-2", "M", None, None, "B1", "3"),
    ("C5", "2026-11-22T08:00:00Z", "WH-A", "NOPROD", "M", None, None, "B1", "3"),
    ("C6", "2026-11-22T08:00:00Z", "WH-A", None, "M", None, None, "B1", "3"),
    ("C7", "2026-11-22T08:00:00Z", "WH-A", "MUG-2", " ", "\u3000", "", "B1", "3"),
    ("C8", "2026-11-22T08:00:00Z", "WH-A", "MUG-2", "a:b", None, None, "B1", "3"),
    ("C9", "2026-11-22T08:00:00Z", "WH-A", "MUG-2", None, "x|y", None, "B1", "3"),
    ("C10", "2026-11-22T08:00:00Z", "WH-A", "MUG-2", None, None, "6 | 12", "B1", "3"),
    # duplicates: exact, equal once normalised, three copies, a copy of an invalid line, a NULL bin
    ("D1", "2026-11-23T08:00:00Z", "WH-A", "TEE-1", "M", "red", None, "B1", "4"),
    ("D1", "2026-11-23T08:00:00Z", "WH-A", "TEE-1", "M", "red", None, "B1", "4"),
    ("D1", "2026-11-23T08:00:00Z", " wh-a", "tee-1", " M", "red ", "", "B1", "004"),
    ("D1", "2026-11-23T08:00:00Z", "WH-A", "TEE-1", "M", "red", None, "B1", "+4"),
    ("D2", "2026-11-23T08:00:00Z", "WH-A", "TEE-1", "M", "red", None, "B1", "x"),
    ("D2", "2026-11-23T08:00:00Z", "WH-A", "TEE-1", "M", "red", None, "B1", "x"),
    (None, "2026-11-23T09:00:00Z", "WH-A", "TEE-1", "M", "blue", None, None, "5"),
    (None, "2026-11-23T09:00:00Z", "WH-A", "TEE-1", "M", "blue", None, None, "5"),
    ("D3", "2026-11-23 08:00:00", "WH-A", "TEE-1", "M", "red", None, "B1", "4"),
    # per key: several instants and bins, a NULL id at the latest instant, sums past 32 bits
    ("K1", "2026-11-24T06:00:00Z", "WH-A", "MUG-2", "S", None, None, "B1", "7"),
    (" ", "2026-11-24T09:00:00+01:00", "WH-A", "MUG-2", "S", None, None, "B1", "2"),
    ("K0", "2026-11-24T08:00:00Z", "WH-A", "MUG-2", "S", None, None, "B2", "-9"),
    ("O1", "2026-11-25T06:00:00Z", "WH-A", "TEE-1", "S", None, None, "B1", "2147483647"),
    ("O1", "2026-11-25T06:00:00Z", "WH-A", "TEE-1", "S", None, None, "B2", "1"),
    ("O2", "2026-11-25T07:00:00Z", "WH-A", "TEE-1", "S", None, None, "B1", "5"),
    ("O3", "2026-11-25T06:00:00Z", " wh-b ", "TEE-1", "S", None, None, "B1", "2147483647"),
    ("O3", "2026-11-25T06:00:00Z", "WH-B2", "tee-1b", "S", None, None, "B2", "1"),
    ("O3", "2026-11-25T06:00:00Z", "WH-B2", "tee-1b", "S", None, None, "B2", "1"),
    ("O4", "2026-11-25T06:00:00Z", "WH-A", "MUG-2", "L", None, None, "B1", "-2147483648"),
    ("O4", "2026-11-25T06:00:00Z", "WH-A", "MUG-2", "L", None, None, "B2", "-1"),
    ("O5", "2026-11-25T06:00:00Z", "WH-A", "MUG-2", "XL", None, None, "B1", "2147483647"),
    ("O5", "2026-11-25T06:00:00Z", "WH-A", "MUG-2", "XL", None, None, "B2", "-2147483648"),
]


def _field(value: str | None) -> str:
    # An empty field (None) is NULL to DuckDB's reader; anything else is quoted, "" for ''.
    return "" if value is None else '"' + value.replace('"', '""') + '"'


def _write_csv(path: Path, header: tuple[str, ...], rows: list[tuple]) -> Path:
    lines = [",".join(header)] + [",".join(_field(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


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
            only = (
                "select count(*) from (select * from {0}.main.{2} except all select * from {1}.main.{2})"
            )
            assert con.execute(only.format("baseline", "current", table)).fetchone()[0] == 0, f"{table}: rows lost"
            assert con.execute(only.format("current", "baseline", table)).fetchone()[0] == 0, f"{table}: rows added"


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
    raw = root / "raw"
    raw.mkdir()
    paths = {
        "inventory_path": _write_csv(raw / "inventory.csv", gen_raw.INVENTORY_COLUMNS, EDGE_LINES),
        "products_path": _write_csv(raw / "products.csv", gen_raw.PRODUCT_COLUMNS, PRODUCTS),
        "warehouses_path": _write_csv(raw / "warehouses.csv", gen_raw.WAREHOUSE_COLUMNS, WAREHOUSES),
    }
    return _built_both_ways(root, paths)


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
