"""The SQL of a snapshot, as dbt's global snapshot macros write it (dbt-adapters 1.24, snapshots/*.sql).

Pure functions from a :class:`~stockx_export.core.snapshots.SnapshotSpec` to SQL
text; the adapter (stockx_export.adapters.sql) runs them. What a database writes
its own way is passed in: ``quote`` (identifiers) and ``hash`` (the scd id of a
list of SQL expressions, dbt's ``snapshot_hash_arguments``), and the time
(``now``, dbt's ``snapshot_get_time()``, rendered from the project's macros).

- a first build: ``select *, <scd id>, <updated_at> as dbt_updated_at / dbt_valid_from,
  null (or dbt_valid_to_current) as dbt_valid_to [, 'False' as dbt_is_deleted] from (<query>)``;
- a later build: a staging query (``staging_sql``) sorting the query's rows into
  insertions (new keys, changed rows), updates (the current row of a changed key,
  closed at the change's time) and, with ``hard_deletes``, deletes (current rows
  whose key left the query, closed now) and deletion records (``new_record``: a
  row marking the key deleted); then the current rows of updates and deletes get
  their ``dbt_valid_to`` and the insertions are inserted (``merge_statements``).

The strategies decide what "changed" means: ``timestamp``, the query's
``updated_at`` is later than the current row's ``dbt_valid_from``; ``check``, a
checked column differs (null and a value differ; a column new to the query
changes every row), and ``updated_at`` is the snapshot's time unless configured.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from stockx_export.core.snapshots import SnapshotSpec

Quote = Callable[[str], str]
Hash = Callable[[Sequence[str]], str]
# Staging columns that are the snapshot's own bookkeeping, never inserted into the table.
STAGING_ONLY = ("dbt_change_type", "DBT_CHANGE_TYPE", "dbt_unique_key", "DBT_UNIQUE_KEY")


def updated_at(spec: SnapshotSpec, now: str) -> str:
    """The expression a row's dbt_updated_at / dbt_valid_from come from."""
    return spec.updated_at if spec.updated_at else now


def scd_id(spec: SnapshotSpec, now: str, hash: Hash) -> str:
    """dbt's scd id: the hash of the unique key and the updated-at expression."""
    return hash([*spec.unique_key, updated_at(spec, now)])


def valid_to_current(spec: SnapshotSpec, now: str) -> str:
    """A new row's valid-to: null (typed as updated_at) or dbt_valid_to_current."""
    updated = updated_at(spec, now)
    return f"coalesce(nullif({updated}, {updated}), {spec.valid_to_current or 'null'})"


def first_build_sql(spec: SnapshotSpec, sql: str, now: str, hash: Hash) -> str:
    """The query a snapshot's table is first created from (dbt's build_snapshot_table)."""
    c = spec.columns
    updated = updated_at(spec, now)
    deleted = f", 'False' as {c.is_deleted}" if spec.hard_deletes == "new_record" else ""
    return (
        f"select *,\n    {scd_id(spec, now, hash)} as {c.scd_id},\n    {updated} as {c.updated_at},\n"
        f"    {updated} as {c.valid_from},\n    {valid_to_current(spec, now)} as {c.valid_to}{deleted}\n"
        f"from (\n{sql}\n) sbq"
    )


def staging_only(spec: SnapshotSpec) -> tuple[str, ...]:
    """The staging table's columns that are not the snapshot table's (dbt's remove_columns)."""
    keys = [f"{prefix}_{i}" for i in range(1, len(spec.unique_key) + 1) for prefix in ("dbt_unique_key", "DBT_UNIQUE_KEY")]
    return (*STAGING_ONLY, *(keys if spec.composite else ()))


def _key_fields(spec: SnapshotSpec) -> str:
    if spec.composite:
        return " , ".join(f"{key} as dbt_unique_key_{i}" for i, key in enumerate(spec.unique_key, 1))
    return f"{spec.unique_key[0]} as dbt_unique_key"


def _key_join(spec: SnapshotSpec, left: str, right: str) -> str:
    if spec.composite:
        return " and ".join(
            f"({left}.dbt_unique_key_{i} = {right}.dbt_unique_key_{i})" for i in range(1, len(spec.unique_key) + 1)
        )
    return f"{left}.dbt_unique_key = {right}.dbt_unique_key"


