"""dbt packages (issue 15): packages.yml, ``stockx deps``, package macros, dispatch, models, tests and vars.

The reference is dbt-utils' own integration tests (tests/fixtures/dbt_utils, which
install the package with ``local: ../``): built by stockx, every node and test has
the status dbt-duckdb 1.10 gave it and every relation dbt's content
(tests/fixtures/dbt_utils_golden, recorded by its record.py).
"""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest

from conftest import REPO, Invoker, artifact_schemas, node_results, query
from stockx_export.core.artifacts import read_manifest

FIXTURE = REPO / "tests" / "fixtures" / "dbt_utils"
GOLDEN = REPO / "tests" / "fixtures" / "dbt_utils_golden"
DATABASE = Path("target") / "integration_tests.duckdb"
# Relations with a column computed from the clock at build time (dbt.current_timestamp()):
# (relation's CSV, column, the SQL of the value as of a moment given as `?`). Compared by that rule.
CLOCK_COLUMNS = {
    "main.recency_time_included.csv": ("created_at", "cast(cast(? as timestamptz) - interval 23 hour as timestamp)"),
    "main.recency_time_excluded.csv": ("created_at", "date_trunc('day', cast(? as timestamptz) - interval 1 day)"),
}


def copy_integration_tests(tmp: Path) -> Path:
    package = tmp / "dbt_utils"
    shutil.copytree(FIXTURE, package)
    shutil.copy(GOLDEN / "profiles.yml", package / "integration_tests" / "profiles.yml")
    return package / "integration_tests"


def golden(name: str):
    return json.loads((GOLDEN / name).read_text())


def read_build(project: Path) -> dict:
    """What the goldens hold, read from stockx's build as record.py reads dbt's."""
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
    return {"relations": relations, "contents": contents, "results": results,
            "schemas": artifact_schemas(project / "target")}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """dbt-utils' integration tests after `stockx deps` and `stockx build`: (deps, build, what it built, clock)."""
    import duckdb

    project = copy_integration_tests(tmp_path_factory.mktemp("packages"))
    stockx = Invoker(project)
    deps = stockx("deps")
    clock = duckdb.connect(":memory:")
    before = clock.execute("select now()").fetchone()[0]
    build = stockx("build")
    found = read_build(project)
    # After the read: the two relations are views, so their clock is read when they are queried.
    after = clock.execute("select now()").fetchone()[0]
    return deps, build, found, (before, after)


def test_the_artifacts_are_in_dbts_schemas(built):
    _, _, ours, _ = built
    assert ours["schemas"] == {"manifest.json": "ManifestV12", "run_results.json": "RunResultsV6"}


def test_deps_links_the_local_package_into_dbt_packages(built, tmp_path):
    deps, _, _, _ = built
    assert deps.exit_code == 0, deps.output
    assert deps.stdout == "1 package installed: dbt_utils\n"
    project = copy_integration_tests(tmp_path)
    Invoker(project)("deps")
    link = project / "dbt_packages" / "dbt_utils"
    assert link.is_symlink() and link.resolve() == project.parent.resolve()


def test_every_seed_model_and_test_has_the_status_dbt_duckdb_gave_it(built):
    _, build, ours, _ = built
    status = {r["unique_id"]: r["status"] for r in ours["results"]}
    expected = {n["unique_id"]: n["status"] for n in golden("node_outcomes.json")}
    expected |= {t["unique_id"]: t["status"] for t in golden("test_outcomes.json").values()}
    # stockx says "skipped" where dbt's run_results say "skipped": the same word; "success"/"pass"/"fail"/"error" too.
    assert status == expected
    # Failing rows of each test that did not pass (dbt reports 0 for a pass; stockx what its query counted).
    failures = {r["unique_id"]: r["failures"] for r in ours["results"] if r["resource_type"] == "test" and r["status"] != "pass"}
    assert failures == {t["unique_id"]: t["failures"] for t in golden("test_outcomes.json").values() if t["status"] != "pass"}
    assert build.exit_code == 1
    assert "Done. PASS=227 WARN=0 ERROR=4 SKIP=6 TOTAL=237" in build.output


