"""An export without state, from a loaded project to its result: what ``stockx export
--out`` and ``--validate-only`` do, callable without the command line.

::

    written = write_files(config, "stock_extra", Path("target/export"))   # pages + manifest.json
    checked = validate(config, "stock_extra", env=os.environ)             # sent with "dryRun": true

Each checks the last build and the table first (:mod:`.preflight`). Errors are
:class:`~stockx_export.errors.ExportError` subclasses; rows Peak refused are a
result, not an error (``SendResult.rejected``). A push with state (what
``--push`` does) is :func:`stockx_export.sync.service.push`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from stockx_export.export import run
from stockx_export.export.deliver import DeliverySummary, Listeners
from stockx_export.export.family import read_family
from stockx_export.export.http import new_client
from stockx_export.export.retry import Clock


@dataclass(frozen=True)
class Sending:
    """What a push or a validation is about to send, once its checks passed (handed to
    its ``progress`` callback)."""

    rows: int
    dry_run: bool = False
    state: Path | None = None  # the sync state recording each page, for a push with state


# Called once what is sent is known; returns who hears about each page.
Progress = Callable[[Sending], Listeners]


@dataclass(frozen=True)
class FilesResult:
    """The payload files an export wrote."""

    out_dir: Path
    pages: int
    rows: int
    bytes: int
    manifest: dict[str, Any]


@dataclass(frozen=True)
class SendResult:
    """What a delivery without state did: Peak's answers, and where its refused rows are listed."""

    summary: DeliverySummary
    url: str
    dry_run: bool
    rejected_path: Path

    @property
    def rejected(self) -> int:
        """Rows Peak refused (listed in ``rejected_path``)."""
        return len(self.summary.rejected)

    @property
    def exit_code(self) -> int:
        """The command line's exit code: 0 every row acknowledged, 1 some refused."""
        return 1 if self.summary.rejected else 0


def write_files(config: Any, model: str, out_dir: Path, *, overrides: Mapping[str, Any] | None = None,
                env: Mapping[str, str] | None = None) -> FilesResult:
    """Write the model's payloads as ``page-000001.json`` ... and ``manifest.json`` into
    ``out_dir`` (the pages of an earlier export there are replaced); nothing is sent."""
    job = run.prepare(config, model, dict(overrides or {}), os.environ if env is None else env)
    con = run.connect_read_only(run.export_database(config, job))
    try:
        run.preflight(con, job)
        manifest = run.write_pages(con, job, Path(out_dir))
    finally:
        con.close()
    totals = manifest["totals"]
    return FilesResult(Path(out_dir), totals["pages"], totals["rows"], totals["bytes"], manifest)


def family_models(config: Any, models: tuple[str, ...] = ()) -> tuple[str, ...]:
    """``models`` in family order, or every model of the family (those with ``meta.peak``;
    ``stock_extra`` in a project whose models name no Peak object)."""
    family = read_family(Path(config.target_dir))
    return family.select(tuple(models)) if models else family.order


def write_family(config: Any, models: tuple[str, ...], out_dir: Path, *,
                 overrides: Mapping[str, Any] | None = None,
                 env: Mapping[str, str] | None = None) -> tuple[tuple[str, FilesResult], ...]:
    """:func:`write_files` for each model (default: the family), in family order: into
    ``out_dir`` itself for one model, into ``out_dir/<model>/`` for several."""
    chosen = family_models(config, models)
    for model in chosen:  # every build check first: a failed test writes no model's pages
        run.prepare(config, model, dict(overrides or {}), os.environ if env is None else env)
    if len(chosen) == 1:
        return ((chosen[0], write_files(config, chosen[0], out_dir, overrides=overrides, env=env)),)
    return tuple((model, write_files(config, model, Path(out_dir) / model, overrides=overrides, env=env))
                 for model in chosen)


def validate(config: Any, model: str, *, overrides: Mapping[str, Any] | None = None,
             env: Mapping[str, str] | None = None, client: Any = None, progress: Progress | None = None,
             clock: Clock = Clock()) -> SendResult:
    """Send the model's payloads with ``"dryRun": true``: Peak checks every row and stores
    none. No sync state is read or written.

    The token is ``PEAK_AUTH_TOKEN`` in ``env`` (default ``os.environ``); ``client``
    replaces the httpx client; ``progress`` is called once the rows are counted."""
    env = os.environ if env is None else env
    job = run.prepare(config, model, dict(overrides or {}), env, dry_run=True)
    run.check_transport(job.settings)  # before the token is read or anything sent
    token = run.token_from(env)
    rejected_path = Path(config.target_dir) / "export" / "rejected.jsonl"
    con = run.connect_read_only(run.export_database(config, job))
    try:
        total = run.preflight(con, job)
        listeners = progress(Sending(total, dry_run=True)) if progress is not None else Listeners()
        if client is None:
            with new_client(job.settings) as own:
                summary = run.send(con, job, own, token, rejected_path, listeners=listeners, clock=clock)
        else:
            summary = run.send(con, job, client, token, rejected_path, listeners=listeners, clock=clock)
    finally:
        con.close()
    return SendResult(summary, job.settings.url, True, rejected_path)
