"""A sync state read without writing to it: what the docs site shows of the sync.

The runs and refused rows as ``stockx runs`` and ``stockx rejected`` read them
(:func:`~stockx_export.sync.state.recent_runs`, :func:`~stockx_export.sync.state.current_rejections`),
through a read-only connection, so a reader never changes the state. Nothing here
sends anything: the export's delivery code is not loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from stockx_export.db import connect
from stockx_export.redact import SECRET_ENV, Redactor
from stockx_export.sync.state import (RejectedRecord, RunRecord, attach_state_read_only, current_rejections,
                                      recent_runs)


@dataclass(frozen=True)
class History:
    """Runs newest first, then the rows refused and not delivered since (by run then key);
    ``found`` is False when there is no state yet."""

    state: Path
    found: bool
    runs: tuple[RunRecord, ...] = ()
    rejected: tuple[RejectedRecord, ...] = ()


def read_history(state: Path, runs_limit: int, rejected_limit: int,
                 env: Mapping[str, str] | None = None) -> History:
    """The last ``runs_limit`` runs and at most ``rejected_limit`` refused rows of the state
    at ``state``, every destination. A run a killed push left open shows as running until
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
    finally:
        con.close()
    redactor = Redactor.from_env(env or {}, SECRET_ENV)
    scrub = lambda text: redactor.scrub(text) if text else text  # noqa: E731
    return History(state, True, tuple(replace(r, message=scrub(r.message)) for r in runs),
                   tuple(replace(r, response=scrub(r.response)) for r in refused))
