"""[tool.stockx.duckdb]: DuckDB settings the project sets, applied when a build opens the database."""

from __future__ import annotations

from conftest import query

SETTINGS_MODEL = """
{{ config(materialized='table') }}
select
    current_setting('memory_limit') as memory_limit,
    current_setting('threads') as threads,
    current_setting('temp_directory') as temp_directory
"""


def _project(make_project, settings: str):
    return make_project({
        "pyproject.toml": f'[tool.stockx]\nname = "demo"\ndatabase = "target/demo.duckdb"\n[tool.stockx.duckdb]\n{settings}',
        "models/settings.sql": SETTINGS_MODEL,
    })


def test_settings_are_applied_to_the_build(make_project):
    root, stockx = _project(make_project, 'memory_limit = "256MiB"\nthreads = 1\ntemp_directory = "target/spill"\n')
    result = stockx("build")
    assert result.exit_code == 0, result.output
    # A relative temp_directory is the project's, whatever directory stockx runs in.
    assert query(root / "target" / "demo.duckdb", "select * from settings") == [
        ("256.0 MiB", 1, str(root / "target" / "spill")),
    ]


def test_without_the_table_duckdb_keeps_its_defaults(make_project):
    root, stockx = make_project({
        "pyproject.toml": '[tool.stockx]\nname = "demo"\ndatabase = "target/demo.duckdb"\n',
        "models/settings.sql": SETTINGS_MODEL,
    })
    assert stockx("run").exit_code == 0
    assert query(root / "target" / "demo.duckdb", "select temp_directory from settings") == [
        (str(root / "target" / "demo.duckdb.tmp"),),  # DuckDB's own, next to the database
    ]


def test_a_value_duckdb_refuses_is_named_with_duckdbs_reason(make_project):
    _, stockx = _project(make_project, 'memory_limit = "lots"\n')
    result = stockx("run")
    assert (result.exit_code, result.output) == (
        2, "Error: [tool.stockx.duckdb] memory_limit = 'lots': Parser Error: Memory must have a number (e.g. 1GB)\n",
    )


def test_a_misspelt_setting_gets_duckdbs_suggestion(make_project):
    _, stockx = _project(make_project, 'memry_limit = "1GB"\n')
    result = stockx("run")
    assert (result.exit_code, result.output) == (
        2,
        "Error: [tool.stockx.duckdb] memry_limit = '1GB': Catalog Error: unrecognized configuration parameter "
        '"memry_limit"; Did you mean: "memory_limit"\n',
    )


def test_a_value_that_is_not_a_scalar_is_refused(make_project):
    _, stockx = _project(make_project, 'memory_limit = ["1GB"]\n')
    result = stockx("run")
    assert (result.exit_code, result.output) == (
        2, "Error: [tool.stockx.duckdb] memory_limit: must be a string, a number or true/false, got ['1GB']\n",
    )
