"""``stockx export``: the built stock_extra table as Peak payloads, to files or over HTTP."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from stockx_export.cli import handle_errors, project_options


@click.command()
@click.argument("model", default="stock_extra")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the payloads as page-000001.json ... and manifest.json in this directory.")
@click.option("--push", is_flag=True, help="Send the payloads to Peak (token from PEAK_AUTH_TOKEN).")
@click.option("--validate-only", is_flag=True, help='Send the payloads with "dryRun": true; nothing is written.')
@click.option("--object", "object_", default=None, help="Peak object name (default STOCK_EXTRA).")
@click.option("--solution-name", default=None, help="solutionName sent in every payload (default QP_OOTB).")
@click.option("--prefix", default=None, help="Object prefix in the path (default QP_).")
@click.option("--suffix", default=None, help="Object suffix in the path (default _OOTB).")
@click.option("--base-url", default=None, help="Ingestion base URL (default https://ingestion.peak.ai; env PEAK_BASE_URL).")
@click.option("--path", "path_template", default=None, help="Path template with {prefix}, {object}, {suffix}.")
@click.option("--operation", type=click.Choice(["UPSERT", "APPEND"], case_sensitive=False), default=None,
              help="operationType (default UPSERT).")
@click.option("--timestamp-format", type=click.Choice(["iso", "sql"]), default=None,
              help="iso: 2025-01-28T10:00:00Z (default); sql: 2025-01-28 10:00:00.")
@click.option("--page-rows", type=int, default=None, help="Rows per payload at most (default 500).")
@click.option("--page-bytes", type=int, default=None, help="Bytes per payload body at most (default 1000000).")
@click.option("--requests-per-second", type=float, default=None, help="Client-side rate limit (default 50).")
@click.option("--in-flight", type=int, default=None, help="Requests in flight at once (default 4).")
@click.option("--max-attempts", type=int, default=None, help="Attempts per page before giving up (default 8).")
@click.option("--retry-seconds", type=float, default=None, help="Seconds per page before giving up (default 300).")
@click.option("--timeout", type=float, default=None, help="Seconds to wait for one answer (default 30).")
@click.option("--allow-insecure-http", is_flag=True, default=None,
              help="Allow a plain http:// base URL to another machine (the token then crosses the network unencrypted).")
@click.option("--full", is_flag=True, help="With --push: send every row, not only new, changed and rejected ones.")
@click.option("--plan", "plan_only", is_flag=True,
              help="Print what --push would send (new, changed, unchanged, rejected before, gone); send nothing.")
@click.option("--force", is_flag=True, help="With --push: send even when the volume guard would stop.")
@click.option("--state-db", default=None, help="Sync state DuckDB file (default .stockx/state.duckdb).")
@project_options
@handle_errors
def export(model, out_dir, push, validate_only, object_, solution_name, prefix, suffix, base_url, path_template,
           operation, timestamp_format, page_rows, page_bytes, requests_per_second, in_flight, max_attempts,
           retry_seconds, timeout, allow_insecure_http, full, plan_only, force, state_db, project_dir, vars_,
           database, profiles_dir):
    """Export MODEL (default stock_extra) as Peak ingest payloads.

    Checks the last build and the table first; then writes the payloads to
    --out DIR, or sends them with --push (or --validate-only). --push sends
    only the rows that are new, changed or were rejected since the last push
    to the same destination (the sync state, .stockx/state.duckdb); --full
    sends every row, --plan shows what would be sent. Exit code 0 when
    every row was acknowledged, 1 when Peak rejected some rows (listed in
    target/export/rejected.jsonl), 2 when the export was aborted.
    """
    from stockx_export.errors import ExportError
    from stockx_export.run.projects import load_config
    from stockx_export.export import run

    if sum((out_dir is not None, push or plan_only, validate_only)) != 1:
        raise ExportError("choose one of --out DIR, --push or --validate-only")
    if (full or force or state_db) and not (push or plan_only):
        raise ExportError("--full, --force and --state-db go with --push or --plan")
    overrides = {
        "object": object_, "solution_name": solution_name, "prefix": prefix, "suffix": suffix,
        "base_url": base_url, "path": path_template, "operation": operation, "timestamp_format": timestamp_format,
        "page_rows": page_rows, "page_bytes": page_bytes, "requests_per_second": requests_per_second,
        "in_flight": in_flight, "max_attempts": max_attempts, "retry_seconds": retry_seconds, "timeout": timeout,
        "allow_insecure_http": True if allow_insecure_http else None,
    }
    config = load_config(project_dir, vars=vars_, database=database, profiles_dir=profiles_dir)
    job = run.plan(config, model, overrides, os.environ, dry_run=validate_only)
    if push or validate_only:
        run.check_transport(job.settings)  # before the token is read, the state opened or anything sent
    if push or plan_only:
        from stockx_export.commands.sync import push_with_state

        push_with_state(config, job, full=full, plan_only=plan_only, force=force, state_db=state_db)
        return
    token = None if out_dir is not None else run.token_from(os.environ)
    con = run.connect_read_only(config.database)
    try:
        total = run.preflight(con, job)
        if out_dir is not None:
            manifest = run.write_files(con, job, out_dir)
            totals = manifest["totals"]
            click.echo(f"wrote {plural(totals['pages'], 'page')} ({plural(totals['rows'], 'row')}, "
                       f"{totals['bytes']:,} bytes) and manifest.json to {out_dir}")
            return
        _push(config, con, job, token, total)
    finally:
        con.close()


def _push(config, con, job, token, total) -> None:
    from stockx_export.export import run
    from stockx_export.export.deliver import DeliveryAborted
    from stockx_export.export.progress import Progress, summary_text
    from stockx_export.export.redact import Redactor

    rejected_path = Path(config.target_dir) / "export" / "rejected.jsonl"
    shown_path = shown(rejected_path)
    progress = Progress(total, tty=sys.stderr.isatty(), verb="validated" if job.dry_run else "pushed")
    try:
        with run.new_client(job.settings) as client:
            summary = run.push(con, job, client, token, rejected_path, on_page=progress.page, on_retry=progress.retry)
    except DeliveryAborted:
        progress.close()
        click.echo(f"aborted after {plural(progress.pages, 'page')} ({plural(progress.rows, 'row')}) "
                   f"were answered; {plural(progress.rejected, 'row')} rejected so far", err=True)
        raise
    finally:
        progress.close()
    click.echo(Redactor.of(token).scrub(summary_text(summary, job.settings.url, shown_path, job.dry_run)))
    if summary.rejected:
        count = len(summary.rejected)
        raise run.RowsRejected(f"Peak rejected {count:,} row{'s' if count != 1 else ''}; see {shown_path}")


def shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def plural(count: int, noun: str) -> str:
    """``1 page``, ``1,204 pages``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
