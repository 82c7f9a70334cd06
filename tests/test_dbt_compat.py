"""stockx runs dbt projects unmodified (issue 8).

The classic fixture (tests/fixtures/dbt_classic) is built by stockx and compared
with what dbt-duckdb 1.10 produced for it (tests/fixtures/dbt_classic_golden,
see its README): every relation's content as DuckDB's COPY writes it, the
relations' columns and types, each test's verdict and failure count, and the
effects of the on-run-start / on-run-end hooks, on a first and a second build.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import REPO, Invoker, artifact_schemas, node_results, query
from stockx_export.core.artifacts import read_manifest

FIXTURE = REPO / "tests" / "fixtures" / "dbt_classic"
GOLDEN = REPO / "tests" / "fixtures" / "dbt_classic_golden"
DATABASE = Path("target") / "dbt_classic.duckdb"


def snapshot(project: Path) -> dict:
    """What the goldens hold, read from stockx's build the way record.py reads dbt's."""
    import duckdb

    manifest = read_manifest(project / "target" / "manifest.json")
    run_results = node_results(project)
    built = {
        (n.schema, n.alias): (uid, n.config["materialized"])
        for uid, n in manifest.nodes.items()
        if n.resource_type in ("seed", "model") and n.schema
    }
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
            node, how = built.get((schema, name), (None, None))
            relations.append(
                {
                    "schema": schema,
                    "name": name,
                    "type": "view" if table_type == "VIEW" else "table",
                    "dbt_node": node,
                    "materialized": how,
                    "columns": [{"name": c, "type": t} for c, t in columns],
                }
            )
            out = project / "relation.csv"
            con.execute(f"copy (select * from \"{schema}\".\"{name}\" order by all) to '{out}' (header, delimiter ',')")
            contents[f"{schema}.{name}.csv"] = out.read_text()
    finally:
        con.close()
    tests = {
        r["name"]: {
            "status": r["status"],
            "failures": r["failures"],
            "unique_id": r["unique_id"],
            "attached_node": r["attached_node"],
            "message": r["message"] or None,
        }
        for r in run_results
        if r["resource_type"] == "test"
    }
    nodes = {r["unique_id"]: r["status"] for r in run_results if r["resource_type"] in ("seed", "model")}
    return {"relations": relations, "contents": contents, "tests": tests, "nodes": nodes}


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """A copy of the fixture built twice by stockx: (first build, second build)."""
    project = tmp_path_factory.mktemp("dbt") / "dbt_classic"
    shutil.copytree(FIXTURE, project, ignore=shutil.ignore_patterns("target", "logs"))
    stockx = Invoker(project)
    first = stockx("build")
    first_snapshot = snapshot(project)
    first_snapshot["manifest"] = read_manifest(project / "target" / "manifest.json")
    first_snapshot["schemas"] = artifact_schemas(project / "target")
    second = stockx("build")
    return (first, first_snapshot), (second, snapshot(project))


def golden(name: str):
    return json.loads((GOLDEN / name).read_text())


def test_every_relation_has_dbts_columns_types_and_materialization(builds):
    (_, first), _ = builds
    expected = [{k: v for k, v in r.items() if k != "created_by"} for r in golden("relations.json")]
    assert first["relations"] == expected


def test_the_artifacts_are_in_dbts_schemas(builds):
    (_, first), _ = builds
    assert first["schemas"] == {"manifest.json": "ManifestV12", "run_results.json": "RunResultsV6"}


def test_every_relation_has_dbts_content(builds):
    (_, first), _ = builds
    expected = {path.name: path.read_text() for path in sorted(GOLDEN.glob("*.csv"))}
    assert sorted(first["contents"]) == sorted(expected)
    for name, text in expected.items():
        assert first["contents"][name] == text, name


def test_every_test_has_dbts_name_verdict_and_failure_count(builds):
    (_, first), _ = builds
    expected = {
        name: {k: outcome[k] for k in ("status", "failures", "unique_id", "attached_node", "message")}
        for name, outcome in golden("test_outcomes.json").items()
    }
    assert first["tests"] == expected


def test_seeds_and_models_succeed_and_the_failing_test_fails_the_build(builds):
    (result, first), _ = builds
    expected = {n["unique_id"]: n["status"] for n in golden("node_outcomes.json") if not n["unique_id"].startswith("operation.")}
    assert first["nodes"] == expected
    assert result.exit_code == 1  # relationships_orders_customer_id... fails with severity error, as under dbt
    assert "Done. PASS=29 WARN=1 ERROR=1 SKIP=0 TOTAL=31" in result.output


def test_hooks_run_in_order_and_on_run_end_sees_schemas_and_results(builds):
    (result, first), _ = builds
    # main.run_audit.csv: seq 1 from on-run-start with var() and target.name, seq 2 from on-run-end
    # with the sorted schemas built, 31 results (no hooks, no ephemeral) and 1 failed.
    assert first["contents"]["main.run_audit.csv"] == (GOLDEN / "main.run_audit.csv").read_text()
    lines = result.output.splitlines()
    assert lines[0].startswith("the project has on-run-start hooks: nodes run one at a time")
    assert lines[1:4] == ["OK on-run-start hook 1 of 2", "OK on-run-start hook 2 of 2", "Running 3 seeds, 6 models, 22 tests"]
    assert "OK on-run-end hook 1 of 1" in lines


def test_a_second_build_changes_only_what_dbts_second_build_changed(builds):
    (_, first), (result, second) = builds
    summary = golden("rebuild/summary.json")
    changed = sorted(name for name, text in second["contents"].items() if first["contents"][name] != text)
    assert changed == summary["relations_changed"]
    for name in changed:
        assert second["contents"][name] == (GOLDEN / "rebuild" / name).read_text()
    assert (second["relations"] != first["relations"]) == summary["relations_schema_changed"]
    assert (second["tests"] != first["tests"]) == summary["tests_changed"]
    assert "merged incremental main_marts.order_status_daily" in result.output  # is_incremental() was true


def test_descriptions_render_doc_blocks_vars_and_target(builds):
    (_, first), _ = builds
    nodes = first["manifest"].nodes
    stg_orders = nodes["model.classic_shop.stg_orders"]
    assert stg_orders.description == "Orders placed on or after 2018-01-01, one row per order."
    docs = (FIXTURE / "models" / "docs.md").read_text()
    status_doc = docs.split("{% docs order_status %}")[1].split("{% enddocs %}")[0].strip()
    assert stg_orders.columns["status"]["description"] == status_doc
    assert nodes["model.classic_shop.stg_payments"].description.startswith("Payments in dollars as built for the dev target")


# -- profiles.yml --------------------------------------------------------------------------------

PROJECT_YML = """
    name: shop
    profile: shop_profile
    config-version: 2
    vars:
      rate: 1
      shop:
        rate: 2
      other_package:
        rate: 3
    models:
      shop:
        +materialized: table
        marts:
          schema: marts
          totals:
            +materialized: view
