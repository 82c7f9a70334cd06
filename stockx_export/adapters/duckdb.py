"""Materializations: how a compiled model or a seed becomes a relation in DuckDB.

Every build happens inside one transaction. A table is built under a temporary
name, checked, and swapped in; a failure (or a failed check, such as a model
contract) rolls back and leaves the previous relation exactly as it was.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockx_export.core.csv_files import Dialect
from stockx_export.db import Relation, literal, quote
from stockx_export.errors import ExecutionError, ProjectError
from stockx_export.core.window import STRATEGY as WINDOW_STRATEGY
from stockx_export.core.window import Window, check_column, record

# Called with the connection and the relation to inspect before it replaces the old one.
Check = Callable[[Any, str], None]
TMP_SUFFIX = "__stockx_tmp"


@dataclass(frozen=True)
class Outcome:
    """What a build did, for the log line."""

    verb: str  # "created table", "created view", "merged incremental", "loaded seed"
    rows: int | None = None
    detail: str = ""


def _transaction(con, steps: Callable[[], Outcome]) -> Outcome:
    con.execute("begin transaction")
    try:
        outcome = steps()
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
    return outcome


def _ensure_schema(con, schema: str) -> None:
    con.execute(f"create schema if not exists {quote(schema)}")


def _drop(con, relation: Relation, kind: str | None) -> None:
    if kind == "table":
        con.execute(f"drop table if exists {relation}")
    elif kind == "view":
        con.execute(f"drop view if exists {relation}")


def build_view(con, relation: Relation, sql: str, existing: str | None, check: Check | None = None) -> Outcome:
    def steps() -> Outcome:
        _ensure_schema(con, relation.schema)
        if existing == "table":
            _drop(con, relation, existing)
        con.execute(f"create or replace view {relation} as ({sql}\n)")
        if check:
            check(con, str(relation))
        return Outcome("created view")

    return _transaction(con, steps)


def build_table(con, relation: Relation, sql: str, existing: str | None, check: Check | None = None) -> Outcome:
    return _transaction(con, lambda: _build_table_steps(con, relation, sql, existing, check))


def _build_table_steps(con, relation: Relation, sql: str, existing: str | None, check: Check | None) -> Outcome:
    """Build under a temporary name, check, swap in; the caller holds the transaction."""
    tmp = Relation(relation.schema, relation.identifier + TMP_SUFFIX)
    _ensure_schema(con, relation.schema)
    con.execute(f"drop table if exists {tmp}")
    rows = con.execute(f"create table {tmp} as ({sql}\n)").fetchone()[0]
    if check:
        check(con, str(tmp))
    _drop(con, relation, existing)
    con.execute(f"alter table {tmp} rename to {quote(relation.identifier)}")
    return Outcome("created table", rows)


def _utc_now() -> datetime.datetime:
    """Now as a naive UTC timestamp (when a window was built)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def should_full_refresh(config: dict[str, Any], flag: bool) -> bool:
    """Whether a model is rebuilt from scratch: its ``full_refresh`` config, when set, wins over ``--full-refresh``.

    As in dbt: ``full_refresh: false`` protects a table that cannot be rebuilt
    (its history is gone upstream) from a project-wide ``--full-refresh``.
    """
    configured = config.get("full_refresh")
    return configured if isinstance(configured, bool) else flag


def build_incremental(
    con,
    relation: Relation,
    sql: str,
    existing: str | None,
    unique_key: Any,
    *,
    full_refresh: bool,
    check: Check | None = None,
    on_schema_change: str | None = None,
    strategy: str | None = None,
    window: Window | None = None,
    clock: Callable[[], datetime.datetime] | None = None,
) -> Outcome:
    """Build an incremental model: the whole table on a first build or a full refresh, else merge
    the model's rows by ``unique_key``, append them, or (``replace_window``) replace ``window``."""
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
        return _build_window(con, relation, sql, existing, full_refresh, window, check, on_schema_change,
                             clock or _utc_now)
    if existing != "table" or full_refresh:
        outcome = build_table(con, relation, sql, existing, check)
        return Outcome("created incremental", outcome.rows, "full refresh" if existing else "first build")
    mode = on_schema_change or "ignore"
    if mode not in SCHEMA_CHANGE_MODES:
        raise ProjectError(f"on_schema_change='{mode}' is not one of {', '.join(SCHEMA_CHANGE_MODES)}")
    keys = [unique_key] if isinstance(unique_key, str) else list(unique_key or [])
    if strategy == "append":  # dbt's append ignores unique_key
        keys = []
    new = f"temp.main.{quote(relation.identifier + '__stockx_new')}"

    def steps() -> Outcome:
        con.execute(f"drop table if exists {new}")
        con.execute(f"create temp table {quote(relation.identifier + '__stockx_new')} as ({sql}\n)")
        if check:
            check(con, new)
        inserted_columns = _align_columns(con, relation, new, mode)
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
            replaced = con.execute(f"delete from {relation} using {new} as new where {match}").fetchone()[0]
        inserted = con.execute(f"insert into {relation} ({columns}) select {columns} from {new}").fetchone()[0]
        con.execute(f"drop table {new}")
        return Outcome("merged incremental", inserted, f"{replaced} replaced" if keys else "appended")

    return _transaction(con, steps)


# dbt-duckdb's strategies whose result stockx gives (None: delete+insert with a unique_key, else append),
# and stockx's own replace_window (see stockx_export.core.window).
INCREMENTAL_STRATEGIES = (None, "append", "delete+insert", "merge", WINDOW_STRATEGY)
SCHEMA_CHANGE_MODES = ("ignore", "fail", "append_new_columns", "sync_all_columns")


