"""Data tests on real projects: each kind fails when it should and passes when it should.

The fixture project tests/fixtures/tested_project has known data problems (see
its pyproject.toml and YAML comments); smaller projects are written per test.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import Invoker, node_results, query, write_project
from stockx_export.core.testdefs import naming

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def tested(tmp_path):
    """A copy of the tested_project fixture and an invoker for it."""
    root = tmp_path / "tested_project"
    shutil.copytree(FIXTURES / "tested_project", root)
    return root, Invoker(root)


def node_lines(output: str) -> list[str]:
    """The per-node lines without their clock and timing: '3 of 18 OK created view main.stg_customers'."""
    found = []
    for line in output.splitlines():
        match = re.match(r"^\d\d:\d\d:\d\d  (\d+ of \d+ .+?) \.{3,}", line)
        if match:
            found.append(match.group(1))
    return found


def statuses(root: Path) -> dict[str, str]:
    results = node_results(root)
    return {r["name"]: r["status"] for r in results}


def test_build_runs_each_test_after_its_model_and_skips_exactly_the_descendants(tested):
    root, stockx = tested
    result = stockx("build")
    assert result.exit_code == 1
    assert node_lines(result.output) == [
        "1 of 18 OK loaded seed main.raw_customers",
        "2 of 18 OK loaded seed main.raw_orders",
        "3 of 18 OK created view main.stg_customers",
        "4 of 18 PASS countries_are_distinct_and_known",
        "5 of 18 PASS not_null_stg_customers_country",
        "6 of 18 PASS not_null_stg_customers_customer_id",
        "7 of 18 PASS unique_stg_customers_customer_id",
        "8 of 18 OK created table main.countries",
        "9 of 18 PASS accepted_values_countries_country__GB__FR__DE",
        "10 of 18 PASS not_empty_countries_",
        "11 of 18 OK created view main.stg_orders",
        "12 of 18 PASS accepted_values_stg_orders_status__placed__shipped__returned",
        "13 of 18 FAIL assert_amounts_not_negative",
        "14 of 18 PASS not_null_stg_orders_order_id",
        "15 of 18 WARN relationships_stg_orders_customer_id__customer_id__ref_stg_customers_",
        "16 of 18 FAIL unique_stg_orders_order_id",
        "17 of 18 SKIP model main.customer_totals",
        "18 of 18 SKIP model main.customer_report",
    ]
    assert "Done. PASS=13 WARN=1 ERROR=2 SKIP=2 TOTAL=18" in result.output
    # countries does not descend from stg_orders: built; customer_totals and its child were skipped
    tables = {r[0] for r in query(root / "target" / "tested.duckdb", "select table_name from information_schema.tables")}
    assert {"countries", "stg_orders"} <= tables
    assert not {"customer_totals", "customer_report"} & tables


def test_a_failure_shows_the_count_the_failing_rows_and_the_compiled_sql(tested):
    root, stockx = tested
    result = stockx("build")
    block = result.output.split("16 of 18 FAIL unique_stg_orders_order_id", 1)[1].split("\n", 1)[1]
    assert block.split("\n17 of 18")[0].splitlines()[:6] == [
        "    Got 1 result, configured to fail if != 0",
        "    | unique_field | n_records |",
        "    |--------------|-----------|",
        "    | 12           | 2         |",
        "    compiled SQL: target/compiled/models/staging/_staging.yml/unique_stg_orders_order_id.sql",
        [line for line in block.splitlines() if "17 of 18" in line][0],
    ]
    assert "Failure in test unique_stg_orders_order_id (models/staging/_staging.yml)\n" in result.output
    assert (
        "Warning in test relationships_stg_orders_customer_id__customer_id__ref_stg_customers_ (models/staging/_staging.yml)\n"
        "  Got 1 result, configured to warn if != 0\n"
        "  compiled SQL: target/compiled/models/staging/_staging.yml/relationships_stg_orders_96411fe0c89b49c3f4da955dfd358ba0.sql\n"
    ) in result.output
    # the compiled test SQL reruns as is and returns the failing rows
    sql = (root / "target/compiled/models/staging/_staging.yml/unique_stg_orders_order_id.sql").read_text()
    assert query(root / "target" / "tested.duckdb", sql) == [(12, 2)]


def test_warn_severity_reports_the_rows_and_skips_nothing(tested):
    root, stockx = tested
    result = stockx("build")
    assert statuses(root)["relationships_stg_orders_customer_id__customer_id__ref_stg_customers_"] == "warn"
    assert "    Got 1 result, configured to warn if != 0\n    | from_field |\n    |------------|\n    | 9          |\n" in result.output
    warn_only = stockx("test", "--select", "test_name:relationships")
    assert warn_only.exit_code == 0
    assert "Done. PASS=0 WARN=1 ERROR=0 SKIP=0 TOTAL=1" in warn_only.output


def test_a_warning_skips_nothing_and_a_passing_singular_test_passes(make_project):
    root, stockx = make_project(
        {
            **ORDERS,
            "models/big_orders.sql": "select * from {{ ref('stg_orders') }} where amount > 6\n",
            "models/_models.yml": """
                version: 2
                models:
                  - name: stg_orders
                    columns:
                      - name: customer
                        data_tests: [{not_null: {config: {severity: warn}}}]
            """,
            "tests/sql/ids_are_positive.sql": "select * from {{ ref('stg_orders') }} where id <= 0\n",
        }
    )
    result = stockx("build")
    assert result.exit_code == 0
    assert node_lines(result.output) == [
        "1 of 5 OK loaded seed main.orders",
        "2 of 5 OK created view main.stg_orders",
        "3 of 5 PASS ids_are_positive",
        "4 of 5 WARN not_null_stg_orders_customer",
        "5 of 5 OK created view main.big_orders",
    ]


def test_test_command_selects_tests_attached_to_a_model(tested):
    root, stockx = tested
    assert stockx("build").exit_code == 1  # relations exist for `test` to read
    result = stockx("test", "--select", "stg_customers")
    # as dbt's eager selection: a test is chosen when any node it reads is (relationships reads stg_customers)
    assert node_lines(result.output) == [
        "1 of 4 PASS not_null_stg_customers_country",
        "2 of 4 PASS not_null_stg_customers_customer_id",
        "3 of 4 PASS unique_stg_customers_customer_id",
        "4 of 4 WARN relationships_stg_orders_customer_id__customer_id__ref_stg_customers_",
    ]
    assert result.exit_code == 0
    data = stockx("test", "--select", "test_type:data")
    assert len(node_lines(data.output)) == 10
    assert "countries_are_distinct_and_known" not in data.output
    unit = stockx("test", "--select", "test_type:unit")
    assert node_lines(unit.output) == ["1 of 1 PASS countries_are_distinct_and_known"]


def test_fail_fast_stops_at_the_first_failure(tested):
    root, stockx = tested
    result = stockx("build", "--fail-fast", "--threads", "1")
    assert result.exit_code == 1
    assert statuses(root)["assert_amounts_not_negative"] == "fail"
    after = list(statuses(root).items())
    first = [name for name, _ in after].index("assert_amounts_not_negative")
    assert {status for _, status in after[first + 1 :]} == {"skipped"}


def test_fail_fast_in_a_parallel_run_starts_nothing_after_the_failure(tested):
    """With several threads, what was already running when a node failed finishes; nothing starts after."""
    root, stockx = tested
    result = stockx("build", "--fail-fast", "--threads", "4")
    assert result.exit_code == 1
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    failed = next(r for r in results if r["unique_id"].endswith("assert_amounts_not_negative"))
    assert failed["status"] == "fail"
    failed_at = failed["timing"][0]["completed_at"]
    started_after = [r for r in results if r["timing"] and r["timing"][0]["started_at"] > failed_at]
    assert started_after == []
    skipped = [r for r in results if r["status"] == "skipped"]
    assert skipped and all(r["message"] == "skipped: --fail-fast stopped the run" for r in skipped)


def test_generic_test_names_and_ids_match_dbt():
    """Names and unique ids dbt 1.10 gave the dbt_classic fixture's generic tests (golden file)."""
    golden = json.loads((FIXTURES / "dbt_classic_golden" / "test_outcomes.json").read_text())
    checked = 0
    for name, outcome in golden.items():
        if outcome["kind"] == "singular":
            continue
        model = outcome["attached_node"].rsplit(".", 1)[1]
        short, full = naming.generic_test_names(outcome["kind"], model, outcome["kwargs"])
        metadata = {
            "name": outcome["kind"],
            "kwargs": {**outcome["kwargs"], "model": f"{{{{ get_where_subquery(ref('{model}')) }}}}"},
            "namespace": None,
        }
        assert full == name
        assert outcome["unique_id"] == f"test.classic_shop.{full}.{naming.generic_test_hash(full, metadata)}"
        checked += 1
    assert checked == 21


