"""The volume guard: a push far larger than this destination's normal pushes, or after a table shrank, stops.

A broken build (a join that multiplied rows, a filter that dropped a country),
a wiped state or a format change that rewrites every row sends far more than a
normal day; Peak has no delete, so a wrong sync is expensive to undo. A normal
daily job sends about a day of its table (a new day, corrections and remaps
inside the lookback window) however large its table has grown, so the guard
judges a push by the table's own day and the destination's own history, never
by a share of the table. ``--force`` sends anyway.

- Sending: the rows a push would send, *judged* as new + changed + the gone
  keys sent at 0 units beyond the new keys (a key that moved, a SKU to another
  product or a warehouse to another location, is one new key and one gone key:
  it counts once), not the rows refused last time (planned before), above
  ``guard_tolerance`` times the *base*. The base is the larger of one day of
  the table (the rows of it that Peak holds already, per date: a normal day,
  whatever the last days were like, a quiet weekend included; new rows do not
  count, so a broken build cannot raise it) and the most any of the last ``guard_pushes``
  daily pushes sent (so a job whose days legitimately send more keeps doing
  so). A *daily* push is a successful (or completed with errors) push of
  changes that sent rows, after the destination's first successful push (that
  one loads the whole table). Judged once ``MIN_HISTORY`` daily pushes are on
  record: the first push, its resumption after a crash and the first days of a
  new job are never stopped. ``--full`` is not judged (sending everything is
  what was asked).
- Shrinking: the table lost more than ``max_shrink_share`` of the rows it had
  at the last successful push.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stockx_export.sync.plan import SyncPlan
from stockx_export.sync.state import SUCCESS, WITH_ERRORS, T
from stockx_export.tables import plural

MIN_HISTORY = 2  # daily pushes on record before sends are judged


@dataclass(frozen=True)
class History:
    """What the guard knows of a destination's past pushes."""

    last_sync: tuple[int, int] | None  # (run id, table rows) of the last successful push
    sends: tuple[tuple[int, int], ...] = ()  # (run id, rows judged) of the recent daily pushes, newest first

    @property
    def largest(self) -> tuple[int, int] | None:
        """(run id, rows judged) of the largest recent daily push; the newest among equals."""
        return max(self.sends, key=lambda item: (item[1], item[0])) if self.sends else None


# A run's rows judged, from the counts it recorded: the zero rows are what it planned
# beyond its new, changed and retried rows.
_JUDGED_SQL = ("rows_new + rows_changed "
               "+ greatest(0, (rows_planned - rows_retried - rows_new - rows_changed) - rows_new)")


def read_history(con: Any, destination: str, pushes: int, last_sync: tuple[int, int] | None) -> History:
    """The last ``pushes`` daily pushes to ``destination`` (see the module docstring) from the state."""
    rows = con.execute(
        f"""SELECT run_id, {_JUDGED_SQL} FROM {T}.runs
            WHERE destination = $d AND status IN ($ok, $partly) AND mode = 'changes'
              AND rows_planned - rows_retried > 0
              AND run_id > (SELECT min(run_id) FROM {T}.runs WHERE destination = $d AND status IN ($ok, $partly))
            ORDER BY run_id DESC LIMIT $n""",
        {"d": destination, "ok": SUCCESS, "partly": WITH_ERRORS, "n": pushes},
    ).fetchall()
    return History(last_sync, tuple((int(run), int(sent)) for run, sent in rows))


def rows_judged(plan: SyncPlan) -> int:
    """The rows of a plan the guard weighs: new and changed rows, and the gone keys sent
    at 0 units beyond the new keys (a key that moved counts once); not rows refused last time."""
    return plan.new + plan.changed + max(0, plan.zero - plan.new)


@dataclass(frozen=True)
class Base:
    """What a push is judged against: ``rows`` and what they are."""

    rows: int
    what: str


def guard_base(plan: SyncPlan, history: History) -> Base | None:
    """The larger of one day of the table and the largest recent daily push; None before
    ``MIN_HISTORY`` daily pushes are on record (or when neither is known)."""
    largest = history.largest
    if len(history.sends) < MIN_HISTORY or largest is None:
        return None
    day = plan.day
    if day is not None and day >= largest[1]:
        return Base(day, f"one day of the table: {plural(plan.on_peak, 'row')} Peak holds over {plural(plan.dates, 'date')}")
    return Base(largest[1], f"the most any of the last {len(history.sends)} pushes sent (run {largest[0]})")


def volume_problem(plan: SyncPlan, history: History, tolerance: float, max_shrink_share: float) -> str | None:
    """Why the guard stops this push, or None."""
    if history.last_sync is not None:
        run_id, before = history.last_sync
        if before and plan.table_rows < before and (before - plan.table_rows) / before > max_shrink_share:
            lost = before - plan.table_rows
            return (
                f"the table shrank from {before:,} to {plan.table_rows:,} rows ({_pct(lost / before)} fewer) "
                f"since the last sync (run {run_id}), above max-shrink-share {_pct(max_shrink_share)}"
            )
    base = None if plan.full else guard_base(plan, history)
    if base is None:
        return None
    sending = rows_judged(plan)
    if sending > tolerance * base.rows:
        return (
            f"{sending:,} rows would be sent (new, changed or zeroed; a key that moved counts once), above "
            f"guard-tolerance {tolerance:g} x {base.rows:,}, {base.what}"
        )
    return None


def guard_basis(plan: SyncPlan, history: History, tolerance: float) -> str:
    """What the guard judges this push against, for ``--plan``."""
    if plan.full:
        return "--full is not judged by size"
    base = guard_base(plan, history)
    if base is None:
        return (f"sizes are judged once {MIN_HISTORY} daily pushes are on record "
                f"({len(history.sends)} so far); the first push and the first days are not stopped")
    return f"sends up to {int(tolerance * base.rows):,} rows ({tolerance:g} x {base.rows:,}, {base.what})"


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"
