"""Raw input never becomes wrong data silently: the shipped project built on bad raw files.

Each scenario copies the project (models, macros, seeds, tests/sql, pyproject),
points the sources at hand-written files through the ``*_path`` vars (or
replaces a seed), runs the real CLI and asserts what the user sees: the rejects
with their reasons, the rows of stock_extra, or the error naming file and line.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from stockx_export.cli import cli
from conftest import node_results
from test_stock_extra import copy_project  # noqa: F401 (test_export_preflight imports it from here)

ROOT = Path(__file__).resolve().parent.parent
HEADER = "snapshot_id,snapshot_at,warehouse_code,sku,size,colour,pack,bin_code,qty_on_hand"
GOOD = "S1,2026-11-20T08:00:00Z,WH-A,TEE-1,M,red,,B1,5"
WAREHOUSES = "warehouse_code,location_id,location_name,country\nWH-A,LOC-A,Site A,GB\n"
PRODUCTS = "sku,product_id,product_name,category\nTEE-1,P-1,Tee,Apparel\n"
SOURCES = "models/staging/warehouse/_warehouse__sources.yml"


def run_stockx(project: Path, database: Path, *args: str, vars_: dict | None = None):
    argv = [*args, "--project-dir", str(project), "--database", str(database)]
    if vars_:
        argv += ["--vars", json.dumps(vars_)]
    return CliRunner().invoke(cli, argv, catch_exceptions=False)


def write_raw(directory: Path, inventory: str | bytes) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "inventory.csv"
    path.write_bytes(inventory if isinstance(inventory, bytes) else inventory.encode("utf-8"))
    (directory / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    (directory / "warehouses.csv").write_text(WAREHOUSES, encoding="utf-8")
    return {
        "inventory_path": str(path),
        "products_path": str(directory / "products.csv"),
        "warehouses_path": str(directory / "warehouses.csv"),
    }


def query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def statuses(project: Path) -> dict[str, str]:
    results = node_results(project)
    return {r["name"]: r["status"] for r in results}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("raw_input") / "project")


# --- rejects: ambiguous variants, timestamps the export cannot write, quantities ----------------

# Line numbers (1-based, header excluded) matter: rejects are reported by line.
LINES = [
    "A1,2026-11-20T08:00:00Z,WH-A,TEE-1,M,red,,B1,5",  # 1: accepted, size:M|colour:red
    "A2,2026-11-20T08:00:00Z,WH-A,TEE-1,M|colour:red,,,B2,7",  # 2: would give size:M|colour:red too
    "A3,2026-11-20T08:00:00Z,WH-A,TEE-1,M:L,,,B1,1",  # 3: ':' in a value
    'A4,2026-11-20T08:00:00Z,WH-A,TEE-1,S," navy  |  blue ",,B1,1',  # 4: the separator, after normalising
    "T1,0001-01-01T00:30:00+01:00,WH-A,TEE-1,M,,,B1,1",  # 5: UTC instant in year 0
    "T2,9999-12-31T23:30:00-01:00,WH-A,TEE-1,M,,,B1,1",  # 6: UTC instant in year 10000
    "T3,0000-06-01T12:00:00Z,WH-A,TEE-1,M,,,B1,1",  # 7: local year 0
    "T4,9999-12-31T22:30:00-01:00,WH-A,TEE-1,L,,,B1,3",  # 8: accepted: 9999-12-31 23:30 UTC
    "Q1,2026-11-20T08:00:00Z,WH-A,TEE-1,M,blue,,B1,2147483648",  # 9: one past the 32-bit range
    "Q2,2026-11-20T08:00:00Z,WH-A,TEE-1,M,blue,,B2,-2147483649",  # 10: one below it
    "Q3,2026-11-20T08:00:00Z,WH-A,TEE-1,XL,,,B1,2147483647",  # 11: accepted: the largest
    "Q4,2026-11-20T08:00:00Z,WH-A,TEE-1,M,green,,B1,9223372036854775807",  # 12: BIGINT's largest
    "Q4,2026-11-20T08:00:00Z,WH-A,TEE-1,M,green,,B2,9223372036854775807",  # 13: and again
    "O1,2026-11-20T06:00:00Z,WH-A,TEE-1,XS,,,B1,5",  # 14: the key's earlier instant
    "O2,2026-11-20T09:00:00Z,WH-A,TEE-1,XS,,,B1,2000000000",  # 15: latest instant: sums to 4e9
    "O2,2026-11-20T09:00:00Z,WH-A,TEE-1,XS,,,B2,2000000000",  # 16
    "O2,2026-11-20T09:00:00Z,WH-A,TEE-1,XS,,,B2,2000000000",  # 17: a duplicate does not count
    "E1,2026-11-20T06:00:00Z,WH-A,TEE-1,XXL,,,B1,2000000000",  # 18: an earlier instant sums past it...
    "E1,2026-11-20T06:00:00Z,WH-A,TEE-1,XXL,,,B2,2000000000",  # 19
    "E2,2026-11-20T09:00:00Z,WH-A,TEE-1,XXL,,,B1,4",  # 20: ...but the latest one counts: accepted
    "N1,2026-11-20T09:00:00Z,WH-A,TEE-1,3XL,,,B1,-2000000000",  # 21: a sum below the range
    "N1,2026-11-20T09:00:00Z,WH-A,TEE-1,3XL,,,B2,-2000000000",  # 22
]

EXPECTED_REJECTS = [
    (2, "ambiguous_variant"),
    (3, "ambiguous_variant"),
    (4, "ambiguous_variant"),
    (5, "bad_timestamp"),
    (6, "bad_timestamp"),
    (7, "bad_timestamp"),
    (9, "bad_quantity"),
    (10, "bad_quantity"),
    (12, "bad_quantity"),
    (13, "bad_quantity"),
    (14, "quantity_overflow"),
    (15, "quantity_overflow"),
    (16, "quantity_overflow"),
    (17, "duplicate_line"),
    (21, "quantity_overflow"),
    (22, "quantity_overflow"),
]


@pytest.fixture(scope="module")
def rejects_build(project, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rejects")
    raw = write_raw(folder / "raw", "\n".join([HEADER, *LINES]) + "\n")
    database = folder / "rejects.duckdb"
    result = run_stockx(project, database, "build", vars_=raw)
    return result, database, raw


def test_bad_lines_are_rejected_with_their_reason_and_the_build_passes(project, rejects_build):
    result, database, _ = rejects_build
    assert result.exit_code == 0, result.output
    assert query(database, "select line_number, reject_reason from stock_extra_rejects order by 1") == EXPECTED_REJECTS
    failed = {name: status for name, status in statuses(project).items() if status not in ("pass", "success")}
    assert failed == {"warn_reject_rate": "warn", "stock_extra_has_no_future_dates": "warn"}


def test_only_the_accepted_lines_reach_stock_extra(rejects_build):
    _, database, _ = rejects_build
    assert query(database, "select product_variant, stock_date_at, stock_id, stock_units from stock_extra order by all") == [
        ("size:L", date(9999, 12, 31), "T4", 3),
        ("size:M|colour:red", date(2026, 11, 20), "A1", 5),  # not 12: line 2 is not size M, colour red
        ("size:XL", date(2026, 11, 20), "Q3", 2147483647),
        ("size:XXL", date(2026, 11, 20), "E2", 4),
    ]
    assert query(database, "select max(updated_at) from stock_extra") == [(datetime(9999, 12, 31, 23, 30),)]


def test_a_build_with_every_reject_kind_exports(project, rejects_build, tmp_path):
    _, database, raw = rejects_build
    result = run_stockx(project, database, "export", "--out", str(tmp_path / "out"), vars_=raw)
    assert result.exit_code == 0, result.output
    # the sample's family: a folder per model
    rows = json.loads((tmp_path / "out" / "stock_extra" / "page-000001.json").read_text())["data"]
    assert sorted(row["stock_units"] for row in rows) == [3, 4, 5, 2147483647]


# --- the canonical-variant test sees collisions -------------------------------------------------

COLLIDING_LINES = """
    {{ config(materialized='table') }}
    select * from (values
        ('P-1', 'L-1', 'M|colour:red', null, null, 'size:M|colour:red', date '2026-11-20', null),
        ('P-1', 'L-1', 'M', 'red', null, 'size:M|colour:red', date '2026-11-20', null),
        ('P-1', 'L-1', 'S', null, null, 'size:S', date '2026-11-20', null),
        ('P-1', 'L-1', 'S', null, null, 'size:S', date '2026-11-20', 'duplicate_line')
    ) as t(product_id, location_id, size_value, colour_value, pack_value, product_variant, stock_date_at, reject_reason)