def test_long_names_are_hashed_for_the_compiled_file():
    args = {"column_name": "reject_reason", "values": ["bad_timestamp", "bad_quantity", "unknown_warehouse"]}
    short, full = naming.generic_test_names("accepted_values", "stock_extra_rejects", args)
    assert full == "accepted_values_stock_extra_rejects_reject_reason__bad_timestamp__bad_quantity__unknown_warehouse"
    assert short == "accepted_values_stock_extra_re_" + __import__("hashlib").md5(full.encode()).hexdigest()


ORDERS = {
    "seeds/orders.csv": "id,customer,status,amount\n1,a,new,5\n2,a,new,7\n3,b,done,0\n4,,done,-1\n5,c,lost,12\n",
    "models/stg_orders.sql": "select * from {{ ref('orders') }}\n",
}


def _build_with(make_project, yml: str, extra: dict[str, str] | None = None):
    root, stockx = make_project({**ORDERS, "models/_models.yml": yml, **(extra or {})})
    result = stockx("build")
    return root, stockx, result, statuses(root)


@pytest.mark.parametrize(
    ("test", "status", "failures"),
    [
        ("not_null", "fail", 1),
        ("unique", "pass", 0),
        ("accepted_values: {values: [new, done]}", "fail", 1),
        ("accepted_values: {values: [new, done, lost]}", "pass", 0),
        ("accepted_values: {values: [1, 2], quote: false}", "fail", 5),
        ("accepted_range: {min_value: 0}", "fail", 1),
        ("accepted_range: {min_value: 0, max_value: 12, inclusive: false}", "fail", 3),
        ("accepted_range: {min_value: -1, max_value: 12}", "pass", 0),
        ("not_empty_string", "pass", 0),
        ("at_least_one", "pass", 0),
    ],
)
def test_column_tests(make_project, test, status, failures):
    column = "amount" if "range" in test or "quote: false" in test else "status" if "values" in test else "customer"
    if test == "unique":
        column = "id"
    yml = f"""
        version: 2
        models:
          - name: stg_orders
            columns:
              - name: {column}
                data_tests:
                  - {test}
    """
    root, stockx, result, found = _build_with(make_project, yml)
    [(name, got)] = [(n, s) for n, s in found.items() if n not in ("orders", "stg_orders")]
    results = node_results(root)
    assert (got, [r["failures"] for r in results if r["name"] == name]) == (status, [failures])
    assert result.exit_code == (1 if status == "fail" else 0)


