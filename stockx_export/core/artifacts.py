"""Reading ``target/manifest.json``, ``run_results.json``, ``sources.json`` and ``last_results.json``: the one place
that knows their shape.

stockx writes them in dbt's published schemas (manifest v12, run-results v6,
sources v3; stockx_export.run.artifacts), so the tools that read dbt artifacts
read stockx's, and a manifest written by dbt reads here too (``--state``).
Every reader in the package (the export's build check, ``state:modified``,
``retry``, ``--defer``) goes through this module and gets frozen records, never
the raw JSON. What stockx adds to dbt's fields lives where the schemas leave
room: ``metadata.env`` (``stockx_version``, ``stockx_database``) and each
node's ``meta.stockx`` (``fingerprint``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stockx_export.errors import ArtifactError

MANIFEST = "manifest.json"
RUN_RESULTS = "run_results.json"
SOURCES = "sources.json"
LAST_RESULTS = "last_results.json"  # stockx's own: the newest result of every node, by database
LAST_RESULTS_VERSION = 2
SCHEMAS = "https://schemas.getdbt.com/dbt"
MANIFEST_SCHEMA = f"{SCHEMAS}/manifest/v12.json"
RUN_RESULTS_SCHEMA = f"{SCHEMAS}/run-results/v6.json"
SOURCES_SCHEMA = f"{SCHEMAS}/sources/v3.json"
DBT_VERSION = "1.10.0"  # the dbt whose artifacts stockx's match (dbt-duckdb 1.10 recorded the goldens)
STOCKX_META = "stockx"  # the key of each node's meta that holds stockx's own fields
ENV_VERSION = "stockx_version"
ENV_DATABASE = "stockx_database"


@dataclass(frozen=True)
class ManifestNode:
    """A node (or a source, or a unit test) of a manifest, as stockx uses it."""

    unique_id: str
    name: str
    resource_type: str
    relation: str | None = None  # relation_name
    database: str | None = None
    schema: str | None = None
    alias: str | None = None
    original_file_path: str = ""
    depends_on: tuple[str, ...] = ()
    attached_node: str | None = None
    checksum: str = ""  # dbt's checksum of the node's file ("" where dbt writes none)
    fingerprint: str | None = None  # stockx's (None in a manifest dbt wrote)
    meta: dict[str, Any] = field(default_factory=dict)  # the user's meta, without stockx's key
    config: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)
    compiled_path: str | None = None
    test_metadata: dict[str, Any] | None = None
    patch_path: str | None = None  # the property file declaring it, without dbt's "<package>://"
    column_name: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # the entry as written


@dataclass(frozen=True)
class Manifest:
    path: Path
    project_name: str
    written_by_stockx: bool
    nodes: dict[str, ManifestNode]  # models, seeds, snapshots, tests, unit tests
    sources: dict[str, ManifestNode]
    metadata: dict[str, Any] = field(default_factory=dict)

    def model(self, name: str) -> ManifestNode | None:
        """The model named ``name`` (the first by unique id when packages share it)."""
        return next((n for uid, n in sorted(self.nodes.items()) if n.resource_type == "model" and n.name == name), None)


@dataclass(frozen=True)
class ResultEntry:
    """One node's result in run_results.json; ``name`` and the fields after it come from the
    manifest when one is given to :func:`read_run_results`."""

    unique_id: str
    status: str
    message: str = ""  # dbt writes null for none
    failures: int | None = None
    execution_time: float = 0.0
    rows: int | None = None  # adapter_response.rows_affected
    relation: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    resource_type: str = ""
    name: str = ""
    attached_node: str | None = None
    compiled_path: str | None = None
    severity: str | None = None  # error | warn for a data test


@dataclass(frozen=True)
class RunResultsFile:
    path: Path
    invocation_id: str | None
    generated_at: str | None
    database: str | None  # the database the run built in (stockx's; None in dbt's)
    args: dict[str, Any]
    elapsed_time: float
    results: tuple[ResultEntry, ...]

    @property
    def command(self) -> str | None:
        return self.args.get("which")

    @property
    def success(self) -> bool:
        return not any(r.status in ("error", "fail", "runtime error") for r in self.results)

    def by_id(self) -> dict[str, ResultEntry]:
        return {r.unique_id: r for r in self.results}


@dataclass(frozen=True)
class FreshnessEntry:
    """One source's result in sources.json."""

    unique_id: str
    status: str  # pass | warn | error | runtime error
    max_loaded_at: str | None = None
    snapshotted_at: str | None = None
    age: float | None = None
    error: str | None = None


