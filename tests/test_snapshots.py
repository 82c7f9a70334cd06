"""Snapshots (issue 15): history tables built as dbt builds them, over successive source states.

tests/fixtures/dbt_snapshots holds every kind (timestamp and check strategies,
one key and several, hard deletes ignored, invalidated and kept as new records,
SQL blocks and YAML definitions, renamed meta columns, dbt_valid_to_current) and
three states of its sources. Built by stockx state after state, every relation
equals what dbt-duckdb 1.10 built (tests/fixtures/dbt_snapshots_golden, recorded
by its record.py). The snapshot's clock is pinned on both sides by the
fixture's own ``duckdb__snapshot_get_time`` macro; a test below checks the
clock a project does not pin.
"""

from __future__ import annotations

import datetime
import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import REPO, Invoker, artifact_schemas, node_results, query

FIXTURE = REPO / "tests" / "fixtures" / "dbt_snapshots"
GOLDEN = REPO / "tests" / "fixtures" / "dbt_snapshots_golden"
DATABASE = Path("target") / "snapshot_shop.duckdb"
STATES = {1: "2024-01-15 12:00:00", 2: "2024-02-15 12:00:00", 3: "2024-03-15 12:00:00"}  # as record.py


def use_state(project: Path, state: int) -> None:
    for path in sorted((project / "states" / str(state)).glob("*.csv")):
        shutil.copy(path, project / "seeds" / path.name)


def read_state(project: Path) -> dict:
    """What a state's goldens hold, read from stockx's database as record.py reads dbt's."""
    import duckdb

    con = duckdb.connect(str(project / DATABASE), read_only=True)
    relations, contents = [], {}
    try:
        tables = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables order by table_schema, table_name"
        ).fetchall()
        for schema, name, table_type in tables:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, name],
            ).fetchall()
            relations.append({"schema": schema, "name": name, "type": "view" if table_type == "VIEW" else "table",
                              "columns": [{"name": c, "type": t} for c, t in columns]})
            out = project / "relation.csv"
            con.execute(f"copy (select * from \"{schema}\".\"{name}\" order by all) to '{out}' (header, delimiter ',')")
            contents[f"{schema}.{name}.csv"] = out.read_text()
    finally:
        con.close()
    results = node_results(project)
    return {"relations": relations, "contents": contents, "statuses": {r["unique_id"]: r["status"] for r in results},
            "schemas": artifact_schemas(project / "target")}


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    """The fixture built by stockx in each state: {state: (the build's result, what it built)}."""
    project = tmp_path_factory.mktemp("snapshots") / "dbt_snapshots"
    shutil.copytree(FIXTURE, project)
    stockx = Invoker(project)
    built = {}
    for state, moment in STATES.items():
        use_state(project, state)
        result = stockx("build", "--full-refresh", "--vars", f"{{snapshot_time: '{moment}'}}")
        built[state] = (result, read_state(project))
    return built


def test_the_artifacts_are_in_dbts_schemas(states):
    for state, (_, built) in states.items():
        assert built["schemas"] == {"manifest.json": "ManifestV12", "run_results.json": "RunResultsV6"}, state


@pytest.mark.parametrize("state", sorted(STATES))
def test_every_relation_equals_dbts_in_every_state(states, state):
    result, built = states[state]
    golden = GOLDEN / f"state_{state}"
    assert result.exit_code == 0, result.output
    assert built["relations"] == json.loads((golden / "relations.json").read_text())
    expected = {path.name: path.read_text() for path in sorted(golden.glob("*.csv"))}
    assert sorted(built["contents"]) == sorted(expected)
    for name, text in expected.items():
        assert built["contents"][name] == text, f"state {state}: {name}"


@pytest.mark.parametrize("state", sorted(STATES))
def test_every_node_has_dbts_status(states, state):
    _, built = states[state]
    outcomes = json.loads((GOLDEN / f"state_{state}" / "outcomes.json").read_text())
    assert built["statuses"] == {o["unique_id"]: o["status"] for o in outcomes}