def _key_is_null(spec: SnapshotSpec, alias: str, negate: bool = False) -> str:
    column = "dbt_unique_key_1" if spec.composite else "dbt_unique_key"
    return f"{alias}.{column} is {'not ' if negate else ''}null"


def _is_current(spec: SnapshotSpec, column: str) -> str:
    """SQL true for a current row: its valid-to is null, or dbt_valid_to_current."""
    if spec.valid_to_current:
        return f"(({column} = {spec.valid_to_current}) or {column} is null)"
    return f"{column} is null"


def _latest_is_deleted_marker(spec: SnapshotSpec) -> str:
    c = spec.columns
    current = (f"snapshotted_data.{c.valid_to} = {spec.valid_to_current}" if spec.valid_to_current
               else f"snapshotted_data.{c.valid_to} is null")
    return f"snapshotted_data.{c.is_deleted} = 'True' and {current}"


def row_changed(spec: SnapshotSpec, checked: Sequence[str], column_added: bool) -> str:
    """SQL true when the query's row (source_data) differs from the current one (snapshotted_data).

    ``checked`` are the check strategy's columns, quoted, that the table has; ``column_added``
    says the query has a column the table lacks (then every row changed, as in dbt).
    """
    c = spec.columns
    if spec.strategy == "timestamp":
        return f"(snapshotted_data.{c.valid_from} < source_data.{spec.updated_at})"
    if column_added:
        return "(TRUE)"
    differs = [
        f"snapshotted_data.{col} != source_data.{col} or ((snapshotted_data.{col} is null and not source_data.{col} is null)"
        f" or (not snapshotted_data.{col} is null and source_data.{col} is null))"
        for col in checked
    ]
    return "(" + " or ".join(differs) + ")" if differs else "(FALSE)"


def staging_sql(spec: SnapshotSpec, source_sql: str, target: str, now: str, hash: Hash, changed: str, quote: Quote,
                source_columns: Sequence[str] = (), target_columns: Sequence[str] = ()) -> str:
    """The rows a later build applies (dbt's snapshot_staging_table), each with its dbt_change_type.

    ``source_columns`` (the query's) and ``target_columns`` (the table's) are needed by
    ``hard_deletes: new_record`` only.
    """
    c = spec.columns
    updated = updated_at(spec, now)
    keys = _key_fields(spec)
    join = _key_join(spec, "snapshotted_data", "source_data")
    new_record = spec.hard_deletes == "new_record"
    with_deletes = spec.hard_deletes in ("invalidate", "new_record")
    revived = f" or snapshotted_data.{c.is_deleted} = 'True'" if new_record else ""
    parts = [
        f"with snapshot_query as (\n{source_sql}\n)",
        f"snapshotted_data as (\n    select *, {keys}\n    from {target}\n    where {_is_current(spec, c.valid_to)}\n)",
        f"insertions_source_data as (\n    select *, {keys},\n        {updated} as {c.updated_at},\n"
        f"        {updated} as {c.valid_from},\n        {valid_to_current(spec, now)} as {c.valid_to},\n"
        f"        {scd_id(spec, now, hash)} as {c.scd_id}\n    from snapshot_query\n)",
        f"updates_source_data as (\n    select *, {keys},\n        {updated} as {c.updated_at},\n"
        f"        {updated} as {c.valid_from},\n        {updated} as {c.valid_to}\n    from snapshot_query\n)",
    ]
    if with_deletes:
        parts.append(f"deletes_source_data as (\n    select *, {keys}\n    from snapshot_query\n)")
    parts.append(
        "insertions as (\n    select 'insert' as dbt_change_type, source_data.*"
        + (f", 'False' as {c.is_deleted}" if new_record else "")
        + f"\n    from insertions_source_data as source_data\n    left outer join snapshotted_data on {join}\n"
        f"    where {_key_is_null(spec, 'snapshotted_data')}\n"
        f"    or ({_key_is_null(spec, 'snapshotted_data', negate=True)} and ({changed}{revived}))\n)"
    )
    parts.append(
        f"updates as (\n    select 'update' as dbt_change_type, source_data.*, snapshotted_data.{c.scd_id}"
        + (f", snapshotted_data.{c.is_deleted}" if new_record else "")
        + f"\n    from updates_source_data as source_data\n    join snapshotted_data on {join}\n"
        f"    where ({changed}{revived})\n)"
    )
    if with_deletes:
        parts.append(
            f"deletes as (\n    select 'delete' as dbt_change_type, source_data.*,\n"
            f"        {now} as {c.valid_from},\n        {now} as {c.updated_at},\n        {now} as {c.valid_to},\n"
            f"        snapshotted_data.{c.scd_id}" + (f", snapshotted_data.{c.is_deleted}" if new_record else "")
            + f"\n    from snapshotted_data\n    left join deletes_source_data as source_data on {join}\n"
            f"    where {_key_is_null(spec, 'source_data')}"
            + (f"\n    and not ({_latest_is_deleted_marker(spec)})" if new_record else "") + "\n)"
        )
    if new_record:
        parts.append(_deletion_records(spec, now, hash, join, quote, source_columns, target_columns))
    unions = ["insertions", "updates", *(["deletes"] if with_deletes else []), *(["deletion_records"] if new_record else [])]
    return ",\n".join(parts) + "\n" + "\nunion all\n".join(f"select * from {name}" for name in unions)


