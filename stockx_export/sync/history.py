"""A sync state read without writing to it: what the docs site shows of the sync.

The runs, refused rows and held rows as ``stockx runs``, ``stockx rejected`` and
``stockx rejected --held`` read them (:func:`~stockx_export.sync.state.recent_runs`,
:func:`~stockx_export.sync.state.current_rejections`, :func:`~stockx_export.sync.state.current_held`),
through a read-only connection, so a reader never changes the state. Nothing here
sends anything: the export's delivery code is not loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from stockx_export.db import connect
from stockx_export.redact import SECRET_ENV, Redactor
from stockx_export.sync.state import (HeldRecord, RejectedRecord, RunRecord, attach_state_read_only, current_held,
                                      current_rejections, has_held, recent_runs)


@dataclass(frozen=True)
class History:
    """Runs newest first, then the rows refused and not delivered since (by run then key), then
    the rows the last run to each destination held back (by destination then key); ``found`` is
    False when there is no state yet. ``held_recorded`` is False for a state of the layout before
    held rows existed: its runs' ``held`` (0) says nothing."""

    state: Path
    found: bool
    runs: tuple[RunRecord, ...] = ()
    rejected: tuple[RejectedRecord, ...] = ()
    held_recorded: bool = False
    held: tuple[HeldRecord, ...] = ()


def read_history(state: Path, runs_limit: int, rejected_limit: int,
                 env: Mapping[str, str] | None = None, held_limit: int | None = None) -> History:
    """The last ``runs_limit`` runs, at most ``rejected_limit`` refused rows and ``held_limit``
    held rows (default: as many as refused rows) of the state at ``state``, every destination. A run a killed push left open shows as running until
    the next push (or ``stockx runs``) closes it. Messages and Peak's answers are scrubbed
    of the token in ``env`` (default: none), in any encoding, as the commands print them.
    A state a push holds right now raises :class:`~stockx_export.errors.SyncStateError`."""
    if not state.is_file():
        return History(state, False)
    con = connect(":memory:")
    try:
        if not attach_state_read_only(con, state):
            return History(state, False)
        runs = recent_runs(con, runs_limit)
        refused = current_rejections(con, None, rejected_limit)
        held_recorded = has_held(con)
        held = current_held(con, rejected_limit if held_limit is None else held_limit)
    finally:
        con.close()
    redactor = Redactor.from_env(env or {}, SECRET_ENV)
    scrub = lambda text: redactor.scrub(text) if text else text  # noqa: E731
    return History(state, True, tuple(replace(r, message=scrub(r.message)) for r in runs),
                   tuple(replace(r, response=scrub(r.response)) for r in refused), held_recorded,
                   tuple(replace(r, reason=scrub(r.reason), row=scrub(r.row)) for r in held))