"""


# What a missing profile meant before issue 15; now a profile must say it.
DEFAULT_PROFILES = "".join(
    f"{name}:\n  target: dev\n  outputs:\n    dev: {{type: duckdb, path: target/shop.duckdb}}\n" for name in ("shop_profile", "shop")
)


def dbt_project(make_project, profiles: str | None | bool, extra: dict[str, str] | None = None):
    """A dbt project; ``profiles`` is its profiles.yml (None: DEFAULT_PROFILES; False: none)."""
    profiles = DEFAULT_PROFILES if profiles is None else (None if profiles is False else profiles)
    files = {
        "pyproject.toml": "[project]\nname = 'not-stockx'\n",
        "dbt_project.yml": PROJECT_YML,
        "models/marts/totals.sql": "select {{ var('rate') }} as rate, '{{ target.name }}' as target_name\n",
        **(extra or {}),
    }
    if profiles is not None:
        files["profiles.yml"] = profiles
    return make_project(files)


def test_a_profile_of_another_adapter_is_an_error_naming_the_profile(make_project):
    root, stockx = dbt_project(
        make_project,
        """
        shop_profile:
          target: prod
          outputs:
            prod:
              type: snowflake
              account: shop
        """,
    )
    result = stockx("build")
    assert result.exit_code == 2
    # postgres and spark outputs are targets (tests/test_targets.py); other adapters are not.
    assert result.output == (
        f"Error: {root}/profiles.yml: profile 'shop_profile' target 'prod' is type 'snowflake'; "
        "stockx builds on duckdb, postgres, spark: add an output of one of those types\n"
    )


def test_a_missing_profile_or_output_is_an_error_listing_what_there_is(make_project):
    root, stockx = dbt_project(make_project, "other:\n  outputs: {}\n")
    result = stockx("build")
    assert result.output == (
        f"Error: {root}/profiles.yml: no profile named 'shop_profile' (dbt_project.yml's 'profile:'); it has other\n"
    )
    root, stockx = dbt_project(make_project, "shop_profile:\n  target: ci\n  outputs:\n    dev: {type: duckdb}\n")
    result = stockx("build")
    assert result.output == f"Error: {root}/profiles.yml: profile 'shop_profile' has no output 'ci'; its outputs are dev\n"


def test_the_profile_path_schema_and_target_name_are_used(make_project):
    root, stockx = dbt_project(
        make_project,
        """
        shop_profile:
          target: ci
          outputs:
            ci:
              type: duckdb
              path: "data/{{ env_var('SHOP_DB_NAME') }}.duckdb"
              schema: analytics
        """,
    )
    result = stockx("build", env={"SHOP_DB_NAME": "shop_ci"})
    assert result.exit_code == 0, result.output
    # vars: the project's own scope wins over the global value; custom schemas are <target schema>_<custom>;
    # a block keyed by the model's own name configures that model.
    assert query(root / "data" / "shop_ci.duckdb", "select rate, target_name from analytics_marts.totals") == [(2, "ci")]
    kinds = query(root / "data" / "shop_ci.duckdb", "select table_type from information_schema.tables where table_name = 'totals'")
    assert kinds == [("VIEW",)]


def test_without_a_profile_the_build_stops_naming_where_it_looked(make_project, tmp_path):
    # Issue 15: it went silently to target/<project>.duckdb; dbt stops ("Could not find profile").
    root, stockx = dbt_project(make_project, False)
    home = tmp_path / "home"
    result = stockx("run", env={"HOME": str(home)})
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {root}/dbt_project.yml: could not find profile 'shop_profile': there is no profiles.yml in the "
        f"working directory ({root}) nor in {home}/.dbt; run stockx from the folder that holds profiles.yml, "
        "or pass --profiles-dir (or set DBT_PROFILES_DIR), or name the database with --database\n"
    )
    assert not (root / "target" / "shop.duckdb").exists()
    # --database names the database: no profile is needed.
    assert stockx("run", "--database", str(root / "given.duckdb"), env={"HOME": str(home)}).exit_code == 0
    assert query(root / "given.duckdb", "select rate, target_name from main_marts.totals") == [(2, "dev")]


def test_profiles_are_found_in_dbts_order(make_project, tmp_path):
    # --profiles-dir, then DBT_PROFILES_DIR, then the working directory, then ~/.dbt (dbt-core's
    # default_profiles_dir); the project folder is not looked in when stockx runs from elsewhere.
    root, stockx = dbt_project(make_project, False)
    home = tmp_path / "home"
    (home / ".dbt").mkdir(parents=True)
    (home / ".dbt" / "profiles.yml").write_text(
        f"shop_profile:\n  target: dev\n  outputs:\n    dev: {{type: duckdb, path: {root / 'home.duckdb'}}}\n")
    (root / "profiles.yml").write_text(
        f"shop_profile:\n  target: dev\n  outputs:\n    dev: {{type: duckdb, path: {root / 'cwd.duckdb'}}}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert stockx("run", env={"HOME": str(home)}, cwd=elsewhere).exit_code == 0
    assert (root / "home.duckdb").exists() and not (root / "cwd.duckdb").exists()
    assert stockx("run", env={"HOME": str(home)}, cwd=root).exit_code == 0
    assert (root / "cwd.duckdb").exists()


def test_a_relative_duckdb_path_is_read_from_the_working_directory(make_project, tmp_path):
    # As dbt-duckdb opens it; before issue 15 stockx read it from the project folder.
    root, stockx = dbt_project(make_project, "shop_profile:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: rel.duckdb}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert stockx("run", "--profiles-dir", str(root), cwd=elsewhere).exit_code == 0
    assert query(elsewhere / "rel.duckdb", "select rate from main_marts.totals") == [(2,)]
    assert not (root / "rel.duckdb").exists()


def test_profiles_dir_option_and_environment_variable(make_project, tmp_path):
    root, stockx = dbt_project(make_project, False)
    elsewhere = tmp_path / "profiles"
    elsewhere.mkdir()
    (elsewhere / "profiles.yml").write_text(
        f"shop_profile:\n  target: dev\n  outputs:\n    dev: {{type: duckdb, path: {root / 'elsewhere.duckdb'}}}\n")
    assert stockx("run", "--profiles-dir", str(elsewhere)).exit_code == 0
    assert query(root / "elsewhere.duckdb", "select rate from main_marts.totals") == [(2,)]
    (root / "elsewhere.duckdb").unlink()
    assert stockx("run", env={"DBT_PROFILES_DIR": str(elsewhere)}).exit_code == 0
    assert (root / "elsewhere.duckdb").exists()
    result = stockx("run", "--profiles-dir", str(tmp_path / "nowhere"))
    assert result.output == f"Error: --profiles-dir {tmp_path / 'nowhere'}: no profiles.yml there\n"
    result = stockx("run", env={"DBT_PROFILES_DIR": str(tmp_path / "nowhere")})
    assert result.output == f"Error: DBT_PROFILES_DIR={tmp_path / 'nowhere'}: no profiles.yml there\n"


# -- what stockx does not run ---------------------------------------------------------------------


def test_python_models_are_reported_once_and_the_rest_builds_snapshots_included(make_project):
    root, stockx = dbt_project(
        make_project,
        None,
        {
            "models/scored.py": "def model(dbt, session):\n    return dbt.ref('totals').df()\n",
            "models/uses_scored.sql": "select * from {{ ref('scored') }}\n",
            "snapshots/totals_snapshot.sql": """
                {% snapshot totals_snapshot %}
                {{ config(target_schema='snapshots', unique_key='rate', strategy='check', check_cols='all') }}
                select * from {{ ref('totals') }}
                {% endsnapshot %}
            """,
            "models/uses_snapshot.sql": "select rate from {{ ref('totals_snapshot') }}\n",
        },
    )
    result = stockx("build")
    warnings = [line for line in result.output.splitlines() if line.startswith("Warning:")]
    assert warnings == [
        "Warning: models/scored.py: Python models are not supported by stockx, so it is not built (nor its tests); "
        "models that ref it read main.scored as it is in the database",
    ]
    # The rest builds, the snapshot and what reads it included; what reads the unbuilt
    # Python model fails on its own line, never silently.
    db = root / "target" / "shop.duckdb"
    assert query(db, "select rate from main_marts.totals") == [(2,)]
    assert query(db, "select rate from snapshots.totals_snapshot") == [(2,)]
    assert query(db, "select rate from main.uses_snapshot") == [(2,)]
    assert result.exit_code == 1
    assert "ERROR model main.uses_scored" in result.output
    assert "Table with name scored does not exist" in result.output
    assert "OK created table main.uses_snapshot" in result.output


def test_a_model_reads_an_unsupported_nodes_relation_when_dbt_built_it(make_project):
    root, stockx = dbt_project(
        make_project,
        None,
        {
            "models/scored.py": "def model(dbt, session):\n    return session.sql('select 7 as score')\n",
            "models/uses_scored.sql": "select score from {{ ref('scored') }}\n",
        },
    )
    import duckdb

    (root / "target").mkdir()
    con = duckdb.connect(str(root / "target" / "shop.duckdb"))
    con.execute("create table main.scored as select 7 as score")  # as dbt's Python model left it
    con.close()
    result = stockx("build")
    assert result.exit_code == 0, result.output
    assert query(root / "target" / "shop.duckdb", "select score from main.uses_scored") == [(7,)]


# -- seeds: types as dbt-duckdb infers them --------------------------------------------------------

# Each file below was loaded by `dbt seed` (dbt-core 1.10.23, dbt-duckdb 1.10.1, duckdb 2.0.1);
# the types and values are what that left in the database.
SEEDS = {
    "seeds/text_null.csv": ("b\nx\nnull\n\n", [("b", "VARCHAR")], [("x",), ("null",), (None,)]),
    "seeds/booleans.csv": ("c\nTrue\nfalse\n\n", [("c", "BOOLEAN")], [(True,), (False,), (None,)]),
    "seeds/stamps.csv": ("e\n2018-01-01 10:00:00\n\n", [("e", "TIMESTAMP")], [("2018-01-01 10:00:00",), (None,)]),
    "seeds/iso.csv": (
        "f\n2018-01-01T10:00:00\n2018-01-01T10:00:00Z\n",
        [("f", "TIMESTAMP")],
        [("2018-01-01 10:00:00",), ("2018-01-01 10:00:00",)],
    ),
    "seeds/whole.csv": ("h\n1.0\n2\n", [("h", "INTEGER")], [(1,), (2,)]),
    "seeds/exponent.csv": ("i\n1e3\n2\n", [("i", "INTEGER")], [(1000,), (2,)]),
    "seeds/short_dates.csv": ("j\n2018-1-5\n2018-01-06\n", [("j", "DATE")], [("2018-01-05",), ("2018-01-06",)]),
}


def test_seed_types_and_values_match_dbt_duckdb(make_project):
    root, stockx = dbt_project(make_project, None, {path: text for path, (text, _, _) in SEEDS.items()})
    result = stockx("seed")
    assert result.exit_code == 0, result.output
    db = root / "target" / "shop.duckdb"
    for path, (_, columns, rows) in SEEDS.items():
        name = Path(path).stem
        assert query(db, f"select column_name, data_type from information_schema.columns where table_name = '{name}'") == columns
        assert query(db, f"select {columns[0][0]}::varchar from main.{name} order by rowid") == [
            (None if v is None else str(v).replace("True", "true").replace("False", "false"),) for (v,) in rows
        ]


def test_a_seed_loaded_the_slow_way_under_dbt_is_reported(make_project):
    _, stockx = dbt_project(
        make_project,
        None,
        {"seeds/notes.csv": "note\nhello\nnull\n", "seeds/_seeds.yml": "seeds:\n  - name: notes\n    config: {fast: false}\n"},
    )
    result = stockx("seed")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "Warning: seeds/notes.csv: 'fast: false' is not supported by stockx; it loads the seed the fast way, "
        "so DuckDB parses the values ('null' stays text, '1,000' is not a number)"
    )


def test_a_value_dbt_duckdb_cannot_load_fails_the_seed_as_it_does(make_project):
    # dbt-duckdb infers INTEGER for 1/null/3 and then fails to COPY the text 'null' into it.
    _, stockx = dbt_project(make_project, None, {"seeds/counts.csv": "a\n1\nnull\n3\n"})
    result = stockx("seed")
    assert result.exit_code == 1
    assert "ERROR seed main.counts" in result.output
    assert 'Could not convert string "null" to \'INTEGER\'' in result.output


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "a,b\n1,2\n3,4,5\n",
            "seeds/rows.csv:3: row has 3 values but the header has 2 columns: `3,4,5`; "
            "quote values that contain ',', or set the seed's delimiter",
        ),
        ("", "seeds/rows.csv: the file is empty; a seed needs a header line naming its columns"),
    ],
)
def test_a_seed_that_does_not_parse_names_its_line(make_project, text, message):
    root, stockx = dbt_project(make_project, None, {"seeds/rows.csv": text})
    result = stockx("seed")
    assert result.exit_code == 1
    assert node_results(root)[0]["message"] == message


def test_a_seed_that_is_not_utf8_names_its_line(make_project):
    root, stockx = dbt_project(make_project, None, {"seeds/rows.csv": "a\n"})
    (root / "seeds/rows.csv").write_bytes(b"a,b\n1,caf\xe9\n")
    result = stockx("seed")
    assert result.exit_code == 1
    message = node_results(root)[0]["message"]
    assert message == "rows.csv:2: byte 0xe9 is not UTF-8; save the file as UTF-8"


# -- hooks on nodes, the project file's Jinja, the profile's DuckDB setup --------------------------


def test_pre_and_post_hooks_run_around_their_node_with_this(make_project):
    root, stockx = dbt_project(
        make_project,
        """
        shop_profile:
          target: dev
          outputs:
            dev:
              type: duckdb
              path: target/shop.duckdb
              settings:
                default_order: desc
              extensions: [json]
              plugins: [{module: excel}]
        """,
        {
            "dbt_project.yml": PROJECT_YML
            + """
    on-run-start: ["create table main.audit (seq integer, note varchar)"]
    seeds:
      shop:
        +post-hook: "insert into main.audit select 1, 'seed {{ this }}'"