def test_a_build_runs_snapshots_in_dag_order(states):
    result, _ = states[1]
    order = re.findall(r" of 12 \w+ [a-z ]+ (\S+) \.", result.output)
    # raw_products -> stg_products -> products_ts -> its tests -> current_products (which reads the snapshot)
    assert order.index("main.stg_products") < order.index("snapshots.products_ts") < order.index("main.current_products")
    assert "OK created snapshot snapshots.products_ts" in result.output
    assert result.output.splitlines()[0] == "Running 2 seeds, 6 snapshots, 2 models, 2 tests"


# -- the snapshot command, selection, the clock, errors -----------------------------------------------


@pytest.fixture
def shop(tmp_path):
    project = tmp_path / "dbt_snapshots"
    shutil.copytree(FIXTURE, project)
    return project, Invoker(project)


def test_stockx_snapshot_runs_snapshots_only_and_they_are_selectable(shop):
    project, stockx = shop
    stockx("build", "-s", "+stg_products raw_stock", "--vars", "{snapshot_time: '2024-01-15 12:00:00'}")
    result = stockx("snapshot", "--vars", "{snapshot_time: '2024-01-15 12:00:00'}")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "Running 6 snapshots"
    listed = stockx("ls", "-s", "resource_type:snapshot", "--resource-type", "snapshot", "--output", "name")
    assert sorted(listed.stdout.split()) == [
        "products_check_all", "products_check_updated", "products_ts", "products_yaml", "stock_new_record", "stock_yaml",
    ]
    one = stockx("snapshot", "-s", "stock_yaml", "--vars", "{snapshot_time: '2024-02-15 12:00:00'}")
    assert one.output.splitlines()[0] == "Running 1 snapshot"
    assert "OK snapshotted snapshots.stock_yaml" in one.output
    tagged = stockx("ls", "-s", "tag:history", "--resource-type", "snapshot", "--output", "name")
    assert len(tagged.stdout.split()) == 6  # +tags from dbt_project.yml's snapshots: block


def test_without_a_pinned_clock_the_snapshot_time_is_the_databases_now(shop):
    """dbt-duckdb's snapshot_get_time() is now()::timestamp: the check strategy stamps rows with it."""
    import duckdb

    project, stockx = shop
    (project / "macros" / "snapshot_time.sql").unlink()
    stockx("seed")
    clock = duckdb.connect(":memory:")
    before = clock.execute("select cast(now() as timestamp)").fetchone()[0]
    result = stockx("snapshot", "-s", "products_check_all")
    after = clock.execute("select cast(now() as timestamp)").fetchone()[0]
    assert result.exit_code == 0, result.output
    stamps = query(project / DATABASE, "select distinct dbt_valid_from, dbt_updated_at from main_history.products_check_all")
    assert len(stamps) == 1 and stamps[0][0] == stamps[0][1]
    assert before <= stamps[0][0] <= after
    assert isinstance(stamps[0][0], datetime.datetime)


def test_a_failed_snapshot_leaves_its_table_as_it_was(shop):
    project, stockx = shop
    stockx("build", "--vars", "{snapshot_time: '2024-01-15 12:00:00'}")
    before = query(project / DATABASE, "select * from snapshots.stock_new_record order by all")
    use_state(project, 2)
    stockx("seed", "--full-refresh")
    # A check column the query does not have: the staging step fails inside the build's transaction.
    block = project / "snapshots" / "stock.sql"
    block.write_text(block.read_text().replace("check_cols=['qty']", "check_cols=['qty', 'no_such_column']"))
    result = stockx("snapshot", "-s", "stock_new_record", "--vars", "{snapshot_time: '2024-02-15 12:00:00'}")
    assert result.exit_code == 1
    assert "ERROR snapshot snapshots.stock_new_record" in result.output
    assert 'Referenced column "no_such_column" not found' in result.output
    assert query(project / DATABASE, "select * from snapshots.stock_new_record order by all") == before


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("unique_key='sku'", "a snapshot needs a 'strategy' (timestamp or check) and a 'unique_key'"),
        ("unique_key='sku', strategy='timestamp'",
         "the timestamp strategy needs updated_at (the column that says when a row changed)"),
        ("unique_key='sku', strategy='check'", "the check strategy needs check_cols ('all', or a list of columns)"),
        ("unique_key='sku', strategy='check', check_cols='name'",
         "check_cols 'name' is not valid; use 'all' or a list of columns"),
        ("unique_key='sku', strategy='merge'", "strategy 'merge' is not supported; use timestamp or check"),
        ("unique_key='sku', strategy='check', check_cols='all', hard_deletes='purge'",
         "hard_deletes 'purge' is not one of ignore, invalidate, new_record"),
        ("unique_key='sku', strategy='check', check_cols='all', hard_deletes='invalidate', invalidate_hard_deletes=True",
         "set hard_deletes or the older invalidate_hard_deletes, not both"),
    ],
)
def test_a_misconfigured_snapshot_fails_naming_its_file_and_what_to_set(shop, config, message):
    project, stockx = shop
    (project / "snapshots" / "bad.sql").write_text(
        f"{{% snapshot bad %}}\n{{{{ config({config}) }}}}\nselect * from {{{{ ref('raw_products') }}}}\n{{% endsnapshot %}}\n"
    )
    stockx("seed")
    result = stockx("snapshot", "-s", "bad")
    assert result.exit_code == 1
    assert f"snapshots/bad.sql: snapshot bad: {message}" in result.output


