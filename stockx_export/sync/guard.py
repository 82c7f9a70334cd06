"""The volume guard: a push far larger than this destination's normal pushes, or after a table shrank, stops.

A broken build (a join that multiplied rows, a filter that dropped a country),
a wiped state or a format change that rewrites every row sends far more than a
normal day; Peak has no delete, so a wrong sync is expensive to undo. A normal
daily job sends about the same every day (a new day, corrections inside the
lookback) however large its table has grown, so the guard judges a push by the
destination's own history, never by a share of the table. ``--force`` sends
anyway.

- Sending: the rows a push would send (new, changed, and gone keys sent with 0
  units; not the rows refused last time, which were planned before) above
  ``guard_tolerance`` times the most any of the last ``guard_pushes`` daily
  pushes sent. A *daily* push is a successful (or completed with errors) push
  of changes that sent rows, after the destination's first successful push
  (that one loads the whole table). Judged once ``MIN_HISTORY`` daily pushes
  are on record: the first push, its resumption after a crash and the first
  days of a new job are never stopped. ``--full`` is not judged (sending
  everything is what was asked).
- Shrinking: the table lost more than ``max_shrink_share`` of the rows it had
  at the last successful push.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stockx_export.sync.plan import SyncPlan
from stockx_export.sync.state import SUCCESS, WITH_ERRORS, T

MIN_HISTORY = 2  # daily pushes on record before sends are judged


@dataclass(frozen=True)
class History:
    """What the guard knows of a destination's past pushes."""

    last_sync: tuple[int, int] | None  # (run id, table rows) of the last successful push
    sends: tuple[tuple[int, int], ...] = ()  # (run id, rows sent) of the recent daily pushes, newest first

    @property
    def largest(self) -> tuple[int, int] | None:
        """(run id, rows sent) of the largest recent daily push; the newest among equals."""
        return max(self.sends, key=lambda item: (item[1], item[0])) if self.sends else None


def read_history(con: Any, destination: str, pushes: int, last_sync: tuple[int, int] | None) -> History:
    """The last ``pushes`` daily pushes to ``destination`` (see the module docstring) from the state."""
    rows = con.execute(
        f"""SELECT run_id, rows_planned - rows_retried FROM {T}.runs
            WHERE destination = $d AND status IN ($ok, $partly) AND mode = 'changes'
              AND rows_planned - rows_retried > 0
              AND run_id > (SELECT min(run_id) FROM {T}.runs WHERE destination = $d AND status IN ($ok, $partly))
            ORDER BY run_id DESC LIMIT $n""",
        {"d": destination, "ok": SUCCESS, "partly": WITH_ERRORS, "n": pushes},
    ).fetchall()
    return History(last_sync, tuple((int(run), int(sent)) for run, sent in rows))


def rows_judged(plan: SyncPlan) -> int:
    """The rows of a plan the guard weighs: everything it sends but rows refused last time."""
    return plan.new + plan.changed + plan.zero


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
    largest = history.largest
    if plan.full or largest is None or len(history.sends) < MIN_HISTORY:
        return None
    sending, limit = rows_judged(plan), tolerance * largest[1]
    if sending > limit:
        return (
            f"{sending:,} rows would be sent (new, changed or zeroed), above guard-tolerance {tolerance:g} x "
            f"{largest[1]:,}, the most any of the last {len(history.sends)} pushes sent (run {largest[0]})"
        )
    return None


def guard_basis(plan: SyncPlan, history: History, tolerance: float) -> str:
    """What the guard judges this push against, for ``--plan``."""
    largest = history.largest
    if plan.full:
        return "--full is not judged by size"
    if largest is None or len(history.sends) < MIN_HISTORY:
        return (f"sizes are judged once {MIN_HISTORY} daily pushes are on record "
                f"({len(history.sends)} so far); the first push and the first days are not stopped")
    return (f"sends up to {int(tolerance * largest[1]):,} rows ({tolerance:g} x {largest[1]:,}, the most any of "
            f"the last {len(history.sends)} pushes sent)")


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"