"""


def test_the_canonical_variant_test_fails_on_two_value_tuples_giving_one_variant(tmp_path):
    # A project whose lines model lets a colliding variant through: the shipped test must catch it.
    root = tmp_path / "collide"
    shutil.copytree(ROOT / "macros", root / "macros")
    (root / "tests" / "sql").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "sql" / "assert_product_variant_canonical.sql", root / "tests" / "sql")
    (root / "models").mkdir()
    (root / "models" / "int_inventory_lines.sql").write_text(textwrap.dedent(COLLIDING_LINES))
    (root / "models" / "stock_extra.sql").write_text(
        "select distinct product_id, location_id, product_variant, stock_date_at\n"
        "from {{ ref('int_inventory_lines') }} where reject_reason is null\n"
    )
    (root / "pyproject.toml").write_text('[tool.stockx]\nname = "collide"\n')
    result = run_stockx(root, tmp_path / "collide.duckdb", "build")
    assert result.exit_code == 1, result.output
    assert "FAIL assert_product_variant_canonical" in result.output
    assert "| size:M\\|colour:red | stands for 2 sets of values |" in result.output  # the table escapes its own "|"
    assert "size:S" not in result.output


# --- vars that reach SQL ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [(["/data/a.csv", "/data/b.csv"], "a list: ['/data/a.csv', '/data/b.csv']"),
     ({"path": "/data/a.csv"}, "a mapping: {'path': '/data/a.csv'}"),
     (5, "a number: 5"),
     (True, "true/false: True")],
    ids=["list", "mapping", "number", "boolean"],
)
@pytest.mark.parametrize("var", ["inventory_path", "products_path", "warehouses_path"])
def test_a_path_var_that_is_not_a_string_is_an_error_naming_it(project, tmp_path, var, value, shown):
    result = run_stockx(project, tmp_path / "v.duckdb", "build", vars_={var: value})
    assert result.exit_code == 2
    stem = var.replace("_path", "")
    assert result.output.startswith("Error: models/staging/warehouse/")
    assert result.output.endswith(
        f"{SOURCES}:1: var('{var}') must be a path or glob written as one string, "
        f'e.g. "/data/exports/{stem}-*.csv"; got {shown} (in macros/raw_files.sql:35)\n'
    )
    assert not (tmp_path / "v.duckdb").exists() or query(tmp_path / "v.duckdb", "select count(*) from duckdb_tables()") == [(0,)]


@pytest.mark.parametrize(("value", "shown"), [(5, "5"), (-0.1, "-0.1"), ("abc", "abc"), (True, "True"), ([0.1], "[0.1]")])
def test_max_reject_rate_must_be_a_number_from_0_to_1(project, tmp_path, value, shown):
    result = run_stockx(project, tmp_path / "r.duckdb", "build", vars_={"max_reject_rate": value})
    assert (result.exit_code, result.output) == (
        2,
        "Error: tests/sql/warn_reject_rate.sql:28: var('max_reject_rate') must be a number from 0 to 1 "
        f"(0.05 warns above 5% of lines rejected); got '{shown}' (in macros/raw_files.sql:44)\n",
    )


def test_max_reject_rate_is_applied(project, rejects_build, tmp_path):
    # 16 of 22 lines are rejected: a rate of 0.8 does not warn, 0.7 does.
    _, database, raw = rejects_build
    for rate, status in ((0.8, "pass"), (0.7, "warn")):
        result = run_stockx(project, database, "test", "-s", "warn_reject_rate", vars_={**raw, "max_reject_rate": rate})
        assert result.exit_code == 0, result.output
        assert statuses(project) == {"warn_reject_rate": status}


@pytest.mark.parametrize("separator", ["s", "_", "-7-"])
def test_a_separator_a_dimension_name_could_hold_is_refused(project, tmp_path, separator):
    result = run_stockx(project, tmp_path / "s.duckdb", "build", vars_={"variant_separator": separator})
    assert result.exit_code == 2
    bad = next(c for c in separator if c.isalnum() or c == "_")
    assert f"var('variant_separator') must not contain '{bad}': a-z, 0-9 and _ can be part of a dimension name" in (
        result.output
    )


# --- raw files: every file has the source's columns ------------------------------------------------

NEEDS = f"which source warehouse.inventory ({SOURCES}) needs"
ADD_COLUMNS = "the first line must name the columns: add the missing ones (values may be empty), or export the file again"


def failure_line(result) -> str:
    """The one message line under 'Failure in ...' (the node that read the bad file)."""
    lines = result.output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Failure in "))
    return lines[start + 1].strip()


def test_a_file_of_a_glob_without_a_column_is_an_error_naming_both(project, tmp_path):
    folder = tmp_path / "inventory"
    folder.mkdir()
    (folder / "part-a.csv").write_text(f"{HEADER}\n{GOOD}\n")
    # part-b lacks pack: union_by_name would read it as NULL and accept the lines with another variant
    (folder / "part-b.csv").write_text(
        "snapshot_id,snapshot_at,warehouse_code,sku,size,colour,bin_code,qty_on_hand\n"
        "S2,2026-11-20T09:00:00Z,WH-A,TEE-1,M,red,B1,5\n"
    )
    raw = {**write_raw(tmp_path / "raw", f"{HEADER}\n{GOOD}\n"), "inventory_path": str(folder / "part-*.csv")}
    database = tmp_path / "glob.duckdb"
    result = run_stockx(project, database, "build", vars_=raw)
    assert result.exit_code == 1
    assert failure_line(result) == (
        f"{folder}/part-b.csv:1: the header has no column 'pack', {NEEDS}: "
        f"`snapshot_id,snapshot_at,warehouse_code,sku,size,colour,bin_c…`; {ADD_COLUMNS}"
    )
    assert "Failure in test source_not_empty_warehouse_inventory_" in result.output
    assert query(database, "select count(*) from duckdb_tables() where table_name = 'stock_extra'") == [(0,)]


def test_the_only_file_without_columns_is_an_error_not_a_binder_error(project, tmp_path):
    raw = write_raw(tmp_path / "raw", "snapshot_id,snapshot_at,warehouse_code,sku,pack,bin_code,qty_on_hand\n"
                                      "S1,2026-11-20T08:00:00Z,WH-A,TEE-1,6,B1,5\n")
    result = run_stockx(project, tmp_path / "one.duckdb", "build", vars_=raw)
    assert result.exit_code == 1
    assert failure_line(result) == (
        f"{raw['inventory_path']}:1: the header has no column 'size', 'colour', {NEEDS}: "
        f"`snapshot_id,snapshot_at,warehouse_code,sku,pack,bin_code,qty…`; {ADD_COLUMNS}"
    )
    assert "referenced before it is defined" not in result.output


def test_a_mapping_file_without_a_column_fails_the_model_that_reads_it(project, tmp_path):
    raw = write_raw(tmp_path / "raw", f"{HEADER}\n{GOOD}\n")
    Path(raw["products_path"]).write_text("sku,product_name,category\nTEE-1,Tee,Apparel\n")
    result = run_stockx(project, tmp_path / "p.duckdb", "build", vars_=raw)
    assert result.exit_code == 1
    assert "Failure in model stg_warehouse__products" in result.output
    assert failure_line(result) == (
        f"{raw['products_path']}:1: the header has no column 'product_id', which source warehouse.products "
        f"({SOURCES}) needs: `sku,product_name,category`; {ADD_COLUMNS}"
    )


def test_a_parquet_file_without_a_column_is_an_error_naming_it(project, tmp_path):
    raw = write_raw(tmp_path / "raw", f"{HEADER}\n{GOOD}\n")
    parquet = tmp_path / "inventory.parquet"
    with duckdb.connect() as con:
        con.execute(f"copy (select * exclude (pack) from read_csv('{raw['inventory_path']}', all_varchar=true)) "
                    f"to '{parquet}' (format parquet)")
    result = run_stockx(project, tmp_path / "pq.duckdb", "build", vars_={**raw, "inventory_path": str(parquet)})
    assert result.exit_code == 1
    assert failure_line(result) == f"{parquet}: has no column 'pack', {NEEDS}; add it, or export the file again"


def test_a_parquet_file_naming_a_column_twice_is_an_error_naming_it(project, tmp_path):
    # Review finding 3, for Parquet: DuckDB renames the second qty_on_hand, and read the first.
    raw = write_raw(tmp_path / "raw", f"{HEADER}\n{GOOD}\n")
    written, parquet = tmp_path / "written.parquet", tmp_path / "inventory.parquet"
    with duckdb.connect() as con:
        con.execute(f"copy (select *, '999' as qty_on_hanX from read_csv('{raw['inventory_path']}', all_varchar=true)) "
                    f"to '{written}' (format parquet)")
    # DuckDB writes no repeated name; another writer may: the same file with the name written twice.
    parquet.write_bytes(written.read_bytes().replace(b"qty_on_hanX", b"qty_on_hand"))
    result = run_stockx(project, tmp_path / "pq.duckdb", "build", vars_={**raw, "inventory_path": str(parquet)})
    assert result.exit_code == 1
    assert failure_line(result) == (
        f"{parquet}: the file names column 'qty_on_hand' twice; DuckDB would read one and rename the other, so "
        "which value is used would depend on the column order: remove or rename one of them, or export the file again")


def test_a_file_whose_lines_end_in_cr_alone_is_read_line_by_line(project, tmp_path):
    raw = write_raw(tmp_path / "raw", "\r".join([HEADER, *DATA]) + "\r")
    database = tmp_path / "cr.duckdb"
    result = run_stockx(project, database, "build", vars_=raw)
    assert result.exit_code == 0, result.output
    assert query(database, "select product_variant, stock_units from stock_extra") == [("size:M|colour:red", 11)]


@pytest.mark.parametrize("raw_files", [False, True])
def test_a_variant_dimension_the_source_does_not_declare_is_named_not_a_binder_error(project, tmp_path, raw_files):
    """Review finding 9: a dimension no file is checked for ended in DuckDB's Binder error."""
    raw = write_raw(tmp_path / "raw", f"{HEADER}\n{GOOD}\n") if raw_files else {}
    result = run_stockx(project, tmp_path / "dims.duckdb", "build", vars_={**raw, "variant_dimensions": ["size", "style"]})
    assert result.exit_code == 1
    assert failure_line(result) == (
        "models/staging/warehouse/stg_warehouse__inventory.sql: reads column 'style', which source warehouse.inventory "
        f"({SOURCES}) does not declare (it declares snapshot_id, snapshot_at, warehouse_code, sku, size, colour, pack, "
        "bin_code, qty_on_hand): add it under the source's columns, so that every file is checked for it, or fix the "
        "var or macro that names it")
    assert "Binder Error" not in result.output


