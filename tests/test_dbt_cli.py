"""A dbt user's command-line habits under stockx (issue 15): selection flags, --threads, --empty,
--target-path, --resource-type, --defer --state, a dbt-written manifest as --state, and the commands
parse, debug, run-operation, retry and source freshness."""

from __future__ import annotations

import json
import shutil
import textwrap

import duckdb

from conftest import artifact_schemas, node_results, query
from stockx_export.core.artifacts import read_last_run, read_manifest, read_sources

FILES = {
    "seeds/orders.csv": "id,amount,status\n1,10,paid\n2,20,open\n3,30,paid\n",
    "models/staged.sql": "select id, amount, status from {{ ref('orders') }}\n",
    "models/paid.sql": "{{ config(materialized='table') }}\nselect id, amount from {{ ref('staged') }} where status = 'paid'\n",
    "models/other.sql": "select 1 as one\n",
    "models/schema.yml": """
        version: 2
        models:
          - name: paid
            columns:
              - name: id
                data_tests: [unique]
    """,
}


def _listed(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return result.stdout.split()


# -- selection ---------------------------------------------------------------------------------------


def test_several_values_follow_one_select_or_exclude_and_m_is_select(make_project):
    # Issue 15: `-s a b` was refused ("Got unexpected extra argument (b)").
    _, stockx = make_project(FILES)
    assert _listed(stockx("ls", "-s", "staged", "other", "--exclude", "other", "paid", "-o", "name")) == ["staged"]
    assert _listed(stockx("ls", "-m", "staged", "other", "--resource-type", "model", "-o", "name")) == [
        "other", "staged"]
    assert _listed(stockx("ls", "--select=staged", "other", "-o", "name")) == ["other", "staged"]
    assert _listed(stockx("ls", "--models", "paid", "-o", "name")) == ["paid", "unique_paid_id"]


def test_resource_type_limits_a_build(make_project):
    root, stockx = make_project(FILES)
    result = stockx("build", "--resource-type", "seed", "model")
    assert result.exit_code == 0, result.output
    assert sorted(r["resource_type"] for r in node_results(root)) == ["model", "model", "model", "seed"]


# -- run flags ---------------------------------------------------------------------------------------


def test_threads_is_accepted_and_recorded_in_run_results(make_project):
    root, stockx = make_project(FILES)
    result = stockx("build", "--threads", "4")
    assert result.exit_code == 0, result.output
    assert read_last_run(root / "target").args["threads"] == 4
    assert "one at a time" in " ".join(stockx("build", "--help").output.split())
    assert stockx("run", "--threads", "0").exit_code == 2


def test_recorded_vars_keep_no_secret_of_the_environment(make_project):
    root, stockx = make_project(FILES)
    secret = "s3cr3t-Passw0rd-value"
    assert stockx("build", "--vars", f"{{pw: {secret}, n: 1}}", env={"SHOP_DB_PASSWORD": secret}).exit_code == 0
    assert read_last_run(root / "target").args["vars"] == "{pw: ***, n: 1}"
    assert secret not in (root / "target" / "run_results.json").read_text()


def test_empty_builds_every_model_with_its_columns_and_no_rows(make_project):
    root, stockx = make_project({
        **FILES,
        "models/sources.yml": """
            version: 2
            sources:
              - name: raw
                schema: main
                tables: [{name: events}]
        """,
        "models/counted.sql": "{{ config(materialized='table') }}\nselect count(*) as n, max(kind) as kind from {{ source('raw', 'events') }}\n",
    })
    (root / "target").mkdir()
    con = duckdb.connect(str(root / "target" / "stockx.duckdb"))
    con.execute("create table events as select 'click' as kind from range(5)")
    con.close()
    result = stockx("build", "--empty")
    assert result.exit_code == 0, result.output
    database = root / "target" / "stockx.duckdb"
    assert query(database, "select count(*) from main.orders") == [(3,)]  # seeds load whole, as in dbt
    assert query(database, "select count(*) from main.paid") == [(0,)]
    assert query(database, "select n, kind from main.counted") == [(0, None)]
    columns = query(database, "select column_name from information_schema.columns where table_name = 'paid' order by 1")
    assert columns == [("amount",), ("id",)]
    assert read_last_run(root / "target").args["empty"] is True
    assert stockx("build").exit_code == 0
    assert query(database, "select count(*) from main.paid") == [(2,)]


def test_target_path_holds_the_artifacts(make_project):
    root, stockx = make_project(FILES)
    assert stockx("build", "--target-path", "elsewhere").exit_code == 0
    assert artifact_schemas(root / "elsewhere") == {"manifest.json": "ManifestV12", "run_results.json": "RunResultsV6"}
    assert not (root / "target" / "run_results.json").exists()
    assert (root / "elsewhere" / "compiled" / "models" / "paid.sql").exists()


def test_defer_reads_unselected_models_from_the_state_manifests_database(make_project, tmp_path):
    root, stockx = make_project(FILES)
    assert stockx("build", "--database", str(root / "prod.duckdb")).exit_code == 0
    state = tmp_path / "prod-state"
    shutil.copytree(root / "target", state)
    dev = str(root / "dev.duckdb")
    # Without --defer, paid reads main.staged in dev, which was never built there.
    result = stockx("run", "-s", "paid", "--database", dev)
    assert result.exit_code == 1 and "staged" in result.output
    result = stockx("run", "-s", "paid", "--database", dev, "--defer", "--state", str(state))
    assert result.exit_code == 0, result.output
    assert query(root / "dev.duckdb", "select id from main.paid order by id") == [(1,), (3,)]
    assert query(root / "dev.duckdb", "select count(*) from information_schema.tables where table_name = 'staged'") == [(0,)]
    compiled = (root / "target" / "compiled" / "models" / "paid.sql").read_text()
    assert "prod.main.staged" in compiled
    result = stockx("run", "-s", "paid", "--defer")
    assert result.output.endswith(
        "Error: --defer needs a manifest to compare with, and --state was not given; "
        "pass --state PATH (the manifest.json of an earlier run, or the folder holding it)\n")


# -- a manifest dbt wrote as --state ------------------------------------------------------------------


def _as_dbt_wrote_it(path, out) -> None:
    """A stockx manifest without stockx's fields: what dbt writes for the same project (dbt's checksums)."""
    data = json.loads(path.read_text())
    data["metadata"].pop("env")
    data["metadata"]["dbt_version"] = "1.10.0"
    for section in ("nodes", "sources", "unit_tests"):
        for entry in data[section].values():
            (entry.get("meta") or entry.get("config", {}).get("meta", {})).pop("stockx", None)
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps(data))


