"""Transpiling single statements: exact rewrites, reported constructs, qualified tables."""

from __future__ import annotations

import pytest

from stockx_export.analysis.transpile import transpile_sql
from stockx_export.errors import ProjectError


def _one_line(sql: str) -> str:
    return " ".join(sql.split())


def test_tables_are_fully_qualified_and_ctes_left_alone():
    result = transpile_sql("with a as (select * from main.orders) select * from a", "bigquery", "shop")
    assert _one_line(result.sql) == "WITH a AS ( SELECT * FROM shop.main.orders ) SELECT * FROM a"


def test_try_cast_in_postgres_uses_the_support_function():
    result = transpile_sql("select try_cast(x as bigint) as n from main.t", "postgres", "db")
    assert result.needs_support
    assert _one_line(result.sql) == "SELECT STOCKX_TRY_CAST(CAST(x AS TEXT), CAST(NULL AS BIGINT)) AS n FROM db.main.t"
    # Other dialects have a safe cast of their own.
    assert _one_line(transpile_sql("select try_cast(x as bigint) from t", "bigquery", "db").sql) == (
        "SELECT SAFE_CAST(x AS INT64) FROM t"
    )


def test_named_regexp_groups_become_a_postgres_array_with_duckdb_empty_strings():
    sql = "select p.a, p.b from (select regexp_extract(s, '(x)(y)?', ['a', 'b']) as p from main.t) q"
    result = transpile_sql(sql, "postgres", "db")
    assert _one_line(result.sql) == (
        "SELECT COALESCE(p[1], '') AS a, COALESCE(p[2], '') AS b FROM "
        "( SELECT REGEXP_MATCH(s, '(x)(y)?') AS p FROM db.main.t ) AS q"
    )


def test_untranslatable_constructs_are_named_and_nothing_is_written():
    result = transpile_sql("select list_reduce([1, 2], (a, b) -> a + b), x from read_csv('f.csv')", "spark", "db")
    assert result.sql is None
    assert result.untranslatable == (
        "function LIST_REDUCE() (DuckDB's; sqlglot knows no spark equivalent)",
        "READ_CSV() (reads a file; declare the data as a table in spark)",
    )


def test_unknown_dialect_is_refused():
    with pytest.raises(ProjectError, match="--dialect oracle is not supported; use one of snowflake, bigquery, postgres, spark, databricks"):
        transpile_sql("select 1", "oracle", "db")


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        # These dialects replace every match by default: DuckDB's 'g' flag is their only behaviour.
        ("snowflake", "SELECT REGEXP_REPLACE(s, '\\\\s+', ' ') AS v FROM db.main.t"),
        ("bigquery", "SELECT REGEXP_REPLACE(s, '\\\\s+', ' ') AS v FROM db.main.t"),
        ("spark", "SELECT REGEXP_REPLACE(s, '\\\\s+', ' ') AS v FROM db.main.t"),
        ("databricks", "SELECT REGEXP_REPLACE(s, '\\\\s+', ' ') AS v FROM db.main.t"),
        ("postgres", "SELECT REGEXP_REPLACE(s, '\\s+', ' ', 'g') AS v FROM db.main.t"),
    ],
)
def test_regexp_replace_every_match(dialect, expected):
    result = transpile_sql("select regexp_replace(s, '\\s+', ' ', 'g') as v from main.t", dialect, "db")
    assert result.untranslatable == ()
    assert _one_line(result.sql) == expected


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery", "spark", "databricks"])
def test_regexp_replace_of_the_first_match_or_with_other_flags_is_reported(dialect):
    first = transpile_sql("select regexp_replace(s, 'a', 'b') from main.t", dialect, "db")
    assert first.sql is None
    assert first.untranslatable == (
        f"REGEXP_REPLACE() without the 'g' flag (DuckDB replaces the first match only; {dialect} every match)",
    )
    flagged = transpile_sql("select regexp_replace(s, 'a', 'b', 'gi') from main.t", dialect, "db")
    assert flagged.sql is None
    assert flagged.untranslatable == (f"REGEXP_REPLACE() with flags 'gi' ({dialect} takes no flags argument)",)
    # Postgres's regexp_replace has DuckDB's semantics, flags included.
    assert _one_line(transpile_sql("select regexp_replace(s, 'a', 'b') from main.t", "postgres", "db").sql) == (
        "SELECT REGEXP_REPLACE(s, 'a', 'b') FROM db.main.t"
    )


def test_sqlglots_own_refusals_are_listed_once_without_blank_lines():
    result = transpile_sql("select list_sort(a, 'DESC'), list_sort(b, 'DESC') from main.t", "bigquery", "db")
    assert result.sql is None
    assert result.untranslatable == (
        "ARRAY_SORT is only supported on an ARRAY_AGG without ORDER BY or LIMIT and with a literal order",
    )
