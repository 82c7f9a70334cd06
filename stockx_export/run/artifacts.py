"""Files for machines: ``target/manifest.json``, ``run_results.json``, ``sources.json`` and ``last_results.json``.

manifest.json and run_results.json are written in dbt's published schemas
(manifest v12, run-results v6), so the tools that read dbt artifacts read them;
stockx_export.core.artifacts reads them back (and holds the schema names). What
stockx adds lives where the schemas leave room: ``metadata.env``
(``stockx_version``, ``stockx_database``: the database the run built in) and each
node's ``meta.stockx`` (``fingerprint``: stockx_export.analysis.fingerprint).

manifest.json
    ``metadata`` (dbt_schema_version, dbt_version, generated_at, invocation_id,
    project_name, adapter_type, env: stockx_version, stockx_database), ``nodes`` (models, seeds, snapshots and
    data tests by unique_id, with dbt's fields: database, schema, name,
    resource_type, package_name, path, original_file_path, fqn, alias,
    checksum (sha256 of the file, as dbt computes it), config, tags,
    description, columns, meta, patch_path, relation_name, raw_code, language,
    refs, sources, depends_on, compiled_path; data tests also column_name,
    attached_node and test_metadata), ``unit_tests`` (model, given, expect,
    overrides, as written), ``sources``, and
    ``parent_map`` / ``child_map``; the other sections of the schema are empty.

run_results.json
    ``metadata`` (dbt_schema_version, dbt_version, generated_at, invocation_id,
    env: stockx_version, stockx_database), ``elapsed_time``, ``args`` (``which``: the command, select, exclude,
    resource_type, threads, full_refresh, vars, ...: what ``stockx retry``
    runs again), ``results``: one per node that was part of the run, each with
    unique_id, status (success | error | skipped | pass | fail | warn), timing
    (an ``execute`` entry with started_at and completed_at, ISO 8601 UTC; none
    when skipped), thread_id, execution_time, adapter_response (rows_affected),
    message, failures (failing rows of a data test, diff rows of a unit test,
    else null), relation_name and compiled.

sources.json
    written by ``stockx source freshness`` (sources v3): ``metadata``,
    ``elapsed_time`` and ``results``, one per source checked (see
    stockx_export.run.freshness).

last_results.json
    stockx's own: ``version`` (2) and ``databases``: by database (its absolute
    path, or ``:memory:``), the ``runs`` that built or tested it and ``results``:
    by unique_id, the newest result of every node over those runs (unique_id,
    resource_type, name, status, timing {started_at, completed_at,
    execution_time}, message, failures, rows, relation,
    compiled_path, attached_node, severity, store_failures_relation), with
    ``run`` (which run) and ``order`` (its place in that run), so a test can be
    known to have run after the last build of its model in the very database
    the export reads.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
from pathlib import Path
from typing import Any

from stockx_export import __version__
from stockx_export.analysis.fingerprint import fingerprints, model_texts
from stockx_export.analysis.parse import SqlParses
from stockx_export.core.artifacts import (
    DBT_VERSION, ENV_DATABASE, ENV_VERSION, MANIFEST, MANIFEST_SCHEMA, RUN_RESULTS, RUN_RESULTS_SCHEMA, SOURCES,
    LAST_RESULTS, SOURCES_SCHEMA, STOCKX_META, database_key, file_checksum, read_last_results_file,
)
from stockx_export.redact import Redactor

EMPTY_SECTIONS = ("macros", "docs", "exposures", "metrics", "groups", "selectors", "disabled", "group_map",
                  "saved_queries", "semantic_models")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` whole or not at all: readers never see half a file.

    On one line, as dbt writes its artifacts: Python's JSON encoder in C serves only output without
    indentation, five times faster than the pure-Python one on a manifest (``jq .`` shows it indented).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def metadata(project, schema: str) -> dict[str, Any]:
    """dbt's artifact metadata, with stockx's version and database in ``env``."""
    return {
        "dbt_schema_version": schema,
        "dbt_version": DBT_VERSION,
        "generated_at": _now(),
        "invocation_id": project.renderer.invocation_id,
        "env": {ENV_VERSION: __version__, ENV_DATABASE: database_key(project.config.target.built_in)},
    }


def _hooks(value: Any) -> list[dict[str, Any]]:
    hooks = [value] if isinstance(value, (str, dict)) else list(value or [])
    return [{"sql": str(h.get("sql", "")) if isinstance(h, dict) else str(h), "transaction": True, "index": i}
            for i, h in enumerate(hooks)]


def _config(node) -> dict[str, Any]:
    config = {k: v for k, v in node.config.items() if k not in ("pre_hook", "post_hook")}
    for dbt_key, keys in (("pre-hook", ("pre-hook", "pre_hook")), ("post-hook", ("post-hook", "post_hook"))):
        found = [h for k in keys for h in _hooks(node.config.get(k))]
        if found:
            config[dbt_key] = [{**h, "index": i} for i, h in enumerate(found)]
        else:
            config.pop(dbt_key, None)
    config["tags"] = list(node.tags)
    config["meta"] = dict(node.meta)
    return config


def _columns(columns) -> dict[str, Any]:
    return {
        c.name: {
            "name": c.name,
            "description": c.description,
            "meta": dict(c.meta),
            "data_type": c.data_type,
            "constraints": [{"type": str(t)} for t in c.constraints],
            "quote": None,
            "tags": [],
        }
        for c in columns
    }


def _resource_path(node) -> str:
    """dbt's ``path``: the file's path inside its resource folder (models/, seeds/, ...)."""
    parts = node.path.split("/")
    return "/".join(parts[1:]) if len(parts) > 1 else node.path


def node_entry(project, node, fingerprint: str | None) -> dict[str, Any]:
    """``node`` as a manifest v12 node (or unit test)."""
    relation = node.relation
    database = _database_name(project)
    entry: dict[str, Any] = {
        "database": database,
        "schema": relation.schema if relation is not None else project.config.target_schema,
        "name": node.name,
        "resource_type": node.resource_type,
        "package_name": node.package_name,
        "path": _resource_path(node),
        "original_file_path": node.path,
        "unique_id": node.unique_id,
        "fqn": list(node.fqn) or [node.package_name, node.name],
        "description": node.description,
        "meta": {**node.meta, STOCKX_META: {"fingerprint": fingerprint}},
        "depends_on": {"macros": [], "nodes": list(node.depends_on)},
    }
    if node.resource_type == "unit_test":
        # A unit test's meta is in its config only.
        entry.pop("database")
        entry.pop("meta")
        entry["config"] = {"tags": list(node.tags), "meta": {**node.meta, STOCKX_META: {"fingerprint": fingerprint}},
                           "enabled": True}
        return {**entry, **{k: node.extra.get(k) for k in ("model", "given", "expect")},
                "overrides": node.extra.get("overrides") or None, "checksum": file_checksum(project.config.root, node)["checksum"]}
    compiled = project.compiler.compiled_path(node)
    entry.update({
        "alias": relation.identifier if relation is not None else node.name,
        "checksum": file_checksum(project.config.root, node),
        "config": _config(node),
        "tags": list(node.tags),
        "columns": _columns(node.columns),
        "patch_path": f"{node.package_name}://{node.patch_path}" if node.patch_path else None,
        "relation_name": str(relation) if relation is not None else None,
        "raw_code": node.raw_code,
        "language": "sql",
        "refs": [{"name": name, "package": None, "version": None} for name in node.refs],
        "sources": [list(pair) for pair in node.sources],
        "compiled_path": compiled.relative_to(project.config.root).as_posix(),
    })
    if node.resource_type == "seed":
        # dbt's seeds have no code, references or compiled file; their depends_on lists macros only.
        for key in ("language", "refs", "sources", "compiled_path", "raw_code"):
            entry.pop(key)
        entry["depends_on"] = {"macros": []}
    if node.resource_type == "test":
        metadata = node.extra.get("test_metadata")
        entry.update({
            "column_name": node.extra.get("column_name"),
            "attached_node": node.extra.get("attached_node"),
            "test_metadata": metadata,
        })
    return entry


def _database_name(project) -> str:
    """The catalog relations are in: a DuckDB file's name, another target's database (its name when unsaid)."""
    target = project.config.target
    if target.type != "duckdb":
        return str(target.options.get("dbname") or target.options.get("database") or target.name)
    return "memory" if target.database == ":memory:" else Path(target.database).stem


def source_entry(project, source, fingerprint: str | None) -> dict[str, Any]:
    """A source as a manifest v12 source."""
    config = dict(source.config or {})
    freshness = config.get("freshness")
    return {
        "database": _database_name(project),
        "schema": source.schema,
        "name": source.name,
        "resource_type": "source",
        "package_name": source.unique_id.split(".")[1],
        "path": source.path,
        "original_file_path": source.path,
        "unique_id": source.unique_id,
        "fqn": [source.unique_id.split(".")[1], source.source_name, source.name],
        "source_name": source.source_name,
        "source_description": "",
        "loader": "",
        "identifier": source.identifier,
        "loaded_at_field": config.get("loaded_at_field"),
        "freshness": freshness if isinstance(freshness, dict) else None,
        "description": source.description,
        "columns": _columns(source.columns),
        "meta": {**dict(config.get("meta") or {}),
                 STOCKX_META: {"fingerprint": fingerprint, "external_location": source.external_location or None}},
        "tags": list(config.get("tags") or []),
        "relation_name": str(source.relation),
    }


def manifest_data(project, parses: SqlParses | None = None,
                  texts: dict[str, tuple[str, str | None]] | None = None) -> dict[str, Any]:
    """The manifest of ``project`` (manifest v12; ``texts``: the models rendered for their fingerprints already)."""
    prints = fingerprints(project, parses, texts)
    nodes, unit_tests = {}, {}
    for uid, node in sorted(project.nodes.items()):
        if node.resource_type in ("model", "seed", "snapshot", "test"):
            nodes[uid] = node_entry(project, node, prints.get(uid))
        elif node.resource_type == "unit_test":
            unit_tests[uid] = node_entry(project, node, prints.get(uid))
    sources = {s.unique_id: source_entry(project, s, prints.get(s.unique_id))
               for s in sorted(project.sources.values(), key=lambda s: s.unique_id)}
    parents = {uid: sorted(set(entry["depends_on"].get("nodes", ()))) for uid, entry in {**nodes, **unit_tests}.items()}
    parents.update({uid: [] for uid in sources})
    children: dict[str, list[str]] = {uid: [] for uid in parents}
    for uid, ups in parents.items():
        for up in ups:
            children.setdefault(up, []).append(uid)
    meta = metadata(project, MANIFEST_SCHEMA)
    meta.update({"project_name": project.config.name, "adapter_type": project.config.target.type})
    return {
        "metadata": meta,
        "nodes": nodes,
        "sources": sources,
        **{section: {} for section in EMPTY_SECTIONS},
        "parent_map": parents,
        "child_map": {uid: sorted(kids) for uid, kids in sorted(children.items())},
        "unit_tests": unit_tests,
    }


def write_manifest(project, parses: SqlParses | None = None) -> Path:
    """``target/manifest.json``; ``parses`` are the run's SQL parsed already (for the fingerprints)."""
    path = project.config.target_dir / MANIFEST
    write_json(path, without_secrets(manifest_data(project, parses)))
    return path


