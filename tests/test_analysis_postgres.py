"""The sample project transpiled to Postgres, run on a real PostgreSQL server, gives DuckDB's tables.

Skipped, with the reason, when neither STOCKX_PG_DSN nor Debian's PostgreSQL
binaries are available (see tests/postgres_server.py).
"""

from __future__ import annotations

import datetime
import decimal
import json

import pytest

from analysis_sample import copy_sample
from conftest import Invoker
from postgres_server import Unavailable
from raw_edge_cases import write_edge_files

PG_TYPES = {"VARCHAR": "text", "BIGINT": "bigint", "INTEGER": "integer", "DOUBLE": "double precision",
            "DATE": "date", "TIMESTAMP": "timestamp", "BOOLEAN": "boolean"}


@pytest.fixture
def postgres(postgres_dsn):
    import psycopg

    return psycopg, postgres_dsn


def _value(value):
    """One cell, comparable across the two databases (Postgres sums bigint into numeric)."""
    if isinstance(value, decimal.Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _rows(rows) -> list[tuple]:
    rows = [tuple(_value(v) for v in row) for row in rows]
    return sorted(rows, key=lambda row: [(v is None, str(v)) for v in row])


@pytest.mark.parametrize("raw", ["sample", "edge cases"])
def test_transpiled_sample_project_gives_duckdb_tables_on_postgres(tmp_path, postgres, raw):
    import duckdb

    psycopg, dsn = postgres
    project = copy_sample(tmp_path / "sample")
    if raw == "edge cases":  # every rule at its edges (tests/raw_edge_cases.py) in place of the seeds
        names = {"inventory": "raw_inventory.csv", "products": "raw_products.csv", "warehouses": "raw_warehouses.csv"}
        write_edge_files(project / "seeds", names)
    stockx = Invoker(project)
    assert stockx("seed").exit_code == 0
    built = stockx("run")
    assert built.exit_code == 0, built.output
    transpiled = stockx("compile", "--dialect", "postgres")
    assert transpiled.exit_code == 0, transpiled.output
    listed = stockx("ls", "--resource-type", "model", "--resource-type", "seed", "--output", "json")
    nodes = [json.loads(line) for line in listed.output.splitlines() if line.startswith("{")]
    out = project / "target" / "compiled" / "postgres"

    duck = duckdb.connect(str(project / "target" / "stockx.duckdb"), read_only=True)
    with psycopg.connect(dsn + " dbname=postgres", autocommit=True) as admin:
        admin.execute("drop database if exists stockx")
        admin.execute("create database stockx")  # the transpiled SQL names tables stockx.main.<table>
    with psycopg.connect(dsn + " dbname=stockx", autocommit=True) as pg:
        pg.execute((out / "stockx_support.sql").read_text())
        pg.execute("create schema main")
        for node in nodes:
            relation = node["relation"]
            if node["resource_type"] == "seed":
                columns = duck.execute(f"describe {relation}").fetchall()
                pg.execute(f"create table {relation} ({', '.join(f'{c[0]} {PG_TYPES[c[1]]}' for c in columns)})")
                with pg.cursor() as cursor:
                    # In DuckDB's scan order: the staging model numbers lines with row_number() over ().
                    cursor.executemany(
                        f"insert into {relation} values ({', '.join(['%s'] * len(columns))})",
                        duck.execute(f"select * from {relation}").fetchall(),
                    )
                continue
            sql = (out / node["path"]).read_text()
            kind = "view" if node["materialized"] == "view" else "table"
            pg.execute(f"create {kind} {relation} as\n{sql}")

        compared = []
        for node in nodes:
            if node["resource_type"] != "model":
                continue
            relation = node["relation"]
            expected = duck.execute(f"select * from {relation}").fetchall()
            actual = pg.execute(f"select * from {relation}").fetchall()
            assert len(actual) == len(expected), relation
            assert _rows(actual) == _rows(expected), relation
            compared.append(relation)
    duck.close()
    assert len(compared) == 10


def test_without_postgres_the_skip_reason_says_what_to_install(monkeypatch):
    import postgres_server

    monkeypatch.delenv("STOCKX_PG_DSN", raising=False)
    monkeypatch.setattr(postgres_server.glob, "glob", lambda pattern: [])
    with pytest.raises(Unavailable) as raised:
        with postgres_server.postgres_server():
            pass
    assert str(raised.value) == (
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
        "apt-get install -y postgresql, or set STOCKX_PG_DSN to a server"
    )
