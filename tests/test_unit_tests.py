"""Unit tests: a model's SQL on fixture rows in an in-memory DuckDB, compared with expected rows."""

from __future__ import annotations

import json
import re

import pytest

from conftest import node_results, query

PROJECT = {
    "pyproject.toml": '[tool.stockx]\nname = "ut"\ndatabase = "target/ut.duckdb"\n[tool.stockx.vars]\nmin_amount = 0\n',
    "seeds/orders.csv": "id,customer,amount,ordered_on\n1,a,5,2026-11-01\n2,a,7,2026-11-02\n",
    "models/totals.sql": """
        {{ config(materialized='incremental', unique_key='customer') }}
        select customer, sum(amount) as total, max(ordered_on) as last_on
        from {{ ref('orders') }}
        where amount >= {{ var('min_amount') }}
        {%- if is_incremental() %}
          and ordered_on > (select max(last_on) from {{ this }})
        {%- endif %}
        group by customer
    """,
    "models/_seeds.yml": """
        version: 2
        seeds:
          - name: orders
            columns:
              - {name: id, data_type: bigint}
              - {name: customer, data_type: varchar}
              - {name: amount, data_type: bigint}
              - {name: ordered_on, data_type: date}
    """,
}

GIVEN = """
      - input: ref('orders')
        rows:
          - {customer: a, amount: 5, ordered_on: "2026-11-01"}
          - {customer: a, amount: 7, ordered_on: "2026-11-02"}
          - {customer: b, amount: -1, ordered_on: "2026-11-02"}
"""


def unit_yml(body: str) -> str:
    return "version: 2\nunit_tests:\n" + body


def result_of(root, name: str) -> dict:
    results = node_results(root)
    return next(r for r in results if r["name"] == name)


def run(make_project, tests: str, *args: str, extra: dict | None = None):
    root, stockx = make_project({**PROJECT, "models/_unit.yml": unit_yml(tests), **(extra or {})})
    return root, stockx, stockx(*(args or ("test",)))


def test_expected_rows_pass_whatever_their_order(make_project):
    tests = f"""
  - name: sums_per_customer
    model: totals
    given:{GIVEN}
    expect:
      rows:
        - {{customer: a, total: 12, last_on: "2026-11-02"}}
"""
    root, stockx, result = run(make_project, tests)
    assert result.exit_code == 0, result.output
    assert result_of(root, "sums_per_customer")["status"] == "pass"


def test_a_failure_prints_a_row_level_diff(make_project):
    tests = f"""
  - name: sums_per_customer
    model: totals
    given:{GIVEN}
    expect:
      rows:
        - {{customer: a, total: 11, last_on: "2026-11-02"}}
        - {{customer: b, total: 0}}
"""
    root, stockx, result = run(make_project, tests)
    assert result.exit_code == 1
    assert result_of(root, "sums_per_customer")["failures"] == 3
    expected_block = (
        "    actual differs from expected: 2 expected rows missing, 1 unexpected row\n"
        "    | diff | customer | total | last_on    |\n"
        "    |------|----------|-------|------------|\n"
        "    | -    | a        | 11    | 2026-11-02 |\n"
        "    | +    | a        | 12    | 2026-11-02 |\n"
        "    | -    | b        | 0     | null       |\n"
        "    (- expected but missing, + in the output but not expected)\n"
    )
    assert expected_block in result.output
    assert "compiled SQL: target/compiled/models/_unit.yml/sums_per_customer.sql" in result.output


def test_csv_rows_and_var_overrides(make_project):
    tests = """
  - name: negative_amounts_count_when_the_floor_is_lowered
    model: totals
    overrides:
      vars: {min_amount: -5}
    given:
      - input: ref('orders')
        format: csv
        rows: |
          id,customer,amount,ordered_on
          1,a,5,2026-11-01
          2,b,-1,2026-11-03
          3,b,,2026-11-04
    expect:
      format: csv
      rows: |
        customer,total,last_on
        a,5,2026-11-01
        b,-1,2026-11-03
"""
    root, stockx, result = run(make_project, tests)
    assert result.exit_code == 0, result.output


