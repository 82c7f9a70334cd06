"""Column lineage of a whole project as one graph the page draws from.

Each column is a key ``kind:name.column`` (``model:stock_extra.product_variant``,
``source:warehouse.inventory.size``, ``seed:raw_inventory.size``); the graph maps
each key to the keys it derives from directly, as ``stockx lineage`` traces them.
The page walks it up (where a column comes from) and down (what it feeds).
"""

from __future__ import annotations

from dataclasses import dataclass

from stockx_export.analysis.lineage import ColumnLineage, LineageTracer
from stockx_export.analysis.lineage_memo import LineageMemo
from stockx_export.errors import StockxError


@dataclass(frozen=True)
class LineageGraph:
    """Direct edges of every traced column, and the models whose columns could not be traced."""

    edges: dict[str, tuple[str, ...]]  # key -> keys it derives from, sorted
    untraced: tuple[str, ...]  # unique ids of models whose SQL stockx cannot follow
    columns: dict[str, tuple[str, ...]]  # model or snapshot id -> its output columns, as its SQL gives them


def key(item: ColumnLineage) -> str:
    return f"{item.kind}:{item.name}.{item.column}"


def project_lineage(project, analyzer, memo: LineageMemo | None = None) -> LineageGraph:
    """The lineage of every column of every model and snapshot of ``project`` (ephemeral models are walked
    through); what ``memo`` holds of a model whose SQL and upstream columns are unchanged is not worked out again."""
    from sqlglot.errors import SqlglotError

    tracer = LineageTracer(analyzer, memo)
    edges: dict[str, tuple[str, ...]] = {}
    untraced = []
    columns: dict[str, tuple[str, ...]] = {}
    for uid in sorted(project.nodes):
        node = project.nodes[uid]
        if node.resource_type not in ("model", "snapshot"):
            continue
        try:
            items = tracer.trace(node)
        except (StockxError, SqlglotError):
            untraced.append(uid)
            continue
        columns[uid] = tuple(item.column for item in items)
        for item in items:
            _add(item, edges)
    if memo is not None:
        memo.save()
    return LineageGraph(dict(sorted(edges.items())), tuple(untraced), columns)


def _add(item: ColumnLineage, edges: dict[str, tuple[str, ...]]) -> None:
    # Trees share their subtrees (the tracer caches each column): each key is walked once.
    stack = [item]
    while stack:
        current = stack.pop()
        name = key(current)
        if name in edges:
            continue
        edges[name] = tuple(sorted({key(u) for u in current.upstream}))
        stack.extend(current.upstream)
