"""The build engine on real projects on disk: seeds, materializations, errors, output."""

from __future__ import annotations

import json

import pytest

from conftest import node_results, query

SHOP = {
    "pyproject.toml": """
        [tool.stockx]
        name = "shop"
        [tool.stockx.vars]
        min_amount = 0
        [tool.stockx.models]
        tags = ["nightly"]
        [tool.stockx.models.marts]
        materialized = "table"
        schema = "marts"
        [tool.stockx.models.marts.finance]
        tags = ["finance"]
    """,
    "seeds/customers.csv": "id,name\n1,Ann\n2,Bob\n3,Cy\n",
    "seeds/orders.csv": "id,customer_id,amount\n10,1,5\n11,1,7\n12,2,3\n",
    "macros/money.sql": """
        {% macro cents(col) -%}
          ({{ col }} * 100)::bigint
        {%- endmacro %}

        {% macro ids() %}{{ return([1, 2]) }}{% endmacro %}

        {% macro id_list() %}{{ ids() | join(', ') }}{% endmacro %}
    """,
    "models/staging/stg_orders.sql": """
        select id, customer_id, {{ cents('amount') }} as amount_cents
        from {{ ref('orders') }}
        where amount >= {{ var('min_amount') }}
    """,
    "models/staging/eph_customers.sql": """
        {{ config(materialized='ephemeral') }}
        select id, upper(name) as name from {{ ref('customers') }} where id in ({{ id_list() }})
    """,
    "models/marts/customer_totals.sql": """
        with o as (select customer_id, sum(amount_cents) as total from {{ ref('stg_orders') }} group by 1)
        select c.id, c.name, coalesce(o.total, 0) as total
        from {{ ref('eph_customers') }} c left join o on o.customer_id = c.id
    """,
    "models/marts/finance/revenue.sql": """
        select sum(total) as revenue from {{ ref('customer_totals') }}
    """,
}


def test_build_creates_every_relation_in_dag_order(make_project):
    root, stockx = make_project(SHOP)
    result = stockx("build")
    assert result.exit_code == 0, result.output
    lines = [line.split("  ", 1)[1] for line in result.output.splitlines() if " of 5 " in line]
    assert [line.split(" ..")[0] for line in lines] == [
        "1 of 5 OK loaded seed main.customers",
        "2 of 5 OK loaded seed main.orders",
        "3 of 5 OK created view main.stg_orders",
        "4 of 5 OK created table marts.customer_totals",
        "5 of 5 OK created table marts.revenue",
    ]
    assert "Done. PASS=5 WARN=0 ERROR=0 SKIP=0 TOTAL=5" in result.output
    db = root / "target" / "stockx.duckdb"
    assert query(db, "select id, name, total from marts.customer_totals order by id") == [(1, "ANN", 1200), (2, "BOB", 300)]
    assert query(db, "select revenue from marts.revenue") == [(1500,)]
    kinds = dict(query(db, "select table_name, table_type from information_schema.tables"))
    assert kinds["stg_orders"] == "VIEW" and kinds["customer_totals"] == "BASE TABLE"
    assert "eph_customers" not in kinds  # ephemeral models are never created


def test_folder_config_is_inherited_and_tags_accumulate(make_project):
    root, stockx = make_project(SHOP)
    result = stockx("ls", "--output", "json")
    nodes = {n["name"]: n for n in map(json.loads, result.output.splitlines())}
    assert nodes["revenue"]["relation"] == "marts.revenue"
    assert nodes["revenue"]["materialized"] == "table"
    assert nodes["revenue"]["tags"] == ["nightly", "finance"]
    assert nodes["stg_orders"]["tags"] == ["nightly"]
    assert nodes["stg_orders"]["materialized"] == "view"


def test_vars_on_the_command_line_override_project_vars(make_project):
    root, stockx = make_project(SHOP)
    assert stockx("build", "--vars", "{min_amount: 5}").exit_code == 0
    assert query(root / "target/stockx.duckdb", "select count(*) from main.stg_orders") == [(2,)]
    assert stockx("run", "--vars", '{"min_amount": 6}', "-s", "stg_orders").exit_code == 0
    assert query(root / "target/stockx.duckdb", "select count(*) from main.stg_orders") == [(1,)]


def test_database_option_overrides_the_configured_file(make_project, tmp_path):
    root, stockx = make_project(SHOP)
    other = tmp_path / "elsewhere" / "other.duckdb"
    assert stockx("build", "--database", str(other)).exit_code == 0
    assert query(other, "select count(*) from main.customers") == [(3,)]
    assert not (root / "target" / "stockx.duckdb").exists()


