"""The data the page shows, and the files of ``target/docs/``.

``site_data`` turns the project's nodes, the database's catalog, the lineage graph,
the last results and the sync into one JSON document; ``write_site`` writes it as
``data.js`` (a script, not a file the page fetches: a page opened from ``file://``
may not fetch) beside ``index.html`` and the assets, replacing the previous site whole.

Nodes (``nodes``, sorted by unique_id) carry ``id``, ``name``, ``type`` (model | seed |
snapshot | source | test | unit_test), ``path``, ``folder``, ``tags``, ``description``
and ``depends_on``; models, seeds and snapshots add ``materialized``, ``relation``,
``config``, ``contract``, ``columns`` (name, declared and built type, description,
constraints, the ids of their tests), ``raw`` and ``compiled`` SQL and ``built``
(the relation's kind in the database, or null); sources add the seed they read;
tests add what they test (``attached``, ``column``), ``test_name``, ``kwargs``, ``severity``.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
from pathlib import Path
from typing import Any

from stockx_export import __version__
from stockx_export.docs.results import ran_elsewhere

ASSETS = Path(__file__).with_name("assets")
DATA_FILE = "data.js"
DATA_GLOBAL = "STOCKX_DOCS"
BUILT_TYPES = ("model", "seed", "snapshot")


def site_data(project, *, compiled: dict[str, str], tables: dict[Any, Any], lineage, last_run, verdicts,
              sync, generated_at: str, inferred: dict[str, tuple[str, ...]] | None = None) -> dict[str, Any]:
    """Everything the page shows, JSON-ready (see the module docstring for the nodes).

    ``inferred`` holds the column names each model's SQL gives: a model not built yet shows them."""
    inferred = inferred or {}
    tests_on = _tests_by_column(project)
    nodes = []
    for uid in sorted(project.nodes):
        node = project.nodes[uid]
        if node.resource_type in BUILT_TYPES:
            nodes.append(_built_node(node, compiled.get(uid), tables.get(node.relation), tests_on,
                                     inferred.get(uid, ())))
        elif node.resource_type == "test":
            nodes.append(_test_node(node))
        elif node.resource_type == "unit_test":
            nodes.append(_unit_test_node(project, node))
    for source in sorted(project.sources.values(), key=lambda s: s.unique_id):
        nodes.append(_source_node(project, source, tables.get(source.relation), tests_on))
    nodes.sort(key=lambda n: n["id"])
    return {
        "project": project.config.name,
        "stockx_version": __version__,
        "generated_at": generated_at,
        "nodes": nodes,
        "lineage": {"edges": {k: list(v) for k, v in lineage.edges.items()}, "untraced": list(lineage.untraced)},
        "last_run": None if last_run is None else {
            "command": last_run.command, "generated_at": last_run.generated_at, "elapsed": last_run.elapsed,
            "database": last_run.database, "other_database": ran_elsewhere(last_run, project.config.target.database),
            "results": [{"id": v.unique_id, **v.as_dict()} for v in last_run.results]},
        "verdicts": {uid: v.as_dict() for uid, v in sorted(verdicts.items())},
        "sync": sync.as_dict(),
    }


def _folder(path: str) -> str:
    return posixpath.dirname(path) or "."


def _common(node) -> dict[str, Any]:
    return {"id": node.unique_id, "name": node.name, "type": node.resource_type, "path": node.path,
            "folder": _folder(node.path), "tags": sorted(node.tags), "description": node.description or "",
            "depends_on": list(node.depends_on)}


def _tests_by_column(project) -> dict[tuple[str, str | None], list[str]]:
    """(tested node id, lower-case column or None) -> ids of the data tests on it."""
    found: dict[tuple[str, str | None], list[str]] = {}
    for uid in sorted(project.nodes):
        node = project.nodes[uid]
        attached = node.extra.get("attached_node")
        if node.resource_type == "test" and attached:
            column = node.extra.get("column_name")
            found.setdefault((attached, column.lower() if isinstance(column, str) else None), []).append(uid)
    return found


