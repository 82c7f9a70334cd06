"""What a push has to send: every key of the table against the state, in one SQL join.

Each key of the table is

    new        never acknowledged by this destination
    changed    acknowledged, but the row's fingerprint differs now
    unchanged  acknowledged with this very fingerprint: not sent again
    rejected   refused last time it was sent: sent again, whatever its fingerprint

and each key acknowledged earlier but missing from the table is *gone*. A new,
changed or rejected row is *held* instead when one of its foreign keys names a
parent key Peak does not hold: the parent object's own destination never
acknowledged it, or refused it last (see :func:`hold_orphans`). Held rows are
not sent; a later plan sends them once the parent is acknowledged. Peak has
no delete operation; what a push does with gone keys is the object's gone-keys
policy:

    keep       (the default) nothing: reported on every plan, Peak keeps the last row it was sent
    zero       sent once as a row with the key, 0 in the object's units column (stock_units)
               and null in every other nullable column, so Peak's stock for that key reads 0;
               once that row is acknowledged the key is *zeroed* and not sent again
               (unless it comes back to the table: then it is changed)

Gone keys stay in the state either way, never silently forgotten.

The plan runs in DuckDB with the state database attached to the project
database; only the keys that are not unchanged are kept, in a temporary table
(key columns, key, status). The join carries keys and fingerprints only: the
row JSON is built again, when sending, for the planned rows alone (carrying
it through the join made a 10M-row plan four times slower).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from stockx_export.errors import ExportError
from stockx_export.export.contract import Resource
from stockx_export.export.serialize import BATCH_ROWS, key_order_sql, quote_identifier, row_json_sql
from stockx_export.sync.state import T, PlanCounts, acknowledged_keys_sql

PLAN_TABLE = "stockx_sync_plan"  # a temporary table of the planning connection
NEW, CHANGED, UNCHANGED, REJECTED, GONE, HELD = "new", "changed", "unchanged", "rejected", "gone", "held"
ZERO, ZEROED = "zero", "zeroed"  # gone keys under the zero policy: to send with 0 units, sent so before
# Peak object -> the column a gone key is sent with as 0 under the zero policy.
ZERO_COLUMNS = {"STOCK_EXTRA": "stock_units", "STOCK": "stock_units"}


@dataclass(frozen=True)
class ParentKey:
    """A foreign key of the planned table: ``column`` names a key of ``parent`` (a Peak
    object), which Peak holds when ``destination`` (its destination id) acknowledged it."""

    column: str
    parent: str
    destination: str
    # The parent's table, for a plan made before the parent is pushed in the same run:
    # its keys count as held by Peak (they are about to be sent).
    planned_from: str | None = None
    field: str | None = None


@dataclass(frozen=True)
class SyncPlan:
    """The counts of one plan; ``full`` sends every row of the table."""

    table_rows: int
    new: int
    changed: int
    unchanged: int
    rejected: int
    gone: int  # every gone key, the zero and zeroed ones included
    full: bool = False
    policy: str = "keep"  # the gone-keys policy
    zero: int = 0  # gone keys sent now with 0 units
    zeroed: int = 0  # gone keys whose zero row was acknowledged before
    dates: int = 0  # distinct dates of the rows Peak holds already (0: none, or no date key)
    held: int = 0  # rows not sent: a parent key Peak does not hold

    @property
    def on_peak(self) -> int:
        """Rows of the table Peak holds already: all but the new ones, those it refused, and held ones."""
        return self.table_rows - self.new - self.rejected - self.held

    @property
    def day(self) -> int | None:
        """One day of the table, as Peak holds it: :attr:`on_peak` rows per date (rounded up);
        None without a date key or such rows. New rows do not count, so a table that a
        broken build doubled does not double its own day."""
        return -(-self.on_peak // self.dates) if self.dates else None

    @property
    def mode(self) -> str:
        return "full" if self.full else "changes"

    @property
    def to_send(self) -> int:
        rows = self.table_rows if self.full else self.new + self.changed + self.rejected
        return rows + self.zero

    def counts(self) -> PlanCounts:
        return PlanCounts(self.mode, self.table_rows, self.new, self.changed, self.unchanged, self.rejected,
                          self.gone, self.to_send, self.held)


def date_column(resource: Resource) -> str | None:
    """The key column that dates a row (stock_date_at), or None when the key has none."""
    return next((c.name for c in resource.key if c.peak_type == "date"), None)


def key_text_sql(resource: Resource) -> str:
    """A SQL expression giving a row's key as a JSON array of the values as sent:
    ``["P1","L1","size:S","2025-01-28"]``. Independent of the payload's timestamp
    format, so a format change re-sends rows but never makes keys look new."""
    parts = []
    for column in resource.key:
        ident = quote_identifier(column.name)
        if column.peak_type == "string":
            parts.append(f"to_json({ident})")
        elif column.peak_type == "date":
            parts.append(f"""'"' || strftime({ident}, '%Y-%m-%d') || '"'""")
        elif column.peak_type == "timestamp":
            parts.append(f"""'"' || strftime({ident}, '%Y-%m-%dT%H:%M:%SZ') || '"'""")
        else:
            parts.append(f"CAST({ident} AS VARCHAR)")
    return "concat('[', " + ", ',', ".join(parts) + ", ']')"


def _rows_sql(relation: str, resource: Resource, strftime: str) -> str:
    """Key columns, key text, row JSON and its fingerprint for every row of ``relation``."""
    columns = ", ".join(quote_identifier(c.name) for c in resource.key)
    return (
        f"SELECT *, md5(row_json) AS fingerprint FROM ("
        f"SELECT {columns}, {key_text_sql(resource)} AS key, {row_json_sql(resource, strftime)} AS row_json "
        f"FROM {relation})"
    )


def compute_plan(con: Any, relation: str, resource: Resource, strftime: str, destination: str,
                 table_rows: int, full: bool = False, policy: str = "keep",
                 parents: Sequence[ParentKey] = ()) -> SyncPlan:
    """Classify every key (see module docstring); keep the keys to send, the held ones
    and the gone ones, in ``stockx_sync_plan``.

    ``table_rows`` is the table's row count (the preflight counted it), so the
    unchanged rows never need to be stored or counted. ``parents``: the table's
    foreign keys into other objects, whose missing parents hold rows back.
    """
    c_keys = ", ".join(f"c.{quote_identifier(c.name)}" for c in resource.key)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {PLAN_TABLE} AS
            WITH cur AS (SELECT * EXCLUDE (row_json) FROM ({_rows_sql(relation, resource, strftime)})),
            acked AS (SELECT key, fingerprint FROM {T}.acknowledged WHERE destination = $destination),
            refused AS (SELECT key FROM {T}.rejected WHERE destination = $destination),
            classified AS (
                SELECT coalesce(c.key, a.key) AS key, {c_keys},
                       CASE WHEN c.key IS NULL THEN '{GONE}'
                            WHEN r.key IS NOT NULL THEN '{REJECTED}'
                            WHEN a.key IS NULL THEN '{NEW}'
                            WHEN a.fingerprint <> c.fingerprint THEN '{CHANGED}'
                            ELSE '{UNCHANGED}' END AS status,
                       CASE WHEN c.key IS NULL THEN a.fingerprint END AS acked_fingerprint,
                       CAST(NULL AS VARCHAR) AS held_reason
                FROM cur c FULL OUTER JOIN acked a ON a.key = c.key
                LEFT JOIN refused r ON r.key = c.key)
            SELECT * FROM classified WHERE status <> '{UNCHANGED}'""",
        {"destination": destination},
    )
    if policy == "zero":
        _classify_gone(con, resource, strftime)
    if parents:
        hold_orphans(con, relation, resource, parents, full)
    counts = dict(con.execute(f"SELECT status, count(*) FROM {PLAN_TABLE} GROUP BY status").fetchall())
    new, changed, rejected = counts.get(NEW, 0), counts.get(CHANGED, 0), counts.get(REJECTED, 0)
    zero, zeroed, held = counts.get(ZERO, 0), counts.get(ZEROED, 0), counts.get(HELD, 0)
    unchanged = table_rows - new - changed - rejected - held
    day_column = date_column(resource)
    dates = 0
    if day_column is not None:
        on = " AND ".join(f"t.{quote_identifier(c.name)} = p.{quote_identifier(c.name)}" for c in resource.key)
        dates = con.execute(
            f"""SELECT count(DISTINCT t.{quote_identifier(day_column)}) FROM {relation} t
                WHERE NOT EXISTS (SELECT 1 FROM {PLAN_TABLE} p WHERE {on}
                                  AND p.status IN ('{NEW}', '{REJECTED}', '{HELD}'))"""
        ).fetchone()[0]
    return SyncPlan(table_rows, new, changed, unchanged, rejected, counts.get(GONE, 0) + zero + zeroed, full,
                    policy, zero, zeroed, dates, held)