def test_memory_database_builds_without_a_file(make_project):
    root, stockx = make_project(SHOP)
    result = stockx("build", "--database", ":memory:")
    assert result.exit_code == 0, result.output
    assert not (root / "target" / "stockx.duckdb").exists()


def test_sql_error_names_model_and_compiled_file_and_skips_descendants(make_project):
    files = dict(SHOP)
    files["models/staging/stg_orders.sql"] = "select id,\n  customer_idd from {{ ref('orders') }}\n"
    files["models/other.sql"] = "select 1 as one\n"
    root, stockx = make_project(files)
    result = stockx("build")
    assert result.exit_code == 1
    out = result.output
    assert "ERROR model main.stg_orders" in out
    assert "SKIP model marts.customer_totals" in out
    assert "SKIP model marts.revenue" in out
    assert "OK created view main.other" in out  # unrelated models still run
    assert "Failure in model stg_orders (models/staging/stg_orders.sql)" in out
    assert 'models/staging/stg_orders.sql: Binder Error: Referenced column "customer_idd" not found' in out
    assert "LINE 2:   customer_idd from main.orders" in out  # the line of the compiled file
    assert "compiled SQL: target/compiled/models/staging/stg_orders.sql" in out
    assert "Done. PASS=3 WARN=0 ERROR=1 SKIP=2 TOTAL=6" in out
    status = {r["name"]: r["status"] for r in node_results(root)}
    assert status["stg_orders"] == "error" and status["revenue"] == "skipped" and status["other"] == "success"


def test_failed_table_build_leaves_the_previous_table_intact(make_project):
    root, stockx = make_project(SHOP)
    assert stockx("build").exit_code == 0
    bad = root / "models/marts/customer_totals.sql"
    bad.write_text("select id, 1 / 0 as total, error('boom') as x from {{ ref('customers') }}\n")
    result = stockx("run", "-s", "customer_totals")
    assert result.exit_code == 1
    assert "boom" in result.output
    db = root / "target/stockx.duckdb"
    assert query(db, "select id, name, total from marts.customer_totals order by id") == [(1, "ANN", 1200), (2, "BOB", 300)]
    tables = [r[0] for r in query(db, "select table_name from duckdb_tables()")]
    assert not any(t.endswith("__stockx_tmp") for t in tables)


def test_failed_first_build_of_a_table_leaves_no_table(make_project):
    # Nothing under the name yet: the table is built in place by one statement; failing after some rows, it
    # must leave nothing behind, neither the table nor a temporary one, and the next build makes it whole.
    files = dict(SHOP)
    files["models/marts/customer_totals.sql"] = (
        "select id, case when id = 2 then error('boom') else 1 end as total from {{ ref('customers') }}\n"
    )
    root, stockx = make_project(files)
    result = stockx("build")
    assert result.exit_code == 1 and "boom" in result.output
    db = root / "target/stockx.duckdb"
    tables = [r[0] for r in query(db, "select table_name from duckdb_tables()")]
    assert "customer_totals" not in tables and not any(t.endswith("__stockx_tmp") for t in tables)
    (root / "models/marts/customer_totals.sql").write_text("select id, 1 as total from {{ ref('customers') }}\n")
    result = stockx("run", "-s", "customer_totals")
    assert result.exit_code == 0 and "OK created table marts.customer_totals" in result.output
    assert query(db, "select id, total from marts.customer_totals order by id") == [(1, 1), (2, 1), (3, 1)]


def test_fail_fast_stops_at_the_first_failure(make_project):
    files = dict(SHOP)
    files["models/staging/aaa_broken.sql"] = "select nope\n"
    root, stockx = make_project(files)
    result = stockx("run", "--fail-fast")
    assert result.exit_code == 1
    assert "ERROR model main.aaa_broken" in result.output
    assert "OK created" not in result.output


INCREMENTAL = {
    "seeds/events.csv": "day,shop,qty\n2025-01-01,a,1\n2025-01-01,b,2\n2025-01-02,a,3\n",
    "models/daily.sql": """
        {{ config(materialized='incremental', unique_key=['day', 'shop']) }}
        select day, shop, sum(qty) as qty, '{{ "incremental" if is_incremental() else "full" }}' as how
        from {{ ref('events') }}
        {% if is_incremental() %}
        where day >= (select max(day) from {{ this }})
        {% endif %}
        group by all
    """,
}


