"""Sync settings: ``[tool.stockx.sync]`` in pyproject.toml, then the command line.

::

    [tool.stockx.sync]
    state = ".stockx/state.duckdb"   # relative to the project; outside target/ on purpose
    guard-pushes = 10                # the volume guard compares a push with this many recent pushes
    guard-tolerance = 3.0            # ... and stops it above this many times a day of the table, or the most any sent
    max-shrink-share = 0.2           # stop when the table lost more than this share since the last sync

    [tool.stockx.sync.gone-keys]     # per Peak object: keep (default) or zero
    STOCK_EXTRA = "zero"

The state lives outside ``target/`` so ``stockx clean`` and full refreshes keep it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from stockx_export.errors import ExportError

DEFAULT_STATE = ".stockx/state.duckdb"
SOURCE = "[tool.stockx.sync] in pyproject.toml"


@dataclass(frozen=True)
class SyncSettings:
    """Where the state database is, when the volume guard stops a push, what happens to gone keys."""

    state: Path
    max_shrink_share: float = 0.2
    guard_pushes: int = 10
    guard_tolerance: float = 3.0
    # (Peak object, policy) pairs; an object not listed keeps its gone keys.
    gone_keys: tuple[tuple[str, str], ...] = ()
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

    def gone_policy(self, object_name: str) -> str:
        """``keep`` or ``zero`` for the keys of ``object_name`` that left the table."""
        return dict(self.gone_keys).get(object_name.upper(), KEEP)


KEEP, ZERO = "keep", "zero"
# Bounds that no working guard needs to pass: beyond them the guard is as good as off.
MAX_GUARD_PUSHES = 1_000
MAX_GUARD_TOLERANCE = 1_000
GONE_POLICIES = (KEEP, ZERO)
_KEYS = ("state", "max_shrink_share", "guard_pushes", "guard_tolerance", "gone_keys")
REPLACED = {
    "max_send_share": "max-send-share was replaced by guard-tolerance: the volume guard now compares a push with "
                      "this destination's recent pushes instead of a share of the table (README, \"The volume "
                      "guard\"); remove it",
}


def resolve_sync_settings(root: Path, project: Mapping[str, Any] | None, state_db: str | None = None) -> SyncSettings:
    """Settings from ``[tool.stockx.sync]`` (``project``) and ``--state-db``; paths relative to ``root``."""
    if project is not None and not isinstance(project, Mapping):
        raise ExportError(f"{SOURCE} must be a table")
    values: dict[str, Any] = {}
    for raw_key in sorted(project or {}):
        key = raw_key.replace("-", "_")
        if key in REPLACED:
            raise ExportError(f"{SOURCE}: {REPLACED[key]}")
        if key not in _KEYS:
            raise ExportError(f"{SOURCE}: unknown sync setting '{raw_key}' (known: {', '.join(k.replace('_', '-') for k in _KEYS)})")
        values[key] = project[raw_key]  # type: ignore[index]
    state = state_db or values.pop("state", DEFAULT_STATE)
    values.pop("state", None)
    if not isinstance(state, str) or not state.strip():
        raise ExportError(f"{SOURCE}: state must be a path to a DuckDB file, got {state!r}")
    if "max_shrink_share" in values:
        values["max_shrink_share"] = _share("max_shrink_share", values["max_shrink_share"])
    if "guard_pushes" in values:
        pushes = values["guard_pushes"]
        if not isinstance(pushes, int) or isinstance(pushes, bool) or not 1 <= pushes <= MAX_GUARD_PUSHES:
            raise ExportError(f"{SOURCE}: guard-pushes must be a whole number of pushes from 1 to "
                              f"{MAX_GUARD_PUSHES:,}, got {pushes!r}")
    if "guard_tolerance" in values:
        tolerance = values["guard_tolerance"]
        # TOML reads nan and inf as numbers: either would switch the guard off.
        if (not isinstance(tolerance, (int, float)) or isinstance(tolerance, bool) or not math.isfinite(tolerance)
                or not 1 <= tolerance <= MAX_GUARD_TOLERANCE):
            raise ExportError(
                f"{SOURCE}: guard-tolerance must be a number from 1 to {MAX_GUARD_TOLERANCE:,} (3 = up to three "
                f"times a normal day), got {tolerance!r}")
        values["guard_tolerance"] = float(tolerance)
    if "gone_keys" in values:
        values["gone_keys"] = _gone_keys(values["gone_keys"])
    path = Path(os.path.expanduser(state))
    return SyncSettings(state=path if path.is_absolute() else root / path, lock_dir=root / ".stockx", **values)


def _share(key: str, value: Any) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 < value <= 1
    if not ok:
        raise ExportError(f"{SOURCE}: {key.replace('_', '-')} must be a share above 0 and at most 1 (0.25 = 25%), got {value!r}")
    return float(value)


def _gone_keys(value: Any) -> tuple[tuple[str, str], ...]:
    """``{OBJECT = policy}`` pairs, objects upper-cased, sorted."""
    if not isinstance(value, Mapping):
        raise ExportError(
            f"{SOURCE}: gone-keys must be a table of Peak objects and policies, e.g. "
            f"[tool.stockx.sync.gone-keys] STOCK_EXTRA = \"zero\"; got {value!r}")
    pairs = []
    for object_name, policy in sorted(value.items()):
        if policy not in GONE_POLICIES:
            raise ExportError(
                f"{SOURCE}: gone-keys for {object_name} must be \"keep\" or \"zero\", got {policy!r}")
        pairs.append((str(object_name).upper(), policy))
    return tuple(pairs)