class PendingManifest:
    """``target/manifest.json`` being written on a thread of its own while the run goes on.

    The manifest describes the parsed project, not the run, so it need not wait for
    the last node: the models are rendered for their fingerprints on the calling
    thread (the renderer serves one thread), then normalising their SQL, building
    the JSON and writing it run beside the nodes. :meth:`wait` joins the thread and
    raises what it raised.
    """

    def __init__(self, project, parses: SqlParses | None = None) -> None:
        self.path = project.config.target_dir / MANIFEST
        self._error: BaseException | None = None
        texts = model_texts(project)
        self._thread = threading.Thread(target=self._write, args=(project, parses, texts),
                                        name="stockx-manifest", daemon=True)
        self._thread.start()

    def _write(self, project, parses, texts) -> None:
        try:
            write_json(self.path, without_secrets(manifest_data(project, parses, texts)))
        except BaseException as exc:  # handed to wait(), on the command's thread
            self._error = exc

    def wait(self, *, quietly: bool = False) -> Path:
        """The manifest's path once it is written; raises what writing it raised, unless ``quietly``."""
        self._thread.join()
        if self._error is not None and not quietly:
            raise self._error
        return self.path


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    moment = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def _stockx_result(r) -> dict[str, Any]:
    node = r.node
    return {
        "unique_id": node.unique_id,
        "resource_type": node.resource_type,
        "name": node.name,
        "status": r.status,
        "timing": {
            "started_at": _iso(r.started_at),
            "completed_at": _iso(r.completed_at),
            "execution_time": round(r.execution_time, 6),
        },
        "execution_time": round(r.execution_time, 6),
        "message": r.message,
        "failures": r.failures,
        "rows": r.rows,
        "relation": str(node.relation) if node.relation is not None else None,
        "compiled_path": r.compiled_path,
        "attached_node": node.extra.get("attached_node"),
        "severity": str(node.config.get("severity", "error")).lower() if node.resource_type == "test" else None,
        "store_failures_relation": r.extra.get("store_failures_relation"),
    }


