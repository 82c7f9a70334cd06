"""Checks before serializing: table shape, rows, and the last build; messages word for word."""

from __future__ import annotations

import json

import duckdb
import pytest
from peak_server import create_stock_extra

from stockx_export.errors import ExportError
from stockx_export.export.contract import STOCK_EXTRA
from stockx_export.export.preflight import ModelNode, check_build, check_table, find_model

ISO = "%Y-%m-%dT%H:%M:%SZ"
REL = "main.stock_extra"


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def error_of(call, *args):
    with pytest.raises(ExportError) as caught:
        call(*args)
    return str(caught.value)


def test_a_good_table_passes_and_counts_its_rows(con):
    create_stock_extra(con, 500, units_type="INTEGER")
    assert check_table(con, REL, STOCK_EXTRA, ISO, 1_000) == 500


def test_missing_table(con):
    assert error_of(check_table, con, REL, STOCK_EXTRA, ISO, 1_000) == (
        "table main.stock_extra does not exist in the database; run `stockx build --select +stock_extra` first"
    )


def test_columns_order_and_types_are_checked(con):
    con.execute("""CREATE TABLE stock_extra (product_id VARCHAR, product_variant VARCHAR, location_id VARCHAR,
                   stock_date_at TIMESTAMP, created_at TIMESTAMP, stock_id VARCHAR, stock_units DOUBLE,
                   updated_at TIMESTAMP WITH TIME ZONE, note VARCHAR)""")
    assert error_of(check_table, con, REL, STOCK_EXTRA, ISO, 1_000) == (
        "table main.stock_extra does not match the Peak STOCK_EXTRA contract:\n"
        "  column 2: expected location_id VARCHAR, found product_variant VARCHAR\n"
        "  column 3: expected product_variant VARCHAR, found location_id VARCHAR\n"
        "  column 4: stock_date_at is TIMESTAMP, expected DATE\n"
        "  column 7: stock_units is DOUBLE, expected INTEGER or BIGINT\n"
        "  column 8: updated_at is TIMESTAMP WITH TIME ZONE, expected TIMESTAMP\n"
        "  column 9: unexpected column note VARCHAR"
    )


def test_nulls_in_required_columns_name_the_first_rows(con):
    create_stock_extra(con, 20, extra=[
        ("P1", None, "size:L", "2025-01-01", None, None, 1, None),
        ("P2", "L1", "size:L", "2025-01-01", None, None, None, None),
    ])
    assert error_of(check_table, con, REL, STOCK_EXTRA, ISO, 1_000) == (
        "table main.stock_extra: 2 rows with NULL in a column the contract requires "
        "(product_id, location_id, product_variant, stock_date_at, stock_units); first:\n"
        "  (product_id='P1', location_id=NULL, product_variant='size:L', stock_date_at='2025-01-01', "
        "created_at=NULL, stock_id=NULL, stock_units='1', updated_at=NULL)\n"
        "  (product_id='P2', location_id='L1', product_variant='size:L', stock_date_at='2025-01-01', "
        "created_at=NULL, stock_id=NULL, stock_units=NULL, updated_at=NULL)"
    )


def test_duplicate_keys_are_counted_and_shown(con):
    row = ("P1", "L1", "size:L", "2025-01-01", None, None, 1, None)
    create_stock_extra(con, 20, extra=[row, row, row, ("P0", "L1", "size:L", "2025-01-01", None, "x", 2, None),
                                       ("P0", "L1", "size:L", "2025-01-01", None, "y", 3, None)])
    assert error_of(check_table, con, REL, STOCK_EXTRA, ISO, 1_000) == (
        "table main.stock_extra: primary key (product_id, location_id, product_variant, stock_date_at) is not unique: "
        "2 keys repeated; first:\n"
        "  (product_id='P0', location_id='L1', product_variant='size:L', stock_date_at='2025-01-01') appears 2 times\n"
        "  (product_id='P1', location_id='L1', product_variant='size:L', stock_date_at='2025-01-01') appears 3 times"
    )


