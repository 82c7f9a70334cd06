"""A small generic DAG with a deterministic topological order.

Nodes are hashable keys; ``sort_key`` breaks ties between nodes that are ready
at the same time, so the order never depends on dict or set iteration.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from stockx_export.errors import CycleError

T = TypeVar("T", bound=Hashable)


class DAG(Generic[T]):
    def __init__(self, sort_key: Callable[[T], object] = str, label: Callable[[T], str] = str) -> None:
        self._parents: dict[T, set[T]] = {}
        self._children: dict[T, set[T]] = {}
        self._sort_key = sort_key
        self._label = label

    def add(self, node: T, parents: Iterable[T] = ()) -> None:
        """Add ``node`` (if new) with edges from each of ``parents``."""
        self._parents.setdefault(node, set())
        self._children.setdefault(node, set())
        for parent in parents:
            self._parents.setdefault(parent, set())
            self._children.setdefault(parent, set()).add(node)
            self._parents[node].add(parent)

    def __contains__(self, node: object) -> bool:
        return node in self._parents

    def __iter__(self):
        return iter(sorted(self._parents, key=self._sort_key))

    def __len__(self) -> int:
        return len(self._parents)

    def parents(self, node: T) -> set[T]:
        return self._parents[node]

    def ancestors(self, node: T, depth: int | None = None) -> set[T]:
        return self._walk(node, self._parents, depth)

    def descendants(self, node: T, depth: int | None = None) -> set[T]:
        return self._walk(node, self._children, depth)

    @staticmethod
    def _walk(start: T, edges: dict[T, set[T]], depth: int | None) -> set[T]:
        seen: set[T] = set()
        frontier = {start}
        level = 0
        while frontier and (depth is None or level < depth):
            frontier = {n for f in frontier for n in edges[f]} - seen
            seen |= frontier
            level += 1
        seen.discard(start)
        return seen

    def sorted(self, subset: Iterable[T] | None = None) -> list[T]:
        """Topological order of ``subset`` (default: all nodes), ties by ``sort_key``.

        Edges through nodes outside the subset still constrain the order.
        """
        wanted = set(self._parents) if subset is None else set(subset)
        indegree = {n: len(p) for n, p in self._parents.items()}
        ready = [(self._sort_key(n), i, n) for i, n in enumerate(self._parents) if indegree[n] == 0]
        heapq.heapify(ready)
        order: list[T] = []
        counter = len(self._parents)
        while ready:
            _, _, node = heapq.heappop(ready)
            if node in wanted:
                order.append(node)
            for child in self._children[node]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    counter += 1
                    heapq.heappush(ready, (self._sort_key(child), counter, child))
        if len(order) < len(wanted) or any(d > 0 for d in indegree.values()):
            raise CycleError(f"dependency cycle: {self._format_cycle(indegree)}")
        return order

    def _format_cycle(self, indegree: dict[T, int]) -> str:
        stuck = sorted((n for n, d in indegree.items() if d > 0), key=self._sort_key)
        # Walk parents from the smallest stuck node until a node repeats: that loop is a cycle.
        path: list[T] = []
        node = stuck[0]
        while node not in path:
            path.append(node)
            node = min((p for p in self._parents[node] if indegree[p] > 0), key=self._sort_key)
        cycle = path[path.index(node):]
        cycle.reverse()  # parents were followed, so reverse to read in dependency direction
        first = cycle.index(min(cycle, key=self._sort_key))
        cycle = cycle[first:] + cycle[:first]
        names = [self._label(n) for n in cycle]
        return " -> ".join(names + [names[0]])
