"""Each model's compiled SQL in another warehouse's dialect (``stockx compile --dialect``;
stockx_export.run.analyse writes the files).

sqlglot does the translation, but passes through what it does not know
(DuckDB-only functions come out verbatim) and maps some constructs to ones
with other semantics (``TRY_CAST`` becomes a plain ``CAST`` in Postgres). So
before generating, each model is searched for constructs with no faithful
translation to the dialect; a model with one is reported, naming the model and
the construct, and not written. A few DuckDB constructs have exact rewrites
(see ``rewrites``); Postgres's ``TRY_CAST`` needs a helper function, written
once to ``target/compiled/postgres/stockx_support.sql``.

Tables are written fully qualified (database.schema.table); the database is
``[tool.stockx.transpile] database``, else the DuckDB database's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stockx_export.errors import ProjectError

# The rewrites (and, through them, the adapters) are imported where they are used: `stockx --help`
# imports this module for DIALECTS alone.
DIALECTS = ("snowflake", "bigquery", "postgres", "spark", "databricks")
SUPPORT_FILE = "stockx_support.sql"


@dataclass(frozen=True)
class Transpiled:
    """One model in a dialect: its SQL, or the constructs that kept it from translating."""

    sql: str | None
    untranslatable: tuple[str, ...] = ()
    needs_support: bool = False


def _unsupported(expression, dialect: str) -> list[str]:
    """Constructs in ``expression`` that would be written wrongly (or verbatim) in ``dialect``."""
    from sqlglot import exp

    from stockx_export.analysis import rewrites

    found: list[str] = []

    def add(text: str) -> None:
        if text not in found:
            found.append(text)

    for node in expression.walk():
        if isinstance(node, exp.Anonymous) and node.name.lower() not in rewrites.OWN_FUNCTIONS:
            add(f"function {node.name.upper()}() (DuckDB's; sqlglot knows no {dialect} equivalent)")
        elif isinstance(node, exp.TryCast) and dialect == "postgres":
            add(f"TRY_CAST(... AS {node.to.sql('duckdb')}) (Postgres has no safe cast)")
        elif isinstance(node, exp.RegexpExtract) and isinstance(node.args.get("group"), exp.Array):
            add("REGEXP_EXTRACT with a list of group names (returns a DuckDB STRUCT)")
        elif isinstance(node, exp.RegexpFullMatch):
            add(f"REGEXP_FULL_MATCH() (no {dialect} equivalent known to stockx)")
        elif isinstance(node, exp.RegexpReplace) and dialect != "postgres" and node.args.get("single_replace"):
            # Still DuckDB's meaning after rewrites: the first match only, or flags these dialects lack.
            flags = node.args.get("modifiers")
            if flags is None:
                add(f"REGEXP_REPLACE() without the 'g' flag (DuckDB replaces the first match only; {dialect} every match)")
            else:
                add(f"REGEXP_REPLACE() with flags {flags.sql('duckdb')} ({dialect} takes no flags argument)")
        elif isinstance(node, exp.ArgMax) and dialect == "postgres":
            add("ARG_MAX() (Postgres has no arg_max aggregate)")
        elif isinstance(node, (exp.ReadCSV, exp.ReadParquet)):
            add(f"{node.sql('duckdb').split('(')[0].upper()}() (reads a file; declare the data as a table in {dialect})")
    return found


def transpile_sql(sql: str, dialect: str, database: str | None) -> Transpiled:
    """``sql`` (DuckDB) in ``dialect``, tables qualified with ``database`` (left as written when None)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel, SqlglotError, UnsupportedError

    from stockx_export.analysis import rewrites

    if dialect not in DIALECTS:
        raise ProjectError(f"--dialect {dialect} is not supported; use one of {', '.join(DIALECTS)}")
    expression = sqlglot.parse_one(sql, read="duckdb")
    expression = rewrites.rewrite(expression, dialect)
    problems = _unsupported(expression, dialect)
    if problems:
        return Transpiled(None, tuple(problems))
    for table in expression.find_all(exp.Table) if database else ():
        if isinstance(table.this, exp.Identifier) and table.db and not table.catalog:
            table.set("catalog", exp.to_identifier(database))
    try:
        text = expression.sql(dialect=dialect, pretty=True, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        # sqlglot separates its messages with blank lines and repeats one per occurrence.
        return Transpiled(None, tuple(dict.fromkeys(line for line in str(exc).splitlines() if line.strip())))
    except SqlglotError as exc:  # pragma: no cover - generation errors other than "unsupported"
        return Transpiled(None, (f"sqlglot: {str(exc).splitlines()[0]}",))
    needs_support = any(
        isinstance(n, exp.Anonymous) and n.name.lower() == rewrites.SUPPORT_FUNCTION for n in expression.walk()
    )
    return Transpiled(text + "\n", (), needs_support)


def database_name(database: str) -> str:
    """The name DuckDB gives a database file when it attaches it (as the renderer's target.database)."""
    return "memory" if database == ":memory:" else Path(database).stem
