"""What must finish before each node of a parallel run may start.

A node waits for what it reads: its nearest ancestors in the run, looking
through nodes the run does not include (an unselected view between two
selected tables still orders them, as in dbt). In a build it also waits for
every test whose failure would skip it (a model's tests before its children;
a unit test before the model it tests), so a parallel run skips exactly what a
run on one thread skips. Every edge points back in the run's order.
"""

from __future__ import annotations

from functools import lru_cache


def waits_on(runner, order: list[str]) -> dict[str, set[str]]:
    """For each unique id in ``order``: the unique ids in ``order`` that must finish before it starts."""
    project = runner.project
    dag, nodes = project.dag, project.nodes
    position = {uid: i for i, uid in enumerate(order)}

    def parents(uid: str) -> set[str]:
        if uid in dag:
            return dag.parents(uid)
        node = nodes.get(uid)
        return set(node.depends_on) if node is not None else set()

    reach: dict[str, frozenset[str]] = {}  # an unselected node -> the run's nodes it reads, however far up

    def reads(uid: str) -> set[str]:
        found: set[str] = set()
        for parent in parents(uid):
            found |= {parent} if parent in position else through(parent)
        return found

    def through(uid: str) -> frozenset[str]:
        # Iterative, parents first: chains of unselected nodes can be longer than Python's recursion limit.
        stack = [uid]
        while stack:
            top = stack[-1]
            pending = [p for p in parents(top) if p not in position and p not in reach]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            reach[top] = frozenset(reads(top))
        return reach[uid]

    waits = {uid: {p for p in reads(uid) if position.get(p, len(order)) < position[uid]} for uid in order}
    if runner.command == "test":
        return waits  # `stockx test` skips nothing after a failure
    descendants = lru_cache(maxsize=None)(dag.descendants)
    for uid in order:
        node = nodes[uid]
        if node.resource_type not in ("test", "unit_test"):
            continue  # what a failed model skips is downstream of it, so it waits on it already
        for blocked in runner.descendants_to_block(node, descendants):
            if position.get(blocked, -1) > position[uid]:
                waits[blocked].add(uid)
    return waits
