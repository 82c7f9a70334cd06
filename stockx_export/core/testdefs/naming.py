"""dbt's names for generic tests, so unique ids match a dbt manifest of the same project.

A generic test is named ``<test>_<model>_<flattened arguments>`` (``not_null_stock_extra_product_id``);
a name of 64 characters or more is shortened to its first 30 characters and an md5 for the
compiled file. The unique id ends with 10 hex digits of an md5 over the name and the test's
metadata, computed exactly as dbt does.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

MAX_NAME = 64


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def generic_test_names(test_type: str, target_name: str, args: dict[str, Any]) -> tuple[str, str]:
    """(short name for the compiled file, full name) of a generic test, as dbt synthesises them."""
    flat: list[str] = []
    for key in sorted(args):
        if key == "model":
            continue
        value = args[key]
        parts = list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, (list, tuple)) else [value]
        flat.extend(str(part) for part in parts)
    unique = "__".join(re.sub("[^0-9a-zA-Z_]+", "_", part) for part in flat)
    identifier = f"{test_type}_{target_name}"
    full = f"{identifier}_{unique}"
    if len(full) >= MAX_NAME:
        return f"{identifier[:30]}_{md5(full)}", full
    return full, full


def _hashable(value: Any) -> Any:
    if type(value) is dict:
        return {k: _hashable(value[k]) for k in sorted(value)}
    if type(value) is list:
        return [_hashable(v) for v in value]
    return str(value)


def generic_test_hash(full_name: str, metadata: dict[str, Any]) -> str:
    """The 10 hex digits dbt appends to a generic test's unique id."""
    return md5(full_name + repr(_hashable(metadata)))[-10:]
