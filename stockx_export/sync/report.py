"""Plans, runs and rejected rows as text for the terminal (and JSON lines for machines)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Sequence

from typing import TYPE_CHECKING

from stockx_export.sync.plan import SyncPlan
from stockx_export.paths import shown
from stockx_export.sync.service import PlanReport
from stockx_export.sync.state import HeldRecord, RejectedRecord, RunRecord
from stockx_export.tables import plural

if TYPE_CHECKING:
    from stockx_export.export.service import FilesResult
    from stockx_export.sync.family import FamilyPlan, FamilyResult, FamilyValidation


def plan_text(report: PlanReport) -> str:
    """What a push would do: the kinds of keys, what is sent, the gone-keys policy and the guard."""
    plan = report.plan
    rows = [
        ("new", plan.new, ""),
        ("changed", plan.changed, ""),
        ("unchanged", plan.unchanged, "(not sent)" if not plan.full else "(sent: --full)"),
        ("rejected before", plan.rejected, "(sent again)"),
        ("gone", plan.gone, f"(acknowledged earlier, no longer in the table; {_gone_effect(plan)})"),
    ]
    if plan.held:
        rows.insert(4, ("held", plan.held, "(not sent: a parent Peak does not hold yet)"))
    width = max(len(f"{count:,}") for _, count, _ in rows + [("", plan.to_send, "")])
    lines = [f"plan for {report.model} -> {report.destination.describe()}:"]
    for label, count, note in rows:
        lines.append(f"  {label:<16}{count:>{width},}  {note}".rstrip())
    table_sent = plan.to_send - plan.zero
    zeros = f" and {plural(plan.zero, 'gone key')} at 0" if plan.zero else ""
    lines.append(f"  {'to send':<16}{plan.to_send:>{width},}  {'' if not zeros else f'{table_sent:,} '}"
                 f"of {plan.table_rows:,} rows ({plan.mode}){zeros}")
    if report.gone:
        lines.append(f"gone keys (first {len(report.gone):,} of {plan.gone:,}):")
        lines.extend(f"  {key}" for key in report.gone)
    if report.guard is not None:
        lines.append(f"volume guard: a push would stop: {report.guard}; --force sends anyway")
    else:
        lines.append(f"volume guard: {report.guard_basis}")
    return "\n".join(lines)


def family_plan_text(family: "FamilyPlan") -> str:
    """Each model's plan in push order (headed by its object when there are several),
    then the schema check's notes."""
    parts = []
    for report in family.reports:
        parts.append(plan_text(report))
    lines = "\n".join(parts).splitlines()
    if family.assumes_parents:
        lines.append("note: held counts assume the parents' rows are accepted: a parent key in a parent's table, pushed "
                     "before its children in this run, counts as on Peak")
    lines.extend(family.schema.lines)
    return "\n".join(lines)


def files_text(written: Sequence[tuple[str, "FilesResult"]]) -> str:
    """What ``--out`` wrote, a line per model."""
    return "\n".join(f"wrote {plural(files.pages, 'page')} ({plural(files.rows, 'row')}, {files.bytes:,} bytes) "
                     f"and manifest.json to {files.out_dir}" for _, files in written)


def validations_text(checked: "FamilyValidation") -> str:
    """What ``--validate-only`` did: the schema check's notes, then each model's dry run
    (headed by the model when there are several)."""
    from stockx_export.export.report import summary_text

    results = checked.results
    lines = list(checked.schema.lines)
    for model, result in results:
        text = summary_text(result.summary, result.url, shown(result.rejected_path), True)
        lines.append(f"{model}: {text}" if len(results) > 1 else text)
    return "\n".join(lines)


