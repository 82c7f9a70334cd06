"""Snapshots on the targets: PostgreSQL records the same history as DuckDB; Spark refuses, saying why.

One Postgres cluster and one Spark session per test session (tests/conftest.py).
"""

from __future__ import annotations

import uuid

from conftest import dsn_settings
from stockx_export import adapters
from stockx_export.run.projects import load_config

PRODUCTS_1 = "product_id,name\nP1,Mug\nP2,Cup\nP3,Jar\n"
PRODUCTS_2 = "product_id,name\nP1,Mug\nP2,Big cup\nP4,Pot\n"  # P2 changed, P3 left, P4 new
SNAPSHOT = """{% snapshot products_history %}
{{ config(schema='SCHEMA_history', unique_key='product_id', strategy='check', check_cols='all', hard_deletes='invalidate') }}
select product_id, name from {{ ref('products') }}
{% endsnapshot %}
"""


def _project(make_project, targets: str, schema: str):
    return make_project({
        "pyproject.toml": '[tool.stockx]\nname = "demo"\n' + targets,
        "seeds/products.csv": PRODUCTS_1,
        "snapshots/products_history.sql": SNAPSHOT.replace("SCHEMA", schema),
    })


def _history(root, target: str | None, schema: str) -> list[tuple]:
    """Each version: (product, name, whether it is current), in a stable order."""
    config = load_config(root, target=target)
    with adapters.connect(config.target) as adapter:
        rows = adapter.query(f"select product_id, name, dbt_valid_to is null from {schema}_history.products_history").rows
    return sorted(tuple(row) for row in rows)


def _snapshot_twice(root, stockx, target: str | None, schema: str) -> list[tuple]:
    chosen = ["--target", target] if target else []
    for products in (PRODUCTS_1, PRODUCTS_2):
        (root / "seeds" / "products.csv").write_text(products)
        assert stockx("seed", *chosen).exit_code == 0
        snapshotted = stockx("snapshot", *chosen)
        assert snapshotted.exit_code == 0, snapshotted.output
    return _history(root, target, schema)


def test_postgres_snapshots_record_the_history_duckdb_records(make_project, postgres_dsn):
    settings = dsn_settings(postgres_dsn)
    schema = f"s_{uuid.uuid4().hex[:8]}"
    targets = (f'[tool.stockx.targets.pg]\ntype = "postgres"\nhost = "{settings["host"]}"\n'
               f'port = {settings["port"]}\nuser = "{settings["user"]}"\ndbname = "postgres"\nschema = "{schema}"\n')
    root, stockx = _project(make_project, targets, schema)
    on_postgres = _snapshot_twice(root, stockx, "pg", schema)
    on_duckdb = _snapshot_twice(root, stockx, None, schema)
    assert on_postgres == on_duckdb == [
        ("P1", "Mug", True), ("P2", "Big cup", True), ("P2", "Cup", False), ("P3", "Jar", False), ("P4", "Pot", True),
    ]


def test_spark_refuses_a_snapshot_naming_the_target_and_what_it_lacks(make_project, spark_session):
    schema = f"s_{uuid.uuid4().hex[:8]}"
    root, stockx = _project(make_project, f'[tool.stockx.targets.spark]\ntype = "spark"\nschema = "{schema}"\n', schema)
    assert stockx("seed", "--target", "spark").exit_code == 0
    refused = stockx("snapshot", "--target", "spark")
    assert refused.exit_code == 1
    assert (
        f"snapshots/products_history.sql: the spark target does not build snapshots ({schema}_history.products_history): "
        "Spark's Parquet tables have no UPDATE or MERGE to close a changed row's current version; build snapshots on "
        "a duckdb or postgres target, or leave them out of Spark builds with --exclude 'resource_type:snapshot'"
    ) in refused.output
    # What the message suggests works: the rest of the project builds.
    rest = stockx("build", "--target", "spark", "--exclude", "resource_type:snapshot")
    assert rest.exit_code == 0, rest.output
