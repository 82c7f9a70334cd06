"""Files for machines: ``target/manifest.json`` and ``target/run_results.json``.

manifest.json
    ``metadata`` (stockx_version, generated_at, project_name), ``nodes`` (each
    model, seed, snapshot, data test and unit test by unique_id: unique_id, name,
    resource_type, original_file_path (the file that declares it: a property
    file for generic and unit tests), patch_path, relation, schema, alias, fqn,
    config, meta, tags, description, columns {name: {name, data_type,
    description, constraints}}, depends_on {nodes}, compiled_path (where the
    compiled SQL is written) and attached_node (the model, seed or source a
    data test tests; null otherwise). Data tests also carry test_kind (generic
    | singular), test_name, column_name and test_metadata {name, namespace,
    kwargs} (null for singular tests); unit tests carry model, given, expect
    and overrides as written; every node also has the fingerprint written by
    stockx_export.analysis.fingerprint), ``sources`` (by unique_id: unique_id,
    source_name, name, relation, external_location, path, columns).

last_results.json
    ``version`` (2) and ``databases``: by database (its absolute path, or
    ``:memory:``), the ``runs`` that built or tested it and ``results``: by
    unique_id, the newest run_results entry of every node over those runs,
    with ``run`` (which run) and ``order`` (its place in that run), so a test
    can be known to have run after the last build of its model in the very
    database the export reads.

run_results.json
    ``metadata`` (stockx_version, generated_at, invocation_id, command,
    database: the database the run built in),
    ``elapsed_time``, ``success``, ``results``: one per node that was part of
    the run, each with unique_id, resource_type, name, status (success | error
    | skipped | pass | fail | warn), timing {started_at, completed_at (ISO 8601
    UTC, null when skipped), execution_time}, execution_time, message,
    failures (failing rows of a data test, diff rows of a unit test, else
    null), rows, relation, compiled_path, attached_node (the node a data test
    tests, else null), severity (error | warn for data tests, else null) and
    store_failures_relation (where failing rows were stored, else null).
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Any

from stockx_export import __version__
from stockx_export.analysis.fingerprint import add_to_manifest
from stockx_export.analysis.parse import SqlParses


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)  # readers never see half a file


def node_entry(project, node) -> dict[str, Any]:
    compiled = project.compiler.compiled_path(node)
    return {
        "unique_id": node.unique_id,
        "name": node.name,
        "resource_type": node.resource_type,
        "original_file_path": node.path,
        "patch_path": node.patch_path,
        "relation": str(node.relation) if node.relation is not None else None,
        "schema": node.relation.schema if node.relation is not None else None,
        "alias": node.relation.identifier if node.relation is not None else None,
        "fqn": list(node.fqn),
        "config": node.config,
        "meta": node.meta,
        "tags": list(node.tags),
        "description": node.description,
        "columns": {
            c.name: {
                "name": c.name,
                "data_type": c.data_type,
                "description": c.description,
                "constraints": list(c.constraints),
            }
            for c in node.columns
        },
        "depends_on": {"nodes": list(node.depends_on)},
        "compiled_path": compiled.relative_to(project.config.root).as_posix(),
        "attached_node": node.extra.get("attached_node"),
        **_test_fields(node),
    }


def _test_fields(node) -> dict[str, Any]:
    if node.resource_type == "test":
        return {
            "test_kind": node.extra.get("test_kind"),
            "test_name": node.extra.get("test_name"),
            "column_name": node.extra.get("column_name"),
            "test_metadata": node.extra.get("test_metadata"),
        }
    if node.resource_type == "unit_test":
        return {key: node.extra.get(key) for key in ("model", "given", "expect", "overrides")}
    return {}


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    moment = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def write_manifest(project, parses: SqlParses | None = None) -> Path:
    """``target/manifest.json``; ``parses`` are the run's SQL parsed already (for the fingerprints)."""
    manifest = {
        "metadata": {"stockx_version": __version__, "generated_at": _now(), "project_name": project.config.name},
        "nodes": {uid: node_entry(project, node) for uid, node in sorted(project.nodes.items())},
        "sources": {
            s.unique_id: {
                "unique_id": s.unique_id,
                "source_name": s.source_name,
                "name": s.name,
                "relation": str(s.relation),
                "external_location": s.external_location,
                "path": s.path,
                "columns": {c.name: {"name": c.name, "data_type": c.data_type} for c in s.columns},
            }
            for s in project.sources.values()
        },
    }
    add_to_manifest(project, manifest, parses)
    path = project.config.target_dir / "manifest.json"
    _write_json(path, manifest)
    return path


def write_run_results(project, run) -> Path:
    results = []
    for r in run.results:
        node = r.node
        results.append(
            {
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
        )
    data = {
        "metadata": {
            "stockx_version": __version__,
            "generated_at": _now(),
            "invocation_id": project.renderer.invocation_id,
            "command": run.command,
            "database": database_key(project.config.target.built_in),
        },
        "elapsed_time": round(run.elapsed, 6),
        "success": not run.failed,
        "results": results,
    }
    path = project.config.target_dir / "run_results.json"
    _write_json(path, data)
    _merge_last_results(project.config.target_dir / LAST_RESULTS, results, project.renderer.invocation_id,
                        project.config.target.built_in)
    return path


LAST_RESULTS = "last_results.json"
LAST_RESULTS_VERSION = 2


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
    if not path.exists():
        return None
    return dict(_read_all(path)["databases"].get(database_key(database), {}).get("results", {}))


def _read_all(path: Path) -> dict[str, Any]:
    empty = {"version": LAST_RESULTS_VERSION, "databases": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return empty
    # Version 1 held one verdict for the whole project, whichever database it was about: not used.
    if not isinstance(data, dict) or data.get("version") != LAST_RESULTS_VERSION or not isinstance(
            data.get("databases"), dict):
        return empty
    return data


def _merge_last_results(path: Path, results: list[dict[str, Any]], invocation_id: str, database: str) -> None:
    # run_results.json holds one invocation; whether a model and its tests are good
    # (the export asks) spans several: `stockx build`, then `stockx test` alone.
    data = _read_all(path)
    entry = data["databases"].setdefault(database_key(database), {"runs": 0, "results": {}})
    entry["runs"] = run = int(entry.get("runs", 0)) + 1
    for order, result in enumerate(results):
        entry["results"][result["unique_id"]] = {**result, "run": run, "order": order, "invocation_id": invocation_id}
    _write_json(path, data)
