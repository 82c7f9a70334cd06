"""Static checks before anything runs: syntax, direct reads, contract columns (exact messages)."""

from __future__ import annotations

from pathlib import Path

from conftest import query
from stockx_export.analysis.parse import parse_sql, source_line

ORDERS = {"seeds/orders.csv": "id,amount,status\n1,10,paid\n2,20,open\n"}


def test_syntax_error_names_the_source_line_and_the_compiled_file(make_project):
    root, stockx = make_project(
        {
            **ORDERS,
            "models/totals.sql": """
                {{ config(materialized='table') }}

                select
                    id,,
                    amount
                from {{ ref('orders') }}
            """,
        }
    )
    result = stockx("build")
    assert result.exit_code == 2
    assert result.output == (
        "Error: static checks found 1 problem:\n"
        '  models/totals.sql:4: Parser Error: syntax error at or near "," '
        "(compiled SQL: target/compiled/models/totals.sql:4)\n"
    )
    assert "id,," in (root / "target/compiled/models/totals.sql").read_text()
    # Nothing ran: not even the seed was loaded.
    assert query(root / "target/stockx.duckdb", "select count(*) from duckdb_tables()") == [(0,)]


def test_syntax_error_in_macro_output_names_the_compiled_line_only(make_project):
    root, stockx = make_project(
        {
            **ORDERS,
            "macros/broken.sql": "{% macro broken() %}(amount +){% endmacro %}\n",
            "models/totals.sql": "select id, {{ broken() }} as twice from {{ ref('orders') }}\n",
        }
    )
    result = stockx("check")
    assert result.exit_code == 2
    assert result.output == (
        "Error: static checks found 1 problem:\n"
        '  models/totals.sql: Parser Error: syntax error at or near ")" '
        "(compiled SQL: target/compiled/models/totals.sql:1)\n"
    )


def test_direct_read_is_an_error_naming_table_model_and_the_ref_to_use(make_project):
    _, stockx = make_project({**ORDERS, "models/paid.sql": "select id\nfrom main.orders\nwhere status = 'paid'\n"})
    result = stockx("run")
    assert result.exit_code == 2
    assert result.output == (
        "Error: static checks found 1 problem:\n"
        "  models/paid.sql:2: reads main.orders directly, so stockx cannot see the dependency; "
        "use {{ ref('orders') }} instead\n"
    )


def test_direct_read_of_a_source_table_suggests_the_source(make_project):
    _, stockx = make_project(
        {
            **ORDERS,
            "models/sources.yml": """
                version: 2
                sources:
                  - name: shop
                    schema: main
                    tables:
                      - name: payments
                        identifier: raw_payments
            """,
            "models/paid.sql": "select * from raw_payments\n",
            "models/unknown.sql": "select * from elsewhere.things\n",
        }
    )
    result = stockx("check")
    assert result.output == (
        "Error: static checks found 2 problems:\n"
        "  models/paid.sql:1: reads raw_payments directly, so stockx cannot see the dependency; "
        "use {{ source('shop', 'payments') }} instead\n"
        "  models/unknown.sql:1: reads elsewhere.things directly, so stockx cannot see the dependency; "
        "declare it as a source in a property file and read it with {{ source(...) }}\n"
    )


def test_direct_reads_can_be_made_a_warning(make_project):
    root, stockx = make_project(
        {
            "pyproject.toml": '[tool.stockx]\nname = "demo"\ndirect-reads = "warn"\n',
            **ORDERS,
            "models/everything.sql": "{{ config(materialized='table') }}\nselect * from {{ ref('orders') }}\n",
            "models/paid.sql": "{{ config(materialized='table') }}\nselect id from main.everything\n",
        }
    )
    result = stockx("check")
    assert result.exit_code == 0
    assert result.output == (
        "Warning: models/paid.sql:2: reads main.everything directly, so stockx cannot see the dependency; "
        "use {{ ref('everything') }} instead\n"
        "All checks passed: 2 models.\n"
    )


def test_an_invalid_direct_reads_setting_is_refused(make_project):
    _, stockx = make_project(
        {"pyproject.toml": '[tool.stockx]\nname = "demo"\ndirect-reads = "ignore"\n', **ORDERS, "models/a.sql": "select 1 as x\n"}
    )
    result = stockx("check")
    assert result.exit_code == 2
    assert result.output == (
        'Error: pyproject.toml: [tool.stockx] direct-reads = "ignore" is not valid; use "error" or "warn"\n'
    )


CONTRACT_YAML = """
    version: 2
    models:
      - name: contracted
        config:
          contract:
            enforced: true
        columns:
          - name: id
            data_type: bigint
          - name: amount
            data_type: bigint
          - name: total
            data_type: bigint
"""