def test_every_relation_has_dbts_columns_and_types(built):
    _, _, ours, _ = built
    assert ours["relations"] == golden("relations.json")


def test_every_relation_has_dbts_content(built):
    _, _, ours, (before, after) = built
    expected = {path.name: path.read_text() for path in sorted(GOLDEN.glob("*.csv"))}
    assert sorted(ours["contents"]) == sorted(expected)
    for name, text in expected.items():
        if name in CLOCK_COLUMNS:
            continue
        assert ours["contents"][name] == text, name


def test_columns_computed_from_the_clock_follow_dbts_rule(built):
    """dbt.current_timestamp() differs by build; everything else in those relations matches exactly."""
    import csv
    import io

    import duckdb

    _, _, ours, (before, after) = built
    con = duckdb.connect(":memory:")
    for name, (column, rule) in CLOCK_COLUMNS.items():
        expected = list(csv.DictReader(io.StringIO((GOLDEN / name).read_text())))
        found = list(csv.DictReader(io.StringIO(ours["contents"][name])))
        assert [{k: v for k, v in row.items() if k != column} for row in found] == [
            {k: v for k, v in row.items() if k != column} for row in expected
        ]
        low, high = (con.execute(f"select {rule}", [moment]).fetchone()[0] for moment in (before, after))
        for row in found:
            value = datetime.datetime.fromisoformat(row[column])
            assert low <= value <= high, (name, value, low, high)


# -- a local package with models, seeds, tests, vars and dispatch; a vendored git package ------------------

NOT_STOCKX = {"pyproject.toml": "[project]\nname = 'not-stockx'\n"}
PACKAGE = {
    **NOT_STOCKX,
    "dbt_project.yml": """
        name: inventory_pkg
        version: 1.0.0
        config-version: 2
        vars:
          pkg_rate: 1
          shared: pkg
        models:
          inventory_pkg:
            +materialized: table
            staging:
              +schema: pkg
    """,
    "macros/double.sql": """
        {% macro double(x) %}{{ return(adapter.dispatch('double', 'inventory_pkg')(x)) }}{% endmacro %}
        {% macro default__double(x) %}({{ x }} * 2){% endmacro %}
        {% test is_positive(model, column_name) %}
        select * from {{ model }} where {{ column_name }} <= 0
        {% endtest %}
    """,
    "seeds/pkg_seed.csv": "id,name\n1,a\n2,b\n",
    "models/staging/pkg_items.sql": """
        select id, name, '{{ var("pkg_rate") }}' as rate, '{{ var("shared") }}' as shared,
               {{ inventory_pkg.double(2) }} as doubled
        from {{ ref('pkg_seed') }}
    """,
    "models/staging/docs.md": "{% docs pkg_items_doc %}Items of the inventory package.{% enddocs %}\n",
    "models/staging/_pkg.yml": """
        version: 2
        models:
          - name: pkg_items
            description: "{{ doc('pkg_items_doc') }}"
            columns:
              - name: id
                data_tests: [not_null, is_positive]
    """,
}
SHOP_PROJECT = """
    name: shop
    profile: shop
    config-version: 2
    vars:
      shared: root
      inventory_pkg:
        pkg_rate: 5
    models:
      inventory_pkg:
        staging:
          +materialized: view
"""
SHOP = {
    **NOT_STOCKX,
    "dbt_project.yml": SHOP_PROJECT,
    "profiles.yml": "shop: {target: dev, outputs: {dev: {type: duckdb, path: target/shop.duckdb}}}\n",
    "packages.yml": """
        packages:
          - local: ../inventory_pkg
          - git: https://github.com/acme/dbt-calendar.git
            revision: 1.0.0
    """,
    "macros/double.sql": "{% macro default__double(x) %}({{ x }} * 3){% endmacro %}\n",
    "models/uses_pkg.sql": "select id, rate, shared, doubled, {{ dbt_calendar.calendar_year() }} as year from {{ ref('pkg_items') }}\n",
    "models/_shop.yml": """
        version: 2
        models:
          - name: uses_pkg
            columns:
              - name: id
                data_tests: [inventory_pkg.is_positive]
    """,
    "dbt_packages/dbt_calendar/dbt_project.yml": "name: dbt_calendar\nversion: 1.0.0\nconfig-version: 2\n",
    "dbt_packages/dbt_calendar/macros/year.sql": "{% macro calendar_year() %}2026{% endmacro %}\n",
}


