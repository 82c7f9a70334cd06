"""The ``replace_window`` incremental strategy: every build replaces a window of dates, exactly.

::

    {{ config(materialized='incremental', incremental_strategy='replace_window',
              window_column='stock_date_at') }}
    select ... from {{ ref('lines') }} where {{ in_window('stock_date_at') }}

One value defines the window of a build: its first day, ``start``. It is
computed once, before the model is compiled, and both the model's filter
(``in_window()``) and the strategy's delete and insert are written from it::

    anchor = the newest window_column in the table, but at most tomorrow (by the build's clock)
    start  = anchor - lookback_days

The window holds every date from ``start`` on, however far in the future. An
incremental build deletes the table's rows in the window and inserts the
model's rows in the window: inside it, the table equals a full refresh over the
same inputs (keys no longer produced disappear); before it, rows stay as they
were. The cap on the anchor keeps a future-dated row (a WMS clock error) from
moving the window past every real day; being in the window, that row is
replaced, and removed once its line is gone.

``lookback_days`` comes from the model's config, else the project var
``lookback_days``; it must be a whole number of days, 0 or more. Each build
records its window (``stockx_incremental_windows`` in the model's schema), so
tests can tell rows kept by design, dated before it, from real inconsistencies:
``{{ window_start('stock_extra') }}``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Callable

from stockx_export.db import Relation, columns_of, quote
from stockx_export.errors import ExecutionError, ProjectError

STRATEGY = "replace_window"
LOOKBACK = "lookback_days"
WINDOWS_TABLE = "stockx_incremental_windows"
# What window_start() renders when every date was rebuilt (a first build, a full refresh) or none is recorded.
EVERY_DATE = "cast('-infinity' as date)"
DATE_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP WITH TIME ZONE")


@dataclass(frozen=True)
class WindowConfig:
    """A replace_window model's validated settings."""

    column: str
    lookback_days: int


@dataclass(frozen=True)
class Window:
    """The dates one build replaces: every date from ``start`` on; ``start`` None means every date."""

    column: str
    start: datetime.date | None
    anchor: datetime.date | None = None
    lookback_days: int = 0

    def predicate(self, expression: str) -> str:
        """SQL true for a value of ``expression`` (a date or timestamp) inside the window."""
        if self.start is None:
            return "true"
        return f"{expression} >= {date_literal(self.start)}"

    def describe(self) -> str:
        if self.start is None:
            return "every date"
        return f"dates from {self.start.isoformat()} on"


def date_literal(day: datetime.date) -> str:
    return f"date '{day.isoformat()}'"


def window_config(path: str, name: str, config: dict[str, Any], var: Callable[..., Any]) -> WindowConfig:
    """The settings of a replace_window model, or a ProjectError naming the model and what to set.

    ``var`` is the template's ``var()``: the lookback defaults to ``var('lookback_days')``.
    """
    column = config.get("window_column")
    if not isinstance(column, str) or not column.strip():
        got = "" if column is None else f" (got {column!r})"
        raise ProjectError(
            f"{path}: model '{name}' uses incremental_strategy='{STRATEGY}' but its window_column is not set{got}; "
            "add window_column='<the DATE or TIMESTAMP column whose days each build replaces>' to its config"
        )
    if LOOKBACK in config:
        value, source = config[LOOKBACK], f"{path}: config {LOOKBACK}"
    else:
        value = var(LOOKBACK, None)
        if value is None:
            raise ProjectError(
                f"{path}: model '{name}' uses incremental_strategy='{STRATEGY}' and needs {LOOKBACK}: set the var "
                f"{LOOKBACK} in [tool.stockx.vars] (or --vars), or config({LOOKBACK}=N) in the model"
            )
        source = f"var('{LOOKBACK}')"
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProjectError(
            f"{source} must be a whole number of days, 0 or more, got {value!r}: it is how many days before the "
            f"newest built day every build of {name} recomputes (set it in [tool.stockx.vars] or --vars)"
        )
    return WindowConfig(column.strip(), value)


def plan_window(con: Any, relation: Relation, settings: WindowConfig, today: datetime.date,
                rebuild: bool) -> Window:
    """The window of one build of ``relation``; ``rebuild`` (first build, full refresh) means every date.

    See the module docstring for the rule. Raises ExecutionError when the
    table has no such column, or one that holds no dates.
    """
    if rebuild:
        return Window(settings.column, None, None, settings.lookback_days)
    check_column(con, str(relation), settings.column, str(relation))
    newest = con.execute(f"select cast(max({quote(settings.column)}) as date) from {relation}").fetchone()[0]
    if newest is None:  # an empty table: nothing to keep, so everything is rebuilt
        return Window(settings.column, None, None, settings.lookback_days)
    anchor = min(newest, today + datetime.timedelta(days=1))
    if settings.lookback_days >= (anchor - datetime.date.min).days:
        return Window(settings.column, None, anchor, settings.lookback_days)
    return Window(settings.column, anchor - datetime.timedelta(days=settings.lookback_days), anchor,
                  settings.lookback_days)


def check_column(con: Any, relation: str, column: str, shown: str) -> None:
    """ExecutionError unless ``relation`` has ``column`` holding dates or timestamps."""
    found = {name.lower(): (name, kind) for name, kind in columns_of(con, relation)}
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


def record(con: Any, relation: Relation, window: Window, clock: Callable[[], datetime.datetime]) -> None:
    """Remember the window this build replaced (inside the build's transaction)."""
    table = Relation(relation.schema, WINDOWS_TABLE)
    con.execute(
        f"create table if not exists {table} (relation_name varchar primary key, window_column varchar, "
        "window_start date, anchor date, lookback_days integer, built_at timestamp)"
    )
    con.execute(f"delete from {table} where relation_name = ?", [relation.identifier])
    con.execute(
        f"insert into {table} values (?, ?, ?, ?, ?, ?)",
        [relation.identifier, window.column, window.start, window.anchor, window.lookback_days, clock()],
    )


def recorded_start(con: Any, relation: Relation) -> datetime.date | None:
    """The first day the last build of ``relation`` replaced; None when it rebuilt every date or none is recorded."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? and not temporary",
        [relation.schema, WINDOWS_TABLE],
    ).fetchone()[0]
    if not exists:
        return None
    found = con.execute(
        f"select window_start from {Relation(relation.schema, WINDOWS_TABLE)} where relation_name = ?",
        [relation.identifier],
    ).fetchone()
    return found[0] if found else None