def test_incremental_merges_on_a_composite_key(make_project):
    root, stockx = make_project(INCREMENTAL)
    db = root / "target/stockx.duckdb"
    first = stockx("build")
    assert first.exit_code == 0, first.output
    assert "OK created incremental main.daily" in first.output
    assert query(db, "select count(*), min(how), max(how) from main.daily") == [(3, "full", "full")]

    (root / "seeds/events.csv").write_text(
        "day,shop,qty\n2025-01-01,a,1\n2025-01-01,b,2\n2025-01-02,a,3\n2025-01-02,a,4\n2025-01-03,b,5\n"
    )
    second = stockx("build")
    assert "OK merged incremental main.daily" in second.output
    rows = query(db, "select day::varchar, shop, qty, how from main.daily order by all")
    assert rows == [
        ("2025-01-01", "a", 1, "full"),
        ("2025-01-01", "b", 2, "full"),
        ("2025-01-02", "a", 7, "incremental"),  # the key was replaced, not duplicated
        ("2025-01-03", "b", 5, "incremental"),
    ]

    third = stockx("run", "--full-refresh")
    assert "OK created incremental main.daily" in third.output
    assert query(db, "select count(*), min(how) from main.daily") == [(4, "full")]


def test_full_refresh_config_wins_over_the_flag(make_project):
    files = dict(INCREMENTAL)
    files["models/daily.sql"] = "{{ config(full_refresh=false) }}\n" + INCREMENTAL["models/daily.sql"]
    root, stockx = make_project(files)
    db = root / "target/stockx.duckdb"
    assert stockx("build").exit_code == 0
    (root / "seeds/events.csv").write_text("day,shop,qty\n2025-01-02,a,4\n2025-01-03,b,5\n")
    result = stockx("build", "--full-refresh")
    assert "OK merged incremental main.daily" in result.output
    rows = query(db, "select day::varchar, shop, qty, how from main.daily order by all")
    assert rows == [
        ("2025-01-01", "a", 1, "full"),
        ("2025-01-01", "b", 2, "full"),
        ("2025-01-02", "a", 4, "incremental"),
        ("2025-01-03", "b", 5, "incremental"),
    ]


SCHEMA_CHANGE = {
    "seeds/events.csv": "id,qty\n1,5\n2,6\n",
    "models/inc.sql": """
        {{ config(materialized='incremental', unique_key='id', on_schema_change=var('mode', none)) }}
        select id, qty{{ var('extra', '') }} from {{ ref('events') }}
        {% if is_incremental() %} where id > (select max(id) from {{ this }}) {% endif %}
    """,
}
FIX = "rebuild it with --full-refresh, or set on_schema_change to append_new_columns or sync_all_columns"


def _grow(root):
    (root / "seeds/events.csv").write_text("id,qty\n1,5\n2,6\n3,7\n")


def _failure(result) -> str:
    return next(e for e in map(json.loads, result.output.splitlines()) if e.get("name") == "inc")["message"]


def test_incremental_ignores_new_columns_by_default_as_dbt_does(make_project):
    root, stockx = make_project(SCHEMA_CHANGE)
    assert stockx("build").exit_code == 0
    _grow(root)
    result = stockx("build", "--vars", "{extra: ', 1 as flag'}")
    assert result.exit_code == 0, result.output
    assert query(root / "target/stockx.duckdb", "select * from main.inc order by id") == [(1, 5), (2, 6), (3, 7)]


def test_incremental_on_schema_change_fail_names_each_difference(make_project):
    root, stockx = make_project(SCHEMA_CHANGE)
    assert stockx("build").exit_code == 0
    _grow(root)
    result = stockx("build", "--log-format", "json", "--vars", "{mode: fail, extra: ', 1 as flag'}")
    assert result.exit_code == 1
    assert _failure(result) == (
        "models/inc.sql: on_schema_change='fail': the model's columns differ from main.inc (added flag INTEGER); " + FIX
    )
    assert query(root / "target/stockx.duckdb", "select count(*) from main.inc") == [(2,)]


