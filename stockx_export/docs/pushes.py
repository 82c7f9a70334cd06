"""The sync as the page shows it: for each Peak destination (a family export has one per
object), its pushes over time, the last one's summary, the rows Peak refused with its
answers, and the rows the last push held back for a parent Peak lacks.

The sync state is read through a read-only connection with the read functions
``stockx runs`` and ``stockx rejected`` use (:func:`stockx_export.sync.history.read_history`),
so generating the site never changes it; the token in the environment is scrubbed
from every message and answer, in any encoding, as those commands do. Held rows (a
run's ``held`` count and the ``held`` table) are shown when the state records them: a
state of the layout before them has neither, and its runs carry no ``held``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping, Sequence

from stockx_export.errors import SyncStateError
from stockx_export.sync.history import read_history
from stockx_export.sync.settings import resolve_sync_settings

RUNS_SHOWN = 1000  # pushes per state, newest first: years of a daily job
REJECTED_SHOWN = 2000  # refused rows listed; `stockx rejected` lists them all
HELD_SHOWN = 2000  # held rows listed; `stockx rejected --held` lists them all


@dataclass(frozen=True)
class SyncView:
    """What the sync page shows; ``problem`` says why the state could not be read."""

    state: str
    found: bool
    destinations: tuple[dict[str, Any], ...] = ()
    problem: str | None = None
    rejected_cut: bool = False  # more refused rows than REJECTED_SHOWN
    held_cut: bool = False  # more held rows than HELD_SHOWN

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "found": self.found, "destinations": list(self.destinations),
                "problem": self.problem, "rejected_cut": self.rejected_cut,
                "rejected_shown": REJECTED_SHOWN, "held_cut": self.held_cut, "held_shown": HELD_SHOWN}


def read_sync(config: Any, *, state_db: str | None = None, env: Mapping[str, str] | None = None) -> SyncView:
    """The sync state of the project (``--state-db`` or ``[tool.stockx.sync] state``), or why it
    cannot be read (a push holds it, it is damaged); the token in ``env`` scrubbed from it."""
    state = resolve_sync_settings(config.root, config.settings.get("sync"), state_db).state
    try:
        found = read_history(state, RUNS_SHOWN, REJECTED_SHOWN + 1, env, HELD_SHOWN + 1)
    except SyncStateError as exc:
        return SyncView(_shown(state, config.root), True, problem=str(exc))
    if not found.found:
        return SyncView(_shown(found.state, config.root), False)
    refused = found.rejected[:REJECTED_SHOWN]
    held = found.held[:HELD_SHOWN] if found.held_recorded else None
    return SyncView(_shown(found.state, config.root), True, destinations(found.runs, refused, held),
                    rejected_cut=len(found.rejected) > REJECTED_SHOWN, held_cut=len(found.held) > HELD_SHOWN)


def destinations(runs: Sequence[Any], refused: Sequence[Any],
                 held: Sequence[Any] | None = None) -> tuple[dict[str, Any], ...]:
    """One entry per destination URL (sorted; a family export has one per Peak object): the models
    pushed there, runs oldest first, refused rows by run and key, and, when the state records
    held rows (``held`` is not None), each run's count and the rows held back by key."""
    urls = sorted({r.url for r in runs} | {r.url for r in refused} | {r.url for r in held or ()})
    entries = []
    for url in urls:
        entry = {
            "url": url,
            "models": sorted({r.model for r in runs if r.url == url}),
            "runs": [run_entry(r, held is not None)
                     for r in sorted((r for r in runs if r.url == url), key=lambda r: r.run_id)],
            "rejected": [rejected_entry(r) for r in refused if r.url == url],
        }
        if held is not None:
            entry["held"] = [held_entry(r) for r in held if r.url == url]
        entries.append(entry)
    return tuple(entries)


def run_entry(run: Any, held_recorded: bool) -> dict[str, Any]:
    """A run as the chart and the summary read it; ``held`` only when the state records it
    (``held_recorded``: a state of the earlier layout reads 0 for every run)."""
    entry = {
        "run": run.run_id, "model": run.model, "mode": run.mode, "status": run.status, "message": run.message,
        "started_at": _time(run.started_at), "ended_at": _time(run.ended_at),
        "seconds": (run.ended_at - run.started_at).total_seconds() if run.ended_at and run.started_at else None,
        "table_rows": run.table_rows, "planned": run.planned, "sent": run.sent, "acknowledged": run.acknowledged,
        "rejected": run.rejected, "pages": run.pages, "retries": run.retries,
    }
    if held_recorded:
        entry["held"] = run.held
    return entry


def rejected_entry(record: Any) -> dict[str, Any]:
    return {"run": record.run_id, "rejected_at": _time(record.rejected_at), "key": _parsed(record.key),
            "status": record.status, "response": record.response, "row": _parsed(record.row)}


def held_entry(record: Any) -> dict[str, Any]:
    return {"run": record.run_id, "held_at": _time(record.held_at), "key": _parsed(record.key),
            "reason": record.reason, "row": _parsed(record.row)}


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to the project folder when it lies inside it (the site is the same wherever it is made)."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(path)


def _time(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def _parsed(text: str | None) -> Any:
    """The JSON Peak received, parsed (the key array, the row object); the text when it is not JSON."""
    try:
        return json.loads(text) if text is not None else None
    except ValueError:
        return text
