"""Objects a template sees besides ref/source/config: vars, target, exceptions, query results."""

from __future__ import annotations

import datetime
import itertools
import json
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from stockx_export.errors import CompilationError

MISSING = object()  # an argument not given (None may be a default someone gives)


class Var:
    """``var('name', default)``; a missing var without default is an error naming it."""

    def __init__(self, values: dict[str, Any], current: Callable[[], str]) -> None:
        self._values = values
        self._current = current

    @property
    def values(self) -> dict[str, Any]:
        return dict(self._values)

    @property
    def current(self) -> Callable[[], str]:
        return self._current

    def __call__(self, name: str, default: Any = MISSING) -> Any:
        if name in self._values:
            return self._values[name]
        if default is not MISSING:
            return default
        raise CompilationError(
            f"var('{name}') is not set and has no default: set it in [tool.stockx.vars] or pass "
            f"--vars '{{{name}: ...}}' (while rendering {self._current()})"
        )

    def has_var(self, name: str) -> bool:
        return name in self._values


def env_var(name: str, default: Any = MISSING) -> Any:
    if name in os.environ:
        return os.environ[name]
    if default is not MISSING:
        return default
    raise CompilationError(f"env_var('{name}') is not set in the environment and has no default")


class Exceptions:
    """``exceptions.raise_compiler_error(msg)`` and ``exceptions.warn(msg)``."""

    def __init__(self, warn: Callable[[str], None]) -> None:
        self._warn = warn

    @staticmethod
    def raise_compiler_error(message: str) -> None:
        raise CompilationError(str(message))

    def warn(self, message: str) -> str:
        self._warn(str(message))
        return ""

    def raise_not_implemented(self, message: str) -> None:
        raise CompilationError(f"not implemented: {message}")


class Target(dict):
    """``target``: reachable as ``target.name`` and ``target['name']``."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


class QueryColumn:
    def __init__(self, name: str, values: list[Any]) -> None:
        self.name = name
        self._values = values

    def values(self) -> tuple[Any, ...]:
        return tuple(self._values)

    def __iter__(self):
        return iter(self._values)


class QueryColumns(tuple):
    """A result's columns, by position and by name (``.items()``, ``['name']``), as agate's ``table.columns``."""

    def __getitem__(self, key):
        if isinstance(key, str):
            for column in self:
                if column.name == key:
                    return column
            raise KeyError(key)
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return [column.name for column in self]

    def values(self) -> list[QueryColumn]:
        return list(self)

    def items(self) -> list[tuple[str, QueryColumn]]:
        return [(column.name, column) for column in self]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


class QueryRow(tuple):
    """A result row reachable by position and by column name."""

    names: tuple[str, ...] = ()

    def __new__(cls, values, names):
        row = super().__new__(cls, values)
        row.names = names
        return row

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names.index(key))
        return tuple.__getitem__(self, key)

    def __getattr__(self, key: str) -> Any:
        if key in self.names:
            return self[key]
        raise AttributeError(key)


class QueryResult:
    """What ``run_query`` returns: enough of dbt's agate table for common macros."""

    def __init__(self, names: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.column_names = tuple(names)
        self.rows = [QueryRow(r, self.column_names) for r in rows]
        self.columns = QueryColumns(QueryColumn(n, [r[i] for r in rows]) for i, n in enumerate(names))

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def print_table(self, max_rows: int = 20, **_: Any) -> None:
        print(" | ".join(self.column_names), file=sys.stderr)
        for row in self.rows[:max_rows]:
            print(" | ".join(str(v) for v in row), file=sys.stderr)


class Modules:
    """``modules.datetime``, ``modules.re``, ``modules.itertools`` as in dbt."""

    datetime = datetime
    re = re
    itertools = itertools


def tojson(value: Any, sort_keys: bool = False) -> str:
    return json.dumps(value, sort_keys=sort_keys, default=str)


def fromjson(text: str, default: Any = None) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default


def toyaml(value: Any) -> str:
    import yaml

    return yaml.safe_dump(value, sort_keys=False)


def fromyaml(text: str, default: Any = None) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return default
