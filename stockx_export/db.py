"""DuckDB connections and SQL text: what the DuckDB adapter and the sync state share.

Opening a database (``connect``, ``connect_for_reading``), one transaction
(``transaction``), quoting (``quote``, ``literal``) and schema-qualified
relation names (``Relation``). Building and reading a project's relations goes
through its adapter (stockx_export.adapters); the sync state's own database
opens here too.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stockx_export.errors import ProjectError


@functools.cache
def engine() -> Any:
    """DuckDB's engine: the ``_duckdb`` extension module that the ``duckdb`` package re-exports.

    Its connections, cursors and errors are the very objects ``duckdb.connect`` and
    ``duckdb.Error`` give. Importing it alone skips what the package adds in Python (the
    relational API, which stockx does not use, and a version lookup through
    importlib.metadata): about 0.1 s of every command that opens a database. A DuckDB
    whose package is laid out otherwise is imported whole.
    """
    try:
        import _duckdb
    except ImportError:
        _duckdb = None
    if _duckdb is not None and hasattr(_duckdb, "connect") and hasattr(_duckdb, "Error"):
        return _duckdb
    import duckdb

    return duckdb


def enable_python_scans() -> None:
    """Let SQL on any connection read Python objects (an Arrow table given to ``register``).

    The duckdb package sets this up on its engine when it is imported; ``engine()`` alone
    skips that, so a scan of an Arrow batch fails there with "Python Arrow objects cannot be
    scanned". Only what hands DuckDB Python objects (the export's copy of another target's
    table) pays for the package.
    """
    import duckdb  # noqa: F401  (importing it registers the Arrow sources with the engine)


def connect(path: str, read_only: bool = False):
    """Open (creating on demand, with its folder) the DuckDB database at ``path``."""
    duckdb = engine()
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
    return (engine().Error,)


def first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message


def quote(identifier: str) -> str:
    """Quote one identifier for DuckDB."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def limited(expression: str, limit: int) -> str:
    """A subquery of at most ``limit`` rows of ``expression`` (a relation or a table function), as dbt's
    ``--empty`` renders a ref or source: no rows at all for 0, so the query still runs and keeps its columns."""
    where = " where false" if limit == 0 else ""
    return f"(select * from {expression}{where} limit {limit})"


@dataclass(frozen=True)
class Relation(Mapping):
    """A schema-qualified relation name as it appears in compiled SQL.

    Templates see dbt's relation interface too (``.render()``, ``.include()``,
    ``.incorporate()``, ``.is_table``, ``relation.get('metadata')``: a relation is a
    mapping in dbt, and packages such as dbt_utils check that it is). Two relations
    are equal when they name the same database, schema and identifier; ``type`` and
    ``quote_all`` are how it is known and shown, not which relation it is.
    """

    schema: str
    identifier: str
    database: str | None = None
    type: str | None = field(default=None, compare=False)  # "table" | "view" | "cte" when known
    quote_all: bool = field(default=False, compare=False)  # every part quoted, as dbt renders relations
    limit: int | None = field(default=None, compare=False)  # 0: read as no rows (dbt's --empty)

    def render(self) -> str:
        return self._rendered

    @functools.cached_property
    def _rendered(self) -> str:
        # Once per relation: a build renders each ref a dozen times (SQL, logs, artifacts).
        parts = [p for p in (self.database, self.schema, self.identifier) if p]
        if self.quote_all or not all(_is_plain(p) for p in parts):
            name = ".".join(quote(p) for p in parts)
        else:
            name = ".".join(parts)
        return name if self.limit is None else limited(name, self.limit)

    def __str__(self) -> str:
        return self._rendered

    @property
    def name(self) -> str:
        return self.identifier

    @property
    def table(self) -> str:
        return self.identifier

    @property
    def is_table(self) -> bool:
        return self.type == "table"

    @property
    def is_view(self) -> bool:
        return self.type == "view"

    @property
    def is_cte(self) -> bool:
        return self.type == "cte"

    def include(self, database: bool = True, schema: bool = True, identifier: bool = True) -> Any:
        """dbt's ``relation.include(...)``: the relation with the parts left out that are ``False``."""
        return replace(
            self,
            database=self.database if database else None,
            schema=self.schema if schema else "",
            identifier=self.identifier if identifier else "",
        )

    def incorporate(self, path: dict[str, Any] | None = None, type: str | None = None, **_: Any) -> Relation:
        """dbt's ``relation.incorporate(path={...}, type=...)``: a copy with those parts replaced."""
        changes: dict[str, Any] = {k: v for k, v in (path or {}).items() if k in ("database", "schema", "identifier")}
        if type is not None:
            changes["type"] = type
        return replace(self, **changes)

    def without_identifier(self) -> Relation:
        return replace(self, identifier="")

    # -- the mapping dbt's relations are (FakeAPIObject) ---------------------------------------------

    def _fields(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "schema": self.schema,
            "identifier": self.identifier,
            "type": self.type,
            "metadata": {"type": "Relation"},
        }

    def __getitem__(self, key: str) -> Any:
        return self._fields()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields())

    def __len__(self) -> int:
        return len(self._fields())


def _is_plain(name: str) -> bool:
    return name.replace("_", "a").isalnum() and name.lower() == name and not name[:1].isdigit()
