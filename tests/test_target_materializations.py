"""Materializations on PostgreSQL and Spark: incremental strategies by key, views over replaced tables,
ephemeral models, contracts that leave the old table, unit tests in a schema of their own.

Each test builds a small project twice on a real server (one Postgres cluster, one Spark session per test
session) and reads the tables back through the target's adapter.
"""

from __future__ import annotations

import uuid

import pytest

from conftest import dsn_settings
from stockx_export import adapters
from stockx_export.run.projects import load_config

ORDERS_1 = "id,amount,day\n1,10,2026-11-01\n2,20,2026-11-01\n3,30,2026-11-02\n"
ORDERS_2 = "id,amount,day\n2,25,2026-11-01\n3,,2026-11-02\n4,40,2026-11-03\n"
SEEDS_YML = """
version: 2
seeds:
  - name: raw_orders
    config:
      column_types: {id: bigint, amount: bigint, day: date}
"""


def _project(make_project, targets: str, strategy: str):
    return make_project({
        "pyproject.toml": '[tool.stockx]\nname = "demo"\n' + targets,
        "seeds/raw_orders.csv": ORDERS_1,
        "seeds/seeds.yml": SEEDS_YML,
        "models/orders_base.sql": "{{ config(materialized='ephemeral') }}\nselect id, amount, day from {{ ref('raw_orders') }}\n",
        "models/orders.sql": (
            f"{{{{ config(materialized='incremental', unique_key='id', incremental_strategy='{strategy}') }}}}\n"
            "select id, amount, day from {{ ref('orders_base') }}\n"
        ),
        "models/orders_view.sql": "{{ config(materialized='view') }}\nselect id, amount * 2 as doubled from {{ ref('raw_orders') }}\n",
        "models/_models.yml": """
            version: 2
            models:
              - name: orders
                config: {contract: {enforced: true}}
                columns:
                  - {name: id, data_type: bigint, constraints: [not_null]}
                  - {name: amount, data_type: bigint}
                  - {name: day, data_type: date}
            unit_tests:
              - name: orders_pass_rows_through
                model: orders
                given:
                  - input: ref('raw_orders')
                    rows: [{id: 7, amount: 70, day: '2026-11-05'}]
                expect:
                  rows: [{id: 7, amount: 70}]
        """,
    })


def _rows(root, target: str, sql: str) -> list[tuple]:
    config = load_config(root, target=target)
    with adapters.connect(config.target) as adapter:
        return sorted(adapter.query(sql.format(schema=config.target.schema)).rows, key=repr)


def _build_twice_and_check(root, stockx, target: str, strategy: str) -> None:
    first = stockx("build", "--target", target)
    assert first.exit_code == 0, first.output
    (root / "seeds" / "raw_orders.csv").write_text(ORDERS_2)
    second = stockx("build", "--target", target)
    assert second.exit_code == 0, second.output
    # The seed was replaced: the view over it was dropped with it and made again, reading the new rows.
    assert _rows(root, target, "select id, doubled from {schema}.orders_view") == [(2, 50), (3, None), (4, 80)]
    expected = {
        "merge": [(1, 10), (2, 25), (3, None), (4, 40)],
        "delete+insert": [(1, 10), (2, 25), (3, None), (4, 40)],
        "append": [(1, 10), (2, 20), (2, 25), (3, None), (3, 30), (4, 40)],
    }[strategy]
    assert _rows(root, target, "select id, amount from {schema}.orders") == sorted(expected, key=repr)
    # A contract broken on the next build leaves the table as it was.
    (root / "seeds" / "raw_orders.csv").write_text("id,amount,day\n,1,2026-11-04\n")
    assert stockx("seed", "--target", target).exit_code == 0
    broken = stockx("run", "--target", target, "-s", "orders", "--full-refresh")
    assert broken.exit_code == 1
    assert "contract of orders not met (1 problem); " in broken.output
    assert "constraint not_null (id): 1 row has a null" in broken.output
    assert _rows(root, target, "select id, amount from {schema}.orders") == sorted(expected, key=repr)


def test_postgres_builds_incremental_models_by_key_views_and_ephemeral_models(make_project, postgres_dsn):
    import psycopg

    settings = dsn_settings(postgres_dsn)
    for strategy in ("merge", "delete+insert", "append"):
        schema = f"m_{uuid.uuid4().hex[:8]}"
        targets = (f'[tool.stockx.targets.pg]\ntype = "postgres"\nhost = "{settings["host"]}"\n'
                   f'port = {settings["port"]}\nuser = "{settings["user"]}"\ndbname = "postgres"\nschema = "{schema}"\n')
        root, stockx = _project(make_project, targets, strategy)
        _build_twice_and_check(root, stockx, "pg", strategy)
    with psycopg.connect(postgres_dsn + " dbname=postgres") as con:
        # Unit tests ran in throwaway schemas, dropped after.
        left = con.execute("select nspname from pg_namespace where nspname like 'stockx_unit_%'").fetchall()
    assert left == []


@pytest.mark.parametrize("strategy", ["merge"])
def test_spark_rebuilds_the_keys_of_an_incremental_model_and_swaps_the_table_in(make_project, spark_session, strategy):
    schema = f"m_{uuid.uuid4().hex[:8]}"
    root, stockx = _project(make_project, f'[tool.stockx.targets.spark]\ntype = "spark"\nschema = "{schema}"\n', strategy)
    _build_twice_and_check(root, stockx, "spark", strategy)
    tables = {row.tableName for row in spark_session.sql(f"show tables in {schema}").collect()}
    assert tables == {"raw_orders", "orders", "orders_view"}  # no __stockx_new / __stockx_tmp left behind
    assert spark_session.sql("show tables in global_temp").collect() == []  # unit-test fixtures dropped


@pytest.mark.parametrize("threads", ["1", "2"])
def test_postgres_nodes_after_a_hook_that_drops_their_schema_create_it_again(make_project, postgres_dsn, threads):
    import psycopg

    # The run creates its schemas up front and its nodes skip `create schema`: a hook's SQL may drop one,
    # and on PostgreSQL as on DuckDB the nodes after it must create it again rather than fail.
    settings = dsn_settings(postgres_dsn)
    schema = f"h_{uuid.uuid4().hex[:8]}"
    _, stockx = make_project({
        "pyproject.toml": "[project]\nname = 'not-stockx'\n",
        "dbt_project.yml": "name: shop\nprofile: shop\nconfig-version: 2\n",
        "profiles.yml": (f"shop:\n  target: pg\n  outputs:\n    pg: {{type: postgres, host: '{settings['host']}', "
                         f"port: {settings['port']}, user: {settings['user']}, dbname: postgres, schema: {schema}}}\n"),
        "models/totals.sql": "{{ config(schema='m') }}\nselect 1 as id\n",
        "models/second.sql": (f"{{{{ config(schema='m', pre_hook='drop schema if exists {schema}_m cascade') }}}}\n"
                              "-- depends_on: {{ ref('totals') }}\nselect 2 as id\n"),
        "models/third.sql": "{{ config(schema='m') }}\nselect id from {{ ref('second') }}\n",
    })
    result = stockx("run", "--threads", threads)
    assert result.exit_code == 0, result.output
    with psycopg.connect(postgres_dsn + " dbname=postgres") as con:
        assert con.execute(f"select id from {schema}_m.third").fetchall() == [(2,)]
        # totals went with the schema; second and third were built in it again
        assert con.execute("select table_name from information_schema.tables where table_schema = %s "
                           "order by table_name", [f"{schema}_m"]).fetchall() == [("second",), ("third",)]