def test_contract_columns_missing_or_added_fail_before_running(make_project):
    root, stockx = make_project(
        {
            **ORDERS,
            "models/schema.yml": CONTRACT_YAML,
            # SELECT * is expanded from the seed's columns: id, amount, status.
            "models/contracted.sql": "{{ config(materialized='table') }}\nselect *, amount * 2 as doubled\nfrom {{ ref('orders') }}\n",
        }
    )
    result = stockx("build")
    assert result.exit_code == 2
    assert result.output == (
        "Error: static checks found 3 problems:\n"
        "  models/contracted.sql: contract column 'total' (models/schema.yml) is not in the model's output; "
        "the SQL returns: id, amount, status, doubled\n"
        "  models/contracted.sql: the model returns column 'status', which its contract (models/schema.yml) "
        "does not list; add it there or remove it from the SQL\n"
        "  models/contracted.sql: the model returns column 'doubled', which its contract (models/schema.yml) "
        "does not list; add it there or remove it from the SQL\n"
    )


def test_contract_matching_the_inferred_columns_passes(make_project):
    _, stockx = make_project(
        {
            **ORDERS,
            "models/schema.yml": CONTRACT_YAML,
            "models/staged.sql": "select * exclude (status) from {{ ref('orders') }}\n",
            "models/contracted.sql": "select *, amount as total from {{ ref('staged') }}\n",
        }
    )
    result = stockx("check")
    assert result.output == "All checks passed: 2 models.\n"
    assert result.exit_code == 0


def test_a_cached_contract_check_is_redone_when_an_upstream_model_changes(make_project):
    root, stockx = make_project(
        {
            **ORDERS,
            "models/schema.yml": CONTRACT_YAML,
            "models/staged.sql": "select * exclude (status) from {{ ref('orders') }}\n",
            "models/contracted.sql": "select *, amount as total from {{ ref('staged') }}\n",
        }
    )
    assert stockx("build").exit_code == 0
    # Both models, the contracted one included, are remembered as clean and not parsed again.
    import json

    assert len(json.loads((root / "target/check_cache.json").read_text())["clean"]) == 2
    # contracted.sql is unchanged, but what its SELECT * expands to is not.
    (root / "models/staged.sql").write_text("select * from {{ ref('orders') }}\n")
    result = stockx("build")
    assert result.exit_code == 2
    assert result.output == (
        "Error: static checks found 1 problem:\n"
        "  models/contracted.sql: the model returns column 'status', which its contract (models/schema.yml) "
        "does not list; add it there or remove it from the SQL\n"
    )


def test_the_sample_project_passes_every_check(tmp_path):
    from analysis_sample import copy_sample
    from conftest import Invoker

    result = Invoker(copy_sample(tmp_path / "sample"))("check")
    assert result.output == "All checks passed: 10 models.\n"


def test_sql_duckdb_accepts_but_sqlglot_cannot_read_is_only_a_warning():
    parsed = parse_sql("select ((", path="models/m.sql", raw="select ((", compiled_path="c.sql", check_syntax=lambda sql: None)
    assert parsed.expression is None
    assert parsed.problem.level == "warn"
    assert str(parsed.problem).startswith("models/m.sql: stockx cannot analyse this SQL (sqlglot: ")
    assert str(parsed.problem).endswith("); column checks and lineage skip it")


def test_source_line_counts_repeated_lines():
    raw = "{{ config(x=1) }}\nselect\n  a,\n{% if true %}\n  a,\n{% endif %}\n  b\n"
    compiled = "\nselect\n  a,\n\n  a,\n\n  b\n"
    assert source_line(raw, compiled, 3) == 3
    assert source_line(raw, compiled, 5) == 5
    assert source_line(raw, compiled, 1) is None


def test_what_an_ephemeral_model_reads_is_not_a_direct_read(make_project):
    _, stockx = make_project(
        {
            **ORDERS,
            "models/sources.yml": """
                version: 2
                sources:
                  - name: shop
                    schema: main
                    tables:
                      - name: orders
            """,
            "models/recent.sql": "{{ config(materialized='ephemeral') }}\nselect * from {{ source('shop', 'orders') }}\n",
            "models/staged.sql": "{{ config(materialized='ephemeral') }}\nselect * from {{ ref('recent') }}\n",
            "models/paid.sql": "select id from {{ ref('staged') }} where status = 'paid'\n",
        }
    )
    result = stockx("check")
    assert result.output == "All checks passed: 1 model.\n"


def test_a_file_source_without_yaml_columns_is_described_by_duckdb(make_project, tmp_path):
    data = tmp_path / "things.csv"
    data.write_text("a,b\n1,x\n")
    sources = f"""
version: 2
sources:
  - name: raw
    schema: main
    tables:
      - name: things
        external_location: "read_csv('{data}')"
"""
    root, stockx = make_project({"models/src.yml": sources, "models/m.sql": "select b, a from {{ source('raw', 'things') }}\n"})
    result = stockx("lineage", "m")
    assert result.exit_code == 0, result.output
    assert result.output == "m.b\n└── source raw.things.b\n\nm.a\n└── source raw.things.a\n"