def test_incremental_append_new_columns_and_sync_all_columns(make_project):
    root, stockx = make_project(SCHEMA_CHANGE)
    db = root / "target/stockx.duckdb"
    assert stockx("build").exit_code == 0
    _grow(root)
    result = stockx("build", "--vars", "{mode: append_new_columns, extra: ', 1 as flag'}")
    assert result.exit_code == 0, result.output
    assert query(db, "select * from main.inc order by id") == [(1, 5, None), (2, 6, None), (3, 7, 1)]

    (root / "models/inc.sql").write_text(
        "{{ config(materialized='incremental', unique_key='id', on_schema_change='sync_all_columns') }}\n"
        "select id, 'x' as flag from {{ ref('events') }} where id = 3\n"
    )
    result = stockx("build")
    assert result.exit_code == 0, result.output
    assert query(db, "select * from main.inc order by id") == [(1, None), (2, None), (3, "x")]


def test_an_incremental_model_that_drops_a_column_is_an_error_not_a_column_of_nulls(make_project):
    files = dict(SCHEMA_CHANGE)
    root, stockx = make_project(files)
    assert stockx("build").exit_code == 0
    _grow(root)
    (root / "models/inc.sql").write_text(
        "{{ config(materialized='incremental', unique_key='id') }}\nselect id from {{ ref('events') }}\n"
    )
    result = stockx("build", "--log-format", "json")
    assert result.exit_code == 1
    assert _failure(result) == "models/inc.sql: the model no longer returns qty, which main.inc has; " + FIX
    assert query(root / "target/stockx.duckdb", "select * from main.inc order by id") == [(1, 5), (2, 6)]


def test_a_unique_key_the_model_does_not_return_is_named(make_project):
    root, stockx = make_project(SCHEMA_CHANGE)
    assert stockx("build").exit_code == 0
    (root / "models/inc.sql").write_text(
        "{{ config(materialized='incremental', unique_key=['id', 'sku']) }}\nselect id, qty from {{ ref('events') }}\n"
    )
    result = stockx("build", "--log-format", "json")
    assert result.exit_code == 1
    assert _failure(result) == (
        "models/inc.sql: unique_key 'sku' is not a column of the model's output (its columns: id, qty); fix the model's config"
    )


def test_incremental_strategies(make_project):
    root, stockx = make_project(SCHEMA_CHANGE)
    db = root / "target/stockx.duckdb"
    assert stockx("build").exit_code == 0
    (root / "models/inc.sql").write_text(
        "{{ config(materialized='incremental', unique_key='id', incremental_strategy='append') }}\n"
        "select id, qty + 10 as qty from {{ ref('events') }} where id = 2\n"
    )
    assert stockx("build").exit_code == 0
    assert query(db, "select * from main.inc order by all") == [(1, 5), (2, 6), (2, 16)]  # append ignores unique_key
    (root / "models/inc.sql").write_text(
        "{{ config(materialized='incremental', unique_key='id', incremental_strategy='merge') }}\n"
        "select id, qty + 20 as qty from {{ ref('events') }} where id = 2\n"
    )
    assert stockx("build").exit_code == 0
    assert query(db, "select * from main.inc order by all") == [(1, 5), (2, 26)]
    (root / "models/inc.sql").write_text(
        "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='day') }}\n"
        "select id, qty from {{ ref('events') }}\n"
    )
    result = stockx("build", "--log-format", "json")
    assert result.exit_code == 1
    assert _failure(result) == (
        "models/inc.sql: incremental_strategy='microbatch' is not supported by stockx; use append, delete+insert, merge, "
        "replace_window (merge and delete+insert replace the rows of each unique_key, append adds every row, "
        "replace_window replaces every row dated in the window)"
    )
    assert query(db, "select * from main.inc order by all") == [(1, 5), (2, 26)]


def test_ref_to_nothing_names_file_line_and_close_names(make_project):
    files = dict(SHOP)
    files["models/marts/bad.sql"] = "-- totals\nselect *\nfrom {{ ref('stg_ordrs') }}\n"
    root, stockx = make_project(files)
    result = stockx("build")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: models/marts/bad.sql:3: ref('stg_ordrs') not found; did you mean 'stg_orders' or 'orders'?\n"
    )


def test_a_cycle_is_named(make_project):
    root, stockx = make_project(
        {"models/a.sql": "select * from {{ ref('b') }}\n", "models/b.sql": "select * from {{ ref('a') }}\n"}
    )
    result = stockx("run")
    assert result.exit_code == 2
    assert result.stderr == "Error: dependency cycle: a -> b -> a\n"


def test_duplicate_names_name_both_files(make_project):
    root, stockx = make_project({"models/x/dup.sql": "select 1\n", "models/y/dup.sql": "select 2\n"})
    result = stockx("ls")
    assert result.exit_code == 2
    assert result.stderr == "Error: two nodes are named 'dup': models/x/dup.sql and models/y/dup.sql; rename one of them\n"


