"""The DuckDB adapter: how a compiled model, a seed, a test query and a file read run on DuckDB.

Every build happens inside one transaction. A table is built under a temporary
name, checked, and swapped in; a failure (or a failed check, such as a model
contract) rolls back and leaves the previous relation exactly as it was.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stockx_export import db
from stockx_export.adapters.base import (
    INCREMENTAL_STRATEGIES,
    SCHEMA_CHANGE_MODES,
    WINDOW_STRATEGY,
    Adapter,
    Check,
    Outcome,
    Rows,
)
from stockx_export.core.config import MEMORY, TargetConfig
from stockx_export.core.csv_files import Dialect
from stockx_export.core.window import WINDOWS_TABLE, Window
from stockx_export.db import Relation, first_line, literal, quote
from stockx_export.errors import ExecutionError, ProjectError

TMP_SUFFIX = "__stockx_tmp"
NEW_SUFFIX = "__stockx_new"
DATE_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP WITH TIME ZONE")


def _utc_now() -> datetime.datetime:
    """Now as a naive UTC timestamp (when a window was built)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class DuckDBAdapter(Adapter):
    """A DuckDB database file (or ``:memory:``), through one connection."""

    type = "duckdb"
    dialect = "duckdb"

    def __init__(self, target: TargetConfig, con) -> None:
        self.target = target
        self.con = con
        self._relations: dict[tuple[str, str], str] | None = None
        self._types: dict[str, str] = {}
        self._types_con = None  # an in-memory database for type names, outside any build transaction

    # -- opening and closing --------------------------------------------------------------------

    @classmethod
    def connect(cls, target: TargetConfig, *, read_only: bool = False) -> DuckDBAdapter:
        return cls(target, db.connect(target.database, read_only=read_only))

    @classmethod
    def for_reading(cls, target: TargetConfig) -> DuckDBAdapter:
        return cls(target, db.connect_for_reading(target.database))

    @classmethod
    def export_connection(cls, target: TargetConfig):
        return db.connect(target.database, read_only=target.database != MEMORY)

    def scratch(self) -> DuckDBAdapter:
        return DuckDBAdapter(TargetConfig(database=MEMORY, schema="main"), db.connect(MEMORY))

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
            for key, value in self.target.settings.items():
                shown = str(value).lower() if isinstance(value, bool) else value
                self.con.execute(f"set {key} = {shown if isinstance(value, (bool, int, float)) else literal(str(value))}")
        except self.error_types as exc:
            raise ProjectError(f"{self.target.origin}: {first_line(str(exc))}") from None

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

    def transaction(self):
        return db.transaction(self.con)

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        self.con.execute("begin transaction")
        try:
            yield
        finally:
            self.con.execute("rollback")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.con.execute(sql, list(params) if params else None)

    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        cursor = self.con.execute(sql, list(params) if params else None)
        names = [d[0] for d in cursor.description or []]
        return Rows(names, cursor.fetchall() if names else [])

    # -- the catalog ----------------------------------------------------------------------------------

    def relations(self) -> dict[tuple[str, str], str]:
        """Every table and view in the database: (schema, name) -> 'table' | 'view' (read once, then kept current)."""
        if self._relations is None:
            rows = self.con.execute(
                "select schema_name, table_name, 'table' from duckdb_tables() where not temporary "
                "union all "
                "select schema_name, view_name, 'view' from duckdb_views() where not temporary and not internal"
            ).fetchall()
            self._relations = {(schema, name): kind for schema, name, kind in rows}
        return self._relations

    def relation_kind(self, relation: Relation) -> str | None:
        return self.relations().get((relation.schema, relation.identifier))

    def refresh(self) -> None:
        self._relations = None

    def _built(self, relation: Relation, kind: str) -> None:
        self.relations()[(relation.schema, relation.identifier)] = kind

    def columns(self, relation: str) -> list[tuple[str, str]]:
        cursor = self.con.execute(f"describe {relation}")
        return [(row[0], row[1]) for row in cursor.fetchall()]

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

    # -- materializations -----------------------------------------------------------------------------

    def _in_transaction(self, steps: Callable[[], Outcome]) -> Outcome:
        with self.transaction():
            return steps()

    def _ensure_schema(self, schema: str) -> None:
        self.con.execute(f"create schema if not exists {quote(schema)}")

    def _drop(self, relation: Relation, kind: str | None) -> None:
        if kind == "table":
            self.con.execute(f"drop table if exists {relation}")
        elif kind == "view":
            self.con.execute(f"drop view if exists {relation}")

    def build_view(self, relation: Relation, sql: str, check: Check | None = None) -> Outcome:
        existing = self.relation_kind(relation)

        def steps() -> Outcome:
            self._ensure_schema(relation.schema)
            if existing == "table":
                self._drop(relation, existing)
            self.con.execute(f"create or replace view {relation} as ({sql}\n)")
            if check:
                check(self, str(relation))
            return Outcome("created view")

        outcome = self._in_transaction(steps)
        self._built(relation, "view")
        return outcome

    def build_table(self, relation: Relation, sql: str, check: Check | None = None) -> Outcome:
        outcome = self._in_transaction(lambda: self._table_steps(relation, sql, check))
        self._built(relation, "table")
        return outcome

    def _table_steps(self, relation: Relation, sql: str, check: Check | None) -> Outcome:
        """Build under a temporary name, check, swap in; the caller holds the transaction."""
        existing = self.relation_kind(relation)
        tmp = Relation(relation.schema, relation.identifier + TMP_SUFFIX)
        self._ensure_schema(relation.schema)
        self.con.execute(f"drop table if exists {tmp}")
        rows = self.con.execute(f"create table {tmp} as ({sql}\n)").fetchone()[0]
        if check:
            check(self, str(tmp))
        self._drop(relation, existing)
        self.con.execute(f"alter table {tmp} rename to {quote(relation.identifier)}")
        return Outcome("created table", rows)

    def build_incremental(
        self,
        relation: Relation,
        sql: str,
        *,
        unique_key: Any,
        full_refresh: bool,
        check: Check | None = None,
        on_schema_change: str | None = None,
        strategy: str | None = None,
        window: Window | None = None,
        clock: Callable[[], datetime.datetime] | None = None,
    ) -> Outcome:
        if strategy not in INCREMENTAL_STRATEGIES:
            raise ProjectError(
                f"incremental_strategy='{strategy}' is not supported by stockx; use "
                + ", ".join(s for s in INCREMENTAL_STRATEGIES if s)
                + " (merge and delete+insert replace the rows of each unique_key, append adds every row, "
                + f"{WINDOW_STRATEGY} replaces every row dated in the window)"
            )
        if strategy == WINDOW_STRATEGY:
            if window is None:
                raise ProjectError(f"incremental_strategy='{WINDOW_STRATEGY}' needs the build's window")
            outcome = self._build_window(relation, sql, full_refresh, window, check, on_schema_change, clock or _utc_now)
            self._built(relation, "table")
            return outcome
        existing = self.relation_kind(relation)
        if existing != "table" or full_refresh:
            outcome = self.build_table(relation, sql, check)
            return Outcome("created incremental", outcome.rows, "full refresh" if existing else "first build")
        mode = _schema_change_mode(on_schema_change)
        keys = [unique_key] if isinstance(unique_key, str) else list(unique_key or [])
        if strategy == "append":  # dbt's append ignores unique_key
            keys = []
        new = f"temp.main.{quote(relation.identifier + NEW_SUFFIX)}"

        def steps() -> Outcome:
            self.con.execute(f"drop table if exists {new}")
            self.con.execute(f"create temp table {quote(relation.identifier + NEW_SUFFIX)} as ({sql}\n)")
            if check:
                check(self, new)
            inserted_columns = self._align_columns(relation, new, mode)
            missing = [k for k in keys if k.lower() not in {c.lower() for c in inserted_columns}]
            if missing:
                raise ProjectError(
                    f"unique_key {', '.join(repr(k) for k in missing)} is not a column of the model's output "
                    f"(its columns: {', '.join(inserted_columns)}); fix the model's config"
                )
            columns = ", ".join(quote(c) for c in inserted_columns)
            replaced = 0
            if keys:
                match = " and ".join(f"{relation}.{quote(k)} is not distinct from new.{quote(k)}" for k in keys)
                replaced = self.con.execute(f"delete from {relation} using {new} as new where {match}").fetchone()[0]
            inserted = self.con.execute(f"insert into {relation} ({columns}) select {columns} from {new}").fetchone()[0]
            self.con.execute(f"drop table {new}")
            return Outcome("merged incremental", inserted, f"{replaced} replaced" if keys else "appended")

        return self._in_transaction(steps)

    def _build_window(self, relation: Relation, sql: str, full_refresh: bool, window: Window,
                      check: Check | None, on_schema_change: str | None, clock) -> Outcome:
        """``replace_window``: delete the table's rows in the window, insert the model's rows in the window.

        One transaction with the record of the window (for ``window_start()``):
        a failure leaves the table and the record as they were.
        """
        shown = str(relation)
        existing = self.relation_kind(relation)

        def with_column(adapter: Adapter, built: str) -> None:
            if check:
                check(adapter, built)
            self.check_date_column(built, window.column, "the model's output")

        if existing != "table" or full_refresh or window.start is None:
            every = Window(window.column, None, window.anchor, window.lookback_days)

            def rebuild() -> Outcome:
                outcome = self._table_steps(relation, sql, with_column)
                self._record_window(relation, every, clock)
                return outcome

            outcome = self._in_transaction(rebuild)
            if existing != "table":
                detail = "first build"
            else:  # a full refresh, an empty table, or a lookback reaching back past every date
                detail = "full refresh" if full_refresh else every.describe()
            return Outcome("created incremental", outcome.rows, detail)
        mode = _schema_change_mode(on_schema_change)
        temp_name = relation.identifier + NEW_SUFFIX
        new = f"temp.main.{quote(temp_name)}"

        def steps() -> Outcome:
            self.con.execute(f"drop table if exists {new}")
            self.con.execute(f"create temp table {quote(temp_name)} as ({sql}\n)")
            with_column(self, new)
            inserted_columns = self._align_columns(relation, new, mode)
            self.check_date_column(shown, window.column, shown)
            columns = ", ".join(quote(c) for c in inserted_columns)
            inside = window.predicate(quote(window.column))
            removed = self.con.execute(f"delete from {relation} where {inside}").fetchone()[0]
            inserted = self.con.execute(
                f"insert into {relation} ({columns}) select {columns} from {new} where {inside}").fetchone()[0]
            self.con.execute(f"drop table {new}")
            self._record_window(relation, window, clock)
            return Outcome("replaced window", inserted, f"{window.describe()}: {removed} rows removed, {inserted} inserted")

        return self._in_transaction(steps)

    def _align_columns(self, relation: Relation, new: str, mode: str) -> list[str]:
        """Apply dbt's ``on_schema_change`` to ``relation``; the columns to insert from ``new``.

        ``ignore`` leaves the table as it is and drops the model's new columns, as
        dbt does; a column the model no longer returns is an error under ``ignore``
        and ``fail`` (dbt's insert fails too), never a silent column of nulls.
        """
        target = {name.lower(): (name, kind) for name, kind in self.columns(str(relation))}
        source = {name.lower(): (name, kind) for name, kind in self.columns(new)}
        added = [source[k] for k in source if k not in target]
        removed = [target[k] for k in target if k not in source]
        retyped = [(source[k][0], target[k][1], source[k][1]) for k in source if k in target and source[k][1] != target[k][1]]
        changes = [
            *(f"added {name} {kind}" for name, kind in added),
            *(f"removed {name}" for name, _ in removed),
            *(f"{name} changed from {old} to {kind}" for name, old, kind in retyped),
        ]
        fix = "rebuild it with --full-refresh, or set on_schema_change to append_new_columns or sync_all_columns"
        if mode == "fail" and changes:
            raise ExecutionError(f"on_schema_change='fail': the model's columns differ from {relation} ({'; '.join(changes)}); {fix}")
        if mode in ("ignore", "fail") and removed:
            missing = ", ".join(name for name, _ in removed)
            raise ExecutionError(f"the model no longer returns {missing}, which {relation} has; {fix}")
        if mode in ("append_new_columns", "sync_all_columns"):
            for name, kind in added:
                self.con.execute(f"alter table {relation} add column {quote(name)} {kind}")
        if mode == "sync_all_columns":
            for name, _ in removed:
                self.con.execute(f"alter table {relation} drop column {quote(name)}")
            for name, _, kind in retyped:
                self.con.execute(f"alter table {relation} alter column {quote(name)} type {kind}")
            return [name for name, _ in source.values()]
        present = {k for k in target} | ({k for k in source} if mode == "append_new_columns" else set())
        return [name for key, (name, _) in source.items() if key in present]

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

    def check_date_column(self, relation: str, column: str, shown: str) -> None:
        found = {name.lower(): (name, kind) for name, kind in self.columns(relation)}
        if column.lower() not in found:
            raise ExecutionError(
                f"window_column '{column}' is not a column of {shown} (its columns: "
                f"{', '.join(name for name, _ in found.values())}); fix the model's config"
            )
        kind = found[column.lower()][1]
        if kind.upper() not in DATE_TYPES:
            raise ExecutionError(
                f"window_column '{column}' of {shown} is {kind}; the window needs a DATE or TIMESTAMP column"
            )

    def newest_date(self, relation: Relation, column: str) -> datetime.date | None:
        self.check_date_column(str(relation), column, str(relation))
        return self.con.execute(f"select cast(max({quote(column)}) as date) from {relation}").fetchone()[0]

    def _record_window(self, relation: Relation, window: Window, clock: Callable[[], datetime.datetime]) -> None:
        """Remember the window this build replaced (inside the build's transaction)."""
        table = Relation(relation.schema, WINDOWS_TABLE)
        self.con.execute(
            f"create table if not exists {table} (relation_name varchar primary key, window_column varchar, "
            "window_start date, anchor date, lookback_days integer, built_at timestamp)"
        )
        self.con.execute(f"delete from {table} where relation_name = ?", [relation.identifier])
        self.con.execute(
            f"insert into {table} values (?, ?, ?, ?, ?, ?)",
            [relation.identifier, window.column, window.start, window.anchor, window.lookback_days, clock()],
        )

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

    # -- tests ----------------------------------------------------------------------------------------

    def test_verdict(self, sql: str, fail_calc: str, warn_if: str, error_if: str) -> tuple[Any, Any, Any]:
        return self.con.execute(
            f"select {fail_calc} as failures, ({fail_calc}) {warn_if} as should_warn, "
            f"({fail_calc}) {error_if} as should_error\nfrom (\n{sql}\n) dbt_internal_test"
        ).fetchone()

    def store_failures(self, relation: Relation, sql: str, as_view: bool) -> None:
        with self.transaction():
            self._ensure_schema(relation.schema)
            self.con.execute(f"drop table if exists {relation}")
            self.con.execute(f"drop view if exists {relation}")
            self.con.execute(f"create {'view' if as_view else 'table'} {relation} as (\n{sql}\n)")
        self._built(relation, "view" if as_view else "table")

    def sample(self, sql: str, limit: int) -> Rows:
        return self.query(f"select * from (\n{sql}\n) dbt_sample limit {int(limit)}")

    def create_table(self, name: str, columns: Sequence[tuple[str, str]]) -> None:
        self.con.execute(f"create table {quote(name)} ({', '.join(f'{quote(n)} {t}' for n, t in columns)})")

    def insert_cast(self, name: str, columns: Sequence[tuple[str, str]], values: Sequence[Any]) -> None:
        casts = ", ".join(f"cast(? as {t})" for _, t in columns)
        self.con.execute(f"insert into {quote(name)} select {casts}", list(values))

    def create_table_as(self, name: str, sql: str) -> None:
        self.con.execute(f"create table {quote(name)} as (\n{sql}\n)")

    def rows_missing(self, columns: Sequence[str], left: str, right: str) -> list[tuple[Any, ...]]:
        listed = ", ".join(quote(n) for n in columns)
        return self.con.execute(f"select {listed} from {left} except all select {listed} from {right}").fetchall()

    # -- files read by file sources -----------------------------------------------------------------

    def files_matching(self, pattern: str) -> list[str]:
        rows = self.con.execute(f"select file from glob({literal(pattern)})").fetchall()
        return [row[0] for row in rows]

    def sniff_csv(self, file: str) -> tuple[str, str] | None:
        try:
            return self.con.execute(f"select Delimiter, Quote from sniff_csv({literal(file)})").fetchone()
        except self.error_types:
            return None


def _schema_change_mode(on_schema_change: str | None) -> str:
    mode = on_schema_change or "ignore"
    if mode not in SCHEMA_CHANGE_MODES:
        raise ProjectError(f"on_schema_change='{mode}' is not one of {', '.join(SCHEMA_CHANGE_MODES)}")
    return mode


def _seed_delimiter(config: dict[str, Any]) -> str:
    return str(config.get("delimiter", config.get("delim")) or ",")


def _seed_quote(config: dict[str, Any]) -> str:
    return str(config.get("quote") or '"')
