"""The one place stockx talks to DuckDB for execution.

Everything else receives a connection as a parameter; this module opens it,
knows how to quote names and how to read what relations already exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def connect(path: str, read_only: bool = False):
    """Open (creating on demand, with its folder) the DuckDB database at ``path``."""
    import duckdb

    from stockx_export.errors import ProjectError

    if path != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectError(
                f"cannot create the folder of database {path}: {exc.strerror}; pass another --database"
            ) from None
    try:
        return duckdb.connect(path, read_only=read_only)
    except duckdb.Error as exc:
        raise ProjectError(f"cannot open database {path}: {first_line(str(exc))}") from None


def apply_settings(con, settings: Any, root: Path) -> None:
    """``SET`` each of ``[tool.stockx.duckdb]``'s settings on ``con``, in name order.

    Values are strings, numbers or booleans, passed to DuckDB as they are
    (``memory_limit = "1GB"``, ``threads = 2``); a relative ``temp_directory`` is
    read from the project directory ``root``, so spilled data stays under the
    project whatever directory stockx runs in. A setting DuckDB refuses stops
    the command with its name and DuckDB's reason.
    """
    import duckdb

    from stockx_export.errors import ProjectError

    if not isinstance(settings, dict):
        raise ProjectError("[tool.stockx.duckdb] must be a table of DuckDB settings, e.g. memory_limit = \"1GB\"")
    for name, value in sorted(settings.items()):
        where = f"[tool.stockx.duckdb] {name}"
        if not (name.replace("_", "a").isalnum() and name.isascii()):
            raise ProjectError(f"{where}: not a DuckDB setting name (letters, digits and _)")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float)):
            text = repr(value)
        elif isinstance(value, str):
            if name == "temp_directory" and value:
                value = str(root / Path(value).expanduser())
            text = literal(value)
        else:
            raise ProjectError(f"{where}: must be a string, a number or true/false, got {value!r}")
        try:
            con.execute(f"SET {name} = {text}")
        except duckdb.Error as exc:
            # DuckDB's reason, and its "Did you mean" line for a misspelt name.
            reason = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
            raise ProjectError(f"{where} = {text}: {reason}") from None


def connect_for_reading(path: str):
    """The database at ``path`` opened read-only when it exists, else an empty in-memory one
    (commands that only read, such as compile and show, work before the first build)."""
    if path != ":memory:" and Path(path).exists():
        return connect(path, read_only=True)
    return connect(":memory:")


@contextmanager
def transaction(con) -> Iterator[Any]:
    """Run the block in one transaction: COMMIT when it ends, ROLLBACK when it raises.

    A COMMIT that fails (a full disk) has ended the transaction already, so the
    ROLLBACK after it is allowed to fail without hiding the COMMIT's error.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except database_error_types():
            pass
        raise
    try:
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except database_error_types():
            pass
        raise


def database_error_types() -> tuple[type[BaseException], ...]:
    import duckdb

    return (duckdb.Error,)


def first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message


def quote(identifier: str) -> str:
    """Quote one identifier for DuckDB."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class Relation:
    """A schema-qualified relation name as it appears in compiled SQL."""

    schema: str
    identifier: str
    database: str | None = None

    def render(self) -> str:
        return f"{quote(self.schema)}.{quote(self.identifier)}" if _needs_quotes(self) else f"{self.schema}.{self.identifier}"

    def __str__(self) -> str:
        return self.render()

    @property
    def name(self) -> str:
        return self.identifier

    @property
    def table(self) -> str:
        return self.identifier

    def include(self, database: bool = True, schema: bool = True, identifier: bool = True) -> Any:
        """dbt's ``relation.include(...)``: stockx never renders the database, so only
        ``schema=False`` changes the text (to the bare identifier)."""
        if schema:
            return self
        return quote(self.identifier) if _needs_quotes(self) else self.identifier


def _needs_quotes(relation: Relation) -> bool:
    return not all(_is_plain(p) for p in (relation.schema, relation.identifier))


def _is_plain(name: str) -> bool:
    return name.replace("_", "a").isalnum() and name.lower() == name and not name[:1].isdigit()


def existing_relations(con) -> dict[tuple[str, str], str]:
    """Every table and view in the database: (schema, name) -> 'table' | 'view'."""
    rows = con.execute(
        "select schema_name, table_name, 'table' from duckdb_tables() where not temporary "
        "union all "
        "select schema_name, view_name, 'view' from duckdb_views() where not temporary and not internal"
    ).fetchall()
    return {(schema, name): kind for schema, name, kind in rows}


def columns_of(con, relation: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each column of a relation or query, in order."""
    cur = con.execute(f"describe {relation}")
    return [(row[0], row[1]) for row in cur.fetchall()]
