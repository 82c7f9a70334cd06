"""DuckDB connections and SQL text: what the DuckDB adapter and the sync state share.

Opening a database (``connect``, ``connect_for_reading``), one transaction
(``transaction``), quoting (``quote``, ``literal``) and schema-qualified
relation names (``Relation``). Building and reading a project's relations goes
through its adapter (stockx_export.adapters); the sync state's own database
opens here too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockx_export.errors import ProjectError


def connect(path: str, read_only: bool = False):
    """Open (creating on demand, with its folder) the DuckDB database at ``path``."""
    import duckdb

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