def test_jinja_syntax_error_names_file_and_line(make_project):
    root, stockx = make_project({"models/m.sql": "select 1\n{% if %}\nselect 2\n"})
    result = stockx("compile")
    assert result.exit_code == 2
    assert result.stderr == "Error: models/m.sql:2: Jinja syntax error: Expected an expression, got 'end of statement block'\n"


def test_errors_inside_macros_name_the_model_line_and_the_macro_line(make_project):
    root, stockx = make_project(
        {
            "macros/m.sql": "{% macro boom() %}\n{{ exceptions.raise_compiler_error('no such thing') }}\n{% endmacro %}\n",
            "models/m.sql": "select 1\n\n{{ boom() }}\n",
        }
    )
    result = stockx("ls")
    assert result.stderr == "Error: models/m.sql:3: no such thing (in macros/m.sql:2)\n"


def test_a_missing_var_is_named(make_project):
    root, stockx = make_project({"models/m.sql": "select {{ var('region') }}\n"})
    result = stockx("ls")
    assert result.stderr == (
        "Error: models/m.sql:1: var('region') is not set and has no default: set it in [tool.stockx.vars] "
        "or pass --vars '{region: ...}' (while rendering models/m.sql)\n"
    )


def test_context_functions(make_project, monkeypatch):
    monkeypatch.setenv("STOCKX_TEST_REGION", "eu")
    root, stockx = make_project(
        {
            "models/ctx.sql": """
                {{ config(alias='context_values', tags=['x']) }}
                select '{{ env_var('STOCKX_TEST_REGION') }}' as region,
                       '{{ env_var('STOCKX_TEST_MISSING', 'fallback') }}' as fallback,
                       '{{ target.name }}' as target_name,
                       '{{ target.schema }}' as target_schema,
                       '{{ this }}' as this_relation,
                       '{{ config.get('alias') }}' as alias
                {{ log('rendering ctx', info=True) }}
            """
        }
    )
    result = stockx("run")
    assert result.exit_code == 0, result.output
    assert "rendering ctx" in result.output
    assert query(root / "target/stockx.duckdb", "select * from main.context_values") == [
        ("eu", "fallback", "dev", "main", "main.context_values", "context_values")
    ]


def test_sources_resolve_to_relations_or_to_external_files(make_project, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "part-1.csv").write_text("sku,qty\nA,1\n")
    (data / "part-2.csv").write_text("sku,qty\nB,2\n")
    root, stockx = make_project(
        {
            "seeds/raw_stock.csv": "sku,qty\nZ,9\n",
            "models/sources.yml": """
                version: 2
                sources:
                  - name: wms
                    schema: main
                    tables:
                      - name: stock
                        identifier: raw_stock
                        external_location: >-
                          {%- if var('stock_path', '') -%}
                          read_csv('{{ var("stock_path") }}', all_varchar = true)
                          {%- endif -%}
            """,
            "models/stock.sql": "select sku, qty from {{ source('wms', 'stock') }}\n",
        }
    )
    assert stockx("build").exit_code == 0
    db = root / "target/stockx.duckdb"
    assert query(db, "select * from main.stock") == [("Z", 9)]
    result = stockx("run", "--vars", f"{{stock_path: '{data}/part-*.csv'}}")
    assert result.exit_code == 0, result.output
    assert query(db, "select sku, qty from main.stock order by sku") == [("A", "1"), ("B", "2")]


def test_unknown_source_suggests_the_declared_one(make_project):
    root, stockx = make_project(
        {
            "models/s.yml": "sources:\n  - name: wms\n    tables:\n      - name: stock\n",
            "models/m.sql": "select * from {{ source('wms', 'stocks') }}\n",
        }
    )
    result = stockx("ls")
    assert result.stderr == "Error: models/m.sql:1: source('wms', 'stocks') not found; did you mean 'wms.stock'?\n"


