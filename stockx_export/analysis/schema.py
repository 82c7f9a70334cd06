"""Output columns of every relation a model reads, and of the model itself.

Seeds: the database reads the CSV with the seed's own load options (so column_types
count). Sources: their YAML columns; a source without columns that is a seed's
table, or a file expression, is described by the database. Models: inferred from their
SQL with sqlglot's qualify (which expands ``SELECT *``) and annotate_types, over
the schemas of what they read; when that cannot be done, their YAML columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stockx_export.core.jinja.render import Frame


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    data_type: str | None = None  # DuckDB spelling; None when unknown


def _from_yaml(columns) -> tuple[ColumnInfo, ...] | None:
    return tuple(ColumnInfo(c.name, c.data_type) for c in columns) or None


class SchemaInference:
    """Columns of seeds, sources and models of one project, worked out once each."""

    def __init__(self, analyzer, types: bool = True, in_place: bool = False) -> None:
        """``in_place``: qualify each model's parse itself rather than a copy (the analyzer's parses
        are read by nothing else, as in ``stockx docs generate``): copying is a tenth of the work."""
        self.analyzer = analyzer
        self.types = types  # False: models' column names only, each type None
        self.in_place = in_place
        self.project = analyzer.project
        self._columns: dict[str, tuple[ColumnInfo, ...] | None] = {}
        self.qualified: dict[str, object] = {}  # model id -> qualified, type-annotated expression
        self.sqlglot_schemas: dict[str, object] = {}  # model id -> the sqlglot schema it was qualified over
        self._consumed: set[int] = set()  # ids of parses qualified in place (two models may share one text)
        self._inferred: dict[str, tuple[ColumnInfo, ...]] = {}

    def columns(self, node) -> tuple[ColumnInfo, ...] | None:
        if node.unique_id not in self._columns:
            self._columns[node.unique_id] = None  # a guard while working it out
            if node.resource_type == "seed":
                found = self._describe(f"({self._seed_select(node)})") or _from_yaml(node.columns)
            else:
                found = self._infer(node) or _from_yaml(node.columns)
            self._columns[node.unique_id] = found
        return self._columns[node.unique_id]

    def inferred(self, node) -> tuple[ColumnInfo, ...] | None:
        """A model's columns as its SQL gives them (never its YAML), or None when unknown."""
        self.columns(node)
        return self._inferred.get(node.unique_id)

    def remember(self, node, inferred: tuple[ColumnInfo, ...] | None) -> None:
        """Take ``inferred`` as the columns ``node``'s SQL gives, worked out by an earlier run from the
        same SQL over the same upstream columns (see analysis.lineage_memo): not parsed again."""
        if inferred is not None:
            self._inferred[node.unique_id] = inferred
        self._columns[node.unique_id] = inferred or _from_yaml(node.columns)

    def source_columns(self, source) -> tuple[ColumnInfo, ...] | None:
        if source.unique_id not in self._columns:
            found = _from_yaml(source.columns)
            if found is None:
                seed = self._seed_at(source.relation)
                if seed is not None:
                    found = self.columns(seed)
                elif source.external_location.strip():
                    frame = Frame("", source.path, "source", {}, "parse")
                    read = self.project.resolver.resolve_source(source.source_name, source.name, frame)
                    found = self._describe(f"select * from {read}")
            self._columns[source.unique_id] = found
        return self._columns[source.unique_id]

    def _seed_at(self, relation):
        for node in self.project.nodes.values():
            if node.resource_type == "seed" and node.relation == relation:
                return node
        return None

    def _describe(self, query: str) -> tuple[ColumnInfo, ...] | None:
        columns = self.analyzer.adapter.describe(query)
        return None if columns is None else tuple(ColumnInfo(name, kind) for name, kind in columns)

    def _seed_select(self, node) -> str:
        return self.analyzer.adapter.seed_select(Path(self.project.config.root) / node.path, node.config)

    def mapping(self, node, guessed: dict[str, tuple[ColumnInfo, ...]] | None = None
                ) -> dict[str, dict[str, dict[str, str]]] | None:
        """sqlglot's schema for what ``node`` reads: {schema: {table: {column: type}}}.

        ``guessed``: the columns of upstream models and snapshots are taken from it instead of
        worked out (seeds' and sources' are worked out as ever); None when one has no guess."""
        project = self.project
        mapping: dict[str, dict[str, dict[str, str]]] = {}
        by_id = {s.unique_id: s for s in project.sources.values()}
        for uid in node.depends_on:
            if uid in project.nodes:
                upstream = project.nodes[uid]
                if upstream.relation is None:  # ephemeral: inlined as a CTE, nothing to look up
                    continue
                if guessed is not None and upstream.resource_type in ("model", "snapshot"):
                    if uid not in guessed:
                        return None
                    columns = guessed[uid]
                else:
                    columns = self.columns(upstream)
                relation = upstream.relation
            elif uid in by_id:
                relation, columns = by_id[uid].relation, self.source_columns(by_id[uid])
            else:
                continue
            if columns is not None:
                mapping.setdefault(relation.schema, {})[relation.identifier] = {
                    c.name: c.data_type or "UNKNOWN" for c in columns
                }
        if node.relation is not None and node.materialized == "incremental":
            # {{ this }} in an incremental filter reads the model's own table: same columns.
            mapping.setdefault(node.relation.schema, {}).setdefault(
                node.relation.identifier, {c.name: c.data_type or "UNKNOWN" for c in node.columns}
            )
        return mapping

    def _infer(self, node) -> tuple[ColumnInfo, ...] | None:
        parsed = self.analyzer.parsed(node)
        expression = parsed.expression
        if expression is not None:
            if self.in_place and id(expression) not in self._consumed:
                self._consumed.add(id(expression))
            else:
                expression = expression.copy()
        return self.infer_over(node, expression, self.mapping(node))

    def infer_over(self, node, expression, mapping: dict[str, dict[str, dict[str, str]]]
                   ) -> tuple[ColumnInfo, ...] | None:
        """``node``'s columns from ``expression`` (its parse, qualified in place) read over ``mapping``,
        or None when they cannot be known; the qualified expression and the sqlglot schema are kept
        for lineage."""
        from sqlglot import exp
        from sqlglot.errors import SqlglotError
        from sqlglot.optimizer.annotate_types import annotate_types
        from sqlglot.optimizer.qualify import qualify
        from sqlglot.schema import MappingSchema

        if expression is None or not isinstance(expression, exp.Query):
            return None
        try:
            # One sqlglot schema for qualifying, typing and tracing: each would build its own from the mapping.
            schema = MappingSchema(mapping, dialect="duckdb")
            qualified = qualify(expression, schema=schema, dialect="duckdb", validate_qualify_columns=False)
            if self.types:
                annotate_types(qualified, schema=schema, dialect="duckdb")
        except (SqlglotError, KeyError, ValueError):
            return None
        selects = qualified.selects
        if any(isinstance(s, exp.Star) or isinstance(s.this, exp.Star) for s in selects):
            return None  # a SELECT * over something whose columns are unknown
        self.qualified[node.unique_id] = qualified
        self.sqlglot_schemas[node.unique_id] = schema
        inferred = tuple(ColumnInfo(s.alias_or_name, _type_name(s.type)) for s in selects)
        self._inferred[node.unique_id] = inferred
        return inferred


def _type_name(data_type) -> str | None:
    from sqlglot import exp

    if data_type is None or data_type.is_type(exp.DataType.Type.UNKNOWN):
        return None
    name = data_type.sql("duckdb")
    return "VARCHAR" if name == "TEXT" else name
