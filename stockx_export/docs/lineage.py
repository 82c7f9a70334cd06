"""Column lineage of a whole project as one graph the page draws from.

Each column is a key ``kind:name.column`` (``model:stock_extra.product_variant``,
``source:warehouse.inventory.size``, ``seed:raw_inventory.size``); the graph maps
each key to the keys it derives from directly, as ``stockx lineage`` traces them.
The page walks it up (where a column comes from) and down (what it feeds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from stockx_export.analysis.lineage import ColumnLineage, LineageTracer
from stockx_export.analysis.lineage_ahead import TracingAhead
from stockx_export.analysis.lineage_memo import LineageMemo
from stockx_export.analysis.schema import ColumnInfo
from stockx_export.errors import StockxError


@dataclass(frozen=True)
class LineageGraph:
    """Direct edges of every traced column, and the models whose columns could not be traced."""

    edges: dict[str, tuple[str, ...]]  # key -> keys it derives from, sorted
    untraced: tuple[str, ...]  # unique ids of models whose SQL stockx cannot follow
    columns: dict[str, tuple[str, ...]]  # model or snapshot id -> its output columns, as its SQL gives them


def key(item: ColumnLineage) -> str:
    return f"{item.kind}:{item.name}.{item.column}"


def project_lineage(project, analyzer, memo: LineageMemo | None = None,
                    tables: Mapping[Any, Any] | None = None) -> LineageGraph:
    """The lineage of every column of every model and snapshot of ``project`` (ephemeral models are walked
    through); what ``memo`` holds of a model whose SQL and upstream columns are unchanged is not worked out again.

    With a ``memo``, a helper process traces models ahead (analysis.lineage_ahead), guessing what each
    reads from ``tables`` (the database's catalog of the project's relations) or its property file; the
    graph is the same either way."""
    from sqlglot.errors import SqlglotError

    tracer = LineageTracer(analyzer, memo)
    nodes = [project.nodes[uid] for uid in sorted(project.nodes)
             if project.nodes[uid].resource_type in ("model", "snapshot")]
    edges: dict[str, tuple[str, ...]] = {}
    untraced = []
    columns: dict[str, tuple[str, ...]] = {}
    tracer.ahead = TracingAhead.start(tracer, nodes, guessed_columns(nodes, tables or {}))
    try:
        for node in nodes:
            try:
                items = tracer.trace(node)
            except (StockxError, SqlglotError):
                untraced.append(node.unique_id)
                continue
            columns[node.unique_id] = tuple(item.column for item in items)
            for item in items:
                _add(item, edges)
    finally:
        if tracer.ahead is not None:
            tracer.ahead.stop()
    if memo is not None:
        memo.save()
    return LineageGraph(dict(sorted(edges.items())), tuple(untraced), columns)


def guessed_columns(nodes, tables: Mapping[Any, Any]) -> dict[str, tuple[ColumnInfo, ...]]:
    """What each of ``nodes``' SQL most likely gives, names only (as lineage infers them, untyped): the
    columns its relation has in ``tables`` when built, else those its property file lists."""
    guessed = {}
    for node in nodes:
        found = tables.get(node.relation) if node.relation is not None else None
        if found is not None and found.columns:
            guessed[node.unique_id] = tuple(ColumnInfo(name) for name, _ in found.columns)
        elif node.columns:
            guessed[node.unique_id] = tuple(ColumnInfo(column.name) for column in node.columns)
    return guessed


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