def test_infinite_dates_and_bad_variants(con):
    create_stock_extra(con, 0, extra=[("P1", "L1", "size:L", "infinity", None, None, 1, None)])
    assert error_of(check_table, con, REL, STOCK_EXTRA, ISO, 1_000) == (
        "table main.stock_extra: 1 row with an infinite date or timestamp; first:\n"
        "  (product_id='P1', location_id='L1', product_variant='size:L', stock_date_at='infinity', "
        "created_at=NULL, stock_id=NULL, stock_units='1', updated_at=NULL)"
    )
    con.execute("DELETE FROM stock_extra")
    con.execute("INSERT INTO stock_extra VALUES ('P1', 'L1', 'large', DATE '2025-01-01', NULL, NULL, 1, NULL)")
    assert error_of(check_table, con, REL, STOCK_EXTRA, ISO, 1_000).startswith(
        "table main.stock_extra: 1 row with a product_variant that is not 'dimension:value'; first:\n"
    )


def test_rows_too_large_for_a_page(con):
    create_stock_extra(con, 0, extra=[("P1", "L1", "size:L", "2025-01-01", None, "x" * 300, 1, None)])
    assert error_of(check_table, con, REL, STOCK_EXTRA, ISO, 250).startswith(
        "table main.stock_extra: 1 row with a row whose JSON does not fit in a page (250 bytes of rows at most); first:\n"
    )


def test_a_row_too_large_is_quoted_short_and_says_what_to_do(con):
    """Review finding 14: a 1.5 MB value was quoted whole, in a 1.5 MB message with no advice."""
    variant = "size:M|colour:" + "y" * 1_500_000
    create_stock_extra(con, 0, extra=[("P-1001", "LOC-1", variant, "2026-11-20", None, "S1", 5, None)])
    message = error_of(check_table, con, REL, STOCK_EXTRA, ISO, 999_939)
    assert message == (
        "table main.stock_extra: 1 row with a row whose JSON does not fit in a page (999,939 bytes of rows at most); "
        "first:\n  (product_id='P-1001', location_id='LOC-1', product_variant='size:M|colour:yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
        "yyyyyyyyyyyyyyy'… (1,500,014 characters), stock_date_at='2026-11-20', created_at=NULL, stock_id='S1', "
        "stock_units='5', updated_at=NULL)\n  A value this long is most likely a malformed raw line: fix it at the "
        "source, or have the model reject such lines (Peak takes 1,000,000 bytes per payload; raise page_bytes only "
        "if your tenant takes more)")


DB = "/srv/stockx/target/stockx.duckdb"  # the database a check is about (hand-written results name none)