@pytest.mark.parametrize(
    ("test", "status"),
    [
        ("unique_combination_of_columns: {combination_of_columns: [customer, status]}", "fail"),
        ("unique_combination_of_columns: {combination_of_columns: [id, status]}", "pass"),
        ("dbt_utils.unique_combination_of_columns: {combination_of_columns: [id]}", "pass"),
        ("expression_is_true: {expression: 'amount >= 0'}", "fail"),
        ("expression_is_true: {expression: 'amount >= -1'}", "pass"),
        ("not_empty", "pass"),
        ("not_empty: {config: {where: 'amount > 100'}}", "fail"),
    ],
)
def test_model_tests(make_project, test, status):
    yml = f"""
        version: 2
        models:
          - name: stg_orders
            data_tests:
              - {test}
    """
    root, stockx, result, found = _build_with(make_project, yml)
    assert [s for n, s in found.items() if n not in ("orders", "stg_orders")] == [status]


THRESHOLDS = """
    version: 2
    models:
      - name: stg_orders
        columns:
          - name: amount
            data_tests:
              - accepted_range:
                  min_value: 6
                  config: {{warn_if: "{warn_if}", error_if: "{error_if}"}}
"""


@pytest.mark.parametrize(
    ("warn_if", "error_if", "status", "message"),
    [
        (">1", ">3", "warn", "Got 3 results, configured to warn if > 1"),
        (">3", ">=3", "fail", "Got 3 results, configured to fail if >= 3"),
        (">3", ">10", "pass", ""),
        ("!= 0", "==3", "fail", "Got 3 results, configured to fail if = 3"),
    ],
)
def test_warn_if_and_error_if_thresholds(make_project, warn_if, error_if, status, message):
    root, stockx, result, found = _build_with(make_project, THRESHOLDS.format(warn_if=warn_if, error_if=error_if))
    results = node_results(root)
    [test] = [r for r in results if r["resource_type"] == "test"]
    assert (test["status"], test["message"], test["failures"]) == (status, message, 3)
    assert result.exit_code == (1 if status == "fail" else 0)


