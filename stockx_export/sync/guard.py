"""The volume guard: a push that would send too much, or follows a table that shrank, stops.

Both are the usual signs of a broken build (a join that multiplied rows, a
filter that dropped a country) rather than of a real day's change, and a
wrong sync is expensive to undo on Peak, which has no delete. ``--force``
sends anyway.

- Sending: new + changed rows above ``max_send_share`` of the table. Rows
  refused last time are not counted: they were planned before, and a
  destination that refuses many rows would otherwise stop every push. Not
  checked before a push to the destination has completed (everything is new,
  and an interrupted first push must be able to resume) nor with ``--full``
  (sending everything is what was asked).
- Shrinking: the table lost more than ``max_shrink_share`` of the rows it had
  at the last sync that completed.
"""

from __future__ import annotations

from stockx_export.errors import ExportError
from stockx_export.sync.plan import SyncPlan


class VolumeGuardStop(ExportError):
    """The volume guard stopped a push before anything was sent."""


def volume_problem(plan: SyncPlan, first_sync: bool, last_sync: tuple[int, int] | None,
                   max_send_share: float, max_shrink_share: float) -> str | None:
    """Why the guard stops this push, or None. ``last_sync`` is (run id, table rows)."""
    if last_sync is not None:
        run_id, before = last_sync
        if before and plan.table_rows < before and (before - plan.table_rows) / before > max_shrink_share:
            lost = before - plan.table_rows
            return (
                f"the table shrank from {before:,} to {plan.table_rows:,} rows ({_pct(lost / before)} fewer) "
                f"since the last sync (run {run_id}), above max-shrink-share {_pct(max_shrink_share)}"
            )
    if not first_sync and not plan.full and plan.table_rows:
        changing = plan.new + plan.changed
        share = changing / plan.table_rows
        if share > max_send_share:
            return (
                f"{changing:,} of {plan.table_rows:,} rows are new or changed ({_pct(share)}), "
                f"above max-send-share {_pct(max_send_share)}"
            )
    return None


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"