MAXIMUM_SEED_SIZE = 1024 * 1024  # dbt checksums a larger seed by its path, not its contents


def file_checksum(root: Path, node) -> dict[str, str]:
    """dbt's checksum of the file that defines ``node``: sha256 of its text, stripped (a seed over 1 MiB:
    its path); none for a node declared in a property file. A manifest dbt wrote compares by these."""
    if node.path.endswith((".yml", ".yaml")):
        return {"name": "none", "checksum": ""}
    path = Path(root) / node.path
    try:
        if node.resource_type == "seed" and path.stat().st_size > MAXIMUM_SEED_SIZE:
            return {"name": "path", "checksum": node.path}
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        text = node.raw_code
    return {"name": "sha256", "checksum": hashlib.sha256(text.strip().encode("utf-8")).hexdigest()}


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; :class:`ArtifactError` (``missing`` when absent) otherwise."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{path} does not exist", path=path, missing=True) from None
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"cannot read {path}: {exc}", path=path) from None
    if not isinstance(data, dict):
        raise ArtifactError(f"cannot read {path}: not a JSON object", path=path)
    return data


def read_manifest(path: Path) -> Manifest:
    """The manifest at ``path`` (stockx's or dbt's)."""
    data = read_json(path)
    metadata = data.get("metadata") or {}
    env = metadata.get("env") or {}
    entries = {**(data.get("nodes") or {}), **(data.get("unit_tests") or {})}
    return Manifest(
        path=Path(path),
        project_name=str(metadata.get("project_name") or ""),
        # stockx before dbt's schemas wrote its version at the top of metadata, and fingerprints beside the fields.
        written_by_stockx=ENV_VERSION in env or ENV_VERSION in metadata,
        nodes={uid: _node(uid, entry) for uid, entry in entries.items() if isinstance(entry, dict)},
        sources={uid: _node(uid, entry) for uid, entry in (data.get("sources") or {}).items() if isinstance(entry, dict)},
        metadata=metadata,
    )


def _node(uid: str, entry: dict[str, Any]) -> ManifestNode:
    meta = dict(entry.get("meta") or (entry.get("config") or {}).get("meta") or {})  # a unit test's: in config
    own = meta.pop(STOCKX_META, None) or {}
    checksum = entry.get("checksum")
    return ManifestNode(
        unique_id=uid,
        name=str(entry.get("name") or uid.split(".")[-1]),
        resource_type=str(entry.get("resource_type") or uid.split(".")[0]),
        relation=entry.get("relation_name"),
        database=entry.get("database"),
        schema=entry.get("schema"),
        alias=entry.get("alias") or entry.get("identifier"),
        original_file_path=str(entry.get("original_file_path") or ""),
        depends_on=tuple((entry.get("depends_on") or {}).get("nodes") or ()),
        attached_node=entry.get("attached_node"),
        checksum=str(checksum.get("checksum") or "") if isinstance(checksum, dict) else str(checksum or ""),
        fingerprint=(own.get("fingerprint") if isinstance(own, dict) else None) or entry.get("fingerprint"),
        meta=meta,
        patch_path=str(entry["patch_path"]).split("://", 1)[-1] if entry.get("patch_path") else None,
        config=dict(entry.get("config") or {}),
        description=str(entry.get("description") or ""),
        columns=dict(entry.get("columns") or {}),
        compiled_path=entry.get("compiled_path"),
        test_metadata=entry.get("test_metadata"),
        column_name=entry.get("column_name"),
        raw=entry,
    )