def _build_window(con, relation: Relation, sql: str, existing: str | None, full_refresh: bool, window: Window,
                  check: Check | None, on_schema_change: str | None, clock) -> Outcome:
    """``replace_window``: delete the table's rows in the window, insert the model's rows in the window.

    One transaction with the record of the window (for ``window_start()``):
    a failure leaves the table and the record as they were.
    """
    shown = str(relation)

    def with_column(con, built: str) -> None:
        if check:
            check(con, built)
        check_column(con, built, window.column, "the model's output")

    if existing != "table" or full_refresh or window.start is None:
        every = Window(window.column, None, window.anchor, window.lookback_days)

        def rebuild() -> Outcome:
            outcome = _build_table_steps(con, relation, sql, existing, with_column)
            record(con, relation, every, clock)
            return outcome

        outcome = _transaction(con, rebuild)
        if existing != "table":
            detail = "first build"
        else:  # a full refresh, an empty table, or a lookback reaching back past every date
            detail = "full refresh" if full_refresh else every.describe()
        return Outcome("created incremental", outcome.rows, detail)
    mode = on_schema_change or "ignore"
    if mode not in SCHEMA_CHANGE_MODES:
        raise ProjectError(f"on_schema_change='{mode}' is not one of {', '.join(SCHEMA_CHANGE_MODES)}")
    temp_name = relation.identifier + "__stockx_new"
    new = f"temp.main.{quote(temp_name)}"

    def steps() -> Outcome:
        con.execute(f"drop table if exists {new}")
        con.execute(f"create temp table {quote(temp_name)} as ({sql}\n)")
        with_column(con, new)
        inserted_columns = _align_columns(con, relation, new, mode)
        check_column(con, shown, window.column, shown)
        columns = ", ".join(quote(c) for c in inserted_columns)
        inside = window.predicate(quote(window.column))
        removed = con.execute(f"delete from {relation} where {inside}").fetchone()[0]
        inserted = con.execute(
            f"insert into {relation} ({columns}) select {columns} from {new} where {inside}").fetchone()[0]
        con.execute(f"drop table {new}")
        record(con, relation, window, clock)
        return Outcome("replaced window", inserted, f"{window.describe()}: {removed} rows removed, {inserted} inserted")

    return _transaction(con, steps)

def _align_columns(con, relation: Relation, new: str, mode: str) -> list[str]:
    """Apply dbt's ``on_schema_change`` to ``relation``; the columns to insert from ``new``.

    ``ignore`` leaves the table as it is and drops the model's new columns, as
    dbt does; a column the model no longer returns is an error under ``ignore``
    and ``fail`` (dbt's insert fails too), never a silent column of nulls.
    """
    from stockx_export.db import columns_of

    target = {name.lower(): (name, kind) for name, kind in columns_of(con, str(relation))}
    source = {name.lower(): (name, kind) for name, kind in columns_of(con, new)}
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
            con.execute(f"alter table {relation} add column {quote(name)} {kind}")
    if mode == "sync_all_columns":
        for name, _ in removed:
            con.execute(f"alter table {relation} drop column {quote(name)}")
        for name, _, kind in retyped:
            con.execute(f"alter table {relation} alter column {quote(name)} type {kind}")
        return [name for name, _ in source.values()]
    present = {k for k in target} | ({k for k in source} if mode == "append_new_columns" else set())
    return [name for key, (name, _) in source.items() if key in present]


def seed_select(csv_path: Path, config: dict[str, Any]) -> str:
    """The ``read_csv`` call that loads a seed with its configured options.

    The dialect is dbt's (``,`` and ``"`` unless configured) and no line is
    skipped: left to sniff, DuckDB reads a file with one over-long row as that
    row's columns and no data, or takes ``'`` for the quote, and the load "succeeds".
    """
    options = [literal(str(csv_path)), "sample_size = -1", "skip = 0"]
    header = config.get("header", True)
    options.append(f"header = {'true' if header else 'false'}")
    options.append(f"delim = {literal(seed_delimiter(config))}")
    options.append(f"quote = {literal(seed_quote(config))}")
    if config.get("escape"):
        options.append(f"escape = {literal(config['escape'])}")
    types = config.get("column_types") or {}
    if types:
        pairs = ", ".join(f"{literal(k)}: {literal(v)}" for k, v in types.items())
        options.append(f"types = {{{pairs}}}")
    return f"select * from read_csv({', '.join(options)})"


def seed_delimiter(config: dict[str, Any]) -> str:
    return str(config.get("delimiter", config.get("delim")) or ",")


def seed_quote(config: dict[str, Any]) -> str:
    return str(config.get("quote") or '"')


def seed_dialect(config: dict[str, Any]) -> Dialect:
    """The CSV dialect ``seed_select`` reads a seed in, for stockx_export.core.csv_files to read it the same way."""
    quote = seed_quote(config)
    escape = config.get("escape") or None
    return Dialect(delimiter=seed_delimiter(config), quote=quote, escape=None if escape == quote else escape)


def load_seed(
    con, relation: Relation, csv_path: Path, config: dict[str, Any], existing: str | None, select=None
) -> Outcome:
    """Load a seed; ``select`` builds its reading query (default: stockx's ``seed_select``)."""
    outcome = build_table(con, relation, (select or seed_select)(csv_path, config), existing)
    return Outcome("loaded seed", outcome.rows)
