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
``lookback_days``; it must be a whole number of days from 0 to ``MAX_LOOKBACK``. Each build
records its window (``stockx_incremental_windows`` in the model's schema), so
tests can tell rows kept by design, dated before it, from real inconsistencies:
``{{ window_start('stock_extra') }}``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Callable

from stockx_export.errors import ProjectError

STRATEGY = "replace_window"
LOOKBACK = "lookback_days"
WINDOWS_TABLE = "stockx_incremental_windows"
# The most days a window can reach back: every date a DATE holds (years 1 to 9999); more
# would be the same window, and would not fit the integer the window record keeps.
MAX_LOOKBACK = (datetime.date.max - datetime.date.min).days
# What window_start() renders when every date was rebuilt (a first build, a full refresh) or none is recorded.
EVERY_DATE = "cast('-infinity' as date)"


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
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_LOOKBACK:
        raise ProjectError(
            f"{source} must be a whole number of days from 0 to {MAX_LOOKBACK:,}, got {value!r}: it is how many "
            f"days before the newest built day every build of {name} recomputes (set it in [tool.stockx.vars] or "
            "--vars)"
        )
    return WindowConfig(column.strip(), value)


def plan_window(settings: WindowConfig, today: datetime.date, newest: datetime.date | None) -> Window:
    """The window of one build: every date from ``start`` on (see the module docstring for the rule).

    ``newest`` is the newest ``window_column`` date in the table; None (a first
    build, a full refresh, an empty table) means every date is rebuilt.
    """
    if newest is None:
        return Window(settings.column, None, None, settings.lookback_days)
    anchor = min(newest, today + datetime.timedelta(days=1))
    if settings.lookback_days >= (anchor - datetime.date.min).days:
        return Window(settings.column, None, anchor, settings.lookback_days)
    return Window(settings.column, anchor - datetime.timedelta(days=settings.lookback_days), anchor,
                  settings.lookback_days)
