"""One generic test entry of a property file, read into what it names, passes and configures.

The forms dbt accepts are all read::

    - not_null                                   # a bare name
    - accepted_values: {values: [a, b]}          # arguments at the top level (dbt < 1.10)
    - accepted_values:                           # arguments under `arguments:` (dbt 1.10)
        arguments: {values: [a, b]}
        config: {severity: warn, where: "x > 0"}
    - dbt_utils.unique_combination_of_columns:   # a namespaced name
        combination_of_columns: [a, b]
    - name: my_check                             # a custom test name
      test_name: not_null
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stockx_export.errors import ProjectError

# Keys that configure a test rather than pass an argument to it (dbt also allows them at the top level).
CONFIG_KEYS = frozenset(
    {
        "severity",
        "tags",
        "enabled",
        "where",
        "limit",
        "warn_if",
        "error_if",
        "fail_calc",
        "store_failures",
        "store_failures_as",
        "meta",
        "alias",
        "schema",
        "database",
    }
)


@dataclass(frozen=True)
class GenericTestSpec:
    """A generic test as declared: ``test_type`` names the ``{% test %}`` block."""

    test_type: str
    namespace: str | None
    args: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    name: str | None = None  # a name given in YAML replaces the synthesised one
    description: str = ""

    @property
    def qualified(self) -> str:
        """The name as written: ``not_null`` or ``dbt_utils.unique_combination_of_columns``."""
        return f"{self.namespace}.{self.test_type}" if self.namespace else self.test_type


def read_spec(entry: Any, where: str) -> GenericTestSpec:
    """Read one item of a ``data_tests:`` list; ``where`` names it in errors."""
    if isinstance(entry, str):
        test, body = entry, {}
    elif isinstance(entry, dict) and "test_name" in entry:
        body = {k: v for k, v in entry.items() if k != "test_name"}
        test = entry["test_name"]
    elif isinstance(entry, dict) and len(entry) == 1:
        test, body = next(iter(entry.items()))
        body = body if body is not None else {}
    else:
        raise ProjectError(
            f"{where}: cannot read test {entry!r}: write a test name (`- not_null`) or "
            "one name mapped to its arguments (`- accepted_values: {values: [a, b]}`)"
        )
    if not isinstance(test, str) or not test.strip():
        raise ProjectError(f"{where}: a test needs a name, got {test!r}")
    if not isinstance(body, dict):
        raise ProjectError(f"{where}: the arguments of test '{test}' must be a mapping, got {body!r}")
    body = dict(body)
    config = dict(body.pop("config", None) or {})
    arguments = body.pop("arguments", None)
    name = body.pop("name", None)
    description = str(body.pop("description", "") or "")
    for key in sorted(CONFIG_KEYS & set(body)):
        config.setdefault(key, body.pop(key))
    if arguments is not None:
        if not isinstance(arguments, dict):
            raise ProjectError(f"{where}: 'arguments' of test '{test}' must be a mapping, got {arguments!r}")
        body = {**body, **arguments}
    namespace, _, test_type = test.strip().rpartition(".")
    return GenericTestSpec(
        test_type=test_type,
        namespace=namespace or None,
        args=body,
        config=config,
        name=str(name) if name else None,
        description=description,
    )