@pytest.fixture
def shop(make_project):
    """The shop project beside its local package (tmp/shop, tmp/inventory_pkg): (root, stockx)."""

    def make(**changes: str):
        make_project(PACKAGE, name="inventory_pkg")
        return make_project({**SHOP, **changes}, name="shop")

    return make


def test_a_local_packages_models_seeds_tests_and_vars_build_as_dbt_builds_them(shop):
    # What dbt-duckdb 1.10 built for this very pair of projects (checked by hand with dbt deps / dbt build):
    # the root project's models: block wins over the package's (a view), the custom schema is main_pkg,
    # var() resolves --vars, then the root's vars for the package, then the root's, then the package's own,
    # and adapter.dispatch('double', 'inventory_pkg') finds the root project's default__double first.
    root, stockx = shop()
    deps = stockx("deps")
    assert deps.exit_code == 0, deps.output
    assert deps.stdout == "2 packages installed: inventory_pkg, dbt_calendar\n"
    assert (
        "Found dbt_calendar for git: https://github.com/acme/dbt-calendar.git (1.0.0) in dbt_packages/dbt_calendar "
        "(vendored; stockx does not download)"
    ) in deps.stderr
    result = stockx("build")
    assert result.exit_code == 0, result.output
    db = root / "target" / "shop.duckdb"
    assert query(db, "select table_schema, table_name, table_type from information_schema.tables order by all") == [
        ("main", "pkg_seed", "BASE TABLE"), ("main", "uses_pkg", "VIEW"), ("main_pkg", "pkg_items", "VIEW"),
    ]
    assert query(db, "select * from main_pkg.pkg_items order by id") == [(1, "a", "5", "root", 6), (2, "b", "5", "root", 6)]
    assert query(db, "select * from main.uses_pkg order by id") == [(1, "5", "root", 6, 2026), (2, "5", "root", 6, 2026)]
    results = node_results(root)
    assert [(r["unique_id"], r["status"]) for r in results] == [
        ("seed.inventory_pkg.pkg_seed", "success"),
        ("model.inventory_pkg.pkg_items", "success"),
        ("test.inventory_pkg.is_positive_pkg_items_id.39d957836c", "pass"),
        ("test.inventory_pkg.not_null_pkg_items_id.76b8dde433", "pass"),
        ("model.shop.uses_pkg", "success"),
        ("test.shop.inventory_pkg_is_positive_uses_pkg_id.e598d2241b", "pass"),
    ]
    manifest = read_manifest(root / "target" / "manifest.json")
    assert manifest.nodes["model.inventory_pkg.pkg_items"].description == "Items of the inventory package."
    listed = stockx("ls", "-s", "package:inventory_pkg", "--output", "name")
    # The test on uses_pkg is the root project's, though its macro is the package's (as in dbt).
    assert listed.stdout.split() == ["pkg_seed", "pkg_items", "is_positive_pkg_items_id", "not_null_pkg_items_id"]


def test_vars_from_the_command_line_win_in_a_package(shop):
    root, stockx = shop()
    stockx("deps")
    result = stockx("build", "--vars", "{pkg_rate: 9}")
    assert result.exit_code == 0, result.output
    assert query(root / "target" / "shop.duckdb", "select distinct rate from main_pkg.pkg_items") == [("9",)]


