"""Database adapters, one per kind of target, named by the target's ``type`` (see ``base``).

Each adapter module imports its driver (psycopg, pyspark) only when it connects,
so naming them here costs nothing and a missing driver is reported when used.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from stockx_export.adapters.base import Adapter
from stockx_export.adapters.duckdb import DuckDBAdapter
from stockx_export.adapters.postgres import PostgresAdapter
from stockx_export.adapters.spark import SparkAdapter
from stockx_export.core.config import TargetConfig
from stockx_export.errors import ProjectError

ADAPTERS: Mapping[str, type[Adapter]] = MappingProxyType(
    {adapter.type: adapter for adapter in (DuckDBAdapter, PostgresAdapter, SparkAdapter)}
)


def adapter_class(target: TargetConfig) -> type[Adapter]:
    """The adapter for ``target``'s type; a ProjectError naming the target when stockx has none."""
    found = ADAPTERS.get(target.type)
    if found is None:
        where = f"{target.origin}: " if target.origin else ""
        raise ProjectError(
            f"{where}target type '{target.type}' is not supported; stockx builds on {', '.join(sorted(ADAPTERS))}"
        )
    return found


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
