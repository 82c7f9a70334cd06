"""Targets: which database a command builds in, and the errors a user sees when one cannot be used."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from conftest import Invoker, dsn_settings, query
from stockx_export import redact
from stockx_export.errors import ProjectError
from stockx_export.run.projects import load_config

MODEL = {"models/orders.sql": "select 1 as id\n"}


def _pyproject(targets: str) -> str:
    return '[tool.stockx]\nname = "demo"\n' + targets


def test_without_a_target_the_project_builds_in_its_duckdb_file_as_before(make_project):
    root, stockx = make_project(MODEL)
    assert stockx("run").exit_code == 0
    assert query(root / "target" / "stockx.duckdb", "select id from main.orders") == [(1,)]


def test_target_names_a_table_under_tool_stockx_targets_and_stockx_target_is_its_default(make_project):
    targets = ('[tool.stockx.targets.other]\ntype = "duckdb"\ndatabase = "target/other.duckdb"\nschema = "shop"\n')
    root, stockx = make_project({"pyproject.toml": _pyproject(targets), **MODEL})
    assert stockx("run", "--target", "other").exit_code == 0
    assert query(root / "target" / "other.duckdb", "select id from shop.orders") == [(1,)]
    assert not (root / "target" / "stockx.duckdb").exists()
    (root / "target" / "other.duckdb").unlink()
    assert stockx("run", env={"STOCKX_TARGET": "other"}).exit_code == 0
    assert query(root / "target" / "other.duckdb", "select id from shop.orders") == [(1,)]


def test_an_unknown_target_is_an_error_listing_the_targets(make_project):
    targets = '[tool.stockx.targets.warehouse]\ntype = "postgres"\n'
    root, stockx = make_project({"pyproject.toml": _pyproject(targets), **MODEL})
    result = stockx("run", "--target", "prod")
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {root / 'pyproject.toml'}: no target named 'prod' (from --target or STOCKX_TARGET); "
        "its targets are warehouse\n"
    )


def test_a_password_in_pyproject_is_refused_and_not_shown(make_project):
    targets = '[tool.stockx.targets.pg]\ntype = "postgres"\npassword = "hunter2-in-the-repo"\n'
    _, stockx = make_project({"pyproject.toml": _pyproject(targets), **MODEL})
    result = stockx("run", "--target", "pg")
    assert result.exit_code == 2
    assert result.output == (
        "Error: pyproject.toml [tool.stockx.targets.pg]: a password is never read from a file in the repository; "
        'set PGPASSWORD in the environment, or password_env = "NAME" naming the environment variable that holds it\n'
    )
    assert "hunter2" not in result.output


@pytest.mark.parametrize("kind, module, extra, package", [
    ("postgres", "psycopg", "postgres", "psycopg"),
    ("spark", "pyspark", "spark", "pyspark"),
])
def test_a_target_whose_driver_is_not_installed_says_what_to_install(make_project, monkeypatch, kind, module,
                                                                       extra, package):
    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)  # import fails as when the package is absent
    targets = f'[tool.stockx.targets.wh]\ntype = "{kind}"\n'
    _, stockx = make_project({"pyproject.toml": _pyproject(targets), **MODEL})
    result = stockx("run", "--target", "wh")
    assert result.exit_code == 2
    assert result.output == (
        f"Error: target 'wh' ({kind}) needs the Python package {package}, which is not installed; "
        f"pip install 'stockx[{extra}]'\n"
    )


def test_a_server_that_does_not_answer_is_named_by_host_and_port_never_by_password(make_project):
    pytest.importorskip("psycopg")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once the socket is closed
    targets = (f'[tool.stockx.targets.pg]\ntype = "postgres"\nhost = "127.0.0.1"\nport = {port}\n'
               'user = "stockx"\npassword_env = "WAREHOUSE_PW"\n')
    _, stockx = make_project({"pyproject.toml": _pyproject(targets), **MODEL})
    result = stockx("run", "--target", "pg", env={"WAREHOUSE_PW": "pw-never-shown-4242"})
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: cannot reach target 'pg' (postgres) at 127.0.0.1:{port}: ")
    assert result.output.endswith(
        "; check that the server runs and that host and port are right (settings, or PGHOST and PGPORT)\n")
    assert "Connection refused" in result.output
    assert "pw-never-shown-4242" not in result.output


def test_password_env_names_a_variable_that_is_not_set(make_project):
    pytest.importorskip("psycopg")
    targets = '[tool.stockx.targets.pg]\ntype = "postgres"\npassword_env = "WAREHOUSE_PW"\n'
    _, stockx = make_project({"pyproject.toml": _pyproject(targets), **MODEL})
    result = stockx("run", "--target", "pg", env={"WAREHOUSE_PW": None})
    assert result.exit_code == 2
    assert result.output == "Error: password_env names WAREHOUSE_PW, which is not set in the environment\n"


def test_a_password_read_through_password_env_is_a_secret_from_then_on(make_project, postgres_dsn, monkeypatch):
    settings = dsn_settings(postgres_dsn)
    targets = (f'[tool.stockx.targets.pg]\ntype = "postgres"\nhost = "{settings["host"]}"\nport = {settings["port"]}\n'
               f'user = "{settings["user"]}"\ndbname = "postgres"\nschema = "secret_check"\npassword_env = "WH_PW"\n')
    _, stockx = make_project({"pyproject.toml": _pyproject(targets), **MODEL})
    result = stockx("run", "--target", "pg", env={"WH_PW": "pw-noted-as-secret-77"})
    assert result.exit_code == 0, result.output
    assert "pw-noted-as-secret-77" not in result.output
    assert "pw-noted-as-secret-77" in redact.secret_values({})  # WH_PW is no secret by its name alone
    assert redact.redact("failed with pw-noted-as-secret-77", redact.secret_values({})) == "failed with ***"


def test_sql_a_target_cannot_run_names_the_model_the_construct_and_the_dispatch_macro(make_project, postgres_dsn):
    settings = dsn_settings(postgres_dsn)
    targets = (f'[tool.stockx.targets.pg]\ntype = "postgres"\nhost = "{settings["host"]}"\nport = {settings["port"]}\n'
               f'user = "{settings["user"]}"\ndbname = "postgres"\nschema = "untranslatable"\n')
    _, stockx = make_project({
        "pyproject.toml": _pyproject(targets),
        "macros/lists.sql": "{% macro reversed(expr) %}list_reverse({{ expr }}){% endmacro %}\n",
        "models/via_macro.sql": "select {{ reversed('[1, 2]') }} as reversed\n",
        "models/direct.sql": "select list_reverse([1, 2]) as reversed\n",
    })
    result = stockx("run", "--target", "pg")
    assert result.exit_code == 1
    assert (
        "models/via_macro.sql: the postgres target cannot run this SQL: function LIST_REVERSE() (DuckDB's; sqlglot "
        "knows no postgres equivalent); it comes from macro reversed: call it through adapter.dispatch and write "
        "postgres__reversed in SQL the postgres target runs (default__ keeps today's DuckDB SQL)"
    ) in result.output
    assert (
        "models/direct.sql: the postgres target cannot run this SQL: function LIST_REVERSE() (DuckDB's; sqlglot knows "
        "no postgres equivalent); move it into a macro called through adapter.dispatch('name'), with default__name "
        "(DuckDB) and postgres__name (SQL the postgres target runs)"
    ) in result.output


def test_a_dispatch_macro_for_the_target_is_rendered_before_translation(make_project, postgres_dsn):
    settings = dsn_settings(postgres_dsn)
    targets = (f'[tool.stockx.targets.pg]\ntype = "postgres"\nhost = "{settings["host"]}"\nport = {settings["port"]}\n'
               f'user = "{settings["user"]}"\ndbname = "postgres"\nschema = "dispatched"\n')
    root, stockx = make_project({
        "pyproject.toml": _pyproject(targets),
        "macros/kind.sql": (
            "{% macro reversed(expr) %}{{ return(adapter.dispatch('reversed')(expr)) }}{% endmacro %}\n"
            "{% macro default__reversed(expr) %}list_reverse({{ expr }}){% endmacro %}\n"
            "{% macro postgres__reversed(expr) %}[({{ expr }})[2], ({{ expr }})[1]]{% endmacro %}\n"
        ),
        "models/via_macro.sql": "select {{ reversed('[1, 2]') }} as reversed, '{{ target.type }}' as kind\n",
    })
    assert stockx("run").exit_code == 0  # DuckDB: default__reversed
    assert query(root / "target" / "stockx.duckdb", "select * from main.via_macro") == [([2, 1], "duckdb")]
    result = stockx("run", "--target", "pg")
    assert result.exit_code == 0, result.output
    compiled = (root / "target" / "compiled" / "models" / "via_macro.sql").read_text()
    assert "LIST_REVERSE" not in compiled.upper() and "'postgres' AS kind" in compiled
    import psycopg

    with psycopg.connect(postgres_dsn + " dbname=postgres") as con:
        assert con.execute("select * from dispatched.via_macro").fetchall() == [([2, 1], "postgres")]


def test_a_dbt_profile_output_of_type_postgres_is_a_target_whose_password_comes_from_env_var(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # profiles.yml is found in the working directory, as dbt finds it
    (tmp_path / "dbt_project.yml").write_text("name: shop\nprofile: shop\n")
    (tmp_path / "profiles.yml").write_text(
        "shop:\n  target: dev\n  outputs:\n"
        "    dev: {type: duckdb, path: target/dev.duckdb}\n"
        "    wh: {type: postgres, host: db.internal, port: 5433, user: analyst, dbname: shop, schema: marts,\n"
        "         password: \"{{ env_var('SHOP_PW') }}\"}\n"
        "    lake: {type: spark, master: 'local[2]', schema: lake}\n"
        "    leaky: {type: postgres, host: db.internal, password: hunter2}\n"
    )
    target = load_config(tmp_path, target="wh").target
    assert (target.type, target.name, target.schema) == ("postgres", "wh", "marts")
    assert {k: target.options[k] for k in ("host", "port", "user", "dbname", "password_env")} == {
        "host": "db.internal", "port": 5433, "user": "analyst", "dbname": "shop", "password_env": "SHOP_PW"}
    assert "password" not in target.options
    listed = Invoker(tmp_path)("ls", "--target", "wh")
    assert listed.exit_code == 0 and "stockx ignores" not in listed.output, listed.output  # host, port...: its settings
    spark = load_config(tmp_path, target="lake").target
    assert (spark.type, spark.schema, spark.options["master"]) == ("spark", "lake", "local[2]")
    assert load_config(tmp_path).target.type == "duckdb"
    with pytest.raises(ProjectError) as raised:
        load_config(tmp_path, target="leaky")
    assert str(raised.value) == (
        f"{tmp_path / 'profiles.yml'}: profile 'shop' output 'leaky': 'password' must come from the environment, "
        "e.g. password: \"{{ env_var('PGPASSWORD') }}\"; stockx never reads a password written into a file"
    )
    assert "hunter2" not in str(raised.value)


def test_export_judges_the_build_of_the_target_it_reads_not_another_targets(tmp_path, postgres_dsn):
    from analysis_sample import copy_sample

    settings = dsn_settings(postgres_dsn)
    server = (f'type = "postgres"\nhost = "{settings["host"]}"\nport = {settings["port"]}\n'
              f'user = "{settings["user"]}"\ndbname = "postgres"\n')
    root = copy_sample(tmp_path / "sample")
    with (root / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write(f'\n[tool.stockx.targets.pg]\n{server}schema = "judged_a"\n'
                        f'\n[tool.stockx.targets.pg2]\n{server}schema = "judged_b"\n')
    stockx = Invoker(root)
    built = stockx("build", "--target", "pg", "--exclude", "resource_type:snapshot")
    assert built.exit_code == 0, built.output
    # pg2 was never built: pg's verdict says nothing about it (both once counted as the database "").
    refused = stockx("export", "stock_extra", "--target", "pg2", "--out", str(tmp_path / "pages"))
    assert refused.exit_code == 2, refused.output
    assert ("the last run did not build model stock_extra in the database postgres://pg2; "
            "run `stockx build --select +stock_extra`") in refused.output
    assert "(with the same --target) before exporting" in refused.output
    assert stockx("export", "--target", "pg", "--out", str(tmp_path / "pages")).exit_code == 0


def test_the_console_script_exports_a_postgres_build(tmp_path, postgres_dsn):
    """The export copies the target's table into a local DuckDB file through Arrow. The console
    script opens DuckDB through its engine module alone (db.engine()), and a process that never
    imports the duckdb package cannot scan an Arrow batch: in-process runs (where the tests
    imported duckdb) would not show it."""
    import subprocess

    from analysis_sample import copy_sample

    settings = dsn_settings(postgres_dsn)
    root = copy_sample(tmp_path / "sample")
    with (root / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write(f'\n[tool.stockx.targets.pg]\ntype = "postgres"\nhost = "{settings["host"]}"\n'
                        f'port = {settings["port"]}\nuser = "{settings["user"]}"\ndbname = "postgres"\n'
                        'schema = "console_export"\n')
    built = Invoker(root)("build", "--target", "pg", "--exclude", "resource_type:snapshot")
    assert built.exit_code == 0, built.output
    out = tmp_path / "pages"
    exported = subprocess.run(
        [str(Path(sys.executable).parent / "stockx"), "export", "--project-dir", str(root), "--target", "pg",
         "--out", str(out)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert "Arrow" not in exported.stdout + exported.stderr
    assert len(list((out / "stock_extra").glob("page-*.json"))) >= 1


def test_a_spark_connect_target_keeps_the_clusters_warehouse_unless_one_is_named(make_project):
    from stockx_export.adapters.spark import SparkSettings

    root, _ = make_project({"pyproject.toml": _pyproject(
        '[tool.stockx.targets.lake]\ntype = "spark"\n'
        '[tool.stockx.targets.cluster]\ntype = "spark"\nremote = "sc://spark.internal:15002"\n'
        '[tool.stockx.targets.cluster_s3]\ntype = "spark"\nremote = "sc://spark.internal:15002"\n'
        'warehouse = "s3a://inventory/warehouse"\n'
    ), **MODEL})
    settings = {name: SparkSettings.of(load_config(root, target=name).target) for name in ("lake", "cluster", "cluster_s3")}
    assert settings["lake"].warehouse == str((root / "target" / "spark-warehouse").resolve())
    # A local path would be this machine's, which a cluster's executors cannot write.
    assert settings["cluster"].warehouse is None
    assert settings["cluster_s3"].warehouse == "s3a://inventory/warehouse"


def test_the_reshapes_null_safe_joins_are_hash_joins_on_postgres(tmp_path, postgres_dsn):
    """IS NOT DISTINCT FROM is joined row by row on Postgres (1M lines: still running after 18 minutes): null_safe_equal's
    postgres__ version is plain equalities, so no join of the reshape filters on IS DISTINCT FROM."""
    import psycopg

    from analysis_sample import copy_sample

    settings = dsn_settings(postgres_dsn)
    root = copy_sample(tmp_path / "sample")
    with (root / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write(f'\n[tool.stockx.targets.pg]\ntype = "postgres"\nhost = "{settings["host"]}"\n'
                        f'port = {settings["port"]}\nuser = "{settings["user"]}"\ndbname = "postgres"\nschema = "hashed"\n')
    stockx = Invoker(root)
    assert stockx("seed", "--target", "pg").exit_code == 0
    built = stockx("run", "--target", "pg", "-s", "+int_inventory_lines")
    assert built.exit_code == 0, built.output
    compiled = (root / "target" / "compiled" / "models" / "intermediate" / "int_inventory_lines.sql").read_text()
    with psycopg.connect(postgres_dsn + " dbname=postgres") as con:
        con.execute("set search_path to hashed")
        for query in ("select * from stg_warehouse__inventory", compiled):
            plan = "\n".join(row[0] for row in con.execute(f"explain {query}").fetchall())
            assert "Hash" in plan and "DISTINCT FROM" not in plan.upper(), plan