def test_two_snapshots_of_one_name_are_an_error_naming_both_files(shop):
    project, stockx = shop
    (project / "snapshots" / "again.sql").write_text(
        "{% snapshot products_ts %}\nselect 1 as sku\n{% endsnapshot %}\n"
    )
    result = stockx("ls")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: two snapshots are named 'products_ts': snapshots/again.sql and snapshots/products.sql; rename one\n"
    )


# -- the sample project's product history ----------------------------------------------------------


def test_the_sample_project_keeps_the_history_of_its_products(tmp_path):
    project = tmp_path / "sample"
    project.mkdir()
    shutil.copy(REPO / "pyproject.toml", project / "pyproject.toml")
    for part in ("models", "macros", "seeds", "snapshots", "tests/sql"):
        shutil.copytree(REPO / part, project / part)
    stockx = Invoker(project)
    first = stockx("build")
    assert first.exit_code == 0, first.output
    db = project / "target" / "stockx.duckdb"
    history = "select product_id, product_name, dbt_valid_to is null from snapshots.products_history order by all"
    products = query(db, "select product_id, name from main.products order by all")
    assert query(db, history) == [(p, n, True) for p, n in products]

    # P-1003 is renamed and P-1009 leaves the product feed.
    seed = project / "seeds" / "raw_products.csv"
    lines = seed.read_text(encoding="utf-8").splitlines(keepends=True)
    seed.write_text("".join(line.replace("Trail Runner", "Trail Runner GTX") for line in lines if "P-1009" not in line),
                    encoding="utf-8")
    second = stockx("build")
    assert "OK snapshotted snapshots.products_history" in second.output
    found = query(db, history)
    assert [row for row in found if row[0] in ("P-1003", "P-1009")] == [
        ("P-1003", "Trail Runner", False),
        ("P-1003", "Trail Runner GTX", True),
        (products[-1][0], products[-1][1], False),
    ]
    assert products[-1][0] == "P-1009"
    assert [row for row in found if row[0] not in ("P-1003", "P-1009")] == [
        (p, n, True) for p, n in products if p not in ("P-1003", "P-1009")
    ]


def test_compile_writes_each_snapshot_of_a_file_to_its_own_path(shop):
    project, stockx = shop
    result = stockx("compile", "-s", "resource_type:snapshot")
    assert result.exit_code == 0, result.output
    compiled = project / "target" / "compiled" / "snapshots"
    assert sorted(p.relative_to(compiled).as_posix() for p in compiled.rglob("*.sql") if p.is_file()) == [
        "_snapshots.yml/products_yaml.sql",
        "_snapshots.yml/stock_yaml.sql",
        "products.sql/products_check_all.sql",
        "products.sql/products_check_updated.sql",
        "products.sql/products_ts.sql",
        "stock.sql/stock_new_record.sql",
    ]
    assert (compiled / "products.sql" / "products_ts.sql").read_text().strip() == (
        'select * from "snapshot_shop"."main"."stg_products"'
    )
    assert result.stderr.splitlines()[-1] == "Compiled 6 nodes."