def _columns(declared, built, owner: str, tests_on, inferred: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The relation's columns in the database's order, or when it is not built the ones its SQL
    gives (``inferred``); declared ones neither has after them. Each with its declared and built
    type and its tests."""
    by_name = {c.name.lower(): c for c in declared}
    built_types = {name.lower(): data_type for name, data_type in (built.columns if built else ())}
    names = [name for name, _ in built.columns] if built else list(inferred)
    known = {name.lower() for name in names}
    names += [c.name for c in declared if c.name.lower() not in known]
    out = []
    for name in names:
        column = by_name.get(name.lower())
        out.append({
            "name": name,
            "declared_type": column.data_type if column else None,
            "type": built_types.get(name.lower()),
            "description": column.description if column else "",
            "constraints": list(column.constraints) if column else [],
            "tests": tests_on.get((owner, name.lower()), []),
            "in_database": name.lower() in built_types if built else None,
        })
    return out


def _built_node(node, compiled: str | None, built, tests_on, inferred: tuple[str, ...]) -> dict[str, Any]:
    return {
        **_common(node),
        "materialized": node.materialized if node.resource_type == "model" else node.resource_type,
        "relation": str(node.relation) if node.relation is not None else None,
        "config": node.config,
        "contract": node.enforced_contract,
        "columns": _columns(node.columns, built, node.unique_id, tests_on, inferred),
        "tests": tests_on.get((node.unique_id, None), []),
        "raw": node.raw_code,
        "compiled": compiled or None,
        "built": built.kind if built else None,
    }


def _source_node(project, source, built, tests_on) -> dict[str, Any]:
    reads = project.resolver.resolve_source(source.source_name, source.name, None)
    seed = None
    if not isinstance(reads, str):  # the table itself, not files: the bundled seed when one is loaded there
        seed = next((n.unique_id for n in project.nodes.values()
                     if n.resource_type == "seed" and n.relation == source.relation), None)
    return {
        "id": source.unique_id, "name": f"{source.source_name}.{source.name}", "type": "source",
        "path": source.path, "folder": _folder(source.path), "tags": sorted(source.config.get("tags", ())),
        "description": source.description or "", "depends_on": [seed] if seed else [],
        "relation": str(source.relation), "reads": reads if isinstance(reads, str) else str(reads),
        "columns": _columns(source.columns, built, source.unique_id, tests_on),
        "tests": tests_on.get((source.unique_id, None), []),
        "built": built.kind if built else None,
    }


def _test_node(node) -> dict[str, Any]:
    metadata = node.extra.get("test_metadata") or {}
    kwargs = {k: v for k, v in (metadata.get("kwargs") or {}).items() if k != "column_name"}
    return {
        **_common(node),
        "attached": node.extra.get("attached_node"),
        "column": node.extra.get("column_name"),
        "test_name": node.extra.get("test_name") or node.name,
        "kind": node.extra.get("test_kind"),
        "kwargs": kwargs,
        "severity": str(node.config.get("severity", "error")).lower(),
        "raw": node.raw_code if node.extra.get("test_kind") == "singular" else None,
    }


def _unit_test_node(project, node) -> dict[str, Any]:
    model = project.by_name.get(str(node.extra.get("model")))
    return {**_common(node), "attached": model.unique_id if model is not None else None, "column": None}


def write_site(out_dir: Path, data: dict[str, Any]) -> Path:
    """Write the site to ``out_dir`` (its previous contents replaced whole); the path of its index.html."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    fresh = out_dir.with_name(f".{out_dir.name}.new-{os.getpid()}")
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(ASSETS, fresh / "assets", ignore=shutil.ignore_patterns("index.html"))
    shutil.copy(ASSETS / "index.html", fresh / "index.html")
    text = json.dumps(data, ensure_ascii=True, sort_keys=False, separators=(",", ":"), default=str)
    (fresh / DATA_FILE).write_text(f"window.{DATA_GLOBAL} = {text};\n", encoding="ascii")
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    if out_dir.exists():
        os.replace(out_dir, old)
    os.replace(fresh, out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return out_dir / "index.html"


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON at ``path``, replacing it whole (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)