def test_fixture_files(make_project):
    tests = """
  - name: from_files
    model: totals
    given:
      - input: ref('orders')
        format: csv
        fixture: two_orders
    expect:
      format: sql
      fixture: expected_totals
"""
    extra = {
        "tests/fixtures/two_orders.csv": "id,customer,amount,ordered_on\n1,a,5,2026-11-01\n2,a,7,2026-11-02\n",
        "tests/fixtures/expected/expected_totals.sql": "select 'a' as customer, 12 as total, date '2026-11-02' as last_on\n",
    }
    root, stockx, result = run(make_project, tests, extra=extra)
    assert result.exit_code == 0, result.output
    (root / "tests/fixtures/two_orders.csv").unlink()
    result = stockx("test")
    assert result_of(root, "from_files")["message"] == (
        f"models/_unit.yml: unit test 'from_files', given 1 (ref('orders')): fixture 'two_orders.csv' not found "
        f"(looked in {root / 'tests/sql/fixtures'}, {root / 'tests/fixtures'})"
    )


def test_is_incremental_override_reads_this_from_the_given_rows(make_project):
    tests = f"""
  - name: only_rows_after_the_last_built_day
    model: totals
    overrides:
      macros: {{is_incremental: true}}
    given:{GIVEN}
      - input: this
        rows:
          - {{customer: a, total: 5, last_on: "2026-11-01"}}
    expect:
      rows:
        - {{customer: a, total: 7, last_on: "2026-11-02"}}
        - {{customer: b, total: -1, last_on: "2026-11-02"}}
"""
    # with min_amount lowered so b's negative amount counts
    tests = tests.replace("macros: {is_incremental: true}", "macros: {is_incremental: true}\n      vars: {min_amount: -10}")
    root, stockx, result = run(make_project, tests)
    assert result.exit_code == 0, result.output
    compiled = (root / "target/compiled/models/_unit.yml/only_rows_after_the_last_built_day.sql").read_text()
    assert "select max(last_on) from main.given_this" in compiled


def test_sources_and_sql_fixtures(make_project):
    extra = {
        "models/sources.yml": """
            version: 2
            sources:
              - name: shop
                tables:
                  - name: refunds
        """,
        "models/net.sql": """
            select t.customer, t.total - coalesce(sum(r.amount), 0) as net
            from {{ ref('totals') }} t left join {{ source('shop', 'refunds') }} r using (customer)
            group by t.customer, t.total
        """,
    }
    tests = """
  - name: refunds_are_subtracted
    model: net
    given:
      - input: ref('totals')
        format: sql
        rows: "select 'a' as customer, 10 as total union all select 'b', 4"
      - input: source('shop', 'refunds')
        rows:
          - {customer: a, amount: 3}
          - {customer: a, amount: 1.5}
    expect:
      rows:
        - {customer: a, net: 5.5}
        - {customer: b, net: 4}
"""
    root, stockx, result = run(make_project, tests, extra=extra)
    assert result.exit_code == 0, result.output


def test_unit_tests_never_touch_the_project_database(make_project):
    tests = f"""
  - name: sums_per_customer
    model: totals
    given:{GIVEN}
    expect:
      rows:
        - {{customer: a, total: 12, last_on: "2026-11-02"}}
"""
    root, stockx = make_project({**PROJECT, "models/_unit.yml": unit_yml(tests)})
    assert stockx("build").exit_code == 0
    db = root / "target" / "ut.duckdb"
    # the database now disagrees with the fixture: only the fixture rows may count
    (root / "seeds/orders.csv").write_text("id,customer,amount,ordered_on\n1,z,100,2026-01-01\n")
    assert stockx("seed").exit_code == 0
    everything = "select table_schema, table_name from information_schema.tables order by all"
    before = query(db, everything), query(db, "select * from totals order by all")
    result = stockx("test", "--select", "test_type:unit")
    assert result.exit_code == 0, result.output
    assert (query(db, everything), query(db, "select * from totals order by all")) == before


