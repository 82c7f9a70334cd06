"""Enforced model contracts on real DuckDB files: a mismatch fails the model and keeps the old table."""

from __future__ import annotations

import json

import pytest

from conftest import node_results, query
from stockx_export.adapters.duckdb import DuckDBAdapter
from stockx_export.core.config import TargetConfig
from stockx_export.core.nodes import Column, Node
from stockx_export.run.testing.contracts import contract_differences


@pytest.fixture(scope="module")
def adapter():
    with DuckDBAdapter.connect(TargetConfig()) as opened:
        yield opened

CONTRACT = """
    version: 2
    models:
      - name: facts
        config: {contract: {enforced: true}}
        columns:
          - {name: id, data_type: int8, constraints: [{type: primary_key}]}
          - {name: name, data_type: text, constraints: [not_null]}
          - {name: amount, data_type: float8}
          - {name: booked_on, data_type: date}
"""
GOOD_SQL = """
    {{ config(materialized='table') }}
    select id, name, amount::double as amount, date '2026-11-20' as booked_on from {{ ref('src') }}
"""
PROJECT = {
    "pyproject.toml": '[tool.stockx]\nname = "ct"\ndatabase = "target/ct.duckdb"\n',
    "seeds/src.csv": "id,name,amount\n1,a,5\n2,b,7\n",
    "models/_models.yml": CONTRACT,
    "models/facts.sql": GOOD_SQL,
}


def model_message(root) -> str:
    results = node_results(root)
    return next(r["message"] for r in results if r["name"] == "facts")


@pytest.fixture
def built(make_project):
    root, stockx = make_project(PROJECT)
    result = stockx("build")
    assert result.exit_code == 0, result.output
    return root, stockx


def rows_and_types(root):
    db = root / "target" / "ct.duckdb"
    return query(db, "select * from facts order by id"), query(db, "select column_name, column_type from (describe facts)")


def test_a_matching_contract_builds_with_type_aliases(built):
    root, _ = built
    rows, types = rows_and_types(root)
    assert types == [("id", "BIGINT"), ("name", "VARCHAR"), ("amount", "DOUBLE"), ("booked_on", "DATE")]
    assert len(rows) == 2


def test_type_and_order_differences_are_listed_and_the_previous_table_stays(built):
    root, stockx = built
    before = rows_and_types(root)
    (root / "models/facts.sql").write_text(
        "{{ config(materialized='table') }}\n"
        "select name, id::integer as id, amount::decimal(10,2) as amount, timestamp '2026-11-20 08:00' as booked_on, "
        "from {{ ref('src') }}\n"
    )
    result = stockx("build")
    assert result.exit_code == 1
    assert model_message(root) == (
        "models/facts.sql: contract of facts not met (4 problems); main.facts is left as it was:\n"
        "  - column id: contract says int8 (BIGINT), model gives INTEGER\n"
        "  - column amount: contract says float8 (DOUBLE), model gives DECIMAL(10,2)\n"
        "  - column booked_on: contract says date (DATE), model gives TIMESTAMP\n"
        "  - column order: contract says id, name, amount, booked_on; model gives name, id, amount, booked_on"
    )
    assert "ERROR model main.facts" in result.output
    assert rows_and_types(root) == before


def test_missing_and_extra_columns_are_listed(built):
    root, stockx = built
    before = rows_and_types(root)
    # select * over a CSV file: the columns are known only once DuckDB runs it, so the run-time check decides
    (root / "extra.csv").write_text("id,name,amount,note\n1,a,5.0,x\n")
    (root / "models/facts.sql").write_text(
        "{{ config(materialized='table') }}\n" f"select * from read_csv('{root / 'extra.csv'}')\n"
    )
    assert stockx("build").exit_code == 1
    assert model_message(root) == (
        "models/facts.sql: contract of facts not met (2 problems); main.facts is left as it was:\n"
        "  - column booked_on is missing from the model's output\n"
        "  - column note (VARCHAR) is in the output but not in the contract"
    )
    assert rows_and_types(root) == before


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        (
            "select id, case when id = 2 then null else name end as name, amount::double as amount, "
            "date '2026-11-20' as booked_on from {{ ref('src') }}",
            "  - constraint not_null (name): 1 row has a null",
        ),
        (
            "select 1::bigint as id, name, amount::double as amount, date '2026-11-20' as booked_on from {{ ref('src') }}",
            "  - constraint primary_key (id): 1 value appears more than once",
        ),
    ],
)
def test_constraints_are_checked_before_the_swap(built, sql, problem):
    root, stockx = built
    before = rows_and_types(root)
    (root / "models/facts.sql").write_text("{{ config(materialized='table') }}\n" + sql + "\n")
    assert stockx("build").exit_code == 1
    assert model_message(root) == (
        f"models/facts.sql: contract of facts not met (1 problem); main.facts is left as it was:\n{problem}"
    )
    assert rows_and_types(root) == before


