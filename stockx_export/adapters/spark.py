"""The Spark adapter: Parquet tables in a warehouse directory, through a SparkSession.

Settings (``[tool.stockx.targets.NAME]`` with ``type = "spark"``, or a
profiles.yml output): ``master`` (default ``local[*]``), or ``remote =
"sc://host:15002"`` for a cluster through Spark Connect; ``warehouse`` (default
``target/spark-warehouse``; each schema is a database stored at
``<warehouse>/<schema>.db``, and the catalog is a Hive metastore in the
warehouse, so a later command finds the tables); ``conf`` (Spark settings);
``schema``. In one process every command shares one SparkSession.

Spark's own Parquet tables have no transactions, no DELETE and no MERGE (Delta
Lake and Iceberg would bring them; their jars are not part of pyspark). So:

- a table is written under a temporary name (``<name>__stockx_tmp``) and checked
  (its contract) while the old table stays; then the old one is dropped and
  the new one renamed. The swap is two catalog operations: a crash between
  them leaves the new table under its temporary name and none under the real
  one (the next build makes it again). A failed build before the swap leaves
  the old table as it was.
- an incremental build (``merge``, ``delete+insert``, ``append``,
  ``replace_window``) writes the model's rows once into ``<name>__stockx_new``,
  then a whole new table: the old rows whose key is not among the new rows
  (for ``replace_window``: dated before the window), plus the new rows; then
  swaps it in as above. The result is what the same build gives on DuckDB; its
  cost is a rewrite of the table, not of the affected keys only.

Seeds are read by Spark's CSV reader with the column types DuckDB reads the
file with (its ``column_types``, or DuckDB's detection), after DuckDB has read
the whole file once: a file DuckDB refuses is refused here too, with the same
message naming the line, and the row counts must agree. Each seed is written as
one file in file order, so ``row_number() over ()`` (translated to number rows
in scan order) counts lines as DuckDB does.
"""

from __future__ import annotations

import datetime
import glob
import os
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from stockx_export.adapters import transfer, types
from stockx_export.adapters.local import LocalDuckDB
from stockx_export.adapters.base import INCREMENTAL_STRATEGIES, SCHEMA_CHANGE_MODES, WINDOW_STRATEGY, Adapter, Outcome, Rows
from stockx_export.core.config import TargetConfig
from stockx_export.core.csv_files import Dialect
from stockx_export.core.snapshots import SnapshotSpec
from stockx_export.core.window import WINDOWS_TABLE, Window
from stockx_export.db import Relation, first_line
from stockx_export.errors import DriverMissing, ExecutionError, ProjectError, TargetUnreachable

SETTINGS = ("master", "remote", "warehouse", "conf", "app_name")
TMP_SUFFIX = "__stockx_tmp"
NEW_SUFFIX = "__stockx_new"
GLOBAL_TEMP = "global_temp"  # Spark's database of global temporary views
# Every session: timestamps without time zone (DuckDB's TIMESTAMP), UTC, no console noise.
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.legacy.createHiveTableByDefault": "false",
}
STATIC_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.catalogImplementation": "hive",
}


def _pyspark(target: TargetConfig):
    try:
        import pyspark.sql
    except ImportError:
        raise DriverMissing(target.label, "pyspark", "spark") from None
    return pyspark.sql


@dataclass(frozen=True)
class SparkSettings:
    """Where Spark runs and where its tables live."""

    master: str
    remote: str | None
    warehouse: str | None  # where each schema's database is stored; None: the cluster's own default
    conf: dict[str, str]
    app_name: str

    @classmethod
    def of(cls, target: TargetConfig) -> SparkSettings:
        options = {k: v for k, v in target.options.items()
                   if k not in ("name", "path", "profile_file", "profile_name", "origin", "table", "method", "host")}
        unknown = sorted(k for k in options if k not in SETTINGS)
        if unknown:
            raise ProjectError(f"{target.origin}: unknown setting {', '.join(unknown)}; a spark target takes "
                               f"{', '.join(SETTINGS)}, schema and threads")
        conf = options.get("conf") or {}
        if not isinstance(conf, dict):
            raise ProjectError(f"{target.origin}: conf must be a table of Spark settings")
        remote = str(options["remote"]) if options.get("remote") else None
        warehouse = options.get("warehouse") or (None if remote else "target/spark-warehouse")
        if warehouse is not None and "://" not in str(warehouse):
            path = Path(os.path.expanduser(str(warehouse)))
            warehouse = str((path if path.is_absolute() else Path(target.root or ".") / path).resolve())
        return cls(
            master=str(options.get("master") or "local[*]"),
            remote=remote,
            warehouse=str(warehouse) if warehouse is not None else None,
            conf={str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in conf.items()},
            app_name=str(options.get("app_name") or "stockx"),
        )


