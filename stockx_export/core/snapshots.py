"""Snapshots: tables that keep the history of a query's rows (slowly changing dimensions, type 2), as in dbt.

A snapshot is defined either by a block in a file of the snapshot paths
(``snapshots/*.sql``)::

    {% snapshot products_history %}
    {{ config(unique_key='product_id', strategy='check', check_cols='all') }}
    select * from {{ ref('products') }}
    {% endsnapshot %}

or, as in dbt 1.9, by an entry with a ``relation`` under ``snapshots:`` in a
property file (the query is then ``select * from <relation>``)::

    snapshots:
      - name: products_history
        relation: ref('products')
        config: {unique_key: product_id, strategy: timestamp, updated_at: updated_at}

An entry without ``relation`` describes a block's snapshot (description, columns,
tests, config). Config comes from the project's ``snapshots:`` block, then the
property file, then ``config()`` in the block. The settings a build uses are read
into a :class:`SnapshotSpec`, which the adapter builds from
(stockx_export.adapters.sql): ``strategy`` (``timestamp`` with ``updated_at``, or
``check`` with ``check_cols``: ``all`` or a list), ``unique_key`` (one column or
several), ``hard_deletes`` (``ignore``, ``invalidate``, ``new_record``; the legacy
``invalidate_hard_deletes: true`` is ``invalidate``), ``snapshot_meta_column_names``
(other names for ``dbt_valid_from``, ``dbt_valid_to``, ``dbt_scd_id``,
``dbt_updated_at``, ``dbt_is_deleted``) and ``dbt_valid_to_current`` (what a
current row's ``dbt_valid_to`` holds instead of null). The schema is
``target_schema`` when set (dbt's legacy form, used as written), else as for a
model (``schema``, through generate_schema_name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stockx_export.core.config import merge_config
from stockx_export.core.files import read_text
from stockx_export.core.jinja.macros import Block, extract_blocks
from stockx_export.core.jinja.render import Frame
from stockx_export.core.nodes import Node
from stockx_export.core.properties import Patch
from stockx_export.db import Relation
from stockx_export.errors import ProjectError

if TYPE_CHECKING:
    from stockx_export.core.config import ProjectConfig
    from stockx_export.core.loading import ProjectLoader

STRATEGIES = ("timestamp", "check")
HARD_DELETES = ("ignore", "invalidate", "new_record")
META_COLUMNS = ("dbt_valid_from", "dbt_valid_to", "dbt_scd_id", "dbt_updated_at", "dbt_is_deleted")
_RELATION = re.compile(r"^\s*(ref|source)\s*\(.*\)\s*$", re.S)


@dataclass(frozen=True)
class SnapshotColumns:
    """The names of the columns a snapshot adds (``snapshot_meta_column_names`` renames them)."""

    valid_from: str = "dbt_valid_from"
    valid_to: str = "dbt_valid_to"
    scd_id: str = "dbt_scd_id"
    updated_at: str = "dbt_updated_at"
    is_deleted: str = "dbt_is_deleted"


@dataclass(frozen=True)
class SnapshotSpec:
    """How a snapshot is built: its validated config."""

    strategy: str  # timestamp | check
    unique_key: tuple[str, ...]
    composite: bool  # unique_key was given as a list (dbt then names the key columns dbt_unique_key_<n>)
    updated_at: str | None  # the column (timestamp), or an expression (check; None: the snapshot's time)
    check_cols: str | tuple[str, ...] | None  # "all" or column names (check)
    hard_deletes: str  # ignore | invalidate | new_record
    columns: SnapshotColumns
    valid_to_current: str | None  # SQL for a current row's valid-to; None: null


def snapshot_spec(node: Node) -> SnapshotSpec:
    """``node``'s snapshot config read and checked as dbt checks it; a ProjectError names the file."""
    config = node.config
    where = f"{node.path}: snapshot {node.name}"
    strategy, unique_key = config.get("strategy"), config.get("unique_key")
    if not strategy or not unique_key:
        raise ProjectError(f"{where}: a snapshot needs a 'strategy' (timestamp or check) and a 'unique_key'")
    if strategy not in STRATEGIES:
        raise ProjectError(f"{where}: strategy '{strategy}' is not supported; use timestamp or check")
    check_cols = config.get("check_cols")
    updated_at = config.get("updated_at")
    if strategy == "check":
        if not check_cols:
            raise ProjectError(f"{where}: the check strategy needs check_cols ('all', or a list of columns)")
        if isinstance(check_cols, str) and check_cols != "all":
            raise ProjectError(f"{where}: check_cols '{check_cols}' is not valid; use 'all' or a list of columns")
    else:
        if not updated_at:
            raise ProjectError(f"{where}: the timestamp strategy needs updated_at (the column that says when a row changed)")
        if check_cols:
            raise ProjectError(f"{where}: a timestamp snapshot takes no check_cols (they belong to the check strategy)")
    return SnapshotSpec(
        strategy=strategy,
        unique_key=tuple(str(k) for k in unique_key) if isinstance(unique_key, list) else (str(unique_key),),
        composite=isinstance(unique_key, list),
        updated_at=str(updated_at) if updated_at else None,
        check_cols=check_cols if isinstance(check_cols, str) or check_cols is None else tuple(str(c) for c in check_cols),
        hard_deletes=_hard_deletes(config, where),
        columns=_columns(config, where),
        valid_to_current=str(config["dbt_valid_to_current"]) if config.get("dbt_valid_to_current") else None,
    )