""",
            "seeds/rates.csv": "rate\n5\n",
            "models/marts/totals.sql": """
                {{ config(materialized='table', post_hook="insert into main.audit select 3, 'post {{ this }} ' || (select count(*) from {{ this }})") }}
                select rate, current_setting('default_order') as ordering from {{ ref('rates') }}
            """,
            "models/marts/_marts.yml": """
                version: 2
                models:
                  - name: totals
                    config:
                      pre_hook: "insert into main.audit select 2, 'pre {{ this }}'"
            """,
        },
    )
    result = stockx("build")
    assert result.exit_code == 0, result.output
    db = root / "target" / "shop.duckdb"
    # {{ this }} renders as dbt-duckdb renders it (checked with dbt 1.10): database, schema, name, quoted.
    assert query(db, "select seq, note from main.audit order by seq") == [
        (1, 'seed "shop"."main"."rates"'),
        (2, 'pre "shop"."main_marts"."totals"'),
        (3, 'post "shop"."main_marts"."totals" 1'),
    ]
    assert query(db, "select rate, ordering from main_marts.totals") == [(5, "DESC")]
    assert (
        f"Warning: {root}/profiles.yml: stockx ignores plugins in profile 'shop_profile' output 'dev'; "
        "it uses type, path, schema, extensions and settings"
    ) in result.output


DROP_MARTS = "drop schema if exists main_marts cascade"


@pytest.mark.parametrize("hook", [
    DROP_MARTS,
    # SQL run while the hook renders, through run_query() or statement(fetch_result=True): not the hook's own
    f"{{% do run_query('{DROP_MARTS}') %}}",
    f"{{% call statement('drop', fetch_result=True) %}}{DROP_MARTS}{{% endcall %}}",
], ids=["hook", "run_query", "statement"])
@pytest.mark.parametrize("threads", ["1", "2"])
def test_a_hook_that_drops_a_schema_the_run_created_does_not_break_the_nodes_after_it(make_project, threads, hook):
    # A run creates its schemas once, up front, and its nodes skip `create schema`: SQL a hook runs may drop
    # one, and the nodes after it must create it again rather than fail.
    root, stockx = dbt_project(
        make_project,
        None,
        {
            "models/marts/totals.sql": "select 1 as id\n",
            "models/marts/second.sql": f"{{{{ config(pre_hook=\"{hook}\") }}}}\n"
                                       "-- depends_on: {{ ref('totals') }}\nselect 2 as id\n",
            "models/marts/third.sql": "select id from {{ ref('second') }}\n",
        },
    )
    result = stockx("run", "--threads", threads)
    assert result.exit_code == 0, result.output
    db = root / "target" / "shop.duckdb"
    assert query(db, "select id from main_marts.third") == [(2,)]
    assert query(db, "select count(*) from information_schema.tables where table_name = 'totals'") == [(0,)]


def test_a_failing_hook_that_dropped_a_schema_first_leaves_the_other_nodes_able_to_build_in_it(make_project):
    # The hook's text drops the schema, then fails: its node fails, and a node that does not depend on it
    # must still find (or make again) the schema it builds in.
    root, stockx = dbt_project(
        make_project,
        None,
        {
            "models/marts/totals.sql": "select 1 as id\n",
            "models/marts/second.sql": f"{{{{ config(pre_hook=\"{DROP_MARTS}; select * from no_such_table\") }}}}\n"
                                       "-- depends_on: {{ ref('totals') }}\nselect 2 as id\n",
            "models/marts/third.sql": "{{ config(materialized='view') }}\n-- depends_on: {{ ref('totals') }}\n"
                                      "select 3 as id\n",  # runs after second
        },
    )
    result = stockx("run", "--threads", "1")
    assert result.exit_code == 1
    assert "models/marts/second.sql: pre-hook 1: Catalog Error: Table with name no_such_table does not exist!" in result.output
    assert "3 of 3 OK created view main_marts.third" in result.output, result.output
    assert query(root / "target" / "shop.duckdb", "select id from main_marts.third") == [(3,)]


def test_a_failing_post_hook_fails_its_node_and_skips_what_depends_on_it(make_project):
    _, stockx = dbt_project(
        make_project,
        None,
        {
            "models/marts/totals.sql": "{{ config(post_hook='insert into nowhere values (1)') }}\nselect 1 as rate\n",
            "models/later.sql": "select * from {{ ref('totals') }}\n",
        },
    )
    result = stockx("run")
    assert result.exit_code == 1
    assert "post-hook 1: Catalog Error: Table with name nowhere does not exist!" in result.output
    assert "SKIP model main.later" in result.output


def test_the_project_file_renders_target_vars_and_env_vars(make_project):
    root, stockx = dbt_project(
        make_project,
        None,
        {
            "dbt_project.yml": """
                name: shop
                config-version: 2
                models:
                  shop:
                    +materialized: "{{ 'table' if target.name == 'dev' else 'view' }}"
                    +schema: "{{ var('schema_suffix') }}_{{ env_var('SHOP_TEAM', 'core') }}"
            """,
            "models/marts/totals.sql": "select 1 as one\n",
        },
    )
    result = stockx("run", "--vars", "{schema_suffix: nightly}")
    assert result.exit_code == 0, result.output
    assert query(root / "target" / "shop.duckdb", "select table_schema, table_type from information_schema.tables") == [
        ("main_nightly_core", "BASE TABLE")
    ]


def test_a_failing_run_hook_is_an_error_naming_it(make_project):
    project_yml = "name: shop\nconfig-version: 2\non-run-start:\n  - \"select 1\"\n  - \"insert into nowhere values (1)\"\n"
    plain = {"models/marts/totals.sql": "select 1 as rate\n"}
    _, stockx = dbt_project(make_project, None, {"dbt_project.yml": project_yml, **plain})
    result = stockx("run")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "Error: dbt_project.yml: on-run-start hook 2: Catalog Error: Table with name nowhere does not exist!"
    )
    project_yml = "name: shop\nconfig-version: 2\non-run-end: [\"select {{ results[0].nope }}\"]\n"
    _, stockx = dbt_project(make_project, None, {"dbt_project.yml": project_yml, **plain})
    result = stockx("run")
    assert result.exit_code == 1
    assert "Failure in operation shop-on-run-end-0 (dbt_project.yml)" in result.output
    assert "dbt_project.yml: on-run-end hook 1: " in result.output


def test_dbt_target_chooses_the_profile_output(make_project):
    root, stockx = dbt_project(
        make_project,
        "shop_profile:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: dev.duckdb}\n    prod: {type: duckdb, path: prod.duckdb}\n",
    )
    assert stockx("run", env={"DBT_TARGET": "prod"}).exit_code == 0
    assert query(root / "prod.duckdb", "select target_name from main_marts.totals") == [("prod",)]
    assert not (root / "dev.duckdb").exists()
