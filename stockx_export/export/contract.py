"""The Peak resources stockx can export, column by column, in contract order.

The order of ``Resource.columns`` is the order of the keys in every payload row
and the order the built table's columns must have. Source of truth:
``shared/peak-api/README.md`` (the stock_extra resource page).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One attribute of a Peak resource and the DuckDB types that may carry it."""

    name: str
    peak_type: str  # "string" | "date" | "timestamp" | "integer"
    nullable: bool
    primary_key: bool
    duckdb_types: tuple[str, ...]

    @property
    def expected_types(self) -> str:
        """The accepted DuckDB types, for messages: ``INTEGER or BIGINT``."""
        return " or ".join(self.duckdb_types)


@dataclass(frozen=True)
class Resource:
    """A Peak object: its name (``STOCK_EXTRA``) and its columns in contract order."""

    object_name: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def key(self) -> tuple[Column, ...]:
        """The primary-key columns, in contract order (the payload sort order)."""
        return tuple(c for c in self.columns if c.primary_key)

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.key)


_STRING = ("VARCHAR",)

STOCK_EXTRA = Resource(
    object_name="STOCK_EXTRA",
    columns=(
        Column("product_id", "string", nullable=False, primary_key=True, duckdb_types=_STRING),
        Column("location_id", "string", nullable=False, primary_key=True, duckdb_types=_STRING),
        Column("product_variant", "string", nullable=False, primary_key=True, duckdb_types=_STRING),
        Column("stock_date_at", "date", nullable=False, primary_key=True, duckdb_types=("DATE",)),
        Column("created_at", "timestamp", nullable=True, primary_key=False, duckdb_types=("TIMESTAMP",)),
        Column("stock_id", "string", nullable=True, primary_key=False, duckdb_types=_STRING),
        Column("stock_units", "integer", nullable=False, primary_key=False, duckdb_types=("INTEGER", "BIGINT")),
        Column("updated_at", "timestamp", nullable=True, primary_key=False, duckdb_types=("TIMESTAMP",)),
    ),
)

# Peak object name -> resource; the model's settings name the object to export.
RESOURCES: dict[str, Resource] = {STOCK_EXTRA.object_name: STOCK_EXTRA}