def test_a_malformed_threshold_is_reported(make_project):
    root, stockx, result, found = _build_with(make_project, THRESHOLDS.format(warn_if="lots", error_if=">1"))
    assert result.exit_code == 1
    results = node_results(root)
    [test] = [r for r in results if r["resource_type"] == "test"]
    assert test["message"] == (
        "models/_models.yml: test accepted_range_stg_orders_amount__6: warn_if 'lots' is not a comparison "
        "with a number; write it like '>10', '!= 0' or '>=5'"
    )


def test_where_and_limit(make_project):
    yml = """
        version: 2
        models:
          - name: stg_orders
            columns:
              - name: amount
                data_tests:
                  - accepted_range:
                      min_value: 6
                      config: {where: "status = 'new'"}
                  - expression_is_true:
                      expression: "> 100"
                      config: {limit: 2}
    """
    root, stockx, result, found = _build_with(make_project, yml)
    results = {r["name"]: r for r in node_results(root)}
    assert results["accepted_range_stg_orders_amount__6"]["failures"] == 1  # only id 1 among the 'new' orders
    assert results["expression_is_true_stg_orders_amount___100"]["failures"] == 2
    compiled = (root / "target/compiled/models/_models.yml/accepted_range_stg_orders_amount__6.sql").read_text()
    assert "(select * from main.stg_orders where status = 'new') dbt_subquery" in compiled


def test_store_failures_keeps_the_failing_rows_in_an_audit_table_replaced_each_run(make_project):
    yml = """
        version: 2
        models:
          - name: stg_orders
            columns:
              - name: customer
                data_tests:
                  - not_null:
                      config: {store_failures: true}
    """
    root, stockx, result, found = _build_with(make_project, yml)
    db = root / "target" / "stockx.duckdb"
    assert query(db, "select id, amount from main_audit.not_null_stg_orders_customer") == [(4, -1)]
    assert "failing rows stored in main_audit.not_null_stg_orders_customer" in result.output
    (root / "seeds/orders.csv").write_text("id,customer,status,amount\n1,a,new,5\n")
    assert stockx("build").exit_code == 0
    assert query(db, "select count(*) from main_audit.not_null_stg_orders_customer") == [(0,)]


def test_custom_generic_test_and_overridden_built_in(make_project):
    yml = """
        version: 2
        models:
          - name: stg_orders
            columns:
              - name: amount
                data_tests:
                  - is_multiple_of: {factor: 5}
              - name: id
                data_tests: [not_null]
    """
    macros = {
        "macros/tests.sql": """
            {% test is_multiple_of(model, column_name, factor) %}
            select * from {{ model }} where {{ column_name }} % {{ factor }} <> 0
            {% endtest %}

            {% test not_null(model, column_name) %}
            select 'project not_null' as who from {{ model }} where {{ column_name }} is not null limit 1
            {% endtest %}
        """
    }
    root, stockx, result, found = _build_with(make_project, yml, macros)
    assert found["is_multiple_of_stg_orders_amount__5"] == "fail"
    assert found["not_null_stg_orders_id"] == "fail"  # the project's not_null replaced the built-in
    assert "| project not_null |" in result.output


def test_a_comment_showing_a_test_block_does_not_open_one(make_project):
    yml = """
        version: 2
        models:
          - name: stg_orders
            columns:
              - name: amount
                data_tests: [positive]
    """
    macros = {
        "macros/tests.sql": """
            {#- A block here replaces a built-in of the same name, e.g. {% test not_null(model, column_name) %} -#}
            {% test positive(model, column_name) %}
            select * from {{ model }} where {{ column_name }} <= 0
            {% endtest %}
        """
    }
    root, stockx, result, found = _build_with(make_project, yml, macros)
    assert found["positive_stg_orders_amount"] == "fail"


