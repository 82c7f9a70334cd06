"""What a run's refs read besides the project's own relations: dbt's ``--empty`` and ``--defer --state``.

``--empty``: every ref and source a node reads is a subquery of no rows, so the
models build with their columns and no data (a cheap check that the SQL runs).

``--defer``: a ref to a node the selection left out, whose relation does not
exist in this run's database, reads the relation of that node in the
``--state`` manifest instead (dbt's rule; the selected nodes are always built
here). When the manifest is stockx's and names another DuckDB file, that file
is attached read-only under the catalog name the manifest gives it, so a
scratch database can build one model over production's upstream tables.
"""

from __future__ import annotations

from pathlib import Path

from stockx_export.analysis.state import load_state
from stockx_export.core.artifacts import ENV_DATABASE, Manifest
from stockx_export.db import Relation, literal, quote
from stockx_export.errors import ProjectError

DEFERRABLE = ("model", "seed", "snapshot")


def prepare_refs(project, options, order: list[str], adapter) -> None:
    """Set the project's resolver for ``--empty`` and ``--defer`` (see the module docstring)."""
    project.resolver.empty = options.empty
    if options.defer:
        project.resolver.deferred = deferred_relations(project, load_state(options.state, "--defer"), set(order),
                                                       adapter)


def deferred_relations(project, manifest: Manifest, selected: set[str], adapter) -> dict[str, Relation]:
    """unique id -> the state's relation, for each unselected node missing from ``adapter``'s database."""
    missing = []  # (unique id, node, its entry in the state)
    for uid, node in sorted(project.nodes.items()):
        old = manifest.nodes.get(uid)
        if (uid in selected or node.resource_type not in DEFERRABLE or node.relation is None or old is None
                or not old.schema or adapter.relation_kind(node.relation) is not None):
            continue
        missing.append((uid, node, old))
    catalog = _attach(manifest, project.config.target.built_in, adapter) if missing else None
    return {uid: Relation(old.schema, old.alias or old.name, database=catalog or old.database,
                          quote_all=node.relation.quote_all) for uid, node, old in missing}


def _attach(manifest: Manifest, database: str, adapter) -> str | None:
    """Attach the state's DuckDB file when it is another one; the catalog name to read it by (None: this one)."""
    other = (manifest.metadata.get("env") or {}).get(ENV_DATABASE)
    # Another kind of target (``postgres://prod``) is reached by its catalog name, not attached.
    if not other or other == ":memory:" or "://" in other or "://" in database or Path(other) == Path(database).resolve():
        return None
    if not Path(other).is_file():
        raise ProjectError(f"--defer: the --state manifest {manifest.path} was built in {other}, which does not exist")
    name = Path(other).stem
    if name == Path(database).stem:
        name = f"{name}_state"
    attached = {row[0] for row in adapter.query("select database_name from duckdb_databases()").rows}
    if name not in attached:
        adapter.execute(f"attach {literal(other)} as {quote(name)} (read_only)")
    return name