def test_a_dbt_manifest_as_state_selects_the_nodes_whose_files_changed(make_project, tmp_path):
    # Issue 15: a --state written by dbt marked everything modified (no stockx fingerprints).
    root, stockx = make_project(FILES)
    assert stockx("compile").exit_code == 0
    state = tmp_path / "dbt-state"
    _as_dbt_wrote_it(root / "target" / "manifest.json", state)
    assert not read_manifest(state / "manifest.json").written_by_stockx
    modified = ["ls", "-s", "state:modified", "--state", str(state), "-o", "name"]
    assert _listed(stockx(*modified)) == []
    (root / "models/staged.sql").write_text("select id, amount * 100 as amount, status from {{ ref('orders') }}\n")
    (root / "models/new.sql").write_text("select 2 as two\n")
    assert _listed(stockx(*modified)) == ["new", "staged"]
    (root / "models/staged.sql").write_text("select id, amount, status from {{ ref('orders') }}\n\n")  # stripped: same
    assert _listed(stockx(*modified)) == ["new"]


# -- parse, debug, run-operation ----------------------------------------------------------------------


def test_parse_writes_the_manifest_and_builds_nothing(make_project):
    root, stockx = make_project(FILES)
    result = stockx("parse")
    assert (result.exit_code, result.stdout) == (0, "target/manifest.json\n")
    assert sorted(read_manifest(root / "target" / "manifest.json").nodes)[:2] == ["model.demo.other", "model.demo.paid"]
    assert not (root / "target" / "stockx.duckdb").exists() and not (root / "target" / "run_results.json").exists()