def test_in_build_a_unit_test_runs_before_its_model_and_a_failure_skips_it(make_project):
    tests = f"""
  - name: sums_per_customer
    model: totals
    given:{GIVEN}
    expect:
      rows:
        - {{customer: a, total: 99, last_on: "2026-11-02"}}
"""
    extra = {"models/report.sql": "select count(*) as n from {{ ref('totals') }}\n"}
    root, stockx, result = run(make_project, tests, "build", extra=extra)
    lines = [re.sub(r" \.{3,}.*", "", line.split("  ", 1)[1]) for line in result.output.splitlines() if " of 4 " in line]
    assert lines == [
        "1 of 4 OK loaded seed main.orders",
        "2 of 4 FAIL sums_per_customer",
        "3 of 4 SKIP model main.totals",
        "4 of 4 SKIP model main.report",
    ]
    tables = query(root / "target" / "ut.duckdb", "select table_name from information_schema.tables order by 1")
    assert tables == [("orders",)]


def test_a_model_that_fails_on_the_fixtures_is_an_error_naming_the_compiled_sql(make_project):
    extra = {"models/bad.sql": "select cast(customer as integer) as n from {{ ref('orders') }}\n"}
    tests = f"""
  - name: bad_cast
    model: bad
    given:{GIVEN}
    expect:
      rows: []
"""
    root, stockx, result = run(make_project, tests, extra=extra)
    assert result.exit_code == 1
    assert result_of(root, "bad_cast")["message"].startswith("bad: Conversion Error: Could not convert string 'a' to INT32")
    assert "  compiled SQL: target/compiled/models/_unit.yml/bad_cast.sql\n" in result.output


def test_an_expected_column_the_model_lacks_is_an_error(make_project):
    tests = f"""
  - name: wrong_column
    model: totals
    given:{GIVEN}
    expect:
      rows:
        - {{customer: a, amount: 12}}
"""
    root, stockx, result = run(make_project, tests)
    assert result.exit_code == 1
    assert result_of(root, "wrong_column")["message"] == (
        "expected column amount not in the output of totals (it has customer, total, last_on)"
    )


def test_a_value_that_does_not_fit_its_declared_type_names_the_row(make_project):
    tests = """
  - name: bad_date
    model: totals
    given:
      - input: ref('orders')
        rows:
          - {customer: a, amount: 5, ordered_on: "2026-11-01"}
          - {customer: a, amount: 5, ordered_on: "yesterday"}
    expect:
      rows: []
"""
    root, stockx, result = run(make_project, tests)
    assert result.exit_code == 1
    message = result_of(root, "bad_date")["message"]
    assert message.startswith("models/_unit.yml: unit test 'bad_date', given 1 (ref('orders')), row 2: Conversion Error:")


def test_an_input_without_rows_or_declared_columns_is_an_error(make_project):
    extra = {
        "models/both.sql": "select o.customer, x.flag from {{ ref('orders') }} o join {{ ref('flags') }} x using (customer)\n",
        "seeds/flags.csv": "customer,flag\na,true\n",
    }
    tests = f"""
  - name: needs_flags
    model: both
    given:{GIVEN}
    expect:
      rows: []
"""
    root, stockx, result = run(make_project, tests, extra=extra)
    assert result.exit_code == 1
    assert result_of(root, "needs_flags")["message"] == (
        "models/_unit.yml: unit test 'needs_flags' gives no rows for ref('flags'), and its columns are not declared "
        "in YAML: add `- input: ref('flags')` with `rows: []` and the columns the model reads"
    )


