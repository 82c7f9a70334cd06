"""The PostgreSQL adapter: a schema of a PostgreSQL database, through psycopg 3.

Settings (``[tool.stockx.targets.NAME]`` with ``type = "postgres"``, or a
profiles.yml output): ``host``, ``port``, ``dbname`` (or ``database``),
``user``, ``schema``, ``connect_timeout``, ``sslmode``, and ``settings`` (SET
on the session). What is not set comes from the standard ``PGHOST``,
``PGPORT``, ``PGDATABASE`` and ``PGUSER`` variables. The password is read from
the environment only: ``PGPASSWORD``, or the variable ``password_env`` names;
it is never written anywhere, and every message is scrubbed of it.

Builds are :class:`~stockx_export.adapters.sql.SqlAdapter`'s statements, each
materialization in one transaction (Postgres's DDL is transactional, so a
table built under a temporary name is swapped in atomically, and a failed
incremental build leaves the table as it was). What is Postgres's own: the
catalog, type names (reported in DuckDB's vocabulary, see ``types``), seeds
loaded through ``COPY`` (the CSV is read by DuckDB's reader, so a seed holds
the same values and types as in a DuckDB build), views that depend on a
replaced table (dropped with it and created again in the same transaction),
and a throwaway schema per run for unit tests, dropped after.

``row_number() over ()`` numbers rows in scan order, as DuckDB's does: each
session turns off parallel and synchronized scans, so a table is read in the
order its rows were written.
"""

from __future__ import annotations

import datetime
import glob
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from stockx_export.adapters import transfer, types
from stockx_export.adapters.local import LocalDuckDB
from stockx_export.adapters.postgres_functions import TRY_CAST_TYPES, try_cast_sql
from stockx_export.adapters.sql import SqlAdapter
from stockx_export.core.config import TargetConfig
from stockx_export.core.csv_files import Dialect
from stockx_export.core.window import WINDOWS_TABLE
from stockx_export.db import Relation, first_line, literal, quote
from stockx_export.errors import DriverMissing, ProjectError, TargetUnreachable
from stockx_export.redact import note_secret, redact

SETTINGS = ("host", "port", "dbname", "user", "password_env", "connect_timeout", "sslmode")
SESSION = (
    "set synchronize_seqscans = off",  # a scan starts at the table's first row ...
    "set max_parallel_workers_per_gather = 0",  # ... and returns rows in the order they were written
    "set timezone = 'UTC'",
    "set datestyle = 'ISO, YMD'",
)
SCRATCH_PREFIX = "stockx_unit_"
def _driver():
    try:
        import psycopg
    except ImportError:
        return None
    return psycopg


@dataclass(frozen=True)
class PostgresSettings:
    """Where the server is, read from the target's settings, else the standard PG* variables."""

    host: str
    port: int
    dbname: str | None
    user: str | None
    password_env: str | None
    connect_timeout: int
    sslmode: str | None

    @classmethod
    def of(cls, target: TargetConfig, env: dict[str, str]) -> PostgresSettings:
        options = dict(target.options)
        if target.database and "dbname" not in options:
            options["dbname"] = target.database
        unknown = sorted(k for k in options if k not in SETTINGS and k not in ("name", "path", "profile_file",
                                                                                 "profile_name", "origin", "table"))
        if unknown:
            raise ProjectError(f"{target.origin}: unknown setting {', '.join(unknown)}; a postgres target takes "
                               f"{', '.join(SETTINGS)}, schema and settings")
        try:
            port = int(options.get("port") or env.get("PGPORT") or 5432)
            timeout = int(options.get("connect_timeout") or 10)
        except ValueError:
            raise ProjectError(f"{target.origin}: port and connect_timeout must be whole numbers") from None
        return cls(
            host=str(options.get("host") or env.get("PGHOST") or "localhost"),
            port=port,
            dbname=str(options["dbname"]) if options.get("dbname") else env.get("PGDATABASE"),
            user=str(options["user"]) if options.get("user") else env.get("PGUSER"),
            password_env=str(options["password_env"]) if options.get("password_env") else None,
            connect_timeout=timeout,
            sslmode=str(options["sslmode"]) if options.get("sslmode") else None,
        )

    def password(self, env: dict[str, str]) -> str | None:
        """The password from the environment (the named variable, else PGPASSWORD); remembered as a secret."""
        name = self.password_env or "PGPASSWORD"
        value = env.get(name)
        if self.password_env and not value:
            raise ProjectError(f"password_env names {self.password_env}, which is not set in the environment")
        if value:
            note_secret(value)
        return value

    def connect_kwargs(self, env: dict[str, str]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"host": self.host, "port": self.port, "connect_timeout": self.connect_timeout}
        for key in ("dbname", "user", "sslmode"):
            if getattr(self, key):
                kwargs[key] = getattr(self, key)
        password = self.password(env)
        if password:
            kwargs["password"] = password
        return kwargs


