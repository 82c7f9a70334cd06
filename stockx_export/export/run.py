"""One export's steps: what to export (:func:`prepare`), then, on an open database,
:func:`preflight`, :func:`pages_of`, and :func:`write_pages` or :func:`send`.

The service functions (:mod:`.service`, and :mod:`stockx_export.sync.service` for a
push with state) compose them; library users can call them one by one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from stockx_export.db import connect, database_error_types, first_line
from stockx_export.errors import ExportError
from stockx_export.export import files
from stockx_export.export.contract import RESOURCES, Resource
from stockx_export.export.deliver import Delivery, DeliverySummary, Listeners, PageResult, deliver
from stockx_export.export.pages import Envelope, Page, pack_pages
from stockx_export.export.preflight import check_build, check_table, find_model
from stockx_export.export.retry import Clock
from stockx_export.export.serialize import iter_row_batches
from stockx_export.export.settings import META_KEY, ExportSettings, resolve_settings
from stockx_export.export.urls import insecure_http_problem
from stockx_export.redact import Redactor

TOKEN_ENV = "PEAK_AUTH_TOKEN"
TENANT_HEADERS = ("x-auth-tenant", "x-auth-tenantId")  # Peak's tenant-scoped calls take these


@dataclass(frozen=True)
class ExportJob:
    """What to export and how: the model's relation, its Peak resource, settings."""

    model: str
    relation: str
    resource: Resource
    settings: ExportSettings
    dry_run: bool = False
    # (header, value) pairs for tenant-scoped calls, read from the environment; not
    # secrets, but not printed either (hence no repr).
    tenant_headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def envelope(self) -> Envelope:
        return Envelope(self.settings.solution_name, self.settings.operation, self.dry_run)


def resource_for(settings: ExportSettings, source: str = f"meta.{META_KEY}") -> Resource:
    """The object's standard columns, then the custom attributes the settings declare
    (errors name ``source``: where the model's meta.peak is written)."""
    try:
        resource = RESOURCES[settings.object]
    except KeyError:
        known = ", ".join(sorted(RESOURCES))
        raise ExportError(f"{source}: no Peak contract for object '{settings.object}' (known: {known})") from None
    clashes = sorted(a.name for a in settings.attributes if a.name.lower() in {n.lower() for n in resource.names})
    if clashes:
        raise ExportError(f"{source}: attribute {', '.join(clashes)} of object {settings.object} is one of Peak's "
                          "standard columns: remove it from meta.peak.attributes")
    return resource.with_attributes(tuple(a.column() for a in settings.attributes))


