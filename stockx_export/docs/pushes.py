"""The sync as the page shows it: for each Peak destination, its pushes over time, the
last one's summary, and the rows Peak refused with its answers.

The sync state is read through a read-only connection with the read functions
``stockx runs`` and ``stockx rejected`` use (:func:`stockx_export.sync.history.read_history`),
so generating the site never changes it; the token in the environment is scrubbed
from every message and answer, in any encoding, as those commands do. Rows held back
for a parent (a family export's ``held``) are shown when the state records them.
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


@dataclass(frozen=True)
class SyncView:
    """What the sync page shows; ``problem`` says why the state could not be read."""

    state: str
    found: bool
    destinations: tuple[dict[str, Any], ...] = ()
    problem: str | None = None
    rejected_cut: bool = False  # more refused rows than REJECTED_SHOWN

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "found": self.found, "destinations": list(self.destinations),
                "problem": self.problem, "rejected_cut": self.rejected_cut,
                "rejected_shown": REJECTED_SHOWN}


def read_sync(config: Any, *, state_db: str | None = None, env: Mapping[str, str] | None = None) -> SyncView:
    """The sync state of the project (``--state-db`` or ``[tool.stockx.sync] state``), or why it
    cannot be read (a push holds it, it is damaged); the token in ``env`` scrubbed from it."""
    state = resolve_sync_settings(config.root, config.settings.get("sync"), state_db).state
    try:
        found = read_history(state, RUNS_SHOWN, REJECTED_SHOWN + 1, env)
    except SyncStateError as exc:
        return SyncView(_shown(state, config.root), True, problem=str(exc))
    if not found.found:
        return SyncView(_shown(found.state, config.root), False)
    refused = found.rejected[:REJECTED_SHOWN]
    return SyncView(_shown(found.state, config.root), True, destinations(found.runs, refused),
                    rejected_cut=len(found.rejected) > REJECTED_SHOWN)


def destinations(runs: Sequence[Any], refused: Sequence[Any]) -> tuple[dict[str, Any], ...]:
    """One entry per destination URL (sorted; a family export has one per Peak object): the models
    pushed there, runs oldest first, refused rows by run and key."""
    urls = sorted({r.url for r in runs} | {r.url for r in refused})
    return tuple({
        "url": url,
        "models": sorted({r.model for r in runs if r.url == url}),
        "runs": [run_entry(r) for r in sorted((r for r in runs if r.url == url), key=lambda r: r.run_id)],
        "rejected": [rejected_entry(r) for r in refused if r.url == url],
    } for url in urls)


def run_entry(run: Any) -> dict[str, Any]:
    """A run as the chart and the summary read it; ``held`` only when the state records it."""
    entry = {
        "run": run.run_id, "model": run.model, "mode": run.mode, "status": run.status, "message": run.message,
        "started_at": _time(run.started_at), "ended_at": _time(run.ended_at),
        "seconds": (run.ended_at - run.started_at).total_seconds() if run.ended_at and run.started_at else None,
        "table_rows": run.table_rows, "planned": run.planned, "sent": run.sent, "acknowledged": run.acknowledged,
        "rejected": run.rejected, "pages": run.pages, "retries": run.retries,
    }
    held = getattr(run, "held", None)
    if held is not None:
        entry["held"] = held
    return entry


def rejected_entry(record: Any) -> dict[str, Any]:
    return {"run": record.run_id, "rejected_at": _time(record.rejected_at), "key": _parsed(record.key),
            "status": record.status, "response": record.response, "row": _parsed(record.row)}


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