def test_singular_test_with_config_and_source_tests_wait_for_the_seed_behind_the_source(make_project):
    root, stockx = make_project(
        {
            **ORDERS,
            "models/sources.yml": """
                version: 2
                sources:
                  - name: shop
                    tables:
                      - name: orders
                        columns:
                          - name: customer
                            data_tests: [not_null]
            """,
            "tests/sql/few_lost_orders.sql": """
                {{ config(severity='warn') }}
                select * from {{ source('shop', 'orders') }} where status = 'lost'
            """,
        }
    )
    result = stockx("build")
    assert node_lines(result.output)[:3] == [
        "1 of 4 OK loaded seed main.orders",
        "2 of 4 WARN few_lost_orders",
        "3 of 4 FAIL source_not_null_shop_orders_customer",
    ]
    assert result.exit_code == 1


def test_a_failed_source_test_skips_the_models_reading_the_source(make_project):
    root, stockx = make_project(
        {
            "seeds/raw.csv": "id\n1\n1\n",
            "models/sources.yml": """
                version: 2
                sources:
                  - name: shop
                    tables:
                      - name: raw
                        columns:
                          - name: id
                            data_tests: [unique]
            """,
            "models/from_source.sql": "select * from {{ source('shop', 'raw') }}\n",
            "models/from_seed.sql": "select * from {{ ref('raw') }}\n",
        }
    )
    result = stockx("build")
    assert node_lines(result.output) == [
        "1 of 4 OK loaded seed main.raw",
        "2 of 4 FAIL source_unique_shop_raw_id",
        "3 of 4 OK created view main.from_seed",
        "4 of 4 SKIP model main.from_source",
    ]


def test_unknown_test_name_is_a_project_error(make_project):
    root, stockx = make_project(
        {
            **ORDERS,
            "models/_models.yml": """
                version: 2
                models:
                  - name: stg_orders
                    columns:
                      - name: id
                        data_tests: [not_nul]
            """,
        }
    )
    result = stockx("build")
    assert result.exit_code == 2
    assert result.output == (
        "Error: models/_models.yml: stg_orders.id: 'not_nul' is not a generic test; did you mean 'not_null'? "
        "(define one with {% test not_nul(model, column_name) %} in macros/)\n"
    )


def test_an_unreadable_test_entry_is_a_project_error(make_project):
    root, stockx = make_project(
        {
            **ORDERS,
            "models/_models.yml": """
                version: 2
                models:
                  - name: stg_orders
                    data_tests:
                      - {not_null: {}, unique: {}}
            """,
        }
    )
    result = stockx("build")
    assert result.exit_code == 2
    assert result.output == (
        "Error: models/_models.yml: stg_orders: cannot read test {'not_null': {}, 'unique': {}}: write a test name "
        "(`- not_null`) or one name mapped to its arguments (`- accepted_values: {values: [a, b]}`)\n"
    )


def test_arguments_from_vars_keep_their_native_values(make_project):
    yml = """
        version: 2
        models:
          - name: stg_orders
            columns:
              - name: status
                data_tests:
                  - accepted_values:
                      values: "{{ var('statuses') }}"
              - name: amount
                data_tests:
                  - accepted_range:
                      min_value: var('floor')
    """
    pyproject = '[tool.stockx]\nname = "demo"\n[tool.stockx.vars]\nstatuses = ["new", "done", "lost"]\nfloor = -1\n'
    root, stockx, result, found = _build_with(make_project, yml, {"pyproject.toml": pyproject})
    assert found["accepted_values_stg_orders_status___var_statuses_"] == "pass"
    assert found["accepted_range_stg_orders_amount__var_floor_"] == "pass"
    assert result.exit_code == 0


def test_disabled_tests_are_left_out(make_project):
    yml = """
        version: 2
        models:
          - name: stg_orders
            columns:
              - name: customer
                data_tests:
                  - not_null: {config: {enabled: false}}
    """
    root, stockx, result, found = _build_with(make_project, yml)
    assert set(found) == {"orders", "stg_orders"}
    assert result.exit_code == 0


def test_project_level_test_config_applies(make_project):
    root, stockx = make_project(
        {
            **ORDERS,
            "pyproject.toml": '[tool.stockx]\nname = "demo"\n[tool.stockx.data_tests]\nseverity = "warn"\n',
            "models/_models.yml": """
                version: 2
                models:
                  - name: stg_orders
                    columns:
                      - name: customer
                        data_tests: [not_null]
            """,
        }
    )
    result = stockx("build")
    assert statuses(root)["not_null_stg_orders_customer"] == "warn"
    assert result.exit_code == 0


