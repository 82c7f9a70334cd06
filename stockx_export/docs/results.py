"""What the last runs said: ``target/run_results.json`` (the last command) and
``target/last_results.json`` (every node's newest verdict over all runs).

Both are read by stockx_export.core.artifacts (run_results.json in dbt's schema,
whoever wrote it); a missing or unreadable file is no results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockx_export.core.artifacts import (
    LAST_RESULTS, RUN_RESULTS, ResultEntry, database_key, read_last_results, read_run_results,
)
from stockx_export.errors import ArtifactError


@dataclass(frozen=True)
class Verdict:
    """One node's outcome in a run."""

    unique_id: str
    status: str  # success | error | skipped | pass | fail | warn
    seconds: float
    message: str
    failures: int | None
    started_at: str | None  # ISO 8601, None when the node did not execute

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "seconds": self.seconds, "message": self.message,
                "failures": self.failures, "started_at": self.started_at}


@dataclass(frozen=True)
class LastRun:
    """The last command's results, in run order; ``database`` is the one it ran on when the
    file says (stockx's do; dbt's do not)."""

    command: str | None
    generated_at: str | None
    elapsed: float | None
    results: tuple[Verdict, ...]
    database: str | None = None


def read_last_run(target_dir: Path) -> LastRun | None:
    """``run_results.json``, or None when there is none (nothing was run yet)."""
    try:
        run = read_run_results(target_dir / RUN_RESULTS)
    except ArtifactError:
        return None
    return LastRun(run.command, run.generated_at, run.elapsed_time, tuple(_from_entry(r) for r in run.results),
                   run.database)


def _from_entry(entry: ResultEntry) -> Verdict:
    return Verdict(entry.unique_id, entry.status, entry.execution_time, entry.message, entry.failures,
                   entry.started_at)


def ran_elsewhere(run: LastRun, database: str) -> bool:
    """True when ``run`` names the database it ran on and that is not ``database``."""
    return run.database is not None and run.database != database_key(database)


def read_verdicts(target_dir: Path, database: str) -> dict[str, Verdict]:
    """The newest verdict of every node over every run that built or tested ``database``
    (a test run alone after a build counts; a build of another database does not)."""
    found = {}
    for uid, entry in (read_last_results(target_dir / LAST_RESULTS, database) or {}).items():
        verdict = _verdict(entry)
        if verdict is not None:
            found[uid] = verdict
    return found


def _verdict(entry: Any) -> Verdict | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("unique_id"), str):
        return None
    seconds = entry.get("execution_time")
    failures = entry.get("failures")
    return Verdict(entry["unique_id"], str(entry.get("status") or "unknown"),
                   float(seconds) if isinstance(seconds, (int, float)) else 0.0,
                   str(entry.get("message") or ""), failures if isinstance(failures, int) else None,
                   _started(entry.get("timing")))


def _started(timing: Any) -> str | None:
    """stockx writes ``{started_at, ...}``; dbt a list of steps, ``execute`` the one that ran the node."""
    if isinstance(timing, dict):
        return timing.get("started_at")
    if isinstance(timing, list):
        steps = [t for t in timing if isinstance(t, dict)]
        chosen = next((t for t in steps if t.get("name") == "execute"), steps[0] if steps else {})
        return chosen.get("started_at")
    return None
