"""Database adapters, one per kind of target, named by the target's ``type`` (see ``base``).

Each adapter module is imported when a target of its type is opened, and imports
its driver (psycopg, pyspark) only when it connects, so naming them here costs
nothing and a missing driver is reported when used.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from stockx_export.errors import ProjectError

if TYPE_CHECKING:
    from stockx_export.adapters.base import Adapter
    from stockx_export.core.config import TargetConfig

# A target's ``type`` -> the module and class of its adapter, imported when a target of that type is opened:
# a DuckDB build does not pay for importing the PostgreSQL and Spark adapters.
ADAPTERS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "duckdb": ("stockx_export.adapters.duckdb", "DuckDBAdapter"),
    "postgres": ("stockx_export.adapters.postgres", "PostgresAdapter"),
    "spark": ("stockx_export.adapters.spark", "SparkAdapter"),
})


def adapter_class(target: TargetConfig) -> type[Adapter]:
    """The adapter for ``target``'s type; a ProjectError naming the target when stockx has none."""
    found = ADAPTERS.get(target.type)
    if found is None:
        where = f"{target.origin}: " if target.origin else ""
        raise ProjectError(
            f"{where}target type '{target.type}' is not supported; stockx builds on {', '.join(sorted(ADAPTERS))}"
        )
    module, name = found
    return getattr(importlib.import_module(module), name)


def connect(target: TargetConfig, *, read_only: bool = False) -> Adapter:
    """The target's database, opened for a run."""
    return adapter_class(target).connect(target, read_only=read_only)


def export_database(target: TargetConfig, relation: str, order_by: tuple[str, ...], folder) -> str:
    """The DuckDB file in which the export reads ``relation`` of the target by name: the DuckDB
    database itself, or a local copy of the relation streamed in ``order_by`` order into ``folder``."""
    return adapter_class(target).export_database(target, relation, order_by, folder)


def for_reading(target: TargetConfig) -> Adapter:
    """The target's database read-only when it exists, else an empty one."""
    return adapter_class(target).for_reading(target)