def test_seed_options_and_a_bad_seed_line(make_project):
    root, stockx = make_project(
        {
            "seeds/codes.csv": "code;label\n007;James\n010;Ten\n",
            "seeds/props.yml": """
                seeds:
                  - name: codes
                    config:
                      delimiter: ";"
                      column_types: {code: varchar}
            """,
        }
    )
    assert stockx("seed").exit_code == 0
    assert query(root / "target/stockx.duckdb", "select * from main.codes order by 1") == [("007", "James"), ("010", "Ten")]
    (root / "seeds/codes.csv").write_text("code;label\n007;James\n010;Ten;extra;columns\n")
    result = stockx("seed")
    assert result.exit_code == 1
    assert "ERROR seed main.codes" in result.output
    assert "seeds/codes.csv:" in result.output
    # the previous load is kept whole
    assert query(root / "target/stockx.duckdb", "select count(*) from main.codes") == [(2,)]


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "id,name\n1,Ann\n2,Bob,extra\n",
            "seeds/people.csv:3: row has 3 values but the header has 2 columns: `2,Bob,extra`; "
            "quote values that contain ',', or set the seed's delimiter",
        ),
        (
            "id,name\n1\n",
            "seeds/people.csv:2: row has 1 values but the header has 2 columns: `1`; "
            "quote values that contain ',', or set the seed's delimiter",
        ),
        # ' is not a quote: sniffed as one, this row would load as 2 values
        (
            "id,name\n1,'Ann, B'\n",
            "seeds/people.csv:2: row has 3 values but the header has 2 columns: `1,'Ann, B'`; "
            "quote values that contain ',', or set the seed's delimiter",
        ),
        ('id,name\n1,"Ann\n', 'seeds/people.csv:2: a quoted value starting on this line is never closed: `1,"Ann`; check the quotes'),
        ("", "seeds/people.csv: the file is empty; a seed needs a header line naming its columns"),
        ("\ufeff\n", "seeds/people.csv: the file is empty; a seed needs a header line naming its columns"),
    ],
)
def test_a_seed_that_does_not_parse_is_an_error_naming_the_line(make_project, text, message):
    root, stockx = make_project({"seeds/people.csv": text, "seeds/ok.csv": "a\n1\n"})
    result = stockx("seed", "--log-format", "json")
    assert result.exit_code == 1
    events = {e.get("name"): e for e in map(json.loads, result.output.splitlines())}
    assert events["people"]["status"] == "error"
    assert events["people"]["message"] == message
    assert events["ok"]["status"] == "success"


def test_seeds_read_quotes_and_a_byte_order_mark(make_project):
    root, stockx = make_project(
        {
            "seeds/people.csv": '\ufeffid,name\n1,"Ann, B"\n2,"say ""hi"""\n3,it\'s\n4,\n',
            "seeds/only_header.csv": "a,b\n",
        }
    )
    assert stockx("seed").exit_code == 0
    db = root / "target/stockx.duckdb"
    assert query(db, "select * from main.people order by id") == [(1, "Ann, B"), (2, 'say "hi"'), (3, "it's"), (4, None)]
    assert query(db, "select column_name from information_schema.columns where table_name = 'only_header'") == [
        ("a",),
        ("b",),
    ]
    assert query(db, "select count(*) from main.only_header") == [(0,)]


def test_json_log_format_and_quiet(make_project):
    root, stockx = make_project(SHOP)
    result = stockx("build", "--log-format", "json")
    events = [json.loads(line) for line in result.output.splitlines()]
    finished = [e for e in events if e["event"] == "node_finished"]
    assert [e["name"] for e in finished] == ["customers", "orders", "stg_orders", "customer_totals", "revenue"]
    assert finished[3]["relation"] == "marts.customer_totals" and finished[3]["rows"] == 2
    assert events[-1]["event"] == "run_finished" and events[-1]["success"] is True
    quiet = stockx("build", "--quiet")
    assert quiet.exit_code == 0 and quiet.output == ""


def test_quiet_keeps_warnings_and_the_verdict_and_json_marks_them_as_warnings(make_project):
    """Review finding 12: with --quiet a build that warned printed nothing, and in JSON a
    warning was an info line (so --quiet dropped it too): the README's cron line hid the
    warnings its alerting advice relies on."""
    root, stockx = make_project({
        **SHOP,
        "tests/sql/warn_small_orders.sql": """
            {{ config(severity='warn') }}
            select * from {{ ref('stg_orders') }} where amount_cents < 500
        """,
    })
    quiet = stockx("build", "--quiet")
    assert quiet.exit_code == 0
    lines = quiet.output.splitlines()
    assert [line.split(" ", 2)[2].split(" ..")[0] for line in lines if " of " in line] == [
        "4 of 6 WARN warn_small_orders"]
    assert lines[-5:] == [
        "Warning in test warn_small_orders (tests/sql/warn_small_orders.sql)",
        "  Got 1 result, configured to warn if != 0",
        "  compiled SQL: target/compiled/tests/sql/warn_small_orders.sql",
        "",
        "Done. PASS=5 WARN=1 ERROR=0 SKIP=0 TOTAL=6",
    ]
    for args in ((), ("--quiet",)):
        events = [json.loads(line) for line in stockx("build", "--log-format", "json", *args).output.splitlines()]
        warned = [e for e in events if e["level"] == "warn"]
        assert [(e["event"], e.get("name")) for e in warned] == [("node_finished", "warn_small_orders"),
                                                                ("run_finished", None)]
        if args:
            assert events == warned