def _deletion_records(spec: SnapshotSpec, now: str, hash: Hash, join: str, quote: Quote,
                      source_columns: Sequence[str], target_columns: Sequence[str]) -> str:
    """``new_record``: for each current row whose key left the query, a row saying it was deleted."""
    c = spec.columns
    values = [
        f"snapshotted_data.{quote(name)}" if name in target_columns else f"source_data.{quote(name)}"
        for name in source_columns
    ]
    if spec.composite:
        values += [f"snapshotted_data.{key} as dbt_unique_key_{i}" for i, key in enumerate(spec.unique_key, 1)]
    else:
        values.append("snapshotted_data.dbt_unique_key as dbt_unique_key")
    values += [
        f"{now} as {c.valid_from}",
        f"{now} as {c.updated_at}",
        f"snapshotted_data.{c.valid_to} as {c.valid_to}",
        f"{hash([c.scd_id, now])} as {c.scd_id}",
        f"'True' as {c.is_deleted}",
    ]
    return (
        "deletion_records as (\n    select 'insert' as dbt_change_type,\n        " + ",\n        ".join(values)
        + f"\n    from snapshotted_data\n    left join deletes_source_data as source_data on {join}\n"
        f"    where {_key_is_null(spec, 'source_data')}\n    and not ({_latest_is_deleted_marker(spec)})\n)"
    )


def merge_statements(spec: SnapshotSpec, target: str, staging: str, insert_columns: Sequence[str]) -> list[str]:
    """Close the current rows the staging table updates or deletes, then insert its insertions
    (dbt-duckdb's snapshot_merge_sql; dbt-postgres' is the same two statements)."""
    c = spec.columns
    listed = ", ".join(insert_columns)
    if spec.valid_to_current:
        current = (f"(DBT_INTERNAL_TARGET.{c.valid_to} = {spec.valid_to_current} "
                   f"or DBT_INTERNAL_TARGET.{c.valid_to} is null)")
    else:
        current = f"DBT_INTERNAL_TARGET.{c.valid_to} is null"
    return [
        f"update {target} as DBT_INTERNAL_TARGET\nset {c.valid_to} = DBT_INTERNAL_SOURCE.{c.valid_to}\n"
        f"from {staging} as DBT_INTERNAL_SOURCE\n"
        f"where cast(DBT_INTERNAL_SOURCE.{c.scd_id} as varchar) = cast(DBT_INTERNAL_TARGET.{c.scd_id} as varchar)\n"
        f"  and DBT_INTERNAL_SOURCE.dbt_change_type in ('update', 'delete')\n  and {current}",
        f"insert into {target} ({listed})\nselect "
        + ", ".join(f"DBT_INTERNAL_SOURCE.{col}" for col in insert_columns)
        + f"\nfrom {staging} as DBT_INTERNAL_SOURCE\nwhere DBT_INTERNAL_SOURCE.dbt_change_type = 'insert'",
    ]