def family_push_text(pushed: "FamilyResult") -> str:
    """What a push did: the schema check's notes, then a block per model (headed by its
    object when there are several): the delivery, the run, gone and held rows; an
    aborted model's error, a skipped model's reason."""
    from stockx_export.export.report import summary_text
    from stockx_export.sync.family import describe_skip

    several = len(pushed.outcomes) > 1
    lines = list(pushed.schema.lines)
    for outcome in pushed.outcomes:
        if several:
            lines.append(f"{outcome.object} ({outcome.model}):")
        if outcome.error is not None:
            block = [f"aborted: {outcome.error}"]
        elif outcome.result is None:
            block = [describe_skip(outcome)]
        else:
            result = outcome.result
            block = [summary_text(result.summary, result.url, shown(result.rejected_path), result.dry_run),
                     run_line(result.run_id, result.plan, shown(result.state))]
            block += [line for line in (gone_line(result.plan), held_line(result.plan)) if line]
        text = "\n".join(block)
        lines.extend("  " + line for line in text.splitlines()) if several else lines.append(text)
    return "\n".join(lines)


def held_line(plan: SyncPlan) -> str | None:
    """The line after a push about rows held back, or None when there are none."""
    if not plan.held:
        return None
    return (f"{plural(plan.held, 'row')} held back: their parent is not on Peak yet (`stockx rejected --held` "
            "lists them; the next push sends them once the parent is acknowledged)")


def _gone_effect(plan: SyncPlan) -> str:
    """What the gone-keys policy does with the gone keys, for the plan's gone line."""
    if plan.policy == "zero":
        return (f"gone-keys zero: {plan.zero:,} sent now with 0 units, {plan.zeroed:,} sent so before, "
                "then never again")
    return "gone-keys keep: Peak has no delete and keeps their last rows"


def gone_line(plan: SyncPlan) -> str | None:
    """The line after a push about keys that left the table, or None when there are none."""
    if not plan.gone:
        return None
    if plan.policy == "zero":
        return (f"{plan.gone:,} acknowledged keys are no longer in the table: {plan.zero:,} sent with 0 units now, "
                f"{plan.zeroed:,} before (gone-keys zero); `stockx export --plan` lists them")
    return (f"{plan.gone:,} acknowledged keys are no longer in the table (Peak has no delete; gone-keys keep); "
            "`stockx export --plan` lists them")


def run_line(run_id: int, plan: SyncPlan, state: str) -> str:
    """One line after a push: which run, what the plan held, where the state is."""
    zeros = f", {plan.zero:,} gone at 0" if plan.zero else ""
    held = f", {plan.held:,} held" if plan.held else ""
    return (
        f"sync run {run_id} ({plan.mode}): {plan.to_send:,} of {plan.table_rows:,} rows sent "
        f"({plan.new:,} new, {plan.changed:,} changed, {plan.rejected:,} rejected before{zeros}); "
        f"{plan.unchanged:,} unchanged{held}, {plan.gone:,} gone; state {state}"
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
              "rejected", "held", "pages", "retries", "destination")
    table = [header] + [
        (str(r.run_id), _time(r.started_at), _seconds(r), r.mode, r.status, f"{r.table_rows:,}", f"{r.planned:,}",
         f"{r.sent:,}", f"{r.acknowledged:,}", f"{r.rejected:,}", f"{r.held:,}", f"{r.pages:,}", f"{r.retries:,}",
         r.url)
        for r in runs
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    left = {1, 3, 4, 13}  # text columns; numbers align right
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


def held_text(records: Sequence[HeldRecord]) -> str:
    """Held rows grouped by destination: key and why it is held, then the row."""
    if not records:
        return "no held rows"
    lines = []
    current = None
    for record in records:
        if record.url != current:
            current = record.url
            lines.append(f"held by run {record.run_id} -> {record.url}:")
        lines.append(f"  {record.key}  {record.reason}")
        lines.append(f"    row {record.row}")
    return "\n".join(lines)


def held_jsonl(records: Sequence[HeldRecord]) -> str:
    """One JSON object per held row: destination, key, reason, the row."""
    return "\n".join(json.dumps({"run_id": r.run_id, "destination": r.url, "held_at": _time(r.held_at),
                                 "key": json.loads(r.key), "reason": r.reason, "row": json.loads(r.row)},
                                ensure_ascii=False) for r in records)


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