def open_connection(target: TargetConfig):
    """A psycopg connection to the target's server (autocommit: stockx opens its own transactions)."""
    psycopg = _driver()
    if psycopg is None:
        raise DriverMissing(target.label, "psycopg", "postgres")
    env = dict(os.environ)
    settings = PostgresSettings.of(target, env)
    kwargs = settings.connect_kwargs(env)
    try:
        con = psycopg.connect(autocommit=True, **kwargs)
    except psycopg.OperationalError as exc:
        reason = redact(" ".join(str(exc).split()), [kwargs.get("password") or ""] if kwargs.get("password") else [])
        if "authentication" in reason or "password" in reason:
            raise ProjectError(
                f"{target.label}: PostgreSQL at {settings.host}:{settings.port} refused user "
                f"'{settings.user or os.environ.get('USER', '')}': {_reason(reason)}",
                hint=f"check the user and the password in {settings.password_env or 'PGPASSWORD'}",
            ) from None
        raise TargetUnreachable(
            target.label, settings.host, settings.port, _reason(reason),
            "check that the server runs and that host and port are right (settings, or PGHOST and PGPORT)",
        ) from None
    for statement in SESSION:
        con.execute(statement)
    return con


def _reason(message: str) -> str:
    """libpq's reason, without the connection string it repeats."""
    for marker in ("failed: ", "FATAL: "):
        if marker in message:
            message = message.rsplit(marker, 1)[-1]
    return message.strip()


