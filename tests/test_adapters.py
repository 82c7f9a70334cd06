"""The database seam: a target's type picks its adapter; the DuckDB adapter's catalog and export read."""

from __future__ import annotations

import duckdb
import pytest

from stockx_export import adapters
from stockx_export.adapters.base import Adapter, RelationColumns
from stockx_export.adapters.duckdb import DuckDBAdapter
from stockx_export.core.config import TargetConfig
from stockx_export.db import Relation
from stockx_export.errors import ProjectError


def test_a_target_type_without_an_adapter_is_an_error_naming_the_target():
    target = TargetConfig(type="snowflake", origin="profiles.yml: profile 'shop' output 'prod'")
    with pytest.raises(ProjectError) as raised:
        adapters.adapter_class(target)
    assert str(raised.value) == (
        "profiles.yml: profile 'shop' output 'prod': target type 'snowflake' is not supported; "
        "stockx builds on duckdb, postgres, spark"
    )
    assert adapters.adapter_class(TargetConfig()) is DuckDBAdapter


def test_the_catalog_follows_the_adapters_own_builds_and_is_read_again_after_refresh(tmp_path):
    target = TargetConfig(database=str(tmp_path / "db.duckdb"))
    with adapters.connect(target) as adapter:
        relation = Relation("main", "t")
        assert adapter.relation_kind(relation) is None
        adapter.build_table(relation, "select 1 as x")
        assert adapter.relation_kind(relation) == "table"
        adapter.build_view(relation, "select 2 as x")
        assert adapter.relation_kind(relation) == "view"
        adapter.execute("create table main.made_by_a_hook (x int)")
        assert adapter.relation_kind(Relation("main", "made_by_a_hook")) is None  # not its own build
        adapter.refresh()
        assert adapter.relation_kind(Relation("main", "made_by_a_hook")) == "table"


def test_the_export_reads_a_duckdb_target_in_place_through_a_read_only_connection(tmp_path):
    from stockx_export.export.run import connect_read_only

    target = TargetConfig(database=str(tmp_path / "db.duckdb"))
    with adapters.connect(target) as adapter:
        adapter.build_table(Relation("main", "stock_extra"), "select 1 as stock_units")
    path = adapters.export_database(target, "main.stock_extra", ("stock_units",), tmp_path / "export")
    assert path == target.database  # no copy: the export reads the database itself
    con = connect_read_only(path)
    try:
        assert con.execute("select stock_units from main.stock_extra").fetchall() == [(1,)]
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("create table main.other (x int)")
    finally:
        con.close()


def test_the_catalog_gives_each_existing_relations_kind_and_columns_as_describe_does(tmp_path):
    target = TargetConfig(database=str(tmp_path / "db.duckdb"))
    with adapters.connect(target) as adapter:
        adapter.execute("create schema other")
        adapter.build_table(Relation("main", "base"), "select 1::bigint as id, 'a' as name, date '2025-01-01' as day")
        adapter.build_view(Relation("main", "layer"), "select id, name || '!' as shout from main.base")
        adapter.build_view(Relation("other", "top"), "select shout, id::double / 2 as half from main.layer")
        wanted = [Relation("other", "top"), Relation("main", "base"), Relation("main", "missing"),
                  Relation("main", "layer")]
        found = adapter.catalog(wanted)
        assert found == {
            Relation("main", "base"): RelationColumns("table", (("id", "BIGINT"), ("name", "VARCHAR"), ("day", "DATE"))),
            Relation("main", "layer"): RelationColumns("view", (("id", "BIGINT"), ("shout", "VARCHAR"))),
            Relation("other", "top"): RelationColumns("view", (("shout", "VARCHAR"), ("half", "DOUBLE"))),
        }
        # DuckDB's one read of its catalog says what asking each relation in turn says.
        assert found == Adapter.catalog(adapter, wanted)


def test_type_names_are_read_safely_from_many_threads_at_once():
    """A parallel PostgreSQL run's workers all ask DuckDB for canonical type names on one shared connection."""
    from concurrent.futures import ThreadPoolExecutor

    from stockx_export.adapters import types

    declared = [f"decimal({p}, {s})" for p in range(2, 38) for s in range(0, p, 3)] + [
        f"varchar({n})" for n in range(1, 200)]
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(types.canonical, declared))
    assert found[:2] == ["DECIMAL(2,0)", "DECIMAL(3,0)"] and set(found[-199:]) == {"VARCHAR"}