def test_show_ls_compile_and_clean(make_project):
    root, stockx = make_project(SHOP)
    stockx("build")
    shown = stockx("show", "-s", "customer_totals", "--limit", "1")
    assert shown.output.splitlines()[0] == "| id | name | total |"
    assert len(shown.output.splitlines()) == 3
    inline = stockx("show", "--inline", "select count(*) as n from {{ ref('orders') }}")
    assert inline.output.splitlines()[2] == "| 3 |"
    names = stockx("ls", "--output", "name", "--resource-type", "model").output.split()
    assert names == ["eph_customers", "stg_orders", "customer_totals", "revenue"]  # ephemerals listed, as dbt ls does
    compiled = stockx("compile", "-s", "customer_totals")
    assert compiled.stdout == "target/compiled/models/marts/customer_totals.sql\n"
    cleaned = stockx("clean")
    assert cleaned.exit_code == 0 and not (root / "target").exists()


@pytest.mark.parametrize("command", ["build", "run", "seed", "test", "compile", "ls", "show", "clean"])
def test_every_command_has_help_and_the_project_options(command):
    from click.testing import CliRunner

    from stockx_export.cli import cli

    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    for option in ("--project-dir", "--vars", "--database"):
        assert option in result.output
    first = result.output.split("\n\n")[1].strip()
    assert first and not first.startswith("Options")


def test_not_a_project(tmp_path):
    from click.testing import CliRunner

    from stockx_export.cli import cli

    result = CliRunner().invoke(cli, ["ls", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {tmp_path} is not a stockx project: add a [tool.stockx] table to pyproject.toml "
        "(or run from a dbt project with dbt_project.yml)\n"
    )


def test_the_tests_of_a_failed_model_are_skipped_not_run_on_the_old_table(make_project):
    files = dict(SHOP)
    files["models/marts/props.yml"] = """
        models:
          - name: customer_totals
            columns:
              - name: id
                data_tests: [not_null, unique]
    """
    root, stockx = make_project(files)
    assert stockx("build").exit_code == 0  # the table exists from now on
    (root / "models/marts/customer_totals.sql").write_text("select nope from {{ ref('customers') }}\n")
    result = stockx("build")
    assert result.exit_code == 1
    assert "ERROR model marts.customer_totals" in result.output
    assert "SKIP test not_null_customer_totals_id" in result.output
    assert "SKIP test unique_customer_totals_id" in result.output
    assert "PASS" not in "".join(line for line in result.output.splitlines() if "customer_totals_id" in line)


def test_show_prints_control_characters_escaped_one_row_per_line(make_project):
    root, stockx = make_project({})
    result = stockx("show", "--inline", "select 'a' || chr(10) || 'b' || chr(9) || chr(27) || '[31m' as v")
    assert result.exit_code == 0, result.output
    cell = "a\\nb\\t\\x1b[31m"
    assert result.stdout == f"| {'v'.ljust(len(cell))} |\n|{'-' * (len(cell) + 2)}|\n| {cell} |\n"


def test_show_escapes_whatever_would_break_the_table(make_project):
    """A pipe would split a cell, C1 controls (CSI) and Unicode line separators
    break the terminal line, bidirectional overrides reorder it; a column name
    can hold them too."""
    root, stockx = make_project({})
    sql = ("select 'a|b' as \"x|y\", 'c' || chr(155) || '2J' || chr(8232) || 'd' as v, "
           "chr(8238) || 'evil' as w")
    result = stockx("show", "--inline", sql)
    assert result.exit_code == 0, result.output
    header, row = ["x\\|y", "v", "w"], ["a\\|b", "c\\x9b2J\\u2028d", "\\u202eevil"]
    widths = [max(len(h), len(c)) for h, c in zip(header, row)]
    assert result.stdout.splitlines() == [
        "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |",
    ]


def test_show_aligns_wide_characters_by_the_columns_they_take(make_project):
    root, stockx = make_project({})
    result = stockx("show", "--inline", "select * from (values ('日本', 1), ('abcd', 2), ('e\u0301', 3)) t(name, n)")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "| name | n |",
        "|------|---|",
        "| 日本 | 1 |",
        "| abcd | 2 |",
        "| e\u0301    | 3 |",
    ]


