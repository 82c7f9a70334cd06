"""The parsed things of a project: models, seeds, sources and their columns.

Nodes are frozen: parsing produces them once, and later stages only read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stockx_export.db import Relation


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str | None = None
    description: str = ""
    constraints: tuple[str, ...] = ()
    tests: tuple[Any, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Node:
    """A model or a seed: something stockx builds into a relation."""

    unique_id: str
    name: str
    resource_type: str  # "model" | "seed" | "test" | "unit_test" | "operation"
    path: str  # relative to the project root, e.g. models/marts/stock_extra.sql
    raw_code: str
    config: dict[str, Any]
    relation: Relation | None
    depends_on: tuple[str, ...] = ()
    description: str = ""
    columns: tuple[Column, ...] = ()
    fqn: tuple[str, ...] = ()
    patch_path: str | None = None
    # refs as written (name) and sources as (source, table), in first-use order
    refs: tuple[str, ...] = ()
    sources: tuple[tuple[str, str], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def package_name(self) -> str:
        """The project or package the node belongs to (the second part of its unique id)."""
        return self.unique_id.split(".")[1]

    @property
    def materialized(self) -> str:
        return str(self.config.get("materialized", "view"))

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(self.config.get("tags", ()))

    @property
    def meta(self) -> dict[str, Any]:
        return self.config.get("meta", {})

    @property
    def enforced_contract(self) -> bool:
        """``contract: {enforced: true}``: the output must match the declared columns (stockx_export.run.testing.contracts)."""
        contract = self.config.get("contract")
        return isinstance(contract, dict) and contract.get("enforced") is True

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class SourceTable:
    """One table of a ``sources:`` entry in a property file."""

    unique_id: str
    source_name: str
    name: str
    schema: str
    identifier: str
    path: str  # the property file that declares it
    external_location: str = ""
    description: str = ""
    columns: tuple[Column, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    tests: tuple[Any, ...] = ()

    @property
    def relation(self) -> Relation:
        return Relation(self.schema, self.identifier)