def _dbt_result(r) -> dict[str, Any]:
    node = r.node
    timing = [] if r.started_at is None else [
        {"name": "execute", "started_at": _iso(r.started_at), "completed_at": _iso(r.completed_at)}]
    return {
        "status": r.status,
        "timing": timing,
        "thread_id": r.thread_id,
        "execution_time": round(r.execution_time, 6),
        "adapter_response": {"rows_affected": r.rows} if r.rows is not None else {},
        "message": r.message or None,
        "failures": r.failures,
        "unique_id": node.unique_id,
        "compiled": r.compiled_path is not None,
        "relation_name": str(node.relation) if node.relation is not None and node.resource_type != "test" else None,
    }


def without_secrets(value: Any) -> Any:
    """``value`` (JSON-like) with every secret of the environment removed from its strings, keys included:
    recorded ``--vars``, and configs and hooks rendered from ``env_var()`` (the manifest holds those)."""
    return Redactor.of_environment(os.environ).scrub_value(value)


def write_run_results(project, run, args: dict[str, Any] | None = None) -> Path:
    """``target/run_results.json`` (run-results v6) of ``run``, with the invocation's ``args``;
    the results are merged into ``last_results.json`` too."""
    data = {
        "metadata": metadata(project, RUN_RESULTS_SCHEMA),
        "results": [_dbt_result(r) for r in run.results],
        "elapsed_time": round(run.elapsed, 6),
        "args": without_secrets({"which": run.command, **(args or {})}),
    }
    path = project.config.target_dir / RUN_RESULTS
    write_json(path, data)
    _merge_last_results(project.config.target_dir / LAST_RESULTS, [_stockx_result(r) for r in run.results],
                        project.renderer.invocation_id, project.config.target.built_in)
    return path


def write_sources(project, results: list[dict[str, Any]], elapsed: float, path: Path | None = None) -> Path:
    """``target/sources.json`` (sources v3; or ``path``): the results of ``stockx source freshness``
    (stockx_export.run.freshness)."""
    path = path or project.config.target_dir / SOURCES
    write_json(path, {"metadata": metadata(project, SOURCES_SCHEMA), "results": results,
                      "elapsed_time": round(elapsed, 6)})
    return path


def _merge_last_results(path: Path, results: list[dict[str, Any]], invocation_id: str, database: str) -> None:
    # run_results.json holds one invocation; whether a model and its tests are good
    # (the export asks) spans several: `stockx build`, then `stockx test` alone.
    data = read_last_results_file(path)
    entry = data["databases"].setdefault(database_key(database), {"runs": 0, "results": {}})
    entry["runs"] = run = int(entry.get("runs", 0)) + 1
    for order, result in enumerate(results):
        entry["results"][result["unique_id"]] = {**result, "run": run, "order": order, "invocation_id": invocation_id}
    write_json(path, data)
