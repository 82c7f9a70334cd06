"""What most SQL databases share: an :class:`SqlAdapter` builds, tests and reads in SQL on a DB-API connection.

Each materialization is a few statements in one transaction; a subclass (one
per engine) supplies the connection, the catalog queries, type names, the
temporary-table and parameter syntax, and the seed and file readers, and
overrides any statement its database writes differently.
"""

from __future__ import annotations

import datetime
import threading
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

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
from stockx_export.adapters import snapshot_sql
from stockx_export.core.config import TargetConfig
from stockx_export.core.snapshots import SnapshotSpec
from stockx_export.core.window import WINDOWS_TABLE, Window
from stockx_export.db import Relation
from stockx_export.errors import ExecutionError, ProjectError

TMP_SUFFIX = "__stockx_tmp"
NEW_SUFFIX = "__stockx_new"
SNAPSHOT_SUFFIX = "__stockx_snapshot"


def _utc_now() -> datetime.datetime:
    """Now as a naive UTC timestamp (when a window was built)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class _Catalog:
    """The relations an adapter and its workers know of: read once, then kept current by their builds."""

    def __init__(self) -> None:
        self.relations: dict[tuple[str, str], str] | None = None
        self.lock = threading.RLock()  # one worker lists the catalog (or creates a shared table); the others wait
        self.views_lock = threading.Lock()  # a replacement that drops and recreates dependent views (PostgreSQL)
        # Schemas this run created and committed (create_schemas): a node in one of them does not create it again.
        # Forgotten whenever SQL stockx did not write runs (execute, user_query: a hook, run_query, statement()
        # may drop a schema; subclasses must not bypass them) and on refresh(). stockx's own queries (data
        # tests, contract checks) keep them.
        self.schemas: set[str] = set()


class SqlAdapter(Adapter):
    """An open database reached through one DB-API connection (``con``)."""

    placeholder: ClassVar[str] = "?"  # how a statement marks a parameter
    date_types: ClassVar[tuple[str, ...]] = ("DATE", "TIMESTAMP")  # column types a window column may have

    def __init__(self, target: TargetConfig, con) -> None:
        self.target = target
        self.con = con
        self._catalog = _Catalog()  # shared with the adapter's workers (see :meth:`Adapter.worker`)

    @abstractmethod
    def _list_relations(self) -> dict[tuple[str, str], str]:
        """Every table and view in the database, read from its catalog: (schema, name) -> 'table' | 'view'."""

    @abstractmethod
    def _temp_table(self, name: str) -> str:
        """How a statement names the temporary table ``create temp table <quoted name>`` made."""

    @abstractmethod
    def _affected(self, sql: str) -> int:
        """Run a DDL or DML statement; the rows it wrote or removed."""

    # -- SQL text and transactions -------------------------------------------------------------------

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
        # A hook's or statement()'s SQL may drop a schema: forgotten first, as a failing statement after
        # a 'drop schema' in the same text may have dropped it too.
        self._catalog.schemas.clear()
        self.con.execute(sql, list(params) if params else None)

    def user_query(self, sql: str) -> Rows:
        self._catalog.schemas.clear()  # run_query()'s SQL, as execute()'s, may drop a schema
        return self.query(sql)

    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        cursor = self.con.execute(sql, list(params) if params else None)
        names = [d[0] for d in cursor.description or []]
        return Rows(names, cursor.fetchall() if names else [])

    # -- the catalog ----------------------------------------------------------------------------------

    def relations(self) -> dict[tuple[str, str], str]:
        """Every table and view: (schema, name) -> 'table' | 'view' (read once, then kept current)."""
        catalog = self._catalog
        with catalog.lock:
            if catalog.relations is None:
                catalog.relations = self._list_relations()
            return catalog.relations

    def relation_kind(self, relation: Relation) -> str | None:
        return self.relations().get((relation.schema, relation.identifier))

    def refresh(self) -> None:
        self._catalog.relations = None
        self._catalog.schemas.clear()

    def _shares_catalog_with(self, other: SqlAdapter) -> SqlAdapter:
        """This adapter, made to share ``other``'s catalog (a worker of ``other``)."""
        self._catalog = other._catalog
        return self

    def _built(self, relation: Relation, kind: str) -> None:
        self.relations()[(relation.schema, relation.identifier)] = kind

    # -- materializations -----------------------------------------------------------------------------

    def _in_transaction(self, steps: Callable[[], Outcome]) -> Outcome:
        with self.transaction():
            return steps()

    def _ensure_schema(self, schema: str) -> None:
        if schema not in self._catalog.schemas:
            self.con.execute(f"create schema if not exists {self.quote(schema)}")

    def create_schemas(self, schemas: Sequence[str]) -> None:
        """Create the schemas a run builds in, up front and committed: its nodes need not create them."""
        if not schemas:
            return
        with self.transaction():
            for schema in schemas:
                self._ensure_schema(schema)
        self._catalog.schemas.update(schemas)

    def _drop(self, relation: Relation, kind: str | None) -> None:
        if kind == "table":
            self.con.execute(f"drop table if exists {relation}")
        elif kind == "view":
            self.con.execute(f"drop view if exists {relation}")

    def drop(self, relation: Relation) -> None:
        kind = self.relation_kind(relation)
        if kind is not None:
            with self.transaction():
                self._drop(relation, kind)
            self.relations().pop((relation.schema, relation.identifier), None)

    def build_view(self, relation: Relation, sql: str, check: Check | None = None) -> Outcome:
        existing = self.relation_kind(relation)
        if existing != "table" and check is None and relation.schema in self._catalog.schemas:
            # One statement, atomic on its own: no transaction to open and commit around it.
            self.con.execute(f"create or replace view {relation} as ({sql}\n)")
            self._built(relation, "view")
            return Outcome("created view")

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
        if check is None and self._vacant(relation):
            # Nothing to replace and nothing to check: one statement, atomic on its own, builds it in place
            # (a failure or Ctrl-C leaves no table), without a temporary name, a rename or a transaction.
            outcome = Outcome("created table", self._affected(f"create table {relation} as ({sql}\n)"))
        else:
            outcome = self._in_transaction(lambda: self._table_steps(relation, sql, check))
        self._built(relation, "table")
        return outcome

    def _vacant(self, relation: Relation) -> bool:
        """Whether nothing is under ``relation``'s name or its temporary one, in a schema this run created."""
        tmp = Relation(relation.schema, relation.identifier + TMP_SUFFIX)
        return (relation.schema in self._catalog.schemas and self.relation_kind(relation) is None
                and self.relation_kind(tmp) is None)

    def _table_steps(self, relation: Relation, sql: str, check: Check | None) -> Outcome:
        """Build under a temporary name, check, swap in; the caller holds the transaction."""
        existing = self.relation_kind(relation)
        tmp = Relation(relation.schema, relation.identifier + TMP_SUFFIX)
        self._ensure_schema(relation.schema)
        if self.relation_kind(tmp) is not None:  # left by a run that died before it could roll back
            self.con.execute(f"drop table if exists {tmp}")
        rows = self._affected(f"create table {tmp} as ({sql}\n)")
        if check:
            check(self, str(tmp))
        self._drop(relation, existing)
        self.con.execute(f"alter table {tmp} rename to {self.quote(relation.identifier)}")
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
        new = self._temp_table(relation.identifier + NEW_SUFFIX)

        def steps() -> Outcome:
            self.con.execute(f"drop table if exists {new}")
            self.con.execute(f"create temp table {self.quote(relation.identifier + NEW_SUFFIX)} as ({sql}\n)")
            if check:
                check(self, new)
            inserted_columns = self._align_columns(relation, new, mode)
            missing = [k for k in keys if k.lower() not in {c.lower() for c in inserted_columns}]
            if missing:
                raise ProjectError(
                    f"unique_key {', '.join(repr(k) for k in missing)} is not a column of the model's output "
                    f"(its columns: {', '.join(inserted_columns)}); fix the model's config"
                )
            columns = ", ".join(self.quote(c) for c in inserted_columns)
            replaced = 0
            if keys:
                match = " and ".join(f"{relation}.{self.quote(k)} is not distinct from new.{self.quote(k)}" for k in keys)
                replaced = self._affected(f"delete from {relation} using {new} as new where {match}")
            inserted = self._affected(f"insert into {relation} ({columns}) select {columns} from {new}")
            self.con.execute(f"drop table {new}")
            return Outcome("merged incremental", inserted, f"{replaced} replaced" if keys else "appended")

        return self._in_transaction(steps)

    # -- snapshots ---------------------------------------------------------------------------------

    def snapshot_hash(self, args: Sequence[str]) -> str:
        """dbt's scd id of SQL expressions (default__snapshot_hash_arguments): md5 of them as text, joined by '|'."""
        return "md5(" + " || '|' || ".join(f"coalesce(cast({arg} as varchar), '')" for arg in args) + ")"

    def build_snapshot(self, relation: Relation, sql: str, spec: SnapshotSpec, now: str) -> Outcome:
        existing = self.relation_kind(relation)
        if existing == "view":
            raise ExecutionError(
                f"{relation} is a view; a snapshot keeps its history in a table: drop the view or rename the snapshot"
            )
        if existing is None:
            def create() -> Outcome:
                self._ensure_schema(relation.schema)
                first = snapshot_sql.first_build_sql(spec, sql, now, self.snapshot_hash)
                return Outcome("created snapshot", self._affected(f"create table {relation} as (\n{first}\n)"))

            outcome = self._in_transaction(create)
            self._built(relation, "table")
            return outcome
        return self._in_transaction(lambda: self._snapshot_steps(relation, sql, spec, now))

    def _snapshot_steps(self, relation: Relation, sql: str, spec: SnapshotSpec, now: str) -> Outcome:
        """A later build: stage what changed, add the query's new columns, close and insert (one transaction)."""
        target_columns = [name for name, _ in self.columns(str(relation))]
        query_columns = [name for name, _ in self.columns(f"(\n{sql}\n)")]
        checked, added = self._checked_columns(spec, sql, query_columns, target_columns)
        changed = snapshot_sql.row_changed(spec, checked, added)
        staging_name = relation.identifier + SNAPSHOT_SUFFIX
        staging = self._temp_table(staging_name)
        staged_sql = snapshot_sql.staging_sql(spec, sql, str(relation), now, self.snapshot_hash, changed, self.quote,
                                              query_columns, target_columns)
        self.con.execute(f"drop table if exists {staging}")
        self.con.execute(f"create temp table {self.quote(staging_name)} as (\n{staged_sql}\n)")
        bookkeeping = snapshot_sql.staging_only(spec)
        staged = [(name, kind) for name, kind in self.columns(staging) if name not in bookkeeping]
        for name, kind in staged:
            if name not in target_columns:
                self.con.execute(f"alter table {relation} add column {self.quote(name)} {kind}")
        close, insert = snapshot_sql.merge_statements(spec, str(relation), staging, [self.quote(n) for n, _ in staged])
        closed = self._affected(close)
        inserted = self._affected(insert)
        self.con.execute(f"drop table {staging}")
        return Outcome("snapshotted", inserted, f"{inserted} rows inserted, {closed} closed")

    def _checked_columns(self, spec: SnapshotSpec, sql: str, query_columns: list[str],
                         target_columns: list[str]) -> tuple[list[str], bool]:
        """The check strategy's columns the table has (quoted), and whether the query has one it lacks."""
        if spec.strategy != "check":
            return [], False
        if spec.check_cols == "all":
            wanted = query_columns
        else:
            wanted = [name for name, _ in self.columns(f"(select {', '.join(spec.check_cols)} from (\n{sql}\n) subq)")]
        return [self.quote(name) for name in wanted if name in target_columns], any(n not in target_columns for n in wanted)

    def _build_window(self, relation: Relation, sql: str, full_refresh: bool, window: Window,
                      check: Check | None, on_schema_change: str | None, clock) -> Outcome:
        """``replace_window``: delete the table's rows in the window, insert the model's rows in the window.

        One transaction with the record of the window (for ``window_start()``):
        a failure leaves the table and the record as they were.
        """
        shown = str(relation)
        self._ensure_windows_table(relation.schema)
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
        new = self._temp_table(temp_name)

        def steps() -> Outcome:
            self.con.execute(f"drop table if exists {new}")
            self.con.execute(f"create temp table {self.quote(temp_name)} as ({sql}\n)")
            with_column(self, new)
            inserted_columns = self._align_columns(relation, new, mode)
            self.check_date_column(shown, window.column, shown)
            columns = ", ".join(self.quote(c) for c in inserted_columns)
            inside = window.predicate(self.quote(window.column))
            removed = self._affected(f"delete from {relation} where {inside}")
            inserted = self._affected(f"insert into {relation} ({columns}) select {columns} from {new} where {inside}")
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
                self.con.execute(f"alter table {relation} add column {self.quote(name)} {kind}")
        if mode == "sync_all_columns":
            for name, _ in removed:
                self.con.execute(f"alter table {relation} drop column {self.quote(name)}")
            for name, _, kind in retyped:
                self.con.execute(f"alter table {relation} alter column {self.quote(name)} type {kind}")
            return [name for name, _ in source.values()]
        present = {k for k in target} | ({k for k in source} if mode == "append_new_columns" else set())
        return [name for key, (name, _) in source.items() if key in present]

    def check_date_column(self, relation: str, column: str, shown: str) -> None:
        found = {name.lower(): (name, kind) for name, kind in self.columns(relation)}
        if column.lower() not in found:
            raise ExecutionError(
                f"window_column '{column}' is not a column of {shown} (its columns: "
                f"{', '.join(name for name, _ in found.values())}); fix the model's config"
            )
        kind = found[column.lower()][1]
        if kind.upper() not in self.date_types:
            raise ExecutionError(
                f"window_column '{column}' of {shown} is {kind}; the window needs a DATE or TIMESTAMP column"
            )

    def newest_date(self, relation: Relation, column: str) -> datetime.date | None:
        self.check_date_column(str(relation), column, str(relation))
        return self.con.execute(f"select cast(max({self.quote(column)}) as date) from {relation}").fetchone()[0]

    def _ensure_windows_table(self, schema: str) -> None:
        """The record of windows, created before a build's transaction opens: builds of two windowed
        models at once (a parallel run) would each create it, and one of the two would fail."""
        table = Relation(schema, WINDOWS_TABLE)
        with self._catalog.lock:
            if self.relation_kind(table) == "table":
                return
            with self.transaction():
                self._ensure_schema(schema)
                self.con.execute(
                    f"create table if not exists {table} (relation_name varchar primary key, window_column varchar, "
                    "window_start date, anchor date, lookback_days integer, built_at timestamp)"
                )
            self._built(table, "table")

    def _record_window(self, relation: Relation, window: Window, clock: Callable[[], datetime.datetime]) -> None:
        """Remember the window this build replaced (inside the build's transaction)."""
        table = Relation(relation.schema, WINDOWS_TABLE)
        mark = self.placeholder
        self.con.execute(f"delete from {table} where relation_name = {mark}", [relation.identifier])
        self.con.execute(
            f"insert into {table} values ({', '.join([mark] * 6)})",
            [relation.identifier, window.column, window.start, window.anchor, window.lookback_days, clock()],
        )

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
        self.con.execute(f"create table {self.quote(name)} ({', '.join(f'{self.quote(n)} {t}' for n, t in columns)})")

    def insert_cast(self, name: str, columns: Sequence[tuple[str, str]], values: Sequence[Any]) -> None:
        casts = ", ".join(f"cast({self.placeholder} as {t})" for _, t in columns)
        self.con.execute(f"insert into {self.quote(name)} select {casts}", list(values))

    def create_table_as(self, name: str, sql: str) -> None:
        self.con.execute(f"create table {self.quote(name)} as (\n{sql}\n)")

    def rows_missing(self, columns: Sequence[str], left: str, right: str) -> list[tuple[Any, ...]]:
        listed = ", ".join(self.quote(n) for n in columns)
        return self.con.execute(f"select {listed} from {left} except all select {listed} from {right}").fetchall()


def _schema_change_mode(on_schema_change: str | None) -> str:
    mode = on_schema_change or "ignore"
    if mode not in SCHEMA_CHANGE_MODES:
        raise ProjectError(f"on_schema_change='{mode}' is not one of {', '.join(SCHEMA_CHANGE_MODES)}")
    return mode
