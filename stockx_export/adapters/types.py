"""Column types across engines, spoken in DuckDB's vocabulary.

Models, property files, contracts and unit-test fixtures declare types as DuckDB
names them (``varchar``, ``bigint``, ``timestamp``), and the export checks
DuckDB types. So every adapter reports a column's type in that vocabulary
(``text`` in Postgres and ``string`` in Spark are both ``VARCHAR``), and writes a
declared type into its own DDL through :func:`ddl_type`. A contract then means
the same on every target, and "type for type" compares across engines.
"""

from __future__ import annotations

import functools
import re
import threading

# Postgres type OIDs (pg_type.oid, fixed by the server) -> DuckDB's name.
POSTGRES_OIDS = {
    16: "BOOLEAN",
    17: "BLOB",
    20: "BIGINT",
    21: "SMALLINT",
    23: "INTEGER",
    25: "VARCHAR",
    114: "JSON",
    700: "FLOAT",
    701: "DOUBLE",
    1042: "VARCHAR",
    1043: "VARCHAR",
    1082: "DATE",
    1083: "TIME",
    1114: "TIMESTAMP",
    1184: "TIMESTAMP WITH TIME ZONE",
    1186: "INTERVAL",
    1700: "DECIMAL",
    2950: "UUID",
    3802: "JSON",
}
# Spark's simple type strings -> DuckDB's name.
SPARK_TYPES = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp_ntz": "TIMESTAMP",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "binary": "BLOB",
    "void": "VARCHAR",  # an untyped NULL column
}
# DuckDB types the other engines have no name for, and the exact type that holds them.
WIDER = {"HUGEINT": "DECIMAL(38,0)", "UBIGINT": "DECIMAL(20,0)", "UINTEGER": "BIGINT", "USMALLINT": "INTEGER",
         "UTINYINT": "SMALLINT"}
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$", re.I)


_TYPES_LOCK = threading.Lock()


@functools.cache
def _types_connection():
    from stockx_export import db

    return db.connect(":memory:")


@functools.cache
def canonical(declared: str) -> str:
    """DuckDB's own name for a declared type (``int4`` -> ``INTEGER``); ValueError when DuckDB has none."""
    from stockx_export.db import database_error_types, first_line

    try:
        with _TYPES_LOCK:  # one DuckDB connection for the process: a parallel run's workers take turns on it
            return _types_connection().execute(f"select typeof(cast(null as {declared}))").fetchone()[0]
    except database_error_types() as exc:
        raise ValueError(first_line(str(exc))) from None


def ddl_type(declared: str, dialect: str) -> str:
    """A type declared in DuckDB's vocabulary, as ``dialect``'s DDL writes it (``VARCHAR`` -> ``STRING`` in Spark)."""
    from sqlglot import exp

    try:
        name = canonical(declared)
    except ValueError:
        name = declared  # not a DuckDB type: the target may know it (its error then names it)
    name = WIDER.get(name.upper(), name)
    return exp.DataType.build(name, dialect="duckdb").sql(dialect)


def from_postgres(oid: int, precision: int | None = None, scale: int | None = None) -> str:
    """The DuckDB name of a Postgres column type (``numeric(p, s)`` keeps its precision and scale)."""
    name = POSTGRES_OIDS.get(oid)
    if name is None:
        return f"UNKNOWN({oid})"
    if name == "DECIMAL":
        return f"DECIMAL({precision},{scale})" if precision is not None else "DECIMAL"
    return name


def from_spark(simple: str) -> str:
    """The DuckDB name of a Spark type string (``decimal(10,2)`` -> ``DECIMAL(10,2)``)."""
    found = _DECIMAL.match(simple)
    if found:
        return f"DECIMAL({found.group(1)},{found.group(2)})"
    return SPARK_TYPES.get(simple.lower(), simple.upper())
