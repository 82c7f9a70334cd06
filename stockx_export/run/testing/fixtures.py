"""Unit test rows as typed tables in the run's scratch database.

Rows come as a YAML list of mappings (``format: dict``, the default), as CSV
text (``format: csv``; an empty field is NULL) or as a query (``format: sql``);
CSV and SQL may instead live in a file named by ``fixture:``, found under a
``fixtures/`` folder of a test path (``tests/fixtures/orders.csv`` for dbt's layout).
A given input's table has the columns its upstream declares in YAML (with
their ``data_type``) plus any others the rows name; a column without a
declared type takes one inferred from its values. Every value is cast to its
column's type, so ``"2026-11-20"`` becomes a DATE where a DATE is declared.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockx_export.db import first_line
from stockx_export.errors import ProjectError

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Rows:
    """Rows as written: mappings in order, or a query (``format: sql``)."""

    rows: tuple[dict[str, Any], ...] = ()
    sql: str | None = None
    from_csv: bool = False

    @property
    def columns(self) -> list[str]:
        """Every column the rows name, in first-use order."""
        return list(dict.fromkeys(k for row in self.rows for k in row))


def find_fixture(name: str, fmt: str, folders: list[Path], where: str) -> str:
    """The text of fixture file ``name`` (.csv or .sql by ``fmt``) from the first folder holding it."""
    if fmt not in ("csv", "sql"):
        raise ProjectError(f"{where}: fixture files need format: csv or format: sql")
    for folder in folders:
        found = sorted(folder.rglob(f"{name}.{fmt}")) if folder.is_dir() else []
        if found:
            return found[0].read_text(encoding="utf-8")
    searched = ", ".join(str(f) for f in folders) or "no fixtures folder"
    raise ProjectError(f"{where}: fixture '{name}.{fmt}' not found (looked in {searched})")


def read_rows(spec: dict[str, Any], where: str, fixture_folders: list[Path] = ()) -> Rows:
    """The rows of one ``given`` item or of ``expect``."""
    fmt = str(spec.get("format") or "dict").lower()
    rows = spec.get("rows")
    if spec.get("fixture"):
        rows = find_fixture(str(spec["fixture"]), fmt, list(fixture_folders), where)
    if fmt == "dict":
        rows = rows or []
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ProjectError(f"{where}: rows must be a list of mappings like `- {{id: 1, name: a}}` (or set format: csv)")
        return Rows(tuple({str(k): v for k, v in r.items()} for r in rows))
    if fmt == "csv":
        if not isinstance(rows, str):
            raise ProjectError(f"{where}: with format: csv, rows must be CSV text under `rows: |`")
        reader = csv.DictReader(io.StringIO(rows.strip("\n")))
        parsed = tuple({k.strip(): (v if v != "" else None) for k, v in r.items()} for r in reader)
        return Rows(parsed, from_csv=True)
    if fmt == "sql":
        if not isinstance(rows, str) or not rows.strip():
            raise ProjectError(f"{where}: with format: sql, rows must be a query")
        return Rows(sql=rows.strip().rstrip(";"))
    raise ProjectError(f"{where}: format must be dict, csv or sql, got {fmt!r}")


def infer_type(values: list[Any], from_csv: bool) -> str:
    """A DuckDB type for a column nobody declared, from its values."""
    present = [v for v in values if v is not None]
    if from_csv:
        if present and all(_INT.match(v) for v in present):
            return "BIGINT"
        if present and all(_FLOAT.match(v) for v in present):
            return "DOUBLE"
        if present and all(v.lower() in ("true", "false") for v in present):
            return "BOOLEAN"
        return "VARCHAR"
    kinds = {type(v) for v in present}
    if not kinds:
        return "VARCHAR"
    if kinds == {bool}:
        return "BOOLEAN"
    if kinds <= {int}:
        return "BIGINT"
    if kinds <= {int, float, decimal.Decimal}:
        return "DOUBLE"
    if kinds == {datetime.date}:
        return "DATE"
    if kinds <= {datetime.datetime, datetime.date}:
        return "TIMESTAMP"
    return "VARCHAR"


def load_table(adapter, table: str, columns: list[tuple[str, str]], rows: Rows, where: str) -> None:
    """Create ``table`` with ``columns`` (name, type) and insert ``rows``, each value cast to its type."""
    if rows.sql is not None:
        adapter.create_table_as(table, rows.sql)
        return
    adapter.create_table(table, columns)
    values = [[row.get(name) for name, _ in columns] for row in rows.rows]
    failed = adapter.insert_rows(table, columns, values)
    if failed is not None:
        number, message = failed
        raise ProjectError(f"{where}, row {number}: {first_line(message)}")


def given_columns(declared: list[tuple[str, str | None]], rows: Rows) -> list[tuple[str, str]]:
    """The columns of a given input's table: declared ones first, then the others the rows name."""
    names = [n for n, _ in declared] + [c for c in rows.columns if c not in {n for n, _ in declared}]
    types = dict(declared)
    columns = []
    for name in names:
        data_type = types.get(name)
        if not data_type:
            data_type = infer_type([r.get(name) for r in rows.rows], rows.from_csv)
        columns.append((name, str(data_type)))
    return columns