def hold_orphans(con: Any, relation: str, resource: Resource, parents: Sequence[ParentKey], full: bool) -> None:
    """Mark as held, with the reason, each row to send whose foreign key (not null) names a
    parent key its parent's destination does not hold. With ``full`` every row of the
    table is to send, so an unchanged row with a missing parent is held too."""
    keys = [quote_identifier(c.name) for c in resource.key]
    joins, reasons = [], []
    for index, parent in enumerate(parents):
        column = quote_identifier(parent.column)
        alias = f"a{index}"
        known = acknowledged_keys_sql(parent.destination)
        if parent.planned_from is not None and parent.field is not None:
            known = (f"({known} UNION SELECT concat('[', to_json({quote_identifier(parent.field)}), ']') "
                     f"FROM {parent.planned_from})")
        joins.append(f"LEFT JOIN {known} {alias} ON {alias}.key = concat('[', to_json(t.{column}), ']')")
        name = parent.column.replace("'", "''")
        what = parent.parent.replace("'", "''")
        reasons.append(f"CASE WHEN t.{column} IS NOT NULL AND {alias}.key IS NULL THEN "
                       f"'{name} ' || to_json(t.{column}) || ' is not on Peak: {what} has not acknowledged it' END")
    statuses = f"'{NEW}', '{CHANGED}', '{REJECTED}'"
    if full:
        # Under --full every row is sent: unchanged rows are not in the plan table, so they are added.
        columns = ", ".join(f"t.{k}" for k in keys)
        con.execute(
            f"""INSERT INTO {PLAN_TABLE} (key, {", ".join(keys)}, status)
                SELECT c.key, {", ".join(f"c.{k}" for k in keys)}, '{UNCHANGED}' FROM (
                    SELECT {key_text_sql(resource)} AS key, {columns} FROM {relation} t) c
                WHERE c.key NOT IN (SELECT key FROM {PLAN_TABLE})""")
        statuses += f", '{UNCHANGED}'"
    con.execute(
        f"""UPDATE {PLAN_TABLE} AS p SET status = '{HELD}', held_reason = h.reason
            FROM (SELECT {", ".join(f"t.{k}" for k in keys)}, concat_ws('; ', {", ".join(reasons)}) AS reason
                  FROM {relation} t {" ".join(joins)}) AS h
            WHERE {" AND ".join(f"h.{k} = p.{k}" for k in keys)} AND p.status IN ({statuses}) AND h.reason <> ''""")
    if full:
        con.execute(f"DELETE FROM {PLAN_TABLE} WHERE status = '{UNCHANGED}'")