def test_a_database_folder_that_cannot_be_made_is_a_project_error(make_project, tmp_path):
    root, stockx = make_project({"models/a.sql": "select 1 as a\n"})
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    result = stockx("run", "--database", str(blocker / "x.duckdb"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: cannot create the folder of database {blocker / 'x.duckdb'}: File exists; pass another --database\n"
    )


@pytest.mark.parametrize(
    "path",
    ["models/m.sql", "models/props.yml", "macros/m.sql", "tests/sql/t.sql"],
)
def test_a_file_that_is_not_utf8_is_named_with_its_line(make_project, path):
    root, stockx = make_project({"models/ok.sql": "select 1 as a\n"})
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"select 1 as a,\n 'caf\xe9' as b\n")
    result = stockx("ls")
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}:2: byte 0xe9 is not UTF-8; save the file as UTF-8\n"


def test_a_seed_that_is_not_utf8_is_named_with_its_line(make_project):
    root, stockx = make_project({})
    (root / "seeds").mkdir()
    (root / "seeds/s.csv").write_bytes(b"a,b\n1,caf\xe9\n")
    result = stockx("seed", "--log-format", "json")
    assert result.exit_code == 1
    event = next(e for e in map(json.loads, result.output.splitlines()) if e.get("name") == "s")
    assert event["message"] == "seeds/s.csv:2: byte 0xe9 is not UTF-8: `1,caf\\xe9`; save the file as UTF-8"


@pytest.mark.parametrize("command", ["run", "compile"])
def test_a_target_folder_that_cannot_be_made_is_a_project_error(make_project, command):
    root, stockx = make_project(
        {"pyproject.toml": '[tool.stockx]\nname = "demo"\ndatabase = ":memory:"\n', "models/a.sql": "select 1 as a\n"}
    )
    (root / "target").write_text("")
    result = stockx(command)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: cannot create the target folder {root / 'target'}: File exists; remove what is in the way or set target-path\n"
    )


@pytest.mark.parametrize(
    "yml, error",
    [
        (
            "models:\n  - name: a\n    config: 5\n",
            "Error: models/p.yml: the config of 'a' must be a mapping of settings (key: value), got 5\n",
        ),
        (
            "sources:\n  - name: s\n    tables:\n      - name: t\n        config: [1]\n",
            "Error: models/p.yml: the config of source table 's.t' must be a mapping of settings (key: value), got [1]\n",
        ),
    ],
)
def test_a_config_that_is_not_a_mapping_is_named(make_project, yml, error):
    root, stockx = make_project({"models/a.sql": "select 1 as a\n", "models/p.yml": "version: 2\n" + yml})
    result = stockx("ls")
    assert result.exit_code == 2
    assert result.stderr == error


def test_a_project_error_with_json_logs_is_a_json_event(make_project):
    root, stockx = make_project({"models/m.sql": "select * from {{ ref('nope') }}\n"})
    result = stockx("build", "--log-format", "json")
    assert result.exit_code == 2
    event = json.loads(result.stderr)
    assert event["event"] == "error" and event["level"] == "error" and event["exit_code"] == 2
    assert event["message"] == "models/m.sql:1: ref('nope') not found; no model or seed has that name"


def test_one_row_is_one_row(make_project):
    root, stockx = make_project({"seeds/one.csv": "id\n1\n"})
    assert "[1 row in " in stockx("seed").output


def test_a_failed_seed_skips_the_models_reading_it_through_a_source(make_project):
    root, stockx = make_project(
        {
            "seeds/raw_stock.csv": "sku,qty\nA,1\n",
            "models/sources.yml": """
                sources:
                  - name: wms
                    schema: main
                    tables:
                      - name: stock
                        identifier: raw_stock
            """,
            "models/stock.sql": "select sku, qty from {{ source('wms', 'stock') }}\n",
            "models/zz_unrelated.sql": "select 1 as one\n",
        }
    )
    (root / "seeds/raw_stock.csv").write_text("sku,qty\nA,1,extra\n")
    result = stockx("build")
    assert result.exit_code == 1
    assert "ERROR seed main.raw_stock" in result.output
    assert "SKIP model main.stock" in result.output
    assert "OK created view main.zz_unrelated" in result.output