def test_a_glob_that_matches_nothing_is_named(project, tmp_path):
    raw = {**write_raw(tmp_path / "raw", f"{HEADER}\n{GOOD}\n"), "inventory_path": str(tmp_path / "none-*.csv")}
    result = run_stockx(project, tmp_path / "none.duckdb", "build", vars_=raw)
    assert result.exit_code == 1
    assert failure_line(result) == (
        f"source warehouse.inventory reads '{tmp_path}/none-*.csv' ({SOURCES}), and no file matches: "
        "check the path (relative paths are read from the directory stockx runs in)"
    )


# --- malformed CSV files, read through the *_path vars and as seeds -------------------------------

BIG_VALUE = "x" * 5_000_000
DATA = ["S1,2026-11-20T08:00:00Z,WH-A,TEE-1,M,red,,B1,5", "S2,2026-11-20T08:00:00Z,WH-A,TEE-1,M,red,,B2,6"]
QUOTE_FIX = "quote values that contain ','"
NO_DATA = ("the file has a header line and no data: a truncated or failed export? Export it again, "
           "or remove it from the files read")
TOO_LONG = ("the row starting on this line is longer than 2,000,000 bytes, DuckDB's limit: "
            "`S1,2026-11-20T08:00:00Z,WH-A,TEE-1,M,xxxxxxxxxxxxxxxxxxxxxxx…`; a quote never closed makes the rest "
            "of the file one value: check the quotes, or export the file again")