@pytest.mark.parametrize(
    ("dispatch", "doubled"),
    [
        ("", 6),  # an installed package's namespace: the root project first, then the package
        ("dispatch: [{macro_namespace: inventory_pkg, search_order: [inventory_pkg, shop]}]", 4),
        ("dispatch: [{macro_namespace: inventory_pkg, search_order: [shop, inventory_pkg]}]", 6),
    ],
)
def test_dispatch_searches_packages_in_the_projects_order(shop, dispatch, doubled):
    root, stockx = shop(**{"dbt_project.yml": SHOP_PROJECT + "    " + dispatch + "\n"})
    stockx("deps")
    result = stockx("build", "-s", "+pkg_items")
    assert result.exit_code == 0, result.output
    assert query(root / "target" / "shop.duckdb", "select distinct doubled from main_pkg.pkg_items") == [(doubled,)]


def test_a_package_not_installed_stops_before_any_model_naming_it(shop):
    root, stockx = shop()
    result = stockx("build")
    assert result.exit_code == 2
    assert result.stderr == "Error: packages.yml: package local: ../inventory_pkg is not installed; run `stockx deps`\n"


def test_a_git_package_not_vendored_says_how_to_vendor_it(shop):
    root, stockx = shop()
    shutil.rmtree(root / "dbt_packages" / "dbt_calendar")
    expected = (
        "Error: packages.yml: package git: https://github.com/acme/dbt-calendar.git (1.0.0) is not in dbt_packages/ "
        "and stockx does not download packages: vendor it (git clone https://github.com/acme/dbt-calendar.git "
        "dbt_packages/dbt-calendar && git -C dbt_packages/dbt-calendar checkout 1.0.0), then commit "
        "dbt_packages/dbt-calendar or run `stockx deps` again\n"
    )
    deps = stockx("deps")
    assert (deps.exit_code, deps.stderr.splitlines()[-1] + "\n") == (2, expected)
    build = stockx("build")
    assert (build.exit_code, build.stderr) == (2, expected)


def test_a_packages_macros_are_reached_by_namespace_not_by_bare_name_from_the_root(shop):
    root, stockx = shop(**{"models/uses_pkg.sql": "select 1 as id, {{ inventory_pkg.double(2) }} as doubled\n"})
    stockx("deps")
    result = stockx("build", "-s", "uses_pkg")
    assert result.exit_code == 0, result.output
    assert query(root / "target" / "shop.duckdb", "select doubled from main.uses_pkg") == [(6,)]
    (root / "models" / "uses_pkg.sql").write_text("select 1 as id, {{ double(2) }} as doubled\n")
    result = stockx("build", "-s", "uses_pkg")
    assert result.exit_code == 2
    assert result.stderr == "Error: models/uses_pkg.sql:1: 'double' is undefined\n"


def test_dependencies_yml_declares_packages_as_packages_yml_does(shop):
    root, stockx = shop()
    (root / "packages.yml").rename(root / "dependencies.yml")
    deps = stockx("deps")
    assert deps.stdout == "2 packages installed: inventory_pkg, dbt_calendar\n"
    assert stockx("build").exit_code == 0


def test_deps_in_a_stockx_project_says_packages_are_a_dbt_projects(make_project):
    root, stockx = make_project({"models/one.sql": "select 1 as x\n"})
    result = stockx("deps")
    assert result.exit_code == 2
    assert result.stderr == f"Error: {root} has no dbt_project.yml: packages belong to dbt projects (a stockx project has none)\n"


def test_a_malformed_package_entry_is_an_error_naming_it(shop):
    root, stockx = shop(**{"packages.yml": "packages:\n  - local: ../inventory_pkg\n    git: https://example.com/x.git\n"})
    result = stockx("deps")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: packages.yml: package 1: expected exactly one of local:, package:, git: or tarball:, got "
        "{'local': '../inventory_pkg', 'git': 'https://example.com/x.git'}\n"
    )
