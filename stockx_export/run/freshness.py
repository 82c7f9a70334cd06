"""``stockx source freshness``: how long ago each source was last loaded, against its thresholds (dbt's).

A source table is checked when it has a ``freshness`` with ``warn_after`` or
``error_after`` ({count, period: minute | hour | day}) and a ``loaded_at_field``
(each from the table, else its source; ``freshness: null`` on a table turns it
off). The query is dbt-duckdb's: ``max(<loaded_at_field>)`` and the database's
``current_timestamp``, over the source (``where <filter>`` when given). A
timestamp without a time zone is read as UTC, as dbt reads it; an empty table
was loaded at 0001-01-01, so it is past any threshold.

The age is over ``error_after``: error; else over ``warn_after``: warn; else
pass. A query that fails is a ``runtime error``. The results go to
``target/sources.json`` (dbt's sources v3 schema); the command exits 1 when a
source is in error or runtime error, as dbt's does (a warning exits 0).
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stockx_export import adapters
from stockx_export.core.selector import select_sources
from stockx_export.db import first_line
from stockx_export.errors import ProjectError
from stockx_export.run import artifacts
from stockx_export.run.engine import ensure_target_dir
from stockx_export.run.options import RunOptions
from stockx_export.run.projects import open_project

PERIODS = {"minute": 60, "hour": 3600, "day": 86400}
EARLIEST = -62135596800.0  # 0001-01-01T00:00:00Z: dbt's max_loaded_at of an empty table


@dataclass(frozen=True)
class Freshness:
    """One source table's check."""

    unique_id: str
    name: str  # source.table
    status: str  # pass | warn | error | runtime error
    criteria: dict[str, Any] = field(default_factory=dict)
    max_loaded_at: float | None = None  # epoch seconds
    snapshotted_at: float | None = None
    error: str | None = None
    started_at: float = 0.0
    completed_at: float = 0.0

    @property
    def age(self) -> float | None:
        if self.max_loaded_at is None or self.snapshotted_at is None:
            return None
        return self.snapshotted_at - self.max_loaded_at


@dataclass(frozen=True)
class FreshnessRun:
    results: tuple[Freshness, ...]
    elapsed: float
    path: Path  # where sources.json was written

    @property
    def failed(self) -> bool:
        return any(r.status in ("error", "runtime error") for r in self.results)


def threshold_seconds(threshold: Any, where: str) -> float | None:
    """A ``warn_after`` / ``error_after`` in seconds; None when it is not set."""
    if not threshold:
        return None
    count, period = threshold.get("count"), threshold.get("period")
    if count is None or period is None:
        return None
    if period not in PERIODS or not isinstance(count, int) or isinstance(count, bool):
        raise ProjectError(f"{where}: freshness thresholds are {{count: <whole number>, period: minute | hour | day}}, "
                           f"got {threshold!r}")
    return count * PERIODS[period]


def status_of(age: float, criteria: dict[str, Any], where: str) -> str:
    """dbt's verdict: over error_after is an error, else over warn_after a warning, else a pass."""
    error = threshold_seconds(criteria.get("error_after"), where)
    warn = threshold_seconds(criteria.get("warn_after"), where)
    if error is not None and age > error:
        return "error"
    if warn is not None and age > warn:
        return "warn"
    return "pass"


def checked_sources(project, uids: list[str], warn) -> list[Any]:
    """The sources of ``uids`` that have thresholds; one with thresholds and no loaded_at_field is warned about."""
    found = []
    for source in (s for s in project.sources.values() if s.unique_id in uids):
        criteria = source.config.get("freshness") or {}
        if not (criteria.get("warn_after") or criteria.get("error_after")):
            continue
        if not source.config.get("loaded_at_field"):
            warn(f"{source.path}: source {source.source_name}.{source.name} has a freshness but no loaded_at_field, "
                 "so it is not checked")
            continue
        found.append(source)
    return sorted(found, key=lambda s: s.unique_id)


def source_freshness(options: RunOptions, reporter, on_result=None, output: str | None = None) -> FreshnessRun:
    """Check the selected sources (every one without ``--select``), write target/sources.json (or ``output``);
    ``on_result`` is called with each Freshness as it is known."""
    project = open_project(options, reporter)
    sources = checked_sources(project, select_sources(project, options.select, options.exclude), reporter.warn)
    ensure_target_dir(project)
    started = time.time()
    results = []
    adapter = adapters.connect(project.config.target)
    try:
        adapter.apply_target_settings()
        project.resolver.attach(adapter)
        for source in sources:
            result = _check(project, adapter, source)
            results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        adapter.close()
    elapsed = time.time() - started
    path = artifacts.write_sources(project, [_entry(r) for r in results], elapsed, Path(output) if output else None)
    return FreshnessRun(tuple(results), elapsed, path)


def _check(project, adapter, source) -> Freshness:
    criteria = dict(source.config.get("freshness") or {})
    name = f"{source.source_name}.{source.name}"
    where = f"{source.path}: source {name}"
    relation = project.resolver.resolve_source(source.source_name, source.name, None)
    filter_ = criteria.get("filter")
    sql = (f"select epoch(max({source.config['loaded_at_field']})), epoch(current_timestamp) from {relation}"
           + (f" where {filter_}" if filter_ else ""))
    started = time.time()
    try:
        [(loaded, now)] = adapter.query(sql).rows
    except adapter.error_types as exc:
        return Freshness(source.unique_id, name, "runtime error", criteria, error=first_line(str(exc)),
                         started_at=started, completed_at=time.time())
    loaded = EARLIEST if loaded is None else float(loaded)
    return Freshness(source.unique_id, name, status_of(float(now) - loaded, criteria, where), criteria, loaded,
                     float(now), started_at=started, completed_at=time.time())


def iso(epoch: float) -> str:
    """An epoch as dbt writes times in sources.json (ISO 8601, UTC)."""
    moment = datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=epoch - EARLIEST)
    return moment.isoformat()


def _entry(result: Freshness) -> dict[str, Any]:
    """``result`` as a sources v3 result."""
    if result.status == "runtime error":
        return {"unique_id": result.unique_id, "error": result.error, "status": "runtime error"}
    criteria = {key: result.criteria.get(key) for key in ("warn_after", "error_after", "filter")}
    return {
        "unique_id": result.unique_id,
        "max_loaded_at": iso(result.max_loaded_at),
        "snapshotted_at": iso(result.snapshotted_at),
        "max_loaded_at_time_ago_in_s": round(result.age, 6),
        "status": result.status,
        "criteria": {k: v for k, v in criteria.items() if v is not None},
        "adapter_response": {},
        "timing": [{"name": "execute", "started_at": iso(result.started_at), "completed_at": iso(result.completed_at)}],
        "thread_id": "Thread-1",
        "execution_time": round(result.completed_at - result.started_at, 6),
    }
