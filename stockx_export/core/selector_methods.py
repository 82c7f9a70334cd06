"""The ``method:value`` atoms of a selection, one small class each (as dbt's graph/selector_methods.py).

Each method is named by a :class:`MethodName` and maps to its class in
``METHODS``; ``search(value)`` returns the unique ids it matches. ``state:``
compares with a previous manifest, which the core does not read: the caller
passes a :class:`StateComparison` (stockx_export.analysis.state has one).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING

from stockx_export.errors import SelectionError

if TYPE_CHECKING:
    from stockx_export.core.project import Project

# state:<value> -> the unique ids in that state (modified, new...); raises SelectionError for an unknown value.
StateComparison = Callable[[str], set[str]]


class MethodName(str, Enum):
    FQN = "fqn"
    NAME = "name"
    TAG = "tag"
    PATH = "path"
    FILE = "file"
    RESOURCE_TYPE = "resource_type"
    TEST_TYPE = "test_type"
    TEST_NAME = "test_name"
    SOURCE = "source"
    PACKAGE = "package"
    STATE = "state"
    CONFIG = "config"  # config.<key>:value
    UNIQUE_ID = "unique_id"


class SelectorMethod:
    """One method of selecting nodes; ``arguments`` is what follows its name (``config.<key>``'s key)."""

    def __init__(self, project: Project, state: StateComparison | None, arguments: tuple[str, ...] = ()) -> None:
        self.project = project
        self.state = state
        self.arguments = arguments

    def nodes(self):
        return list(self.project.nodes.values())

    def search(self, value: str) -> set[str]:
        raise NotImplementedError


class FqnMethod(SelectorMethod):
    def search(self, value: str) -> set[str]:
        parts = value.split(".")
        found = set()
        for node in self.nodes():
            fqn = list(node.fqn)
            for start in (0, 1):  # with or without the project name in front
                window = fqn[start : start + len(parts)]
                if len(window) == len(parts) and all(fnmatch.fnmatchcase(f, p) for f, p in zip(window, parts)):
                    found.add(node.unique_id)
        return found


class NameMethod(SelectorMethod):
    def search(self, value: str) -> set[str]:
        found = {n.unique_id for n in self.nodes() if fnmatch.fnmatchcase(n.name, value)}
        found |= FqnMethod(self.project, self.state).search(value)
        found |= {s.unique_id for s in self.project.sources.values() if value == f"{s.source_name}.{s.name}"}
        return found


class TagMethod(SelectorMethod):
    def search(self, value: str) -> set[str]:
        return {n.unique_id for n in self.nodes() if any(fnmatch.fnmatchcase(t, value) for t in n.tags)}


class PathMethod(SelectorMethod):
    def search(self, value: str) -> set[str]:
        value = value.rstrip("/")
        return {
            n.unique_id
            for n in self.nodes()
            if n.path == value or n.path.startswith(value + "/") or fnmatch.fnmatchcase(n.path, value)
        }


class FileMethod(SelectorMethod):
    def search(self, value: str) -> set[str]:
        return {n.unique_id for n in self.nodes() if n.path.rsplit("/", 1)[-1] in (value, value + ".sql")}


class ResourceTypeMethod(SelectorMethod):
    def search(self, value: str) -> set[str]:
        found = {n.unique_id for n in self.nodes() if n.resource_type == value}
        if value == "source":
            found |= {s.unique_id for s in self.project.sources.values()}
        return found


class TestTypeMethod(SelectorMethod):
    KINDS = {"unit": ("unit_test",), "data": ("test",), "generic": ("test",), "singular": ("test",)}

    def search(self, value: str) -> set[str]:
        kinds = self.KINDS.get(value)
        if kinds is None:
            raise SelectionError(f"test_type:{value} is not a test type; use test_type:unit or test_type:data")
        found = {n.unique_id for n in self.nodes() if n.resource_type in kinds}
        if value in ("generic", "singular"):
            found = {u for u in found if self.project.nodes[u].extra.get("test_kind", "generic") == value}
        return found


class TestNameMethod(SelectorMethod):
    def search(self, value: str) -> set[str]:
        return {
            n.unique_id
            for n in self.nodes()
            if n.resource_type == "test" and fnmatch.fnmatchcase(str(n.extra.get("test_name", "")), value)
        }


class SourceMethod(SelectorMethod):
    def search(self, value: str) -> set[str]:
        parts = value.split(".")
        return {
            s.unique_id
            for s in self.project.sources.values()
            if fnmatch.fnmatchcase(s.source_name, parts[0]) and (len(parts) == 1 or fnmatch.fnmatchcase(s.name, parts[1]))
        }


class PackageMethod(SelectorMethod):
    def search(self, value: str) -> set[str]:
        found = {n.unique_id for n in self.nodes() if fnmatch.fnmatchcase(n.package_name, value)}
        return found | {s.unique_id for s in self.project.sources.values() if fnmatch.fnmatchcase(s.unique_id.split(".")[1], value)}


class StateMethod(SelectorMethod):
    def search(self, value: str) -> set[str]:
        if self.state is None:
            raise SelectionError(f"state:{value} needs a previous manifest to compare with; this command has none")
        return self.state(value)


class ConfigMethod(SelectorMethod):
    def search(self, value: str) -> set[str]:
        key = ".".join(self.arguments)

        def matches(actual) -> bool:
            if isinstance(actual, (list, tuple)):
                return any(matches(a) for a in actual)
            return fnmatch.fnmatchcase(str(actual).lower(), value.lower())

        return {n.unique_id for n in self.nodes() if key in n.config and matches(n.config[key])}


class UniqueIdMethod(SelectorMethod):
    def search(self, value: str) -> set[str]:
        return {uid for uid in (*self.project.nodes, *(s.unique_id for s in self.project.sources.values()))
                if fnmatch.fnmatchcase(uid, value)}


METHODS: dict[MethodName, type[SelectorMethod]] = {
    MethodName.FQN: FqnMethod,
    MethodName.NAME: NameMethod,
    MethodName.TAG: TagMethod,
    MethodName.PATH: PathMethod,
    MethodName.FILE: FileMethod,
    MethodName.RESOURCE_TYPE: ResourceTypeMethod,
    MethodName.TEST_TYPE: TestTypeMethod,
    MethodName.TEST_NAME: TestNameMethod,
    MethodName.SOURCE: SourceMethod,
    MethodName.PACKAGE: PackageMethod,
    MethodName.STATE: StateMethod,
    MethodName.CONFIG: ConfigMethod,
    MethodName.UNIQUE_ID: UniqueIdMethod,
}