def test_debug_checks_the_configuration_and_the_connection(make_project, tmp_path):
    root, stockx = make_project(FILES)
    result = stockx("debug")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"OK    project: demo ({root}/pyproject.toml)",
        f"OK    target: dev: type duckdb, database {root}/target/stockx.duckdb, schema main (from [tool.stockx.duckdb])",
        "OK    connection: select 1 ran",
        "All checks passed!",
    ]
    dbt_root, dbt = make_project({"pyproject.toml": "[project]\nname = 'x'\n", "dbt_project.yml": "name: shop\n"},
                                 name="dbt")
    result = dbt("debug", env={"HOME": str(tmp_path / "home")})
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith(
        f"ERROR project and profile: {dbt_root}/dbt_project.yml: could not find profile 'shop'")
    assert result.stdout.splitlines()[-1] == "Some checks failed."


def test_run_operation_calls_a_macro_with_arguments(make_project):
    root, stockx = make_project({
        **FILES,
        "macros/ops.sql": """
            {% macro make_numbers(n, name='numbers') %}
              {% do run_query("create or replace table " ~ name ~ " as select range as i from range(" ~ n ~ ")") %}
              made {{ n }}
            {% endmacro %}
            {% macro broken() %}
              {% do run_query("select * from nowhere") %}
            {% endmacro %}
        """,
    })
    result = stockx("run-operation", "make_numbers", "--args", "{n: 3, name: three}")
    assert (result.exit_code, result.stdout) == (0, "made 3\n")
    assert query(root / "target" / "stockx.duckdb", "select count(*) from three") == [(3,)]
    result = stockx("run-operation", "broken")
    assert result.exit_code == 1
    assert result.output.startswith("Error: run-operation broken: ")
    assert "Table with name nowhere does not exist" in result.output and "macros/ops.sql:6" in result.output
    result = stockx("run-operation", "nope")
    assert (result.exit_code, result.output) == (
        2, "Error: run-operation: no macro named 'nope'; the project's macros are broken, make_numbers\n")
    result = stockx("run-operation", "make_numbers", "--args", "[3]")
    assert result.output == "Error: --args must be a mapping like '{key: value}', got: '[3]'\n"


# -- retry ------------------------------------------------------------------------------------------


def test_retry_runs_what_failed_or_was_skipped_with_the_same_command(make_project):
    root, stockx = make_project({**FILES, "models/staged.sql": "select id, amount, statuss from {{ ref('orders') }}\n"})
    result = stockx("build", "--threads", "2")
    assert result.exit_code == 1
    failed = {r["name"]: r["status"] for r in node_results(root) if r["status"] in ("error", "skipped")}
    assert failed == {"staged": "error", "paid": "skipped", "unique_paid_id": "skipped"}
    (root / "models/staged.sql").write_text(FILES["models/staged.sql"])
    result = stockx("retry")
    assert result.exit_code == 0, result.output
    last = read_last_run(root / "target")
    assert (last.command, last.args["threads"]) == ("build", 2)
    assert sorted((r.name, r.status) for r in last.results) == [
        ("paid", "success"), ("staged", "success"), ("unique_paid_id", "pass")]
    result = stockx("retry")
    assert (result.exit_code, result.stderr) == (0, "Nothing to retry: the last run had no errors, failures or skipped nodes.\n")


def test_retry_without_a_previous_run_says_so(make_project):
    root, stockx = make_project(FILES)
    result = stockx("retry")
    assert (result.exit_code, result.output) == (2, (
        f"Error: retry: no previous run to retry: {root}/target/run_results.json does not exist; run a command first\n"))


# -- source freshness --------------------------------------------------------------------------------

SOURCES = """
    version: 2
    sources:
      - name: raw
        schema: main
        loaded_at_field: loaded_at
        freshness:
          warn_after: {count: 1, period: hour}
          error_after: {count: 1, period: day}
        tables:
          - name: fresh
          - name: stale
          - name: old
          - name: empty_table
          - name: patient
            freshness:
              error_after: {count: 30, period: day}
          - name: filtered
            freshness:
              filter: "kind = 'recent'"
          - name: unchecked
            freshness: null
          - name: missing
"""


