"""The DuckDB adapter: a database file (or ``:memory:``) through one connection.

Builds, tests and reads are :class:`~stockx_export.adapters.sql.SqlAdapter`'s
statements; what is DuckDB's own is here: opening, the catalog
(``duckdb_tables()``), type names, the parser, temporary tables, seeds read by
``read_csv``, and the globs and CSV sniffing behind file sources.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stockx_export import db
from stockx_export.adapters.base import RelationColumns
from stockx_export.adapters.sql import SqlAdapter
from stockx_export.core.config import MEMORY, TargetConfig
from stockx_export.core.csv_files import Dialect
from stockx_export.core.window import WINDOWS_TABLE
from stockx_export.db import Relation, first_line, literal, quote
from stockx_export.errors import ProjectError


class DuckDBAdapter(SqlAdapter):
    """A DuckDB database file (or ``:memory:``), through one connection."""

    type = "duckdb"
    dialect = "duckdb"
    date_types = ("DATE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP WITH TIME ZONE")

    def __init__(self, target: TargetConfig, con) -> None:
        super().__init__(target, con)
        self._types: dict[str, str] = {}
        self._types_con = None  # an in-memory database for type names, outside any build transaction

    @classmethod
    def in_memory(cls) -> DuckDBAdapter:
        """A new in-memory DuckDB: what other targets use for DuckDB's CSV reader and parser."""
        return cls(TargetConfig(database=MEMORY), db.connect(MEMORY))

    # -- opening and closing --------------------------------------------------------------------

    @classmethod
    def connect(cls, target: TargetConfig, *, read_only: bool = False) -> DuckDBAdapter:
        return cls(target, db.connect(target.database, read_only=read_only))

    @classmethod
    def for_reading(cls, target: TargetConfig) -> DuckDBAdapter:
        return cls(target, db.connect_for_reading(target.database))

    @classmethod
    def export_database(cls, target: TargetConfig, relation: str, order_by: tuple[str, ...], folder: Path) -> str:
        return target.database

    def scratch(self) -> DuckDBAdapter:
        return DuckDBAdapter(TargetConfig(database=MEMORY, schema="main"), db.connect(MEMORY))

    def worker(self) -> DuckDBAdapter:
        """A cursor: DuckDB's own connection to the same database, with its own transactions."""
        worker = DuckDBAdapter(self.target, self.con.cursor())._shares_catalog_with(self)
        try:
            worker._apply_settings()  # search_path and the like are the connection's own (extensions are not)
        except ProjectError:
            worker.close()
            raise
        return worker

    def interrupt(self) -> None:
        self.con.interrupt()

    def interrupted(self, exc: BaseException) -> bool:
        return type(exc).__name__ == "InterruptException" or str(exc).startswith("Query interrupted")

    def close(self) -> None:
        if self._types_con is not None:
            self._types_con.close()
            self._types_con = None
        self.con.close()

    def apply_target_settings(self) -> None:
        """The target's ``extensions`` (names, or {name, repo}) and ``settings`` (dbt-duckdb's profile keys)."""
        try:
            for extension in self.target.extensions:
                name = extension.get("name") if isinstance(extension, dict) else extension
                try:
                    self.con.execute(f"load {name}")  # built in, or installed before: no download needed
                except self.error_types:
                    repo = extension.get("repo") if isinstance(extension, dict) else None
                    self.con.execute(f"install {name}" + (f" from {literal(repo)}" if repo else ""))
                    self.con.execute(f"load {name}")
        except self.error_types as exc:
            raise ProjectError(f"{self.target.origin}: {first_line(str(exc))}") from None
        self._apply_settings()

    def _apply_settings(self) -> None:
        for key, value in self.target.settings.items():
            self._set(key, value)

    def _set(self, key: str, value: Any) -> None:
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float)):
            text = repr(value)
        else:
            text = literal(str(value))
        try:
            self.con.execute(f"set {key} = {text}")
        except self.error_types as exc:
            # The setting, and DuckDB's whole reason (its "Did you mean" line for a misspelt name).
            reason = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
            raise ProjectError(f"{self.target.origin} {key} = {text}: {reason}") from None

    # -- SQL text and errors --------------------------------------------------------------------------

    @property
    def error_types(self) -> tuple[type[BaseException], ...]:
        return db.database_error_types()

    @staticmethod
    def quote(identifier: str) -> str:
        return quote(identifier)

    @staticmethod
    def literal(value: str) -> str:
        return literal(value)

    # -- the catalog ----------------------------------------------------------------------------------

    def _list_relations(self) -> dict[tuple[str, str], str]:
        # The database's own relations: one attached beside it (--defer's state) is not this database.
        rows = self.con.execute(
            "select schema_name, table_name, 'table' from duckdb_tables() "
            "where not temporary and database_name = current_database() "
            "union all "
            "select schema_name, view_name, 'view' from duckdb_views() "
            "where not temporary and not internal and database_name = current_database()"
        ).fetchall()
        return {(schema, name): kind for schema, name, kind in rows}

    def _temp_table(self, name: str) -> str:
        return f"temp.main.{quote(name)}"

    def _affected(self, sql: str) -> int:
        return self.con.execute(sql).fetchone()[0]

    def columns(self, relation: str) -> list[tuple[str, str]]:
        cursor = self.con.execute(f"describe {relation}")
        return [(row[0], row[1]) for row in cursor.fetchall()]

    def catalog(self, relations: Sequence[Relation]) -> dict[Relation, RelationColumns]:
        # One read of duckdb_columns(): DESCRIBE binds a view's whole query, views over
        # views again and again (seconds for a few hundred layered views).
        wanted = {(r.schema, r.identifier): r for r in relations if self.relation_kind(r) is not None}
        columns: dict[tuple[str, str], list[tuple[str, str]]] = {key: [] for key in wanted}
        for schema, name, column, data_type in self.con.execute(
            "select schema_name, table_name, column_name, data_type from duckdb_columns() "
            "where database_name = current_database() and not internal "
            "order by schema_name, table_name, column_index"
        ).fetchall():
            if (schema, name) in columns:
                columns[(schema, name)].append((column, data_type))
        return {r: RelationColumns(self.relation_kind(r), tuple(columns[key])) for key, r in wanted.items()}

    def canonical_type(self, declared: str) -> str:
        if declared not in self._types:
            if self._types_con is None:
                self._types_con = db.connect(MEMORY)
            try:
                self._types[declared] = self._types_con.execute(f"select typeof(cast(null as {declared}))").fetchone()[0]
            except self.error_types as exc:
                raise ValueError(first_line(str(exc))) from None
        return self._types[declared]

    def syntax_error(self, sql: str) -> str | None:
        try:
            self.con.extract_statements(sql)
        except self.error_types as exc:
            return str(exc)
        return None

    # -- seeds ----------------------------------------------------------------------------------------

    def seed_select(self, csv_path: Path, config: dict[str, Any], column_types: dict[str, str] | None = None) -> str:
        """The ``read_csv`` call that loads a seed.

        Without ``column_types`` the dialect is dbt's (``,`` and ``"`` unless
        configured) and no line is skipped: left to sniff, DuckDB reads a file with
        one over-long row as that row's columns and no data, or takes ``'`` for the
        quote, and the load "succeeds". With them, every column is typed as given
        and DuckDB parses the values as dbt-duckdb's ``COPY ... FROM`` into a table
        of those types does (same reader, same dialect detection).
        """
        if column_types is not None:
            columns = ", ".join(f"{literal(name)}: {literal(kind)}" for name, kind in column_types.items())
            delimiter = literal(str(config.get("delimiter") or ","))
            names = ", ".join(quote(name) for name in column_types)
            return (f"select {names} from read_csv({literal(str(csv_path))}, header = true, delim = {delimiter}, "
                    f"columns = {{{columns}}})")
        options = [literal(str(csv_path)), "sample_size = -1", "skip = 0"]
        header = config.get("header", True)
        options.append(f"header = {'true' if header else 'false'}")
        options.append(f"delim = {literal(_seed_delimiter(config))}")
        options.append(f"quote = {literal(_seed_quote(config))}")
        if config.get("escape"):
            options.append(f"escape = {literal(config['escape'])}")
        types = config.get("column_types") or {}
        if types:
            pairs = ", ".join(f"{literal(k)}: {literal(v)}" for k, v in types.items())
            options.append(f"types = {{{pairs}}}")
        return f"select * from read_csv({', '.join(options)})"

    def seed_dialect(self, config: dict[str, Any]) -> Dialect:
        quote_char = _seed_quote(config)
        escape = config.get("escape") or None
        return Dialect(delimiter=_seed_delimiter(config), quote=quote_char, escape=None if escape == quote_char else escape)

    # -- incremental windows --------------------------------------------------------------------------

    def recorded_window_start(self, relation: Relation) -> datetime.date | None:
        exists = self.con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? and not temporary",
            [relation.schema, WINDOWS_TABLE],
        ).fetchone()[0]
        if not exists:
            return None
        found = self.con.execute(
            f"select window_start from {Relation(relation.schema, WINDOWS_TABLE)} where relation_name = ?",
            [relation.identifier],
        ).fetchone()
        return found[0] if found else None

    # -- files read by file sources -----------------------------------------------------------------

    def files_matching(self, pattern: str) -> list[str]:
        rows = self.con.execute(f"select file from glob({literal(pattern)})").fetchall()
        return [row[0] for row in rows]

    def sniff_csv(self, file: str) -> tuple[str, str] | None:
        try:
            return self.con.execute(f"select Delimiter, Quote from sniff_csv({literal(file)})").fetchone()
        except self.error_types:
            return None


def _seed_delimiter(config: dict[str, Any]) -> str:
    return str(config.get("delimiter", config.get("delim")) or ",")


def _seed_quote(config: dict[str, Any]) -> str:
    return str(config.get("quote") or '"')