def test_store_failures_relation_is_in_the_database_the_run_used(make_project):
    """The audit table lives in the project database (not a side file), read with plain DuckDB."""
    yml = """
        version: 2
        models:
          - name: stg_orders
            data_tests:
              - expression_is_true:
                  expression: "amount > 0"
                  config: {store_failures: true, schema: checks}
    """
    root, stockx, result, found = _build_with(make_project, yml)
    con = duckdb.connect(str(root / "target" / "stockx.duckdb"), read_only=True)
    try:
        rows = con.execute("select id from main_checks.expression_is_true_stg_orders_amount_0 order by id").fetchall()
    finally:
        con.close()
    assert rows == [(3,), (4,)]


def test_tests_of_an_unbuilt_project_error_cleanly(tmp_path):
    root = write_project(
        tmp_path / "p",
        {
            **ORDERS,
            "models/_models.yml": "version: 2\nmodels:\n  - name: stg_orders\n    columns:\n      - name: id\n        data_tests: [unique]\n",
        },
    )
    result = Invoker(root)("test")
    assert result.exit_code == 1
    [test] = node_results(root)
    assert test["status"] == "error"
    assert test["message"].startswith("unique_stg_orders_id: Catalog Error: Table with name stg_orders does not exist")
    assert "  compiled SQL: target/compiled/models/_models.yml/unique_stg_orders_id.sql\n" in result.output


def test_stockx_test_reports_every_verdict_and_skips_nothing(make_project):
    # `stockx test` builds nothing: a failing test upstream (or a failing unit test)
    # leaves no table unbuilt, so the tests downstream still run on what is there.
    root, stockx = make_project(
        {
            "seeds/raw.csv": "id\n1\n1\n",
            "models/stg.sql": "select id from {{ ref('raw') }}\n",
            "models/mart.sql": "select distinct id from {{ ref('stg') }}\n",
            "models/props.yml": """
                version: 2
                models:
                  - name: stg
                    columns:
                      - name: id
                        data_tests: [unique]
                  - name: mart
                    columns:
                      - name: id
                        data_tests: [unique]
                unit_tests:
                  - name: stg_keeps_ids
                    model: stg
                    given:
                      - input: ref('raw')
                        rows: [{id: 1}]
                    expect:
                      rows: [{id: 2}]
            """,
        }
    )
    assert stockx("seed").exit_code == 0 and stockx("run").exit_code == 0
    result = stockx("test")
    assert result.exit_code == 1
    assert node_lines(result.output) == [
        "1 of 3 FAIL stg_keeps_ids",
        "2 of 3 FAIL unique_stg_id",
        "3 of 3 PASS unique_mart_id",
    ]


@pytest.mark.parametrize(
    "entry, macros, error",
    [
        (
            "accepted_values: {value: [1]}",
            "",
            "Error: models/props.yml: test accepted_values_items_id__1: 'value' is not an argument of "
            "accepted_values; did you mean 'values'? (its arguments: values, quote)\n",
        ),
        (
            "is_even",
            "{% test is_even(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} % {{ two }} = 1\n{% endtest %}\n",
            "Error: models/props.yml: test is_even_items_id: 'two' is undefined (in macros/tests.sql:2)\n",
        ),
    ],
)
def test_a_generic_test_that_cannot_render_is_named(make_project, entry, macros, error):
    root, stockx = make_project(
        {
            "models/items.sql": "select 1 as id\n",
            "macros/tests.sql": macros,
            "models/props.yml": f"""
                version: 2
                models:
                  - name: items
                    columns:
                      - name: id
                        data_tests:
                          - {entry}
            """,
        }
    )
    result = stockx("test")
    assert result.exit_code == 2
    assert result.stderr == error


def test_a_test_of_a_model_not_built_yet_says_to_build_it(make_project):
    root, stockx = make_project(
        {
            "models/items.sql": "select 1 as id\n",
            "models/props.yml": """
                version: 2
                models:
                  - name: items
                    columns:
                      - name: id
                        data_tests: [unique]
            """,
        }
    )
    result = stockx("test")
    assert result.exit_code == 1
    message = node_results(root)[0]["message"]
    assert message == (
        "unique_items_id: Catalog Error: Table with name items does not exist! "
        "(main.items not built yet: run `stockx build -s items`)"
    )