def read_run_results(path: Path, manifest: Manifest | None = None) -> RunResultsFile:
    """The run results at ``path`` (stockx's or dbt's), each result named from ``manifest`` when given
    (else by the last part of its unique id)."""
    data = read_json(path)
    metadata = data.get("metadata") or {}
    results = []
    for entry in data.get("results") or []:
        timing = {t.get("name"): t for t in entry.get("timing") or [] if isinstance(t, dict)}
        execute = timing.get("execute") or {}
        response = entry.get("adapter_response") or {}
        uid = str(entry.get("unique_id"))
        node = manifest.nodes.get(uid) if manifest is not None else None
        severity = str((node.config.get("severity") or "error")).lower() if node and node.resource_type == "test" else None
        results.append(ResultEntry(
            resource_type=node.resource_type if node else uid.split(".")[0],
            name=node.name if node else uid.split(".")[-1],
            attached_node=node.attached_node if node else None,
            compiled_path=node.compiled_path if node else None,
            severity=severity,
            unique_id=uid,
            status=str(entry.get("status")),
            message=entry.get("message") or "",
            failures=entry.get("failures"),
            execution_time=float(entry.get("execution_time") or 0.0),
            rows=response.get("rows_affected"),
            relation=entry.get("relation_name"),
            started_at=execute.get("started_at"),
            completed_at=execute.get("completed_at"),
        ))
    return RunResultsFile(
        path=Path(path),
        invocation_id=metadata.get("invocation_id"),
        generated_at=metadata.get("generated_at"),
        database=(metadata.get("env") or {}).get(ENV_DATABASE),
        args=dict(data.get("args") or {}),
        elapsed_time=float(data.get("elapsed_time") or 0.0),
        results=tuple(results),
    )


def read_last_run(target_dir: Path) -> RunResultsFile:
    """``run_results.json`` of ``target_dir``, each result named from its ``manifest.json`` (when there is one)."""
    target_dir = Path(target_dir)
    try:
        manifest = read_manifest(target_dir / MANIFEST)
    except ArtifactError as exc:
        if not exc.missing:
            raise
        manifest = None
    return read_run_results(target_dir / RUN_RESULTS, manifest)


def read_sources(path: Path) -> tuple[FreshnessEntry, ...]:
    """The freshness results in sources.json at ``path``."""
    data = read_json(path)
    return tuple(
        FreshnessEntry(
            unique_id=str(entry.get("unique_id")),
            status=str(entry.get("status")),
            max_loaded_at=entry.get("max_loaded_at"),
            snapshotted_at=entry.get("snapshotted_at"),
            age=entry.get("max_loaded_at_time_ago_in_s"),
            error=entry.get("error"),
        )
        for entry in data.get("results") or []
    )


def database_key(database: str) -> str:
    """How ``database`` (a TargetConfig's ``built_in``) is named in the results files: a DuckDB file by its
    resolved absolute path, so two spellings of one file are one database (``:memory:`` and another
    target's ``<type>://<name>`` as they are)."""
    return database if database == ":memory:" or "://" in database else str(Path(database).resolve())


def read_last_results(path: Path, database: str) -> dict[str, Any] | None:
    """The newest result of every node over every run that built or tested ``database``
    (by unique_id), from ``target/last_results.json``; None when the file does not exist.

    A build of one database says nothing about another: two databases of one
    project (a scratch ``--database``, staging and production) each have their own."""
    if not Path(path).exists():
        return None
    return dict(read_last_results_file(path)["databases"].get(database_key(database), {}).get("results", {}))


def read_last_results_file(path: Path) -> dict[str, Any]:
    """The whole of ``last_results.json`` (``version``, ``databases``); empty when it is missing, unreadable
    or of another version (stockx_export.run.artifacts writes it)."""
    empty = {"version": LAST_RESULTS_VERSION, "databases": {}}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return empty
    # Version 1 held one verdict for the whole project, whichever database it was about: not used.
    if not isinstance(data, dict) or data.get("version") != LAST_RESULTS_VERSION or not isinstance(
            data.get("databases"), dict):
        return empty
    return data