def session_for(target: TargetConfig):
    """The process's SparkSession (created on first use, with the target's settings)."""
    sql = _pyspark(target)
    settings = SparkSettings.of(target)
    active = sql.SparkSession.getActiveSession()
    if active is not None:
        spark = active
    elif settings.remote:
        spark = _remote_session(sql, target, settings)
    else:
        Path(settings.warehouse).mkdir(parents=True, exist_ok=True)
        builder = sql.SparkSession.builder.master(settings.master).appName(settings.app_name)
        metastore = Path(settings.warehouse) / "metastore_db"
        static = {
            **STATIC_CONF,
            "spark.sql.warehouse.dir": settings.warehouse,
            "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={metastore};create=true",
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={settings.warehouse}",
        }
        for key, value in {**static, **SESSION_CONF, **settings.conf}.items():
            builder = builder.config(key, value)
        try:
            spark = builder.getOrCreate()
        except Exception as exc:  # pyspark raises its own runtime errors when Java cannot start
            raise ProjectError(
                f"{target.label}: Spark could not start ({first_line(str(exc))})",
                hint="Spark needs Java 17 or later on the PATH or in JAVA_HOME (apt-get install openjdk-17-jre-headless)",
            ) from None
        spark.sparkContext.setLogLevel("ERROR")
    for key, value in {**SESSION_CONF, **settings.conf}.items():
        if not key.startswith(("spark.ui", "spark.driver", "spark.hadoop", "spark.sql.warehouse", "spark.sql.catalogImpl")):
            spark.conf.set(key, value)
    return spark


def _remote_session(sql, target: TargetConfig, settings: SparkSettings):
    """A Spark Connect session; a server that does not answer is named by host and port."""
    address = settings.remote.split("://", 1)[-1].split("/", 1)[0].split(";", 1)[0]
    host, _, port = address.partition(":")
    try:
        spark = sql.SparkSession.builder.remote(settings.remote).appName(settings.app_name).getOrCreate()
        spark.sql("select 1").collect()
    except Exception as exc:
        raise TargetUnreachable(target.label, host, port or 15002, first_line(str(exc))[:300],
                                "check that the Spark Connect server runs and that remote is right") from None
    return spark


