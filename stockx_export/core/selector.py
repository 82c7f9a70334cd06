"""Node selection: dbt's ``--select`` / ``--exclude`` grammar.

    stock_extra            a node by name (globs allowed), or every node under an fqn prefix (``staging``)
    +stock_extra           the node and all its ancestors;  2+stock_extra: ancestors up to 2 levels
    stock_extra+           the node and all its descendants; stock_extra+1: one level
    @stock_extra           descendants, and the ancestors of those descendants
    tag:daily              a method:value atom (tag, path, source, resource_type, config.<key>, fqn,
                           test_type, test_name, state, file, package)
    a b                    union (space-separated, or repeated --select)
    tag:x,path:models/y    intersection (comma)

Methods are looked up in ``METHODS``; other modules add theirs (``state``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from stockx_export.errors import SelectionError

if TYPE_CHECKING:
    from stockx_export.core.project import Project

_ATOM = re.compile(r"^(?P<at>@)?(?:(?P<up>\d*)\+)?(?P<body>[^+@]+?)(?:\+(?P<down>\d*))?$")
TEST_TYPES = ("test", "unit_test")

Method = Callable[["Project", str], set[str]]
METHODS: dict[str, Method] = {}


def method(name: str):
    def register(func: Method) -> Method:
        METHODS[name] = func
        return func

    return register


def _candidates(project: "Project"):
    return [n for n in project.nodes.values()]


@method("name")
def _by_name(project: "Project", value: str) -> set[str]:
    found = {n.unique_id for n in _candidates(project) if fnmatch.fnmatchcase(n.name, value)}
    found |= _by_fqn(project, value)
    found |= {s.unique_id for s in project.sources.values() if value in (f"{s.source_name}.{s.name}",)}
    return found


@method("fqn")
def _by_fqn(project: "Project", value: str) -> set[str]:
    parts = value.split(".")
    found = set()
    for node in _candidates(project):
        fqn = list(node.fqn)
        for start in (0, 1):  # with or without the project name in front
            window = fqn[start : start + len(parts)]
            if len(window) == len(parts) and all(fnmatch.fnmatchcase(f, p) for f, p in zip(window, parts)):
                found.add(node.unique_id)
    return found


@method("tag")
def _by_tag(project: "Project", value: str) -> set[str]:
    return {n.unique_id for n in _candidates(project) if any(fnmatch.fnmatchcase(t, value) for t in n.tags)}


@method("path")
def _by_path(project: "Project", value: str) -> set[str]:
    value = value.rstrip("/")
    return {
        n.unique_id
        for n in _candidates(project)
        if n.path == value or n.path.startswith(value + "/") or fnmatch.fnmatchcase(n.path, value)
    }


@method("file")
def _by_file(project: "Project", value: str) -> set[str]:
    return {n.unique_id for n in _candidates(project) if n.path.rsplit("/", 1)[-1] in (value, value + ".sql")}


@method("resource_type")
def _by_type(project: "Project", value: str) -> set[str]:
    return {n.unique_id for n in _candidates(project) if n.resource_type == value} | (
        {s.unique_id for s in project.sources.values()} if value == "source" else set()
    )


@method("test_type")
def _by_test_type(project: "Project", value: str) -> set[str]:
    kinds = {"unit": ("unit_test",), "data": ("test",), "generic": ("test",), "singular": ("test",)}.get(value)
    if kinds is None:
        raise SelectionError(f"test_type:{value} is not a test type; use test_type:unit or test_type:data")
    found = {n.unique_id for n in _candidates(project) if n.resource_type in kinds}
    if value in ("generic", "singular"):
        found = {u for u in found if project.nodes[u].extra.get("test_kind", "generic") == value}
    return found


@method("test_name")
def _by_test_name(project: "Project", value: str) -> set[str]:
    return {
        n.unique_id
        for n in _candidates(project)
        if n.resource_type == "test" and fnmatch.fnmatchcase(str(n.extra.get("test_name", "")), value)
    }


@method("source")
def _by_source(project: "Project", value: str) -> set[str]:
    parts = value.split(".")
    return {
        s.unique_id
        for s in project.sources.values()
        if fnmatch.fnmatchcase(s.source_name, parts[0]) and (len(parts) == 1 or fnmatch.fnmatchcase(s.name, parts[1]))
    }


@method("package")
def _by_package(project: "Project", value: str) -> set[str]:
    return {n.unique_id for n in _candidates(project)} if value == project.config.name else set()


@method("state")
def _by_state(project: "Project", value: str) -> set[str]:
    from stockx_export.analysis.state import select_state

    return select_state(project, value)


def _by_config(project: "Project", key: str, value: str) -> set[str]:
    def matches(actual) -> bool:
        if isinstance(actual, (list, tuple)):
            return any(matches(a) for a in actual)
        return fnmatch.fnmatchcase(str(actual).lower(), value.lower())

    return {n.unique_id for n in _candidates(project) if key in n.config and matches(n.config[key])}


def _atom(project: "Project", text: str) -> set[str]:
    match = _ATOM.match(text)
    if not match:
        raise SelectionError(f"cannot read selector '{text}': expected forms like name, +name, name+, 2+name+1, tag:x")
    body = match.group("body")
    if ":" in body:
        method_name, value = body.split(":", 1)
    elif "/" in body or body.endswith((".sql", ".csv")):
        method_name, value = "path", body
    else:
        method_name, value = "name", body
    if method_name.startswith("config."):
        found = _by_config(project, method_name[len("config.") :], value)
    elif method_name in METHODS:
        found = METHODS[method_name](project, value)
    else:
        raise SelectionError(
            f"unknown selector method '{method_name}' in '{text}'; known: {', '.join(sorted(METHODS))}, config.<key>"
        )
    dag = project.dag
    result = set(found)
    for uid in found:
        if uid not in dag:
            continue
        if match.group("up") is not None:
            result |= dag.ancestors(uid, int(match.group("up")) if match.group("up") else None)
        if match.group("down") is not None:
            result |= dag.descendants(uid, int(match.group("down")) if match.group("down") else None)
        if match.group("at"):
            for child in dag.descendants(uid) | {uid}:
                result |= {child} | dag.ancestors(child)
    return result


def _term(project: "Project", term: str) -> set[str]:
    atoms = [a for a in term.split(",") if a]
    found = _atom(project, atoms[0]) if atoms else set()
    for atom in atoms[1:]:
        found &= _atom(project, atom)
    return found


def _expression(project: "Project", expressions: Iterable[str]) -> set[str]:
    selected: set[str] = set()
    for expression in expressions:
        for term in expression.split():
            selected |= _term(project, term)
    return selected


def unmatched(project: "Project", expressions: Iterable[str]) -> list[str]:
    """The terms of ``expressions`` that match no node, in order: a typo, usually, that dbt warns about."""
    terms = dict.fromkeys(term for expression in expressions for term in expression.split())
    return [term for term in terms if not _term(project, term)]


def select(
    project: "Project",
    select: Iterable[str] = (),
    exclude: Iterable[str] = (),
    resource_types: Iterable[str] = ("seed", "model"),
    *,
    ephemeral: bool = False,
) -> list[str]:
    """The unique ids chosen by ``select`` minus ``exclude``, in DAG order.

    With no ``select`` every node of ``resource_types`` is chosen. Tests are
    chosen when any node they test is chosen (dbt's eager indirect selection).
    Ephemeral models are left out (nothing runs them) unless ``ephemeral``:
    ``ls``, ``compile`` and ``show`` want them, as in dbt.
    """
    types = set(resource_types)
    select = [s for s in select if s and s.strip()]
    if select:
        chosen = _expression(project, select)
    else:
        chosen = {uid for uid, n in project.nodes.items()}
    chosen = {u for u in chosen if u in project.nodes}
    if types & set(TEST_TYPES):
        for uid, node in project.nodes.items():
            if node.resource_type in TEST_TYPES and any(p in chosen for p in node.depends_on):
                chosen.add(uid)
    excluded = _expression(project, exclude) if exclude else set()
    chosen = {
        u
        for u in chosen - excluded
        if project.nodes[u].resource_type in types and (ephemeral or project.nodes[u].materialized != "ephemeral")
    }
    return project.dag.sorted(chosen)