def _hard_deletes(config: dict[str, Any], where: str) -> str:
    legacy, value = config.get("invalidate_hard_deletes"), config.get("hard_deletes")
    if legacy is not None and value is not None:
        raise ProjectError(f"{where}: set hard_deletes or the older invalidate_hard_deletes, not both")
    if legacy:
        return "invalidate"
    value = value or "ignore"
    if value not in HARD_DELETES:
        raise ProjectError(f"{where}: hard_deletes '{value}' is not one of {', '.join(HARD_DELETES)}")
    return str(value)


def _columns(config: dict[str, Any], where: str) -> SnapshotColumns:
    names = config.get("snapshot_meta_column_names") or {}
    if not isinstance(names, dict) or set(names) - set(META_COLUMNS):
        raise ProjectError(f"{where}: snapshot_meta_column_names maps some of {', '.join(META_COLUMNS)} to names")
    default = SnapshotColumns()
    return SnapshotColumns(**{
        field: str(names.get(meta) or getattr(default, field))
        for field, meta in zip(("valid_from", "valid_to", "scd_id", "updated_at", "is_deleted"), META_COLUMNS)
    })


# -- loading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotSource:
    """Where a snapshot is defined, before it is parsed."""

    name: str
    path: str  # the file shown to users: the .sql with the block, or the property file
    raw_code: str
    folders: tuple[str, ...]  # the keys under the project in a snapshots: config block
    owner: ProjectConfig


def snapshot_sources(loader: ProjectLoader) -> list[SnapshotSource]:
    """Every snapshot of the project and its packages: blocks in the snapshot paths, then property-file ones."""
    project = loader.project
    found: list[SnapshotSource] = []
    for owner in project.projects:
        for path, display, base in loader.files(owner.snapshot_paths, ("*.sql",), owner):
            for block in extract_blocks(read_text(path, display), display):
                if block.kind == "snapshot":
                    folders = (*loader.folders(path, base), path.stem)  # dbt's fqn has the file's name too
                    found.append(SnapshotSource(block.name, display, block_body(block), folders, owner))
    for name, patch in sorted(project.properties.snapshots.items()):
        if patch.relation is None:
            continue
        if not _RELATION.match(patch.relation):
            raise ProjectError(f"{patch.path}: snapshot '{name}': relation must be ref('...') or source('...', '...')")
        owner = project.project_of(patch.path)
        found.append(SnapshotSource(name, patch.path, f"select * from {{{{ {patch.relation} }}}}", (), owner))
    seen: dict[str, str] = {}
    for source in found:
        if source.name in seen:
            raise ProjectError(f"two snapshots are named '{source.name}': {seen[source.name]} and {source.path}; rename one")
        seen[source.name] = source.path
    return found


def block_body(block: Block) -> str:
    """The SQL between ``{% snapshot %}`` and ``{% endsnapshot %}``, its lines where they are in the file."""
    source = block.source
    start = source.index("%}", source.index("{%", len(source) - len(source.lstrip("\n")))) + 2
    end = source.rindex("{%")
    return source[:start].count("\n") * "\n" + source[start:end]


def add_snapshot(loader: ProjectLoader, source: SnapshotSource) -> None:
    """Parse one snapshot into a node of the project (its config, refs and relation)."""
    project = loader.project
    owner = source.owner
    keys = project.layout.config_keys(owner, list(source.folders), source.name)
    patch = project.properties.snapshots.get(source.name) or Patch(name=source.name, path="")
    config = loader.node_config("snapshots", {"materialized": "snapshot"}, keys, owner)
    config = merge_config(config, patch.config)
    frame = Frame(source.name, source.path, "snapshot", config, "parse", package=owner.name)
    project.renderer.render(source.raw_code, frame)
    if frame.config.get("enabled") is False:
        return
    depends = [project.ref_id(r) for r in frame.refs]
    depends += [project.sources[s].unique_id for s in frame.sources]
    project.register(
        Node(
            unique_id=f"snapshot.{owner.name}.{source.name}",
            name=source.name,
            resource_type="snapshot",
            path=source.path,
            raw_code=source.raw_code,
            config=frame.config,
            relation=snapshot_relation(project, frame),
            depends_on=tuple(dict.fromkeys(depends)),
            description=patch.description,
            columns=patch.columns,
            fqn=(owner.name, *source.folders, source.name),
            patch_path=patch.path or None,
            refs=tuple(frame.refs),
            sources=tuple(frame.sources),
        )
    )


def snapshot_relation(project, frame: Frame) -> Relation:
    """``target_schema`` as written when set (dbt's legacy form), else the schema a model would get."""
    relation = project.resolver.this(frame)
    target_schema = frame.config.get("target_schema")
    return Relation(str(target_schema), relation.identifier) if target_schema else relation