class SparkAdapter(LocalDuckDB, Adapter):
    """Tables of a SparkSession's catalog, one database per schema."""

    type = "spark"
    dialect = "spark"
    # No transactions: a table replaced (written anew, then swapped) is briefly missing to a reader, and a
    # test may read the shared record of windows while another model rewrites it. Spark runs each
    # statement in parallel across its executors instead.
    concurrent_nodes = False

    def __init__(self, target: TargetConfig, spark) -> None:
        self.target = target
        self.spark = spark
        self.settings = SparkSettings.of(target)
        self._relations: dict[str, dict[str, str]] = {}  # schema -> name -> kind, each schema listed once
        self._windows_lock = threading.Lock()  # the record of windows is rewritten whole: one build at a time

    # -- opening and closing --------------------------------------------------------------------

    @classmethod
    def connect(cls, target: TargetConfig, *, read_only: bool = False) -> SparkAdapter:
        return cls(target, session_for(target))

    @classmethod
    def for_reading(cls, target: TargetConfig) -> SparkAdapter:
        return cls.connect(target, read_only=True)

    @classmethod
    def export_database(cls, target: TargetConfig, relation: str, order_by: tuple[str, ...], folder: Path) -> str:
        """A local DuckDB copy of ``relation``, read in ``order_by`` order through ``toLocalIterator``
        (one partition on the driver at a time), in batches."""
        adapter = cls.connect(target)
        source = adapter.name(Relation(*transfer.split(relation)))
        columns = adapter.columns(source)
        order = ", ".join(adapter.quote(c) for c in order_by)
        frame = adapter.spark.sql(f"select * from {source}" + (f" order by {order}" if order else ""))

        def rows():
            return transfer.batches(tuple(row) for row in frame.toLocalIterator(prefetchPartitions=True))

        return transfer.local_copy(folder, target, relation, columns, rows)

    def scratch(self) -> SparkAdapter:
        """Unit tests' tables as global temporary views (``global_temp.<name>``): no files, no metastore."""
        target = TargetConfig(type=self.type, name=self.target.name, schema=GLOBAL_TEMP, origin=self.target.origin,
                              options=self.target.options, root=self.target.root)
        return SparkScratch(target, self.spark)

    def worker(self) -> SparkAdapter:
        """The same session (Spark runs jobs from several threads at once), sharing what is known of the catalog."""
        worker = SparkAdapter(self.target, self.spark)
        worker._relations, worker._windows_lock = self._relations, self._windows_lock
        return worker

    def close(self) -> None:
        # The session is the process's, shared by every adapter: it ends with the process.
        if self._local is not None:
            self._local.close()
            self._local = None

    def apply_target_settings(self) -> None:
        self._ensure_schema(self.target.schema)

    # -- SQL text and errors ----------------------------------------------------------------------------

    @property
    def error_types(self) -> tuple[type[BaseException], ...]:
        from pyspark.errors import PySparkException

        return (PySparkException,)

    @staticmethod
    def quote(identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    @staticmethod
    def literal(value: str) -> str:
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"

    def name(self, relation: Relation) -> str:
        return f"{self.quote(relation.schema)}.{self.quote(relation.identifier)}"

    def transaction(self):
        # Spark's Parquet tables have no transactions: each step is its own (see the module docstring).
        return nullcontext()

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        """Tables made in the block are dropped when it ends."""
        before = set(self._tables_in(self.target.schema))
        try:
            yield
        finally:
            for table in sorted(set(self._tables_in(self.target.schema)) - before):
                self.spark.sql(f"drop table if exists {self.name(Relation(self.target.schema, table))}")
            self.refresh()

    def execute(self, sql: str, params=()) -> None:
        self.spark.sql(sql, args=list(params) if params else None)

    def query(self, sql: str, params=()) -> Rows:
        frame = self.spark.sql(sql, args=list(params) if params else None)
        return Rows(list(frame.columns), [tuple(row) for row in frame.collect()])

    # -- the catalog ------------------------------------------------------------------------------------

    def _tables_in(self, schema: str) -> list[str]:
        return sorted(self._listed(schema, fresh=True))

    def _listed(self, schema: str, fresh: bool = False) -> dict[str, str]:
        """name -> 'table' | 'view' of the relations of database ``schema`` (read once, then kept current)."""
        if fresh or schema not in self._relations:
            found: dict[str, str] = {}
            if self.spark.catalog.databaseExists(schema):
                for table in self.spark.catalog.listTables(schema):
                    if not table.isTemporary:
                        found[table.name] = "view" if table.tableType == "VIEW" else "table"
            self._relations[schema] = found
        return self._relations[schema]

    def relation_kind(self, relation: Relation) -> str | None:
        return self._listed(relation.schema).get(relation.identifier)

    def refresh(self) -> None:
        self._relations.clear()  # in place: the run's workers share it

    def _built(self, relation: Relation, kind: str | None) -> None:
        listed = self._listed(relation.schema)
        if kind is None:
            listed.pop(relation.identifier, None)
        else:
            listed[relation.identifier] = kind

    def columns(self, relation: str) -> list[tuple[str, str]]:
        schema = self.spark.sql(f"select * from {relation} as stockx_columns limit 0").schema
        return [(field.name, types.from_spark(field.dataType.simpleString())) for field in schema.fields]

    def describe(self, query: str) -> list[tuple[str, str]] | None:
        try:
            return self.columns(query)
        except self.error_types:
            return None

    def canonical_type(self, declared: str) -> str:
        return types.canonical(declared)

    def syntax_error(self, sql: str) -> str | None:
        return self.local().syntax_error(sql)

    # -- materializations -------------------------------------------------------------------------------

    def _ensure_schema(self, schema: str) -> None:
        if self.settings.warehouse is None:  # a cluster's own warehouse
            self.spark.sql(f"create database if not exists {self.quote(schema)}")
            return
        location = f"{self.settings.warehouse.rstrip('/')}/{schema}.db"
        self.spark.sql(f"create database if not exists {self.quote(schema)} location {self.literal(location)}")

    def _drop(self, relation: Relation, kind: str | None) -> None:
        if kind == "table":
            self.spark.sql(f"drop table if exists {self.name(relation)}")
        elif kind == "view":
            self.spark.sql(f"drop view if exists {self.name(relation)}")
        self._built(relation, None)

    def drop(self, relation: Relation) -> None:
        self._drop(relation, self.relation_kind(relation))

    def build_snapshot(self, relation: Relation, sql: str, spec: SnapshotSpec, now: str) -> Outcome:
        # A snapshot closes current versions in place (UPDATE, or MERGE), which Spark's own Parquet
        # tables cannot do; rebuilding the whole history on every run is not what a snapshot promises.
        raise ExecutionError(
            f"the spark target does not build snapshots ({relation}): Spark's Parquet tables have no UPDATE "
            "or MERGE to close a changed row's current version; build snapshots on a duckdb or postgres target, "
            "or leave them out of Spark builds with --exclude 'resource_type:snapshot'"
        )

    def _swap(self, relation: Relation, built: Relation) -> None:
        """Replace ``relation`` with the table ``built`` (two catalog steps: drop, then rename)."""
        self._drop(relation, self.relation_kind(relation))
        self.spark.sql(f"alter table {self.name(built)} rename to {self.name(relation)}")
        self._built(built, None)
        self._built(relation, "table")

    def _write(self, table: Relation, sql: str) -> int:
        """``sql`` written as a new Parquet table ``table`` (dropped first if left by a failed build)."""
        self.spark.sql(f"drop table if exists {self.name(table)}")
        self.spark.sql(f"create table {self.name(table)} using parquet as\n{sql}\n")
        self._built(table, "table")
        return int(self.spark.sql(f"select count(*) from {self.name(table)}").collect()[0][0])

    def build_view(self, relation: Relation, sql: str, check=None) -> Outcome:
        self._ensure_schema(relation.schema)
        if self.relation_kind(relation) == "table":
            self._drop(relation, "table")
        self.spark.sql(f"create or replace view {self.name(relation)} as\n{sql}\n")
        self._built(relation, "view")
        if check:
            check(self, self.name(relation))
        return Outcome("created view")

    def build_table(self, relation: Relation, sql: str, check=None) -> Outcome:
        self._ensure_schema(relation.schema)
        tmp = Relation(relation.schema, relation.identifier + TMP_SUFFIX)
        rows = self._write(tmp, sql)
        try:
            if check:
                check(self, self.name(tmp))
        except BaseException:
            self._drop(tmp, "table")
            raise
        self._swap(relation, tmp)
        return Outcome("created table", rows)

    def build_incremental(self, relation: Relation, sql: str, *, unique_key: Any, full_refresh: bool, check=None,
                          on_schema_change: str | None = None, strategy: str | None = None,
                          window: Window | None = None, clock=None) -> Outcome:
        if strategy not in INCREMENTAL_STRATEGIES:
            raise ProjectError(f"incremental_strategy='{strategy}' is not supported by stockx; use "
                               + ", ".join(s for s in INCREMENTAL_STRATEGIES if s))
        if strategy == WINDOW_STRATEGY and window is None:
            raise ProjectError(f"incremental_strategy='{WINDOW_STRATEGY}' needs the build's window")
        clock = clock or _utc_now
        existing = self.relation_kind(relation)
        rebuild = existing != "table" or full_refresh or (strategy == WINDOW_STRATEGY and window.start is None)
        if rebuild:
            def with_column(adapter, built: str) -> None:
                if check:
                    check(adapter, built)
                if strategy == WINDOW_STRATEGY:
                    self.check_date_column(built, window.column, "the model's output")

            outcome = self.build_table(relation, sql, with_column)
            if strategy == WINDOW_STRATEGY:
                self._record_window(relation, Window(window.column, None, window.anchor, window.lookback_days), clock)
                detail = "first build" if existing != "table" else ("full refresh" if full_refresh else
                                                                     Window(window.column, None).describe())
            else:
                detail = "full refresh" if existing else "first build"
            return Outcome("created incremental", outcome.rows, detail)
        mode = on_schema_change or "ignore"
        if mode not in SCHEMA_CHANGE_MODES:
            raise ProjectError(f"on_schema_change='{mode}' is not one of {', '.join(SCHEMA_CHANGE_MODES)}")
        new = Relation(relation.schema, relation.identifier + NEW_SUFFIX)
        tmp = Relation(relation.schema, relation.identifier + TMP_SUFFIX)
        try:
            self._write(new, sql)
            if check:
                check(self, self.name(new))
            if strategy == WINDOW_STRATEGY:
                self.check_date_column(self.name(new), window.column, "the model's output")
            columns = self._aligned(relation, new, mode)
            keys = [] if strategy == "append" else ([unique_key] if isinstance(unique_key, str) else list(unique_key or []))
            missing = [k for k in keys if k.lower() not in {name.lower() for name, _, _ in columns}]
            if missing:
                raise ProjectError(f"unique_key {', '.join(repr(k) for k in missing)} is not a column of the model's "
                                   "output; fix the model's config")
            kept_old = ", ".join(old for _, old, _ in columns)
            from_new = ", ".join(fresh for _, _, fresh in columns)
            if strategy == WINDOW_STRATEGY:
                inside = window.predicate(self.quote(window.column))
                sql_new = (f"select {kept_old} from {self.name(relation)} where not ({inside})\n"
                           f"union all\nselect {from_new} from {self.name(new)} where {inside}")
            elif keys:
                match = " and ".join(f"o.{self.quote(k)} <=> n.{self.quote(k)}" for k in keys)
                sql_new = (f"select {kept_old} from {self.name(relation)} o left anti join {self.name(new)} n on {match}\n"
                           f"union all\nselect {from_new} from {self.name(new)}")
            else:
                sql_new = f"select {kept_old} from {self.name(relation)}\nunion all\nselect {from_new} from {self.name(new)}"
            before = self._count(relation)
            inserted = self._count(new, window.predicate(self.quote(window.column)) if strategy == WINDOW_STRATEGY else None)
            total = self._write(tmp, sql_new)
            self._swap(relation, tmp)
        finally:
            self._drop(new, "table")
            self.spark.sql(f"drop table if exists {self.name(tmp)}")
        replaced = before + inserted - total
        if strategy == WINDOW_STRATEGY:
            self._record_window(relation, window, clock)
            return Outcome("replaced window", inserted,
                           f"{window.describe()}: {replaced} rows removed, {inserted} inserted")
        return Outcome("merged incremental", inserted, f"{replaced} replaced" if keys else "appended")

    def _count(self, relation: Relation, where: str | None = None) -> int:
        sql = f"select count(*) from {self.name(relation)}" + (f" where {where}" if where else "")
        return int(self.spark.sql(sql).collect()[0][0])

    def _aligned(self, relation: Relation, new: Relation, mode: str) -> list[tuple[str, str, str]]:
        """dbt's ``on_schema_change`` as a column list for the rebuilt table: (name, old rows' expression,
        new rows' expression), the way SqlAdapter alters the table on other engines."""
        target = {name.lower(): (name, kind) for name, kind in self.columns(self.name(relation))}
        source = {name.lower(): (name, kind) for name, kind in self.columns(self.name(new))}
        added = [source[k] for k in source if k not in target]
        removed = [target[k] for k in target if k not in source]
        retyped = [(source[k][0], target[k][1], source[k][1]) for k in source if k in target and source[k][1] != target[k][1]]
        changes = [*(f"added {n} {t}" for n, t in added), *(f"removed {n}" for n, _ in removed),
                   *(f"{n} changed from {o} to {t}" for n, o, t in retyped)]
        fix = "rebuild it with --full-refresh, or set on_schema_change to append_new_columns or sync_all_columns"
        if mode == "fail" and changes:
            raise ExecutionError(f"on_schema_change='fail': the model's columns differ from {relation} ({'; '.join(changes)}); {fix}")
        if mode in ("ignore", "fail") and removed:
            raise ExecutionError(f"the model no longer returns {', '.join(n for n, _ in removed)}, which {relation} has; {fix}")
        q = self.quote

        def typed(name: str, kind: str) -> str:
            return f"cast({q(name)} as {types.ddl_type(kind, 'spark')}) as {q(name)}"

        if mode == "sync_all_columns":
            return [(name, typed(name, kind) if key in target else f"cast(null as {types.ddl_type(kind, 'spark')}) as {q(name)}",
                     q(name)) for key, (name, kind) in source.items()]
        columns = [(name, q(name), q(name) if key in source else f"cast(null as {types.ddl_type(kind, 'spark')}) as {q(name)}")
                   for key, (name, kind) in target.items()]
        if mode == "append_new_columns":
            columns += [(name, f"cast(null as {types.ddl_type(kind, 'spark')}) as {q(name)}", q(name)) for name, kind in added]
        return columns

    # -- seeds ------------------------------------------------------------------------------------------

    def seed_select(self, csv_path: Path, config: dict[str, Any], column_types: dict[str, str] | None = None) -> str:
        return self.local().seed_select(csv_path, config, column_types)

    def seed_dialect(self, config: dict[str, Any]) -> Dialect:
        return self.local().seed_dialect(config)

    def load_seed(self, relation: Relation, csv_path: Path, config: dict[str, Any],
                  column_types: dict[str, str] | None = None) -> Outcome:
        """DuckDB reads the file first (its errors, its types); then Spark's CSV reader loads it with those
        types, as one file in file order. A blank field (quoted or not) is NULL, as in DuckDB."""
        from pyspark.sql import functions

        local = self.local()
        query = f"({self.seed_select(csv_path, config, column_types)})"
        columns = local.columns(query)
        expected = local.con.execute(f"select count(*) from {query}").fetchone()[0]
        dialect = self.seed_dialect(config)
        schema = ", ".join(f"{self.quote(n)} {types.ddl_type(t, 'spark')}" for n, t in columns)
        reader = self.spark.read.options(
            header=str(config.get("header", True)).lower(), sep=dialect.delimiter, quote=dialect.quote,
            escape=dialect.escape or dialect.quote, multiLine="true", mode="FAILFAST", encoding="UTF-8",
        )
        frame = reader.schema(schema).csv(str(Path(csv_path).resolve()))
        frame = frame.select(*[
            functions.when(functions.col(self.quote(n)) == "", None).otherwise(functions.col(self.quote(n))).alias(n)
            if t == "VARCHAR" else functions.col(self.quote(n)) for n, t in columns
        ])
        self._ensure_schema(relation.schema)
        tmp = Relation(relation.schema, relation.identifier + TMP_SUFFIX)
        self.spark.sql(f"drop table if exists {self.name(tmp)}")
        frame.coalesce(1).write.format("parquet").saveAsTable(f"{self.name(tmp)}")
        self._built(tmp, "table")
        loaded = self._count(tmp)
        if loaded != expected:
            self._drop(tmp, "table")
            raise ExecutionError(f"{csv_path}: Spark's CSV reader read {loaded} rows and DuckDB's {expected}; "
                                 "check the file's quoting and line breaks")
        self._swap(relation, tmp)
        return Outcome("loaded seed", loaded)

    # -- incremental windows ----------------------------------------------------------------------------

    def check_date_column(self, relation: str, column: str, shown: str) -> None:
        found = {name.lower(): (name, kind) for name, kind in self.columns(relation)}
        if column.lower() not in found:
            raise ExecutionError(f"window_column '{column}' is not a column of {shown} (its columns: "
                                 f"{', '.join(name for name, _ in found.values())}); fix the model's config")
        kind = found[column.lower()][1]
        if kind.upper() not in ("DATE", "TIMESTAMP"):
            raise ExecutionError(f"window_column '{column}' of {shown} is {kind}; the window needs a DATE or TIMESTAMP column")

    def newest_date(self, relation: Relation, column: str) -> datetime.date | None:
        self.check_date_column(self.name(relation), column, str(relation))
        return self.spark.sql(f"select cast(max({self.quote(column)}) as date) from {self.name(relation)}").collect()[0][0]

    def recorded_window_start(self, relation: Relation) -> datetime.date | None:
        table = Relation(relation.schema, WINDOWS_TABLE)
        if self.relation_kind(table) != "table":
            return None
        found = self.spark.sql(f"select window_start from {self.name(table)} where relation_name = ?",
                               args=[relation.identifier]).collect()
        return found[0][0] if found else None

    def _record_window(self, relation: Relation, window: Window, clock) -> None:
        """Remember the window this build replaced: the small record table is rewritten whole."""
        table = Relation(relation.schema, WINDOWS_TABLE)
        tmp = Relation(relation.schema, WINDOWS_TABLE + TMP_SUFFIX)
        start = f"date '{window.start.isoformat()}'" if window.start else "cast(null as date)"
        anchor = f"date '{window.anchor.isoformat()}'" if window.anchor else "cast(null as date)"
        row = (f"select {self.literal(relation.identifier)} as relation_name, {self.literal(window.column)} as window_column, "
               f"{start} as window_start, {anchor} as anchor, cast({int(window.lookback_days or 0)} as int) as lookback_days, "
               f"timestamp '{clock().isoformat(sep=' ')}' as built_at")
        with self._windows_lock:
            if self.relation_kind(table) == "table":
                row = (f"select * from {self.name(table)} where relation_name <> {self.literal(relation.identifier)}\n"
                       f"union all\n{row}")
            self._write(tmp, row)
            self._swap(table, tmp)

    # -- tests ------------------------------------------------------------------------------------------

    def test_verdict(self, sql: str, fail_calc: str, warn_if: str, error_if: str) -> tuple[Any, Any, Any]:
        return tuple(self.spark.sql(
            f"select {fail_calc} as failures, ({fail_calc}) {warn_if} as should_warn, "
            f"({fail_calc}) {error_if} as should_error\nfrom (\n{sql}\n) dbt_internal_test"
        ).collect()[0])

    def store_failures(self, relation: Relation, sql: str, as_view: bool) -> None:
        self._ensure_schema(relation.schema)
        self._drop(relation, self.relation_kind(relation))
        if as_view:
            self.spark.sql(f"create view {self.name(relation)} as\n{sql}\n")
        else:
            self.spark.sql(f"create table {self.name(relation)} using parquet as\n{sql}\n")
        self._built(relation, "view" if as_view else "table")

    def sample(self, sql: str, limit: int) -> Rows:
        return self.query(f"select * from (\n{sql}\n) dbt_sample limit {int(limit)}")

    def create_table(self, name: str, columns) -> None:
        listed = ", ".join(f"{self.quote(n)} {types.ddl_type(t, 'spark')}" for n, t in columns)
        self.spark.sql(f"create table {self.quote(name)} ({listed}) using parquet")

    def insert_cast(self, name: str, columns, values) -> None:
        casts = ", ".join(f"cast(cast(? as string) as {types.ddl_type(t, 'spark')})" for _, t in columns)
        self.spark.sql(f"insert into {self.quote(name)} select {casts}", args=[_as_text(v) for v in values])

    def insert_rows(self, name: str, columns, rows) -> tuple[int, str] | None:
        """All rows in one statement (each Spark insert is a job writing a file); on a value that does
        not cast, the rows are tried one by one to name the first bad one."""
        if not rows:
            return None
        casts = ", ".join(f"cast(c{i} as {types.ddl_type(t, 'spark')})" for i, (_, t) in enumerate(columns))
        marks = ", ".join("(" + ", ".join("cast(? as string)" for _ in columns) + ")" for _ in rows)
        aliases = ", ".join(f"c{i}" for i in range(len(columns)))
        try:
            self.spark.sql(f"insert into {self.quote(name)} select {casts} from values {marks} as v({aliases})",
                           args=[_as_text(v) for row in rows for v in row])
        except self.error_types:
            return super().insert_rows(name, columns, rows) or (1, "a value does not fit its column's type")
        return None

    def create_table_as(self, name: str, sql: str) -> None:
        self.spark.sql(f"create table {self.quote(name)} using parquet as\n{sql}\n")

    def rows_missing(self, columns, left: str, right: str) -> list[tuple[Any, ...]]:
        listed = ", ".join(self.quote(n) for n in columns)
        return [tuple(r) for r in self.spark.sql(
            f"select {listed} from {self.quote(left)} except all select {listed} from {self.quote(right)}").collect()]

    # -- files read by file sources ---------------------------------------------------------------------

    def files_matching(self, pattern: str) -> list[str]:
        return sorted(glob.glob(os.path.expanduser(pattern)))

    def sniff_csv(self, file: str) -> tuple[str, str] | None:
        return self.local().sniff_csv(file)


_GLOBAL_VIEWS = threading.Lock()


class SparkScratch(SparkAdapter):
    """A unit test's fixture tables: global temporary views of the session, dropped after each test.

    Creating a Parquet table is a job and a metastore entry; a view over rows
    the driver holds is neither, and a unit test makes several tables."""

    def __init__(self, target: TargetConfig, spark) -> None:
        super().__init__(target, spark)
        self._views: list[str] = []

    def _view(self, name: str, frame) -> None:
        frame.createOrReplaceGlobalTempView(name)
        if name not in self._views:
            self._views.append(name)

    def _listed(self, schema: str, fresh: bool = False) -> dict[str, str]:
        return {name: "table" for name in self._views} if schema == GLOBAL_TEMP else super()._listed(schema, fresh)

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        # Global temporary views are the session's, and every scratch shares the session: in a parallel
        # run, one unit test at a time, or two would write each other's fixture and result views.
        with _GLOBAL_VIEWS:
            try:
                yield
            finally:
                self.close()

    def close(self) -> None:
        for name in self._views:
            self.spark.catalog.dropGlobalTempView(name)
        self._views = []
        super().close()

    def create_table(self, name: str, columns) -> None:
        listed = ", ".join(f"cast(null as {types.ddl_type(t, 'spark')}) as {self.quote(n)}" for n, t in columns)
        self._view(name, self.spark.sql(f"select {listed} where false"))

    def insert_rows(self, name: str, columns, rows) -> tuple[int, str] | None:
        """The rows as the view's only rows (``create_table`` made it empty just before)."""
        if not rows:
            return None
        casts = ", ".join(f"cast(c{i} as {types.ddl_type(t, 'spark')}) as {self.quote(n)}"
                          for i, (n, t) in enumerate(columns))
        marks = ", ".join("(" + ", ".join("cast(? as string)" for _ in columns) + ")" for _ in rows)
        aliases = ", ".join(f"c{i}" for i in range(len(columns)))
        args = [_as_text(v) for row in rows for v in row]
        try:
            frame = self.spark.sql(f"select {casts} from values {marks} as v({aliases})", args=args).localCheckpoint()
        except self.error_types:
            for number, values in enumerate(rows, 1):
                try:
                    self.spark.sql(f"select {casts} from values ({', '.join('cast(? as string)' for _ in columns)}) "
                                   f"as v({aliases})", args=[_as_text(v) for v in values]).collect()
                except self.error_types as exc:
                    return number, str(exc)
            raise
        self._view(name, frame)
        return None

    def insert_cast(self, name: str, columns, values) -> None:
        failed = self.insert_rows(name, columns, [values])
        if failed is not None:
            raise ExecutionError(failed[1])

    def create_table_as(self, name: str, sql: str) -> None:
        self._view(name, self.spark.sql(sql).localCheckpoint())

    def rows_missing(self, columns, left: str, right: str) -> list[tuple[Any, ...]]:
        listed = ", ".join(self.quote(n) for n in columns)
        return [tuple(r) for r in self.spark.sql(
            f"select {listed} from {GLOBAL_TEMP}.{self.quote(left)} except all "
            f"select {listed} from {GLOBAL_TEMP}.{self.quote(right)}").collect()]

    def columns(self, relation: str) -> list[tuple[str, str]]:
        if relation in self._views:  # a bare name: the runner's own tables (__stockx_actual)
            relation = f"{GLOBAL_TEMP}.{self.quote(relation)}"
        return super().columns(relation)


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _as_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)