def held_rows(con: Any, relation: str, resource: Resource, strftime: str) -> list[tuple[str, str, str]]:
    """``(key, row JSON, reason)`` of the last plan's held rows, in key order."""
    keys = [quote_identifier(c.name) for c in resource.key]
    on = " AND ".join(f"t.{k} = p.{k}" for k in keys)
    rows = f"SELECT {', '.join(keys)}, {row_json_sql(resource, strftime)} AS row_json FROM {relation}"
    return con.execute(
        f"""SELECT p.key, t.row_json, p.held_reason
            FROM {PLAN_TABLE} p JOIN ({rows}) t ON {on} WHERE p.status = '{HELD}' ORDER BY p.key""").fetchall()


def zero_column(resource: Resource) -> str:
    """The column a gone key is sent with as 0; ExportError when the object has none."""
    column = ZERO_COLUMNS.get(resource.object_name)
    if column is None:
        raise ExportError(
            f"gone-keys \"zero\" needs a units column to set to 0, and Peak object {resource.object_name} has none "
            "stockx knows; set its gone-keys policy to \"keep\"")
    return column


def _zero_rows_sql(resource: Resource, strftime: str, statuses: tuple[str, ...]) -> str:
    """(key, fingerprint, row JSON) of the zero row of each planned gone key in ``statuses``.

    The key columns are read back from the key text the state holds, the units
    column is 0, every other column null; the key text is the state's own, so
    the row is recorded under the very key it was acknowledged as.
    """
    units = zero_column(resource)
    columns = []
    for index, column in enumerate(resource.columns):
        ident = quote_identifier(column.name)
        kind = column.duckdb_types[0]
        if column.primary_key:
            position = resource.key.index(column)
            columns.append(f"CAST(json_extract_string(key, '$[{position}]') AS {kind}) AS {ident}")
        elif column.name == units:
            columns.append(f"CAST(0 AS {kind}) AS {ident}")
        else:
            columns.append(f"CAST(NULL AS {kind}) AS {ident}")
    wanted = ", ".join(f"'{s}'" for s in statuses)
    rows = f"SELECT key, {', '.join(columns)} FROM {PLAN_TABLE} WHERE status IN ({wanted})"
    return (f"SELECT key, md5(row_json) AS fingerprint, row_json FROM ("
            f"SELECT *, {row_json_sql(resource, strftime)} AS row_json FROM ({rows}))")