def write_target(target, results, tests=()):
    target.mkdir(parents=True, exist_ok=True)
    nodes = {
        "model.p.stock_extra": {"unique_id": "model.p.stock_extra", "name": "stock_extra", "resource_type": "model",
                                "relation_name": "main.stock_extra", "meta": {"peak": {"page_rows": 100}},
                                "depends_on": {"nodes": []}},
    }
    for name in tests:
        nodes[f"test.p.{name}"] = {"unique_id": f"test.p.{name}", "name": name, "resource_type": "test",
                                   "depends_on": {"nodes": ["model.p.stock_extra"]}}
    (target / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    (target / "run_results.json").write_text(json.dumps({"metadata": {}, "results": results}))


def result(uid, status, failures=None, attached=None):
    return {"unique_id": uid, "status": status, "failures": failures, "attached_node": attached,
            "resource_type": uid.split(".")[0], "execution_time": 0.1, "message": ""}


def test_build_checks_pass_after_a_good_build(tmp_path):
    write_target(tmp_path, [result("model.p.stock_extra", "success"),
                            result("test.p.unique_key", "pass", 0, "model.p.stock_extra"),
                            result("test.p.units_positive", "warn", 2, "model.p.stock_extra")],
                 tests=["unique_key", "units_positive"])
    node = find_model(tmp_path, "stock_extra")
    assert node == ModelNode("model.p.stock_extra", "stock_extra", "main.stock_extra", {"peak": {"page_rows": 100}})
    check_build(tmp_path, node, DB)


def test_build_check_messages(tmp_path):
    node = ModelNode("model.p.stock_extra", "stock_extra", "main.stock_extra")
    assert error_of(find_model, tmp_path, "stock_extra") == (
        f"{tmp_path / 'manifest.json'} not found: no build recorded; run `stockx build --select +stock_extra` first"
    )
    write_target(tmp_path, [result("model.p.stock_extra", "error")])
    assert error_of(find_model, tmp_path, "stock_extras") == (
        f"no model named 'stock_extras' in {tmp_path / 'manifest.json'}; check the name "
        "(`stockx ls --resource-type model`), or build it first"
    )
    assert error_of(check_build, tmp_path, node, DB) == (
        "the last build of model stock_extra ended with status 'error'; "
        "fix it and run `stockx build --select +stock_extra` before exporting"
    )
    write_target(tmp_path, [])
    assert error_of(check_build, tmp_path, node, DB) == (
        f"the last run did not build model stock_extra in the database {DB}; run `stockx build --select "
        "+stock_extra` (with the same --database) before exporting"
    )
    write_target(tmp_path, [result("model.p.stock_extra", "success"),
                            result("test.p.unique_key", "fail", 3, "model.p.stock_extra"),
                            result("test.p.not_null", "error", None, "model.p.stock_extra")],
                 tests=["unique_key", "not_null"])
    assert error_of(check_build, tmp_path, node, DB) == (
        "tests on model stock_extra did not pass in the last run: not_null (error), unique_key (fail, 3 failing rows); "
        "fix them and run `stockx build --select +stock_extra`"
    )
    write_target(tmp_path, [result("model.p.stock_extra", "success")], tests=["unique_key"])
    assert error_of(check_build, tmp_path, node, DB) == (
        "tests on model stock_extra did not run in the last run: unique_key; run `stockx build --select +stock_extra`"
    )


def test_the_export_judges_the_build_of_the_database_it_reads(tmp_path):
    """Review finding 2: a clean build of another database of the project let the export
    of a database whose error-severity test had failed go through."""
    from test_raw_input import copy_project, run_stockx

    project = copy_project(tmp_path / "project")
    a, b = tmp_path / "A.duckdb", tmp_path / "B.duckdb"
    assert run_stockx(project, a, "build").exit_code == 0
    failed = run_stockx(project, a, "build", vars_={"variant_separator": " / "})
    assert failed.exit_code == 1 and "assert_product_variant_canonical" in failed.output
    refused = run_stockx(project, a, "export", "--out", str(tmp_path / "out"))
    assert refused.exit_code == 2
    # stock comes first in the family's order: the tests it shares with stock_extra were skipped
    assert refused.stderr.startswith("Error: tests on model stock did not pass in the last run: "
                                     "assert_stock_and_stock_extra_are_disjoint (skipped)")
    alone = run_stockx(project, a, "export", "stock_extra", "--out", str(tmp_path / "out"))
    assert alone.exit_code == 2 and alone.stderr.startswith(
        "Error: tests on model stock_extra did not pass in the last run: assert_product_variant_canonical (fail")
    assert run_stockx(project, b, "build").exit_code == 0
    still = run_stockx(project, a, "export", "--out", str(tmp_path / "out"))
    assert (still.exit_code, still.stderr) == (refused.exit_code, refused.stderr)
    assert not (tmp_path / "out").exists()
    assert run_stockx(project, b, "export", "--out", str(tmp_path / "out-b")).exit_code == 0
    never = run_stockx(project, tmp_path / "C.duckdb", "export", "--out", str(tmp_path / "out-c"))
    assert never.stderr == (  # the family's first model in push order
        f"Error: the last run did not build model product_categories in the database {tmp_path / 'C.duckdb'}; "
        "run `stockx build --select +product_categories` (with the same --database) before exporting\n")
