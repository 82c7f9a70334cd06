"""Plans, runs and rejected rows as text for the terminal (and JSON lines for machines)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Sequence

from stockx_export.sync.plan import SyncPlan
from stockx_export.sync.state import Destination, RejectedRecord, RunRecord


def plan_text(plan: SyncPlan, model: str, destination: Destination, gone: Sequence[str],
              guard: str | None) -> str:
    """What a push would do: the five kinds of keys, what is sent, the guard's verdict."""
    rows = [
        ("new", plan.new, ""),
        ("changed", plan.changed, ""),
        ("unchanged", plan.unchanged, "(not sent)" if not plan.full else "(sent: --full)"),
        ("rejected before", plan.rejected, "(sent again)"),
        ("gone", plan.gone, "(acknowledged earlier, no longer in the table; Peak has no delete)"),
    ]
    width = max(len(f"{count:,}") for _, count, _ in rows + [("", plan.to_send, "")])
    lines = [f"plan for {model} -> {destination.describe()}:"]
    for label, count, note in rows:
        lines.append(f"  {label:<16}{count:>{width},}  {note}".rstrip())
    lines.append(f"  {'to send':<16}{plan.to_send:>{width},}  of {plan.table_rows:,} rows ({plan.mode})")
    if gone:
        lines.append(f"gone keys (first {len(gone):,} of {plan.gone:,}):")
        lines.extend(f"  {key}" for key in gone)
    if guard is not None:
        lines.append(f"volume guard: a push would stop: {guard}; --force sends anyway")
    return "\n".join(lines)


def run_line(run_id: int, plan: SyncPlan, state: str) -> str:
    """One line after a push: which run, what the plan held, where the state is."""
    return (
        f"sync run {run_id} ({plan.mode}): {plan.to_send:,} of {plan.table_rows:,} rows sent "
        f"({plan.new:,} new, {plan.changed:,} changed, {plan.rejected:,} rejected before); "
        f"{plan.unchanged:,} unchanged, {plan.gone:,} gone; state {state}"
    )


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def _seconds(run: RunRecord) -> str:
    if run.ended_at is None:
        return "-"
    return f"{(run.ended_at - run.started_at).total_seconds():.1f}"


def runs_text(runs: Sequence[RunRecord]) -> str:
    """Runs as an aligned table, newest first, each run's message below it."""
    if not runs:
        return "no runs recorded yet"
    header = ("run", "started (UTC)", "seconds", "mode", "status", "table", "planned", "sent", "acknowledged",
              "rejected", "pages", "retries", "destination")
    table = [header] + [
        (str(r.run_id), _time(r.started_at), _seconds(r), r.mode, r.status, f"{r.table_rows:,}", f"{r.planned:,}",
         f"{r.sent:,}", f"{r.acknowledged:,}", f"{r.rejected:,}", f"{r.pages:,}", f"{r.retries:,}", r.url)
        for r in runs
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    left = {1, 3, 4, 12}  # text columns; numbers align right
    lines = []
    for index, row in enumerate(table):
        cells = [cell.ljust(w) if i in left else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        message = runs[index - 1].message if index else None
        if message:
            lines.append(f"    {message}")
    return "\n".join(lines)


def rejected_text(records: Sequence[RejectedRecord]) -> str:
    """Refused rows grouped by run: key, HTTP status and Peak's answer, then the row."""
    if not records:
        return "no rejected rows"
    lines = []
    current = None
    for record in records:
        if (record.run_id, record.url) != current:
            current = (record.run_id, record.url)
            lines.append(f"run {record.run_id} -> {record.url}:")
        lines.append(f"  {record.key}  HTTP {record.status}  {record.response}")
        lines.append(f"    row {record.row}")
    return "\n".join(lines)


def rejected_jsonl(records: Sequence[RejectedRecord]) -> str:
    """One JSON object per refused row (the row and Peak's answer parsed when they are JSON)."""
    out = []
    for r in records:
        out.append(json.dumps({
            "run_id": r.run_id, "destination": r.url, "rejected_at": _time(r.rejected_at),
            "key": json.loads(r.key), "status": r.status, "response": _maybe_json(r.response),
            "row": json.loads(r.row),
        }, ensure_ascii=False))
    return "\n".join(out)


def _maybe_json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text