def _classify_gone(con: Any, resource: Resource, strftime: str) -> None:
    """Under the zero policy: a gone key whose acknowledged row is its zero row is zeroed, the others zero."""
    con.execute(
        f"""UPDATE {PLAN_TABLE} AS p SET status = CASE WHEN z.fingerprint = p.acked_fingerprint
                                                       THEN '{ZEROED}' ELSE '{ZERO}' END
            FROM ({_zero_rows_sql(resource, strftime, (GONE,))}) AS z
            WHERE p.key = z.key AND p.status = '{GONE}'""")


def gone_keys(con: Any, limit: int) -> list[str]:
    """The first ``limit`` gone keys of the last plan, in key-text order."""
    return [k for (k,) in con.execute(
        f"SELECT key FROM {PLAN_TABLE} WHERE status IN ('{GONE}', '{ZERO}', '{ZEROED}') ORDER BY key LIMIT ?",
        [limit]).fetchall()]


def iter_send_rows(con: Any, relation: str, resource: Resource, strftime: str, full: bool,
                   batch_rows: int = BATCH_ROWS, zero: bool = False) -> Iterator[list[tuple[str, str, str]]]:
    """Batches of ``(key, fingerprint, row JSON)`` to send, in primary-key order
    (the export's order): the plan's new, changed and rejected rows, or with
    ``full`` every row of the table; with ``zero``, then the zero rows of the
    plan's gone keys, in key order too."""
    order = key_order_sql(resource)
    on = " AND ".join(f"t.{quote_identifier(c.name)} = p.{quote_identifier(c.name)}" for c in resource.key)
    # Every row but the held ones (a table without foreign keys has none).
    source = (f"(SELECT t.* FROM {relation} t WHERE NOT EXISTS "
              f"(SELECT 1 FROM {PLAN_TABLE} p WHERE {on} AND p.status = '{HELD}'))")
    if not full:
        # The planned rows only, joined on the key columns (a view has no rowid).
        on = " AND ".join(f"t.{quote_identifier(c.name)} = p.{quote_identifier(c.name)}" for c in resource.key)
        source = (f"(SELECT t.* FROM {relation} t JOIN {PLAN_TABLE} p ON {on} "
                  f"WHERE p.status IN ('{NEW}', '{CHANGED}', '{REJECTED}'))")
    # The fingerprint is computed here, of the very text sent.
    queries = [f"SELECT key, fingerprint, row_json FROM ({_rows_sql(source, resource, strftime)}) ORDER BY {order}"]
    if zero:
        queries.append(f"SELECT key, fingerprint, row_json FROM ({_zero_rows_sql(resource, strftime, (ZERO,))}) "
                       "ORDER BY key")
    for query in queries:
        result = con.execute(query)
        while batch := result.fetchmany(batch_rows):
            yield batch