def _loaded(root) -> None:
    con = duckdb.connect(str(root / "target" / "stockx.duckdb"))
    for name, age in (("fresh", "10 minute"), ("stale", "3 hour"), ("old", "3 day"), ("patient", "3 day"),
                      ("unchecked", "300 day")):
        con.execute(f"create table {name} as select now()::timestamp - interval {age} as loaded_at")
    con.execute("create table empty_table (loaded_at timestamp)")
    con.execute("create table filtered as select now()::timestamp - interval 10 minute as loaded_at, 'recent' as kind "
                "union all select now()::timestamp - interval 10 day, 'old'")
    con.close()


def test_source_freshness_checks_each_source_against_its_thresholds(make_project):
    root, stockx = make_project({**FILES, "models/sources.yml": SOURCES})
    (root / "target").mkdir()
    _loaded(root)
    result = stockx("source", "freshness")
    assert result.exit_code == 1  # an error-stale source and a runtime error fail the command, as in dbt
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "ERROR STALE freshness of raw.empty_table",
        "PASS freshness of raw.filtered",
        "PASS freshness of raw.fresh",
        "ERROR freshness of raw.missing",
        "ERROR STALE freshness of raw.old",
        "WARN freshness of raw.patient",
        "WARN freshness of raw.stale",
    ]
    assert "raw.stale: last loaded 3.0 hours ago (error after 1 day, warn after 1 hour)" in lines[-2]
    assert lines[-1] == "Done. PASS=2 WARN=2 ERROR=2 RUNTIME ERROR=1 TOTAL=7"
    assert artifact_schemas(root / "target") == {"sources.json": "SourcesV3"}
    found = {r.unique_id.split(".")[-1]: r for r in read_sources(root / "target" / "sources.json")}
    assert found["missing"].status == "runtime error" and "missing does not exist" in found["missing"].error
    assert 3 * 3600 - 60 < found["stale"].age < 3 * 3600 + 600
    assert found["empty_table"].max_loaded_at.startswith("0001-01-01T00:00:00")
    # A selection checks only those sources; warnings alone exit 0.
    result = stockx("source", "freshness", "-s", "source:raw.fresh", "source:raw.stale")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "Done. PASS=1 WARN=1 ERROR=0 RUNTIME ERROR=0 TOTAL=2"


def test_a_malformed_threshold_is_an_error_naming_the_source(make_project):
    root, stockx = make_project({**FILES, "models/sources.yml": textwrap.dedent(SOURCES).replace(
        "{count: 30, period: day}", "{count: 30, period: fortnight}")})
    (root / "target").mkdir()
    _loaded(root)
    result = stockx("source", "freshness", "-s", "source:raw.patient")
    assert result.exit_code == 2
    assert result.output == (
        "Error: models/sources.yml: source raw.patient: freshness thresholds are {count: <whole number>, "
        "period: minute | hour | day}, got {'count': 30, 'period': 'fortnight'}\n")


def test_empty_builds_on_postgres_too(make_project, postgres_dsn):
    # The empty subqueries get the alias Postgres 15 needs (stockx_export.analysis.rewrites).
    import uuid

    import psycopg

    from conftest import dsn_settings

    settings = dsn_settings(postgres_dsn)
    schema = f"e_{uuid.uuid4().hex[:8]}"
    target = (f'[tool.stockx.targets.pg]\ntype = "postgres"\nhost = "{settings["host"]}"\n'
              f'port = {settings["port"]}\nuser = "{settings["user"]}"\ndbname = "postgres"\nschema = "{schema}"\n')
    _, stockx = make_project({**FILES, "pyproject.toml": '[tool.stockx]\nname = "demo"\n' + target})
    result = stockx("build", "--target", "pg", "--empty")
    assert result.exit_code == 0, result.output
    with psycopg.connect(postgres_dsn + " dbname=postgres") as con:
        assert con.execute(f"select count(*) from {schema}.orders").fetchone() == (3,)
        assert con.execute(f"select count(*) from {schema}.paid").fetchone() == (0,)