NO_HEADER_COLUMNS = ("'snapshot_id', 'snapshot_at', 'warehouse_code', 'sku', 'size', 'colour', 'pack', 'bin_code', "
                     "'qty_on_hand'")

REPEATED = ("the header names column 'qty_on_hand' twice: `snapshot_id,snapshot_at,warehouse_code,sku,size,colour,pack,…`; "
            "DuckDB would read one and rename the other, so which value is used would depend on the column order: "
            "remove or rename one of them, or export the file again")
PARQUET_AS_CSV = ("is a Parquet file, but it is read as CSV (a path or glob is read as Parquet only when it ends in "
                  ".parquet): end the path or glob with .parquet, or give the file its .parquet name")


def parquet_bytes() -> bytes:
    """A Parquet file with the inventory's columns, all text."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder, duckdb.connect() as con:
        path = Path(folder) / "inventory.parquet"
        values = ", ".join(f"'{v}' as {c}" for c, v in zip(HEADER.split(","), GOOD.split(",")))
        con.execute(f"copy (select {values}) to '{path}' (format parquet)")
        return path.read_bytes()


PARQUET_BYTES = parquet_bytes()

# (id, file content, message for a raw file (after its path), message for the seed (after seeds/raw_inventory.csv))
MALFORMED = [
    ("too-many-fields", f"{HEADER}\n{DATA[0]}\n{DATA[1]},extra\n",
     f":3: row has 10 values but the header has 9 columns: `{DATA[1]},extra`; {QUOTE_FIX}, or export the file again",
     f":3: row has 10 values but the header has 9 columns: `{DATA[1]},extra`; {QUOTE_FIX}, or set the seed's delimiter"),
    ("ragged-row", f"{HEADER}\n{DATA[0]}\nS2,2026-11-20T08:00:00Z,WH-A\n{DATA[1]}\n",
     f":3: row has 3 values but the header has 9 columns: `S2,2026-11-20T08:00:00Z,WH-A`; {QUOTE_FIX}, or export the file again",
     f":3: row has 3 values but the header has 9 columns: `S2,2026-11-20T08:00:00Z,WH-A`; {QUOTE_FIX}, or set the seed's delimiter"),
    ("missing-header", f"{DATA[0]}\n{DATA[1]}\n",
     f":1: the header has no column {NO_HEADER_COLUMNS}, {NEEDS}: `{DATA[0]}`; {ADD_COLUMNS}",
     f":1: the header has no column {NO_HEADER_COLUMNS}, which column_types in seeds/seeds.yml needs: `{DATA[0]}`; {ADD_COLUMNS}"),
    ("one-line-header", f"{HEADER}\n", f":1: {NO_DATA}", f":1: {NO_DATA}"),
    ("one-line-header-no-newline", HEADER, f":1: {NO_DATA}", f":1: {NO_DATA}"),
    ("one-line-data", f"{DATA[0]}\n",
     f":1: the header has no column {NO_HEADER_COLUMNS}, {NEEDS}: `{DATA[0]}`; {ADD_COLUMNS}",
     f":1: the header has no column {NO_HEADER_COLUMNS}, which column_types in seeds/seeds.yml needs: `{DATA[0]}`; {ADD_COLUMNS}"),
    ("empty", "", ": the file is empty; it needs a header line naming its columns, then the data",
     ": the file is empty; a seed needs a header line naming its columns"),
    ("invalid-utf8", f"{HEADER}\n{DATA[0]}\n".encode() + b"S2,2026-11-20T08:00:00Z,WH-A,TEE-1,M,r\xe9d,,B2,6\n",
     ":3: byte 0xe9 is not UTF-8: `S2,2026-11-20T08:00:00Z,WH-A,TEE-1,M,r\\xe9d,,B2,6`; save the file as UTF-8",
     ":3: byte 0xe9 is not UTF-8: `S2,2026-11-20T08:00:00Z,WH-A,TEE-1,M,r\\xe9d,,B2,6`; save the file as UTF-8"),
    ("multi-megabyte-field", f"{HEADER}\n{DATA[0]}\nS1,2026-11-20T08:00:00Z,WH-A,TEE-1,M,{BIG_VALUE},,B1,5\n{DATA[1]}\n",
     f":3: {TOO_LONG}", f":3: {TOO_LONG}"),
    ("quote-never-closed", f'{HEADER}\n{DATA[0]}\nS2,"2026-11-20T08:00:00Z,WH-A,TEE-1,M,red,,B2,6\n{DATA[1]}\n',
     ':3: a quoted value starting on this line is never closed: `S2,"2026-11-20T08:00:00Z,WH-A,TEE-1,M,red,,B2,6`; '
     "check the quotes",
     ':3: a quoted value starting on this line is never closed: `S2,"2026-11-20T08:00:00Z,WH-A,TEE-1,M,red,,B2,6`; '
     "check the quotes"),
    # Review finding 3: DuckDB read the second qty_on_hand as qty_on_hand_1, and the line was accepted with the first.
    ("repeated-column", f"{HEADER},qty_on_hand\n{DATA[0]},999\n",
     f":1: {REPEATED}", f":1: {REPEATED}"),
    # Review finding 18: lines ending in CR alone are read as lines (DuckDB reads them so), and a bad one is named.
    ("cr-line-endings", f"{HEADER}\r{DATA[0]}\r{DATA[1]},extra\r",
     f":3: row has 10 values but the header has 9 columns: `{DATA[1]},extra`; {QUOTE_FIX}, or export the file again",
     f":3: row has 10 values but the header has 9 columns: `{DATA[1]},extra`; {QUOTE_FIX}, or set the seed's delimiter"),
    # Review finding 15: a Parquet file read as CSV was reported as a header without the columns.
    ("parquet-read-as-csv", PARQUET_BYTES, f": {PARQUET_AS_CSV}", f": {PARQUET_AS_CSV}"),
]


def assert_named_failure(result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert failure_line(result) == expected
    assert len(result.output) < 20_000  # a short excerpt, never the megabytes of a line
    assert "referenced before it is defined" not in result.output


@pytest.mark.parametrize(("content", "raw_message"), [(c, r) for _, c, r, _ in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_a_malformed_raw_file_is_named_by_file_and_line(project, tmp_path, content, raw_message):
    raw = write_raw(tmp_path / "raw", content)
    database = tmp_path / "m.duckdb"
    result = run_stockx(project, database, "build", vars_=raw)
    assert_named_failure(result, raw["inventory_path"] + raw_message)
    assert query(database, "select count(*) from duckdb_tables() where table_name = 'stock_extra'") == [(0,)]


@pytest.mark.parametrize(("content", "seed_message"), [(c, s) for _, c, _, s in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_a_malformed_seed_is_named_by_file_and_line(tmp_path, content, seed_message):
    project = copy_project(tmp_path / "project")
    seed = project / "seeds" / "raw_inventory.csv"
    seed.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    database = tmp_path / "s.duckdb"
    result = run_stockx(project, database, "build")
    assert_named_failure(result, "seeds/raw_inventory.csv" + seed_message)
    assert query(database, "select count(*) from duckdb_tables() where table_name = 'stock_extra'") == [(0,)]


def test_a_bad_row_past_duckdbs_sample_is_named_by_its_own_line(project, tmp_path):
    # DuckDB sniffs the first rows; a bad row further down fails the scan itself.
    rows = [f"S{i},2026-11-20T08:00:00Z,WH-A,TEE-1,M,red,,B{i},1" for i in range(30_000)]
    rows[25_000] += ",extra"
    raw = write_raw(tmp_path / "raw", "\n".join([HEADER, *rows]) + "\n")
    result = run_stockx(project, tmp_path / "deep.duckdb", "build", vars_=raw)
    assert_named_failure(
        result,
        f"{raw['inventory_path']}:25002: row has 10 values but the header has 9 columns: "
        f"`S25000,2026-11-20T08:00:00Z,WH-A,TEE-1,M,red,,B25000,1,extra`; {QUOTE_FIX}, or export the file again",
    )


def test_duckdbs_own_csv_error_is_cut_short(make_project, tmp_path):
    # A model reading a file itself, not through a source: DuckDB's message quotes the line it refused.
    data = tmp_path / "big.csv"
    data.write_text(f"a,b\n1,{BIG_VALUE}\n")
    root, stockx = make_project({"models/m.sql": f"select * from read_csv('{data}', header=true)\n"})
    result = stockx("run")
    assert result.exit_code == 1
    assert "Maximum line size of 2000000 bytes exceeded" in result.output
    assert len(result.output) < 5_000


def test_a_file_in_another_dialect_is_named_with_the_one_expected(project, tmp_path):
    raw = write_raw(tmp_path / "raw", (f"{HEADER}\n{GOOD}\n").replace(",", ";"))
    result = run_stockx(project, tmp_path / "semi.duckdb", "build", vars_=raw)
    assert_named_failure(
        result,
        f"{raw['inventory_path']}:1: the header has no column {NO_HEADER_COLUMNS}, {NEEDS}: "
        "`snapshot_id;snapshot_at;warehouse_code;sku;size;colour;pack;…`; "
        "the file does not look comma-separated: save it with ',' between values",
    )


def test_any_source_reading_a_list_of_files_gets_the_same_checks(make_project, tmp_path):
    (tmp_path / "a.csv").write_text("sku;qty\nA;1\n")
    (tmp_path / "b.csv").write_text("sku\nB\n")
    root, stockx = make_project(
        {
            "models/sources.yml": f"""
                version: 2
                sources:
                  - name: wms
                    tables:
                      - name: stock
                        external_location: "read_csv(['{tmp_path}/a.csv', '{tmp_path}/b.csv'], delim := ';')"
                        columns: [{{name: sku}}, {{name: qty}}]
            """,
            "models/stock.sql": "select sku, qty from {{ source('wms', 'stock') }}\n",
        }
    )
    result = stockx("run")
    assert result.exit_code == 1
    assert failure_line(result) == (
        f"{tmp_path}/b.csv:1: the header has no column 'qty', which source wms.stock (models/sources.yml) needs: "
        "`sku`; the first line must name the columns: add the missing ones (values may be empty), or export the file again"
    )
    (tmp_path / "b.csv").write_text("qty;sku\n2;B\n")
    assert stockx("run").exit_code == 0
    assert query(root / "target" / "stockx.duckdb", "select * from stock order by sku") == [("A", "1"), ("B", "2")]


def test_a_column_no_source_declares_is_named_through_layers_of_views(make_project, tmp_path):
    # What a node reads through views is remembered per view as the run goes (issue 17): the table two
    # views below the source still finds the source its unknown column should have been declared in.
    (tmp_path / "a.csv").write_text("sku,qty\nA,1\n")
    root, stockx = make_project(
        {
            "models/sources.yml": f"""
                version: 2
                sources:
                  - name: wms
                    tables:
                      - name: stock
                        external_location: "read_csv('{tmp_path}/a.csv')"
                        columns: [{{name: sku}}, {{name: qty}}]
            """,
            "models/v1.sql": "select * from {{ source('wms', 'stock') }}\n",
            "models/v2.sql": "select * from {{ ref('v1') }}\n",
            "models/v3.sql": "select * from {{ ref('v2') }}\n",
            "models/t.sql": "{{ config(materialized='table') }}\nselect sku, qtty from {{ ref('v3') }}\n",
        }
    )
    result = stockx("run")
    assert result.exit_code == 1
    assert failure_line(result) == (
        "models/t.sql: reads column 'qtty', which source wms.stock (models/sources.yml) does not declare "
        "(it declares sku, qty): add it under the source's columns, so that every file is checked for it, "
        "or fix the var or macro that names it"
    )