class PostgresAdapter(LocalDuckDB, SqlAdapter):
    """A schema of a PostgreSQL database, through one psycopg connection."""

    type = "postgres"
    dialect = "postgres"
    placeholder = "%s"
    date_types = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE")

    def __init__(self, target: TargetConfig, con, owns_schema: bool = False) -> None:
        super().__init__(target, con)
        self._owns_schema = owns_schema  # a scratch schema, dropped on close
        self._pending_views: list[tuple[str, str, str]] = []  # dropped with a replaced relation, created again
        self._holding_views = False  # this transaction holds the catalog's views_lock (see _drop)

    # -- opening and closing --------------------------------------------------------------------

    @classmethod
    def connect(cls, target: TargetConfig, *, read_only: bool = False) -> PostgresAdapter:
        adapter = cls(target, open_connection(target))
        adapter._search_path()
        return adapter

    @classmethod
    def for_reading(cls, target: TargetConfig) -> PostgresAdapter:
        return cls.connect(target, read_only=True)

    @classmethod
    def export_database(cls, target: TargetConfig, relation: str, order_by: tuple[str, ...], folder: Path) -> str:
        """A local DuckDB copy of ``relation``, read through a server-side cursor in ``order_by`` order,
        one batch at a time."""
        source = Relation(*transfer.split(relation))
        con = open_connection(target)
        try:
            columns = cls(target, con).columns(str(source))
            order = ", ".join(quote(c) for c in order_by)

            def rows():
                with con.transaction(), con.cursor(name="stockx_export") as cursor:
                    cursor.itersize = transfer.BATCH_ROWS
                    cursor.execute(f"select * from {source}" + (f" order by {order}" if order else ""))
                    yield from iter(lambda: cursor.fetchmany(transfer.BATCH_ROWS), [])

            return transfer.local_copy(folder, target, relation, columns, rows)
        finally:
            con.close()

    def scratch(self) -> PostgresAdapter:
        """A throwaway schema on the same server, dropped when the scratch adapter closes."""
        schema = f"{SCRATCH_PREFIX}{uuid.uuid4().hex[:12]}"
        con = open_connection(self.target)
        con.execute(f"create schema {quote(schema)}")
        con.execute(f"set search_path to {quote(schema)}, {quote(self.target.schema)}, public")
        target = TargetConfig(type=self.type, name=self.target.name, schema=schema, origin=self.target.origin,
                              options=self.target.options, root=self.target.root)
        return PostgresAdapter(target, con, owns_schema=True)

    def worker(self) -> PostgresAdapter:
        """A connection of its own to the same server, with the target's settings and search path."""
        worker = PostgresAdapter.connect(self.target)._shares_catalog_with(self)
        try:
            worker._session_settings()
        except ProjectError:
            worker.close()
            raise
        return worker

    def interrupt(self) -> None:
        getattr(self.con, "cancel_safe", self.con.cancel)()  # cancel_safe from psycopg 3.2

    def close(self) -> None:
        try:
            if self._owns_schema and not self.con.closed:
                self.con.execute(f"drop schema if exists {quote(self.target.schema)} cascade")
        finally:
            if self._local is not None:
                self._local.close()
            self.con.close()

    def apply_target_settings(self) -> None:
        """The target's ``settings`` (SET on the session), its schema, and stockx's helper function."""
        self._session_settings()
        try:
            self._ensure_schema(self.target.schema)
            exists = self.con.execute(
                "select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
                "where p.proname = 'stockx_try_cast' and n.nspname = %s", [self.target.schema]).fetchone()[0]
            if exists < 1 + len(TRY_CAST_TYPES):
                self.con.execute(try_cast_sql(self.target.schema))
        except self.error_types as exc:
            raise ProjectError(f"{self.target.origin}: {first_line(str(exc))}") from None

    def _session_settings(self) -> None:
        try:
            for key, value in self.target.settings.items():
                shown = str(value).lower() if isinstance(value, bool) else value
                self.con.execute(f"set {key} = {shown if isinstance(value, (bool, int, float)) else literal(str(value))}")
        except self.error_types as exc:
            raise ProjectError(f"{self.target.origin}: {first_line(str(exc))}") from None

    def _search_path(self) -> None:
        # Translated SQL calls stockx_try_cast() unqualified: it lives in the target's schema.
        self.con.execute(f"set search_path to {quote(self.target.schema)}, public")

    # -- SQL text and errors --------------------------------------------------------------------------

    @property
    def error_types(self) -> tuple[type[BaseException], ...]:
        psycopg = _driver()
        return (psycopg.Error,) if psycopg is not None else ()

    @staticmethod
    def quote(identifier: str) -> str:
        return quote(identifier)

    @staticmethod
    def literal(value: str) -> str:
        return literal(value)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            with self.con.transaction():
                yield
        finally:
            if self._holding_views:  # see _drop: held until the transaction has ended
                self._holding_views = False
                self._catalog.views_lock.release()

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        with self.con.transaction(force_rollback=True):
            yield

    # -- the catalog ----------------------------------------------------------------------------------

    def _list_relations(self) -> dict[tuple[str, str], str]:
        rows = self.con.execute(
            "select table_schema, table_name, case when table_type = 'VIEW' then 'view' else 'table' end "
            "from information_schema.tables where table_type in ('BASE TABLE', 'VIEW') "
            "and table_schema not in ('pg_catalog', 'information_schema')"
        ).fetchall()
        return {(schema, name): kind for schema, name, kind in rows}

    def _temp_table(self, name: str) -> str:
        return f"pg_temp.{quote(name)}"

    def _affected(self, sql: str) -> int:
        return self.con.execute(sql).rowcount

    def columns(self, relation: str) -> list[tuple[str, str]]:
        cursor = self.con.execute(f"select * from {relation} as stockx_columns limit 0")
        return [(c.name, types.from_postgres(c.type_code, c.precision, c.scale)) for c in cursor.description or []]

    def describe(self, query: str) -> list[tuple[str, str]] | None:
        # In a savepoint: a query Postgres refuses must not abort the transaction around it.
        try:
            with self.con.transaction():
                return self.columns(query)
        except self.error_types:
            return None

    def canonical_type(self, declared: str) -> str:
        return types.canonical(declared)

    def syntax_error(self, sql: str) -> str | None:
        # Models are written in DuckDB's SQL and translated when they run: DuckDB's parser judges them.
        return self.local().syntax_error(sql)

    # -- materializations -----------------------------------------------------------------------------

    def build_view(self, relation: Relation, sql: str, check=None):
        # Postgres's CREATE OR REPLACE VIEW cannot drop or retype a column: the old view is dropped first.
        from stockx_export.adapters.base import Outcome

        existing = self.relation_kind(relation)
        with self.transaction():
            self._ensure_schema(relation.schema)
            self._pending_views = []
            self._drop(relation, existing)
            self.con.execute(f"create view {relation} as ({sql}\n)")
            if check:
                check(self, str(relation))
            self._recreate(self._pending_views)
        self._built(relation, "view")
        return Outcome("created view")

    def _drop(self, relation: Relation, kind: str | None) -> None:
        # Views over the table go with it (CASCADE) and are created again once the new table is in place.
        if kind and not self._holding_views and self._has_dependent_views(relation):
            # Two workers replacing two tables under one view would each drop and create it: a deadlock,
            # or a view bound to a table the other just dropped. One such replacement at a time, to its
            # transaction's end. (Asked first without reading a view's definition, which locks the view.)
            self._catalog.views_lock.acquire()
            self._holding_views = True
        views = self._dependent_views(relation) if kind else []
        if kind == "table":
            self.con.execute(f"drop table if exists {relation} cascade")
        elif kind == "view":
            self.con.execute(f"drop view if exists {relation} cascade")
        self._pending_views = views

    def _table_steps(self, relation: Relation, sql: str, check):
        self._pending_views = []
        outcome = super()._table_steps(relation, sql, check)
        self._recreate(self._pending_views)
        return outcome

    def _has_dependent_views(self, relation: Relation) -> bool:
        """Whether a view reads ``relation``: the catalog alone, no lock on any view."""
        return self.con.execute(
            "select exists (select 1 from pg_depend d join pg_rewrite r on r.oid = d.objid "
            "where d.refobjid = %s::regclass and r.ev_class <> d.refobjid)", [str(relation)]).fetchone()[0]

    def _dependent_views(self, relation: Relation) -> list[tuple[str, str, str]]:
        """(schema, name, definition) of every view reading ``relation``, directly or through others,
        in an order they can be created in."""
        rows = self.con.execute(
            """
            with recursive dependents(oid, depth) as (
                select distinct r.ev_class, 1
                from pg_depend d join pg_rewrite r on r.oid = d.objid
                where d.refobjid = %s::regclass and r.ev_class <> d.refobjid
                union
                select distinct r.ev_class, dependents.depth + 1
                from dependents join pg_depend d on d.refobjid = dependents.oid
                join pg_rewrite r on r.oid = d.objid
                where r.ev_class <> dependents.oid and dependents.depth < 50
            )
            select n.nspname, c.relname, pg_get_viewdef(c.oid), max(depth)
            from dependents join pg_class c on c.oid = dependents.oid join pg_namespace n on n.oid = c.relnamespace
            where c.relkind = 'v'
            group by n.nspname, c.relname, c.oid
            order by max(depth), n.nspname, c.relname
            """,
            [str(relation)],
        ).fetchall()
        return [(schema, name, definition) for schema, name, definition, _ in rows]

    def _recreate(self, views: list[tuple[str, str, str]]) -> None:
        for schema, name, definition in views:
            self.con.execute(f"create view {Relation(schema, name)} as {definition}")

    # -- seeds ----------------------------------------------------------------------------------------

    def seed_select(self, csv_path: Path, config: dict[str, Any], column_types: dict[str, str] | None = None) -> str:
        """DuckDB's query for the seed (the file is read by DuckDB's reader, then sent through COPY)."""
        return self.local().seed_select(csv_path, config, column_types)

    def seed_dialect(self, config: dict[str, Any]) -> Dialect:
        return self.local().seed_dialect(config)

    def load_seed(self, relation: Relation, csv_path: Path, config: dict[str, Any],
                  column_types: dict[str, str] | None = None):
        """The seed read by DuckDB's CSV reader (its types and values, as a DuckDB build has them), sent
        to a new table through ``COPY ... FROM STDIN``, swapped in within one transaction."""
        from stockx_export.adapters.base import Outcome

        local = self.local()
        query = f"({self.seed_select(csv_path, config, column_types)})"
        columns = local.columns(query)
        rows = local.con.execute(f"select * from {query}")
        existing = self.relation_kind(relation)
        tmp = Relation(relation.schema, relation.identifier + "__stockx_tmp")
        names = ", ".join(quote(n) for n, _ in columns)
        with self.transaction():
            self._ensure_schema(relation.schema)
            self.con.execute(f"drop table if exists {tmp}")
            listed = ", ".join(f"{quote(n)} {types.ddl_type(t, 'postgres')}" for n, t in columns)
            self.con.execute(f"create table {tmp} ({listed})")
            count = 0
            with self.con.cursor() as cursor, cursor.copy(f"copy {tmp} ({names}) from stdin") as copy:
                for batch in iter(lambda: rows.fetchmany(transfer.BATCH_ROWS), []):
                    for row in batch:
                        copy.write_row(row)
                    count += len(batch)
            self._pending_views = []
            self._drop(relation, existing)
            self.con.execute(f"alter table {tmp} rename to {quote(relation.identifier)}")
            self._recreate(self._pending_views)
        self._built(relation, "table")
        return Outcome("loaded seed", count)

    # -- incremental windows --------------------------------------------------------------------------

    def recorded_window_start(self, relation: Relation) -> datetime.date | None:
        if self.relation_kind(Relation(relation.schema, WINDOWS_TABLE)) != "table":
            return None
        found = self.con.execute(
            f"select window_start from {Relation(relation.schema, WINDOWS_TABLE)} where relation_name = %s",
            [relation.identifier],
        ).fetchone()
        return found[0] if found else None

    # -- tests ----------------------------------------------------------------------------------------

    def create_table(self, name: str, columns) -> None:
        listed = ", ".join(f"{quote(n)} {types.ddl_type(t, 'postgres')}" for n, t in columns)
        self.con.execute(f"create table {quote(name)} ({listed})")

    def insert_cast(self, name: str, columns, values) -> None:
        casts = ", ".join(f"cast(cast(%s as text) as {types.ddl_type(t, 'postgres')})" for _, t in columns)
        self.con.execute(f"insert into {quote(name)} select {casts}", [_as_text(v) for v in values])

    # -- files read by file sources -----------------------------------------------------------------

    def files_matching(self, pattern: str) -> list[str]:
        return sorted(glob.glob(os.path.expanduser(pattern)))

    def sniff_csv(self, file: str) -> tuple[str, str] | None:
        return self.local().sniff_csv(file)


def _as_text(value: Any) -> Any:
    """A fixture value as the text Postgres casts from (dates and numbers as their ISO and plain forms)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()
    return str(value)
