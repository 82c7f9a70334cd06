"""Enforced model contracts: the built relation must have exactly the declared columns.

``config: {contract: {enforced: true}}`` plus a ``data_type`` on every column
of the model's property file. The check runs inside the build transaction,
after the new relation is built under a temporary name and before it replaces
the old one, so a mismatch rolls back and the previous relation stays intact.

Types are compared after the database itself resolves each declared type's aliases
(``int`` / ``int4`` / ``integer`` -> INTEGER, ``text`` / ``string`` -> VARCHAR,
``datetime`` -> TIMESTAMP, ``float8`` -> DOUBLE, ``numeric`` -> DECIMAL(18,3)).
Constraints ``not_null``, ``unique``, ``primary_key`` (not null and unique), on
a column or on the model over several columns, and model-level ``check``
expressions are checked in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stockx_export.core.nodes import Node
from stockx_export.errors import ContractError
from stockx_export.tables import plural

CHECKED_CONSTRAINTS = ("not_null", "unique", "primary_key")


def contract_differences(node: Node, actual: list[tuple[str, str]], canonical_type: Callable[[str], str]) -> list[str]:
    """Each way ``actual`` (name, database type) differs from the node's declared columns, in column order.

    ``canonical_type`` is the database's own name for a declared type (ValueError when it has none)."""
    declared = list(node.columns)
    problems = []
    for column in declared:
        if not column.data_type:
            problems.append(f"column {column.name} has no data_type in {node.patch_path or 'its property file'}")
    if problems:
        return problems
    expected_types = {}
    for column in declared:
        try:
            expected_types[column.name] = canonical_type(str(column.data_type))
        except ValueError as exc:
            problems.append(f"column {column.name}: data_type '{column.data_type}' is not a DuckDB type ({exc})")
    if problems:
        return problems
    actual_names = [name for name, _ in actual]
    actual_types = dict(actual)
    declared_names = [c.name for c in declared]
    for name in declared_names:
        if name not in actual_types:
            problems.append(f"column {name} is missing from the model's output")
    for name in actual_names:
        if name not in declared_names:
            problems.append(f"column {name} ({actual_types[name]}) is in the output but not in the contract")
    for column in declared:
        got = actual_types.get(column.name)
        if got is not None and got != expected_types[column.name]:
            problems.append(
                f"column {column.name}: contract says {column.data_type} ({expected_types[column.name]}), model gives {got}"
            )
    common_declared = [n for n in declared_names if n in actual_types]
    common_actual = [n for n in actual_names if n in expected_types]
    if common_declared != common_actual:
        problems.append(f"column order: contract says {', '.join(common_declared)}; model gives {', '.join(common_actual)}")
    return problems


@dataclass(frozen=True)
class Constraint:
    """One checked constraint: on a column (``constraints: [not_null]``) or on the model
    (``constraints: [{type: primary_key, columns: [a, b]}]``, ``{type: check, expression: ...}``)."""

    kind: str  # not_null | unique | primary_key | check
    columns: tuple[str, ...] = ()
    expression: str | None = None

    @property
    def label(self) -> str:
        if self.kind == "check":
            return f"constraint check ({self.expression})"
        return f"constraint {self.kind} ({', '.join(self.columns)})"


def constraints_of(node: Node, model_constraints: tuple[Any, ...] = ()) -> list[Constraint]:
    """The constraints stockx checks, column ones first; other kinds (foreign_key, custom) are not checked."""
    found = [
        Constraint(kind, (column.name,))
        for column in node.columns
        for kind in column.constraints
        if kind in CHECKED_CONSTRAINTS
    ]
    for raw in model_constraints:
        if not isinstance(raw, dict):
            continue
        kind = str(raw.get("type", ""))
        columns = tuple(str(c) for c in raw.get("columns") or ())
        if kind in CHECKED_CONSTRAINTS and columns:
            found.append(Constraint(kind, columns))
        elif kind == "check" and raw.get("expression"):
            found.append(Constraint(kind, columns, str(raw["expression"])))
    return found


def constraint_violations(adapter, constraints: list[Constraint], relation: str) -> list[str]:
    """Each constraint the rows of ``relation`` break, with how many rows or values break it."""
    problems = []
    for constraint in constraints:
        names = [adapter.quote(c) for c in constraint.columns]
        if constraint.kind in ("not_null", "primary_key"):
            nulls = _count(adapter, f"select count(*) from {relation} where {' or '.join(f'{n} is null' for n in names)}")
            if nulls:
                problems.append(f"{constraint.label}: {_rows(nulls)} a null")
        if constraint.kind in ("unique", "primary_key"):
            listed = ", ".join(names)
            repeated = _count(
                adapter, f"select count(*) from (select {listed} from {relation} group by {listed} having count(*) > 1)"
            )
            if repeated:
                repeats = "1 value appears" if repeated == 1 else f"{repeated} values appear"
                problems.append(f"{constraint.label}: {repeats} more than once")
        if constraint.kind == "check":
            failing = _count(adapter, f"select count(*) from {relation} where not ({constraint.expression})")
            if failing:
                problems.append(f"{constraint.label}: {'1 row fails' if failing == 1 else f'{failing} rows fail'} it")
    return problems


def _count(adapter, sql: str) -> int:
    return int(adapter.scalar(sql))


def _rows(count: int) -> str:
    return "1 row has" if count == 1 else f"{count} rows have"


def contract_check(node: Node, model_constraints: tuple[Any, ...] = ()) -> Callable[[Any, str], None] | None:
    """The check the adapter runs on ``node``'s new relation before it replaces the old one
    (None without an enforced contract).

    ``model_constraints`` are the model-level ``constraints:`` of its property file.
    """
    if node.resource_type != "model" or not node.enforced_contract:
        return None  # as in dbt, constraints are checked only under an enforced contract

    def check(adapter, relation: str) -> None:
        problems = contract_differences(node, adapter.columns(relation), adapter.canonical_type)
        if not problems:
            problems = constraint_violations(adapter, constraints_of(node, model_constraints), relation)
        if problems:
            listed = "\n".join(f"  - {p}" for p in problems)
            count = plural(len(problems), "problem")
            raise ContractError(
                f"contract of {node.name} not met ({count}); {node.relation} is left as it was:\n{listed}"
            )

    return check
