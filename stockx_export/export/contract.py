"""The Peak resources stockx can export, column by column, in contract order.

The order of ``Resource.columns`` is the order of the keys in every payload row
and the order the built table's columns must have: the primary key, then the
other standard columns alphabetically (as on stock_extra's resource page), then
the custom attributes a model declares (:meth:`Resource.with_attributes`).
Source of truth: ``shared/peak-api/README.md`` (the stock_extra resource page
and its sibling resources: stock, product, product_category, location).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One attribute of a Peak resource and the DuckDB types that may carry it."""

    name: str
    peak_type: str  # "string" | "date" | "timestamp" | "integer" | "float" | "boolean"
    nullable: bool
    primary_key: bool
    duckdb_types: tuple[str, ...]
    attribute: bool = False  # a custom attribute (``meta.peak.attributes``), not a standard column

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

    def with_attributes(self, columns: tuple[Column, ...]) -> "Resource":
        """This resource with custom attribute ``columns`` after its standard ones."""
        return Resource(self.object_name, self.columns + tuple(columns)) if columns else self


_STRING = ("VARCHAR",)
_DATE = ("DATE",)
_TIMESTAMP = ("TIMESTAMP",)
_INTEGER = ("INTEGER", "BIGINT")


def _key(name: str, peak_type: str = "string") -> Column:
    return Column(name, peak_type, nullable=False, primary_key=True,
                  duckdb_types=_DATE if peak_type == "date" else _STRING)


def _string(name: str, nullable: bool = True) -> Column:
    return Column(name, "string", nullable=nullable, primary_key=False, duckdb_types=_STRING)


def _timestamp(name: str) -> Column:
    return Column(name, "timestamp", nullable=True, primary_key=False, duckdb_types=_TIMESTAMP)


STOCK_EXTRA = Resource(
    object_name="STOCK_EXTRA",
    columns=(
        _key("product_id"),
        _key("location_id"),
        _key("product_variant"),
        _key("stock_date_at", "date"),
        _timestamp("created_at"),
        _string("stock_id"),
        Column("stock_units", "integer", nullable=False, primary_key=False, duckdb_types=_INTEGER),
        _timestamp("updated_at"),
    ),
)

# stock_extra "mirrors the structure of stock but adds product_variant to the primary key".
STOCK = Resource(
    object_name="STOCK",
    columns=tuple(c for c in STOCK_EXTRA.columns if c.name != "product_variant"),
)

PRODUCT = Resource(
    object_name="PRODUCT",
    columns=(
        _key("product_id"),
        _timestamp("created_at"),
        _string("description", nullable=False),
        _string("lowest_product_category_id", nullable=False),
        _string("name", nullable=False),
        _timestamp("updated_at"),
    ),
)

# The older resource page marks all but the key optional; the newer one adds no "not null" here.
PRODUCT_CATEGORY = Resource(
    object_name="PRODUCT_CATEGORY",
    columns=(
        _key("product_category_id"),
        _timestamp("created_at"),
        _string("metadata"),
        _string("name"),
        _string("parent_product_category_id"),
        _timestamp("updated_at"),
    ),
)

LOCATION = Resource(
    object_name="LOCATION",
    columns=(
        _key("location_id"),
        _string("country", nullable=False),
        _timestamp("created_at"),
        _string("currency"),
        _string("name"),
        _string("region"),
        _timestamp("updated_at"),
    ),
)

# Peak object name -> resource; the model's settings name the object to export.
RESOURCES: dict[str, Resource] = {r.object_name: r for r in (STOCK_EXTRA, STOCK, PRODUCT, PRODUCT_CATEGORY, LOCATION)}

# A custom attribute's Peak type -> the DuckDB types a model's column may have for it
# (and the type word stockx serializes it as: datetime is sent like a timestamp).
ATTRIBUTE_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "string": ("string", _STRING),
    "integer": ("integer", _INTEGER),
    "float": ("float", ("DOUBLE", "FLOAT", "INTEGER", "BIGINT")),
    "boolean": ("boolean", ("BOOLEAN",)),
    "datetime": ("timestamp", _TIMESTAMP),
    "date": ("date", _DATE),
}
