"""``target/catalog.json``: every relation's columns and types, as the database has them, in
dbt's catalog shape (https://schemas.getdbt.com/dbt/catalog/v1.json), so tools that read
dbt's artifacts read stockx's.

    metadata   dbt_schema_version, dbt_version (stockx's version), generated_at, invocation_id, env
    nodes      each model, seed and snapshot whose relation exists, by unique_id
    sources    each source whose relation exists, by unique_id
    errors     null

Each entry holds ``metadata`` (type ``BASE TABLE`` or ``VIEW``, schema, name, database,
comment, owner), ``columns`` (by name: type, index from 1, name, comment), ``stats`` and
``unique_id``. Ephemeral models have no relation and are left out, as dbt leaves them out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stockx_export import __version__
from stockx_export.core.config import MEMORY

SCHEMA_VERSION = "https://schemas.getdbt.com/dbt/catalog/v1.json"
RELATION_TYPES = {"table": "BASE TABLE", "view": "VIEW"}
NO_STATS = {"has_stats": {"id": "has_stats", "label": "Has Stats?", "value": False, "include": False,
                          "description": "Indicates whether there are statistics for this table"}}


def database_name(project) -> str:
    """The name the database's catalog goes by (DuckDB names a file's catalog by its stem)."""
    database = project.config.target.database
    return "memory" if database == MEMORY else Path(database).stem


def relations_of(project) -> dict[str, Any]:
    """unique_id -> relation, of every node and source that has one, sorted by unique_id."""
    found = {uid: node.relation for uid, node in project.nodes.items()
             if node.relation is not None and node.resource_type not in ("test", "unit_test")}
    found.update({source.unique_id: source.relation for source in project.sources.values()})
    return dict(sorted(found.items()))


def build_catalog(project, tables: dict[Any, Any], generated_at: str, invocation_id: str) -> dict[str, Any]:
    """The catalog document; ``tables`` is the adapter's catalog of the project's relations."""
    database = database_name(project)
    source_ids = {source.unique_id for source in project.sources.values()}
    catalog: dict[str, Any] = {
        "metadata": {"dbt_schema_version": SCHEMA_VERSION, "dbt_version": __version__, "generated_at": generated_at,
                     "invocation_id": invocation_id, "env": {}},
        "nodes": {},
        "sources": {},
        "errors": None,
    }
    for uid, relation in relations_of(project).items():
        found = tables.get(relation)
        if found is None:
            continue
        catalog["sources" if uid in source_ids else "nodes"][uid] = {
            "metadata": {"type": RELATION_TYPES.get(found.kind, found.kind.upper()), "schema": relation.schema,
                         "name": relation.identifier, "database": database, "comment": None, "owner": None},
            "columns": {name: {"type": data_type, "index": index, "name": name, "comment": None}
                        for index, (name, data_type) in enumerate(found.columns, start=1)},
            "stats": NO_STATS,
            "unique_id": uid,
        }
    return catalog