def test_an_input_with_declared_columns_may_be_left_out(make_project):
    extra = {"models/recent.sql": "select customer from {{ ref('orders') }} where ordered_on > date '2026-11-01'\n"}
    tests = """
  - name: no_orders_no_rows
    model: recent
    given: []
    expect:
      rows: []
"""
    root, stockx, result = run(make_project, tests, extra=extra)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            "  - name: t\n    model: totls\n    given: []\n    expect: {rows: []}\n",
            "Error: models/_unit.yml: unit test 't': model 'totls' not found; did you mean 'totals'?\n",
        ),
        (
            "  - name: t\n    model: totals\n    given:\n      - input: ref('ordrs')\n        rows: []\n    expect: {rows: []}\n",
            "Error: models/_unit.yml: unit test 't': ref('ordrs') is not a model or seed; did you mean 'orders'?\n",
        ),
        (
            "  - name: t\n    model: totals\n    given:\n      - input: orders\n        rows: []\n    expect: {rows: []}\n",
            "Error: models/_unit.yml: unit test 't': input 'orders' is not ref('name'), source('source', 'table') or this\n",
        ),
        (
            "  - name: t\n    model: totals\n    given: []\n",
            "Error: models/_unit.yml: unit test 't': 'expect' needs rows (a YAML list, or CSV text with `format: csv`) "
            "or a fixture\n",
        ),
    ],
)
def test_malformed_unit_tests_are_project_errors(make_project, body, error):
    root, stockx, result = run(make_project, body)
    assert result.exit_code == 2
    assert result.output == error


UNDECLARED = {
    "seeds/stock.csv": "sku,qty,bin,note\nA,1,x,n\n",
    "models/stg_stock.sql": "select sku, qty, bin, upper(note) as note from {{ ref('stock') }}\n",
    "models/stock_by_bin.sql": """
        select s.sku, s.qty, s.bin, w.site
        from {{ ref('stg_stock') }} s join {{ ref('bins') }} w on w.bin = s.bin
    """,
    "seeds/bins.csv": "bin,site,zone\nx,LON,1\n",
}


def test_given_rows_name_only_the_columns_a_test_is_about(make_project):
    # No YAML columns: the input tables take the columns of the seed file and of
    # stg_stock's SQL, as dbt takes them from the built relations; the rest are NULL.
    tests = """
  - name: joins_on_bin
    model: stock_by_bin
    given:
      - input: ref('stg_stock')
        rows:
          - {sku: A, bin: x}
          - {sku: B, bin: y}
      - input: ref('bins')
        rows:
          - {bin: x, site: LON}
    expect:
      rows:
        - {sku: A, qty: null, site: LON}
"""
    root, stockx = make_project({**UNDECLARED, "models/_unit.yml": unit_yml(tests)})
    result = stockx("test")
    assert result.exit_code == 0, result.output
    assert result_of(root, "joins_on_bin")["status"] == "pass"


def test_a_given_column_the_input_does_not_have_is_an_error(make_project):
    tests = """
  - name: typo
    model: stock_by_bin
    given:
      - input: ref('stg_stock')
        rows: [{sku: A, bin: x}]
      - input: ref('bins')
        rows: [{bin: x, sight: LON}]
    expect:
      rows: []
"""
    root, stockx = make_project({**UNDECLARED, "models/_unit.yml": unit_yml(tests)})
    result = stockx("test")
    assert result.exit_code == 1
    assert result_of(root, "typo")["message"] == (
        "models/_unit.yml: unit test 'typo', given 2 (ref('bins')): it has no column 'sight' "
        "(its columns: bin, site, zone); did you mean 'site'?"
    )


def test_given_rows_reach_through_an_ephemeral_model(make_project):
    files = {
        "seeds/stock.csv": "sku,qty\nA,1\n",
        "models/eph_positive.sql": "{{ config(materialized='ephemeral') }}\nselect * from {{ ref('stock') }} where qty > 0\n",
        "models/positive_count.sql": "select count(*) as n from {{ ref('eph_positive') }}\n",
        "models/_unit.yml": unit_yml(
            """
  - name: counts_positive
    model: positive_count
    given:
      - input: ref('stock')
        rows: [{sku: A, qty: 1}, {sku: B, qty: 0}, {sku: C, qty: 5}]
    expect:
      rows: [{n: 2}]
"""
        ),
    }
    root, stockx = make_project(files)
    result = stockx("test")
    assert result.exit_code == 0, result.output
    assert result_of(root, "counts_positive")["status"] == "pass"
