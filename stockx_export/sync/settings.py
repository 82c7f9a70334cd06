"""Sync settings: ``[tool.stockx.sync]`` in pyproject.toml, then the command line.

::

    [tool.stockx.sync]
    state = ".stockx/state.duckdb"   # relative to the project; outside target/ on purpose
    max-send-share = 0.5             # stop when new + changed rows exceed this share of the table
    max-shrink-share = 0.2           # stop when the table lost more than this share since the last sync

The state lives outside ``target/`` so ``stockx clean`` and full refreshes keep it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from stockx_export.errors import ExportError

DEFAULT_STATE = ".stockx/state.duckdb"
SOURCE = "[tool.stockx.sync] in pyproject.toml"


@dataclass(frozen=True)
class SyncSettings:
    """Where the state database is and when the volume guard stops a push."""

    state: Path
    max_send_share: float = 0.5
    max_shrink_share: float = 0.2
    # Push locks live in the project's .stockx/ whatever --state-db says, so two
    # pushes from one project to one destination exclude each other even with
    # two state files.
    lock_dir: Path | None = None

    @property
    def work_dir(self) -> Path:
        """The folder of the state database: DuckDB spills there."""
        return self.state.parent

    @property
    def locks(self) -> Path:
        return self.lock_dir or self.work_dir


_KEYS = ("state", "max_send_share", "max_shrink_share")


def resolve_sync_settings(root: Path, project: Mapping[str, Any] | None, state_db: str | None = None) -> SyncSettings:
    """Settings from ``[tool.stockx.sync]`` (``project``) and ``--state-db``; paths relative to ``root``."""
    if project is not None and not isinstance(project, Mapping):
        raise ExportError(f"{SOURCE} must be a table")
    values: dict[str, Any] = {}
    for raw_key in sorted(project or {}):
        key = raw_key.replace("-", "_")
        if key not in _KEYS:
            raise ExportError(f"{SOURCE}: unknown sync setting '{raw_key}' (known: {', '.join(k.replace('_', '-') for k in _KEYS)})")
        values[key] = project[raw_key]  # type: ignore[index]
    state = state_db or values.pop("state", DEFAULT_STATE)
    values.pop("state", None)
    if not isinstance(state, str) or not state.strip():
        raise ExportError(f"{SOURCE}: state must be a path to a DuckDB file, got {state!r}")
    for key in ("max_send_share", "max_shrink_share"):
        if key in values:
            values[key] = _share(key, values[key])
    path = Path(os.path.expanduser(state))
    return SyncSettings(state=path if path.is_absolute() else root / path, lock_dir=root / ".stockx", **values)


def _share(key: str, value: Any) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 1
    if not ok:
        raise ExportError(f"{SOURCE}: {key.replace('_', '-')} must be a share above 0 and at most 1 (0.25 = 25%), got {value!r}")
    return float(value)
