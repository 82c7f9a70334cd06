"""Seeds the way dbt-duckdb loads them: column types inferred as dbt does, values parsed by DuckDB.

dbt infers each column's type with agate (its own type tester: Integer, Number,
Date, DateTime, ISO DateTime, Boolean, Text, in that order of preference, with
the cells ``''`` and ``null`` counting as missing), maps the winner to SQL
(a number is ``integer`` unless some value has decimal places, then ``float8``),
creates the table with those types (``column_types`` win), and then dbt-duckdb
``COPY``s the file into it. So the values are parsed by DuckDB's CSV reader
(the adapter's ``seed_select`` given these types):
the text ``null`` stays text in a VARCHAR column and fails in a numeric one,
exactly as it does under dbt.
"""

from __future__ import annotations

import csv
import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from stockx_export.core.files import read_text
from stockx_export.errors import ProjectError

NULLS = ("null", "")
CURRENCY_SYMBOLS = "؋$ƒ៛¥₡₱£€¢﷼₪₩₭₮₦฿₤₫"  # agate's list, stripped from numbers


def _number(text: str) -> Decimal | None:
    """agate's Number.cast for a string: None for a missing value; ValueError if not a number."""
    d = text.strip()
    if d.lower() in NULLS:
        return None
    d = d.strip("%")
    sign = 1
    if d[:1] == "-":
        d, sign = d[1:], -1
    d = d.strip(CURRENCY_SYMBOLS).replace(",", "")
    try:
        return Decimal(d) * sign
    except (InvalidOperation, ValueError):
        raise ValueError(text) from None


def _decimal_places(value: Decimal) -> int:
    if value.is_nan() or value.is_infinite():
        return 0
    return max(0, -value.normalize().as_tuple().exponent)


def _strptime(fmt: str):
    def cast(text: str) -> None:
        d = text.strip()
        if d.lower() not in NULLS:
            datetime.datetime.strptime(d, fmt)

    return cast


def _iso_datetime(text: str) -> None:
    d = text.strip()
    if d.lower() in NULLS:
        return
    if d.count("T") != 1:  # isodate.parse_datetime splits date and time on the one 'T'
        raise ValueError(text)
    datetime.datetime.fromisoformat(d.replace("Z", "+00:00"))


def _boolean(text: str) -> None:
    d = text.replace(",", "").strip().lower()
    if d not in (*NULLS, "true", "false"):
        raise ValueError(text)


# (agate type, check) in dbt's order of preference; the SQL type comes from infer_types.
CHECKS = (
    ("number", _number),
    ("date", _strptime("%Y-%m-%d")),
    ("datetime", _strptime("%Y-%m-%d %H:%M:%S")),
    ("datetime", _iso_datetime),
    ("boolean", _boolean),
)
SQL_TYPES = {"date": "DATE", "datetime": "TIMESTAMP", "boolean": "BOOLEAN", "text": "VARCHAR"}


def read_rows(path: Path, delimiter: str) -> tuple[list[str], list[list[str]]]:
    text = read_text(path, path.name)  # drops a byte order mark
    rows = list(csv.reader(text.splitlines(keepends=True), delimiter=delimiter))
    if not rows:
        raise ProjectError(f"{path.name}: a seed needs a header row")
    return rows[0], rows[1:]


def column_type(values: list[str]) -> str:
    """The SQL type dbt-duckdb gives a seed column holding ``values``."""
    for kind, check in CHECKS:
        try:
            casts = [check(v) for v in values]
        except ValueError:
            continue
        if kind == "number":
            places = max((_decimal_places(v) for v in casts if v is not None), default=0)
            return "DOUBLE" if places else "INTEGER"
        return SQL_TYPES[kind]
    return "VARCHAR"


def infer_types(path: Path, config: dict[str, Any]) -> dict[str, str]:
    """Every column of the seed at ``path`` with its SQL type, in file order."""
    delimiter = str(config.get("delimiter") or ",")
    header, rows = read_rows(path, delimiter)
    overrides = {str(k): str(v) for k, v in (config.get("column_types") or {}).items()}
    types = {}
    for index, name in enumerate(header):
        if name in overrides:
            types[name] = overrides[name]
        else:
            types[name] = column_type([row[index] for row in rows if len(row) > index])
    return types
