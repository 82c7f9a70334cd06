"""dbt's ``api`` object as templates see it: ``api.Relation`` and ``api.Column``.

Packages (dbt_utils above all) build relations (``api.Relation.create``) and
read columns (``adapter.get_columns_in_relation`` returns :class:`Column`
objects) the way dbt's adapters define them. The classes follow dbt-adapters'
``Column`` and dbt-duckdb's ``DuckDBColumn`` attribute for attribute, so a
macro that asks ``col.is_string()`` or casts to ``col.data_type`` writes the
same SQL as under dbt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from stockx_export.db import Relation
from stockx_export.errors import CompilationError

_TYPE_WITH_SIZE = re.compile(r"([^(]+)(\([^)]+\))?")


@dataclass(frozen=True)
class Column:
    """A column of a relation: dbt's ``Column`` (``name``, ``data_type``, ``quoted``, ``is_string()`` ...)."""

    TYPE_LABELS: ClassVar[dict[str, str]] = {"STRING": "TEXT"}

    column: str
    dtype: str
    char_size: int | None = None
    numeric_precision: Any = None
    numeric_scale: Any = None

    @classmethod
    def translate_type(cls, dtype: str) -> str:
        return cls.TYPE_LABELS.get(dtype.upper(), dtype)

    @classmethod
    def create(cls, name: str, label_or_dtype: str) -> Column:
        return cls(name, cls.translate_type(label_or_dtype))

    @classmethod
    def from_description(cls, name: str, raw_data_type: str) -> Column:
        """A column from a type as the database describes it: ``DECIMAL(18,3)``, ``VARCHAR(10)``."""
        match = _TYPE_WITH_SIZE.match(raw_data_type)
        if match is None:
            raise CompilationError(f'could not interpret data type "{raw_data_type}"')
        size, precision, scale = None, None, None
        if match.group(2):
            parts = match.group(2)[1:-1].split(",")
            try:
                if len(parts) == 1:
                    size = int(parts[0])
                elif len(parts) == 2:
                    precision, scale = int(parts[0]), int(parts[1])
            except ValueError:
                pass  # a type whose arguments are not numbers (STRUCT(...)): kept whole in dtype
        return cls(name, raw_data_type, size, precision, scale)

    @property
    def name(self) -> str:
        return self.column

    @property
    def quoted(self) -> str:
        return f'"{self.column}"'

    @property
    def data_type(self) -> str:
        if self.is_string():
            return self.string_type(self.string_size())
        if self.is_numeric():
            return self.numeric_type(self.dtype, self.numeric_precision, self.numeric_scale)
        return self.dtype

    @property
    def expanded_data_type(self) -> str:
        return self.data_type

    def is_string(self) -> bool:
        return self.dtype.lower() in ("text", "character varying", "character", "varchar")

    def is_number(self) -> bool:
        return self.is_integer() or self.is_numeric() or self.is_float()

    def is_float(self) -> bool:
        return self.dtype.lower() in ("real", "float4", "float", "double precision", "float8", "double")

    def is_integer(self) -> bool:
        return self.dtype.lower() in (
            "smallint", "integer", "bigint", "smallserial", "serial", "bigserial",
            "int2", "int4", "int8", "serial2", "serial4", "serial8",
        )

    def is_numeric(self) -> bool:
        return self.dtype.lower() in ("numeric", "decimal")

    def string_size(self) -> int:
        if not self.is_string():
            raise CompilationError("called string_size() on a column that is not a string")
        if self.dtype == "text" or self.char_size is None:
            return 256
        return int(self.char_size)

    def can_expand_to(self, other: Column) -> bool:
        if not self.is_string() or not other.is_string():
            return False
        return other.string_size() > self.string_size()

    def literal(self, value: Any) -> str:
        return f"{value}::{self.data_type}"

    @classmethod
    def string_type(cls, size: int) -> str:
        return f"character varying({size})"

    @classmethod
    def numeric_type(cls, dtype: str, precision: Any, scale: Any) -> str:
        if precision is None or scale is None:
            return dtype
        return f"{dtype}({precision},{scale})"

    def __str__(self) -> str:
        return f"<Column {self.name} ({self.data_type})>"


@dataclass(frozen=True)
class DuckDBColumn(Column):
    """dbt-duckdb's column: DuckDB's own names for floats and integers."""

    def is_float(self) -> bool:
        return self.dtype.lower() in ("real", "float", "float4", "float8", "double")

    def is_integer(self) -> bool:
        return self.dtype.lower() in (
            "tinyint", "smallint", "integer", "bigint", "hugeint",
            "utinyint", "usmallint", "uinteger", "ubigint",
            "int1", "int2", "int4", "int8", "short", "int", "signed", "long",
        )


# The column class of each target type; any other type gets dbt's base class.
COLUMN_CLASSES: dict[str, type[Column]] = {"duckdb": DuckDBColumn}


def column_class(target_type: str) -> type[Column]:
    return COLUMN_CLASSES.get(target_type, Column)


class RelationFactory:
    """``api.Relation``: ``create(database=, schema=, identifier=, type=)`` and the ephemeral prefix."""

    def __init__(self, quote_all: bool, cte_prefix: str) -> None:
        self._quote_all = quote_all
        self._cte_prefix = cte_prefix

    def create(self, database: str | None = None, schema: str | None = None, identifier: str | None = None,
               type: str | None = None, **_: Any) -> Relation:
        return Relation(schema or "", identifier or "", database or None, type, self._quote_all)

    def add_ephemeral_prefix(self, name: str) -> str:
        return f"{self._cte_prefix}{name}"


@dataclass(frozen=True)
class Api:
    """``api`` in templates."""

    Relation: RelationFactory
    Column: type[Column]