def test_model_level_constraints_over_several_columns(make_project):
    yml = CONTRACT.replace(
        "        columns:\n",
        "        constraints:\n"
        "          - {type: primary_key, columns: [name, booked_on]}\n"
        "          - {type: check, expression: amount > 6}\n"
        "          - {type: foreign_key, columns: [id], to: ref('src'), to_columns: [id]}\n"
        "        columns:\n",
    )
    sql = GOOD_SQL.replace("name, amount", "'same' as name, amount")
    root, stockx = make_project({**PROJECT, "models/_models.yml": yml, "models/facts.sql": sql})
    assert stockx("build").exit_code == 1
    assert model_message(root) == (
        "models/facts.sql: contract of facts not met (2 problems); main.facts is left as it was:\n"
        "  - constraint primary_key (name, booked_on): 1 value appears more than once\n"
        "  - constraint check (amount > 6): 1 row fails it"
    )


def test_a_contract_needs_every_data_type(make_project):
    root, stockx = make_project({**PROJECT, "models/_models.yml": CONTRACT.replace(", data_type: float8", "")})
    assert stockx("build").exit_code == 1
    assert model_message(root) == (
        "models/facts.sql: contract of facts not met (1 problem); main.facts is left as it was:\n"
        "  - column amount has no data_type in models/_models.yml"
    )


def test_an_unknown_data_type_is_named(make_project):
    root, stockx = make_project({**PROJECT, "models/_models.yml": CONTRACT.replace("float8", "flaot8")})
    assert stockx("build").exit_code == 1
    assert model_message(root).startswith(
        "models/facts.sql: contract of facts not met (1 problem); main.facts is left as it was:\n"
        "  - column amount: data_type 'flaot8' is not a DuckDB type (Catalog Error: Type with name flaot8 does not exist!"
    )


def test_incremental_and_view_models_are_checked_too(make_project):
    incremental = GOOD_SQL.replace("materialized='table'", "materialized='incremental', unique_key='id'")
    root, stockx = make_project({**PROJECT, "models/facts.sql": incremental})
    assert stockx("build").exit_code == 0
    assert stockx("build").exit_code == 0  # the merge path checks the new rows too
    before = rows_and_types(root)
    (root / "models/facts.sql").write_text(incremental.replace("amount::double", "amount::integer"))
    assert stockx("build").exit_code == 1
    assert "  - column amount: contract says float8 (DOUBLE), model gives INTEGER" in model_message(root)
    assert rows_and_types(root) == before

    view = GOOD_SQL.replace("materialized='table'", "materialized='view'").replace("amount::double", "amount::bigint")
    root, stockx = make_project({**PROJECT, "models/facts.sql": view}, name="as_view")
    assert stockx("build").exit_code == 1
    assert "  - column amount: contract says float8 (DOUBLE), model gives BIGINT" in model_message(root)
    assert query(root / "target" / "ct.duckdb", "select count(*) from information_schema.tables where table_name = 'facts'") == [(0,)]


def test_failed_contract_skips_descendants(built):
    root, stockx = built
    (root / "models/report.sql").write_text("select count(*) as n from {{ ref('facts') }}\n")
    (root / "models/facts.sql").write_text(GOOD_SQL.replace("amount::double", "amount::integer"))
    result = stockx("build")
    assert result.exit_code == 1
    assert "SKIP model main.report" in result.output


@pytest.mark.parametrize(
    ("declared", "canonical"),
    [
        ("int", "INTEGER"),
        ("int4", "INTEGER"),
        ("integer", "INTEGER"),
        ("bigint", "BIGINT"),
        ("int8", "BIGINT"),
        ("varchar", "VARCHAR"),
        ("text", "VARCHAR"),
        ("string", "VARCHAR"),
        ("varchar(20)", "VARCHAR"),
        ("timestamp", "TIMESTAMP"),
        ("datetime", "TIMESTAMP"),
        ("double", "DOUBLE"),
        ("float8", "DOUBLE"),
        ("numeric(10, 2)", "DECIMAL(10,2)"),
        ("bool", "BOOLEAN"),
        ("timestamptz", "TIMESTAMP WITH TIME ZONE"),
    ],
)
def test_type_aliases(adapter, declared, canonical):
    assert adapter.canonical_type(declared) == canonical


def test_differences_are_listed_in_column_order(adapter):
    node = Node(
        unique_id="model.p.m",
        name="m",
        resource_type="model",
        path="models/m.sql",
        raw_code="",
        config={"contract": {"enforced": True}},
        relation=None,
        columns=(Column("a", "int"), Column("b", "text"), Column("c", "date")),
        patch_path="models/m.yml",
    )
    assert contract_differences(node, [("a", "INTEGER"), ("b", "VARCHAR"), ("c", "DATE")], adapter.canonical_type) == []
    assert contract_differences(node, [("b", "BIGINT"), ("a", "INTEGER"), ("d", "DATE")], adapter.canonical_type) == [
        "column c is missing from the model's output",
        "column d (DATE) is in the output but not in the contract",
        "column b: contract says text (VARCHAR), model gives BIGINT",
        "column order: contract says a, b; model gives b, a",
    ]
