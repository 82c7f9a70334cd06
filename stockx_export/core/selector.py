"""Node selection: dbt's ``--select`` / ``--exclude`` grammar.

    stock_extra            a node by name (globs allowed), or every node under an fqn prefix (``staging``)
    +stock_extra           the node and all its ancestors;  2+stock_extra: ancestors up to 2 levels
    stock_extra+           the node and all its descendants; stock_extra+1: one level
    @stock_extra           descendants, and the ancestors of those descendants
    tag:daily              a method:value atom (tag, path, source, resource_type, config.<key>, fqn,
                           test_type, test_name, state, file, package)
    a b                    union (space-separated, or repeated --select)
    tag:x,path:models/y    intersection (comma)

Each method is a class in stockx_export.core.selector_methods.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from stockx_export.core.selector_methods import METHODS, MethodName, StateComparison
from stockx_export.errors import SelectionError

if TYPE_CHECKING:
    from stockx_export.core.project import Project

_ATOM = re.compile(r"^(?P<at>@)?(?:(?P<up>\d*)\+)?(?P<body>[^+@]+?)(?:\+(?P<down>\d*))?$")
TEST_TYPES = ("test", "unit_test")
KNOWN = ", ".join(sorted(m.value for m in MethodName if m is not MethodName.CONFIG))


def _method(project: "Project", state: StateComparison | None, text: str, name: str):
    head, *arguments = name.split(".")
    try:
        kind = MethodName(head)
    except ValueError:
        kind = None
    if kind is None or (kind is MethodName.CONFIG) != bool(arguments):
        raise SelectionError(f"unknown selector method '{name}' in '{text}'; known: {KNOWN}, config.<key>")
    return METHODS[kind](project, state, tuple(arguments))


def _atom(project: "Project", text: str, state: StateComparison | None) -> set[str]:
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
    found = _method(project, state, text, method_name).search(value)
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


def _term(project: "Project", term: str, state: StateComparison | None) -> set[str]:
    atoms = [a for a in term.split(",") if a]
    found = _atom(project, atoms[0], state) if atoms else set()
    for atom in atoms[1:]:
        found &= _atom(project, atom, state)
    return found


def _expression(project: "Project", expressions: Iterable[str], state: StateComparison | None) -> set[str]:
    selected: set[str] = set()
    for expression in expressions:
        for term in expression.split():
            selected |= _term(project, term, state)
    return selected


def unmatched(project: "Project", expressions: Iterable[str], state: StateComparison | None = None) -> list[str]:
    """The terms of ``expressions`` that match no node, in order: a typo, usually, that dbt warns about."""
    terms = dict.fromkeys(term for expression in expressions for term in expression.split())
    return [term for term in terms if not _term(project, term, state)]


def select(
    project: "Project",
    select: Iterable[str] = (),
    exclude: Iterable[str] = (),
    resource_types: Iterable[str] = ("seed", "model"),
    *,
    ephemeral: bool = False,
    state: StateComparison | None = None,
) -> list[str]:
    """The unique ids chosen by ``select`` minus ``exclude``, in DAG order.

    With no ``select`` every node of ``resource_types`` is chosen. Tests are
    chosen when any node they test is chosen (dbt's eager indirect selection).
    Ephemeral models are left out (nothing runs them) unless ``ephemeral``:
    ``ls``, ``compile`` and ``show`` want them, as in dbt. ``state`` answers
    ``state:`` atoms (stockx_export.analysis.state.ManifestState).
    """
    types = set(resource_types)
    select = [s for s in select if s and s.strip()]
    if select:
        chosen = _expression(project, select, state)
    else:
        chosen = {uid for uid, n in project.nodes.items()}
    chosen = {u for u in chosen if u in project.nodes}
    if types & set(TEST_TYPES):
        for uid, node in project.nodes.items():
            if node.resource_type in TEST_TYPES and any(p in chosen for p in node.depends_on):
                chosen.add(uid)
    excluded = _expression(project, exclude, state) if exclude else set()
    chosen = {
        u
        for u in chosen - excluded
        if project.nodes[u].resource_type in types and (ephemeral or project.nodes[u].materialized != "ephemeral")
    }
    return project.dag.sorted(chosen)


def select_sources(
    project: "Project", select: Iterable[str] = (), exclude: Iterable[str] = (), *, state: StateComparison | None = None
) -> list[str]:
    """The unique ids of the sources ``select`` minus ``exclude`` chosen (every source without ``select``), sorted."""
    select = [s for s in select if s and s.strip()]
    every = {s.unique_id for s in project.sources.values()}
    chosen = _expression(project, select, state) & every if select else every
    excluded = _expression(project, exclude, state) if exclude else set()
    return sorted(chosen - excluded)