def tenant_headers(settings: ExportSettings, env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The tenant headers whose environment variable (named by the settings) is set."""
    pairs = []
    for header, variable in zip(TENANT_HEADERS, (settings.tenant_env, settings.tenant_id_env)):
        value = env.get(variable, "").strip()
        if value:
            if not (value.isascii() and value.isprintable()):
                raise ExportError(f"{variable} holds a character an HTTP header cannot carry; set it again")
            pairs.append((header, value))
    return tuple(pairs)


def configure(con: Any, job: ExportJob) -> None:
    """Keep the key order of sorted subqueries, and cap DuckDB's memory so the key-order
    sort spills instead of growing."""
    con.execute("SET preserve_insertion_order = true")
    try:
        con.execute(f"SET memory_limit = '{job.settings.memory_limit}'")
    except Exception as exc:  # DuckDB's error types load lazily; any failure here is a bad setting
        raise ExportError(f"memory_limit '{job.settings.memory_limit}' was refused by DuckDB: {exc}") from None


def preflight_table(database: str, job: ExportJob) -> int:
    """:func:`preflight` on a read-only connection of its own; returns the row count."""
    con = connect_read_only(database)
    try:
        return preflight(con, job)
    finally:
        con.close()


def preflight(con: Any, job: ExportJob) -> int:
    """Table checks (see :mod:`.preflight`) under the job's limits; returns the row count.

    Also configures the connection (:func:`configure`).
    """
    configure(con, job)
    max_row = job.settings.page_bytes - job.envelope.overhead
    try:
        return check_table(con, job.relation, job.resource, job.settings.strftime, max_row)
    except database_error_types() as exc:
        # A view over a table that is gone, say: exit 2 with a message, not a traceback and exit 1.
        raise ExportError(
            f"table {job.relation} cannot be read: {first_line(str(exc))}; run `stockx build --select +{job.model}` again"
        ) from None


def pages_of(con: Any, job: ExportJob) -> Iterator[Page]:
    """The job's pages, streamed in primary-key order."""
    return pack_job_pages(iter_row_batches(con, job.relation, job.resource, job.settings.strftime), job)


def pack_job_pages(batches: Iterable[list[str]], job: ExportJob) -> Iterator[Page]:
    """``batches`` of row JSON packed into the job's pages (its envelope and limits)."""
    return pack_pages(batches, job.envelope, job.settings.page_rows, job.settings.page_bytes, job.relation)


def write_pages(con: Any, job: ExportJob, out_dir: Path) -> dict[str, Any]:
    """Write the job's pages and their manifest into ``out_dir`` (see :mod:`.files`); returns the manifest."""
    return files.write_pages(pages_of(con, job), out_dir, job.resource, job.model, job.settings.as_dict())


def send(con: Any, job: ExportJob, client: Any, token: str, rejected_path: Path, *,
         pages: Iterable[Page] | None = None, listeners: Listeners = Listeners(), clock: Clock = Clock(),
         payload_proven: bool = False) -> DeliverySummary:
    """Deliver the job's pages (see :func:`~.deliver.deliver`); every rejected row is
    appended to ``rejected_path`` (truncated first) as one JSON line with the server's answer.

    ``pages`` replaces the whole table's pages (the sync state sends only the
    rows that changed); they must be packed with ``job.envelope``."""
    check_transport(job.settings)
    redactor = Redactor.of(token)
    rejected_path.parent.mkdir(parents=True, exist_ok=True)
    with rejected_path.open("w", encoding="utf-8") as rejected_file:

        def record(result: PageResult) -> None:
            for rejection in result.rejected:
                # The answer is parsed again here: scrub what the decoding may have revealed.
                entry = redactor.scrub_value(_rejection_record(job.resource, rejection))
                rejected_file.write(redactor.scrub(json.dumps(entry, ensure_ascii=False)) + "\n")
            rejected_file.flush()
            if listeners.on_page is not None:
                listeners.on_page(result)

        source = pages_of(con, job) if pages is None else pages
        delivery = Delivery(job.settings, job.resource, job.envelope, token, payload_proven, job.tenant_headers)
        return deliver(source, client, delivery, replace(listeners, on_page=record), clock)


def _rejection_record(resource: Resource, rejection: Any) -> dict[str, Any]:
    try:
        response: Any = json.loads(rejection.response)
    except ValueError:
        response = rejection.response
    return {
        "page": rejection.page,
        "key": dict(zip(resource.key_names, rejection.key)),
        "status": rejection.status,
        "response": response,
        "row": json.loads(rejection.row),
    }


def prepare(config: Any, model: str, overrides: Mapping[str, Any], env: Mapping[str, str], dry_run: bool = False,
            check_last_build: bool = True) -> ExportJob:
    """Find the model in the last build, check that build, resolve its settings."""
    target_dir = Path(config.target_dir)
    node = find_model(target_dir, model)
    if check_last_build:
        check_build(target_dir, node, config.target.built_in)
    project = config.settings.get("export", {})
    if not isinstance(project, Mapping):
        raise ExportError("[tool.stockx.export] in pyproject.toml must be a table")
    source = f"meta.{META_KEY} of model {model}" + (f" ({node.patch_path})" if node.patch_path else "")
    settings = resolve_settings(project, node.meta, env, overrides, meta_source=source)
    return ExportJob(model, node.relation, resource_for(settings, source), settings, dry_run,
                     tenant_headers(settings, env))


def check_transport(settings: ExportSettings) -> None:
    """Refuse, before anything is sent, to send the token over plain http to another
    machine unless ``allow_insecure_http`` is set."""
    problem = insecure_http_problem(settings.url, settings.allow_insecure_http)
    if problem is not None:
        raise ExportError(problem)


def token_from(env: Mapping[str, str]) -> str:
    token = env.get(TOKEN_ENV, "").strip()
    if not token:
        raise ExportError(f"{TOKEN_ENV} is not set: export your Peak personal access token in it before pushing")
    if not (token.isascii() and token.isprintable()):
        # httpx would fail on it while sending (and retry in vain, or crash with a
        # message quoting part of it): say so before anything starts, without the token.
        raise ExportError(
            f"{TOKEN_ENV} holds a character an HTTP header cannot carry (non-ASCII, or a control character "
            "such as a line break); copy the personal access token again"
        )
    return token


def connect_read_only(database: str):
    """The project database, opened read-only (an in-memory one as it is)."""
    return connect(database, read_only=database != ":memory:")


def export_database(config: Any, job: ExportJob) -> str:
    """The DuckDB file the job's table is read from: the project's database, or, on another target,
    a local copy of the table streamed from it in primary-key order (``target/export/``)."""
    from stockx_export import adapters

    folder = Path(config.target_dir) / "export"
    return adapters.export_database(config.target, job.relation, tuple(job.resource.key_names), folder)
