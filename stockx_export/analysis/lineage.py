"""Column lineage across models: which source and seed columns an output column derives from.

Within one model sqlglot's ``lineage`` follows a column through CTEs and
subqueries (ephemeral models are inlined CTEs, so they are walked through, not
shown) down to the tables the model reads; each table is a model (followed in
turn), a seed or a source (where the tree ends).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from stockx_export.analysis.lineage_memo import Leaf, LineageMemo, MemoEntry, digest
from stockx_export.analysis.schema import ColumnInfo
from stockx_export.core.jinja.render import Frame
from stockx_export.errors import ProjectError

KIND_ORDER = {"model": 0, "snapshot": 1, "seed": 2, "source": 3}


@dataclass(frozen=True)
class ColumnLineage:
    """A column of a model, snapshot, seed or source, and the columns it derives from."""

    kind: str  # "model" | "snapshot" | "seed" | "source"
    name: str  # model, snapshot or seed name; "source_name.table" for a source
    column: str
    upstream: tuple["ColumnLineage", ...] = ()

    def label(self) -> str:
        prefix = "" if self.kind == "model" else f"{self.kind} "
        return f"{prefix}{self.name}.{self.column}"

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "name": self.name,
            "column": self.column,
            "upstream": [u.as_dict() for u in self.upstream],
        }


class LineageTracer:
    """Traces columns through the models of one analysed project, caching each model's answer."""

    def __init__(self, analyzer, memo: LineageMemo | None = None) -> None:
        """``memo`` keeps what tracing learns of each model's SQL between runs (``stockx docs generate``
        traces every column of a project, mostly unchanged since the last time)."""
        self.analyzer = analyzer
        self.memo = memo
        self.ahead = None  # a TracingAhead (analysis.lineage_ahead) offering entries to the memo, if any
        self._entries: dict[str, MemoEntry] = {}  # model id -> its entry, once looked up
        self.project = analyzer.project
        self._scopes: dict[str, object] = {}
        self._steps: dict[str, dict[str, object]] = {}  # model id -> output column -> sqlglot lineage root
        self._traced: dict[tuple[str, str], ColumnLineage] = {}
        self._step_columns: dict[str, str] = {}  # a leaf step's name ("t"."id") -> the column it names
        self._relations = self._relation_index()
        self._files = self._file_index()
        self._seeds = {
            _key(n.relation.schema, n.relation.identifier): n
            for n in self.project.nodes.values()
            if n.resource_type == "seed" and n.relation is not None
        }

    def _relation_index(self) -> dict[tuple[str, str], tuple[str, object]]:
        index: dict[tuple[str, str], tuple[str, object]] = {}
        # Sources first: a source that is a seed's table is read as the source, so it is shown as one.
        for source in self.project.sources.values():
            index.setdefault(_key(source.relation.schema, source.relation.identifier), ("source", source))
        for node in self.project.nodes.values():
            if node.resource_type in ("model", "snapshot", "seed") and node.relation is not None:
                index.setdefault(_key(node.relation.schema, node.relation.identifier), (node.resource_type, node))
        return index

    def _file_index(self) -> dict[str, object]:
        """A source whose ``external_location`` is set (the ``*_path`` vars) is read as a
        table function such as ``read_csv('...')``, not as its table: the function's
        text, qualified as a model's is, identifies it (by its digest, as the memo keeps it)."""
        import sqlglot
        from sqlglot import exp
        from sqlglot.errors import SqlglotError
        from sqlglot.optimizer.qualify import qualify

        index: dict[str, object] = {}
        for source in self.project.sources.values():
            frame = Frame("", source.path, "source", {}, "parse")
            read = self.project.resolver.resolve_source(source.source_name, source.name, frame)
            if not isinstance(read, str):
                continue
            try:
                query = sqlglot.parse_one(f"select * from {read}", read="duckdb")
                query = qualify(query, dialect="duckdb", validate_qualify_columns=False)
            except SqlglotError:
                continue
            table = query.find(exp.Table)
            if table is not None and isinstance(table.this, exp.Func):
                index.setdefault(digest(table.this.sql("duckdb")), source)
        return index

    def model(self, name: str):
        node = self.project.by_name.get(name)
        if node is None or node.resource_type != "model":
            models = sorted(n.name for n in self.project.nodes.values() if n.resource_type == "model")
            close = difflib.get_close_matches(name, models, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else "; list them with: stockx ls --resource-type model"
            raise ProjectError(f"lineage: no model named '{name}'{hint}")
        return node

    def trace(self, node, column: str | None = None) -> list[ColumnLineage]:
        """The lineage of ``column`` of ``node`` (every output column when None), in output order."""
        columns = self._output_columns(node)
        if columns is None:
            raise ProjectError(
                f"lineage: the columns of {node.name} ({node.path}) cannot be worked out from its SQL "
                "(a SELECT * over a relation with unknown columns, or SQL stockx cannot parse)"
            )
        names = [c.name for c in columns]
        if column is not None:
            matches = [n for n in names if n.lower() == column.lower()]
            if not matches:
                raise ProjectError(f"lineage: {node.name} has no column '{column}'; its columns: {', '.join(names)}")
            names = matches
        return [self._column(node, name) for name in names]

    def _column(self, node, column: str) -> ColumnLineage:
        key = (node.unique_id, column)
        if key not in self._traced:
            upstream = tuple(self._follow(kind, target, col) for kind, target, col in self._direct(node, column))
            self._traced[key] = ColumnLineage(node.resource_type, node.name, column, upstream)
        return self._traced[key]

    def _follow(self, kind: str, target, column: str) -> ColumnLineage:
        if kind == "source":
            # A source that is a seed's table (the bundled sample data) goes on to that seed,
            # unless it reads files instead.
            reads_files = target in self._files.values()
            seed = None if reads_files else self._seeds.get(_key(target.relation.schema, target.relation.identifier))
            upstream = (ColumnLineage("seed", seed.name, column),) if seed is not None else ()
            return ColumnLineage("source", f"{target.source_name}.{target.name}", column, upstream)
        inferred = None if kind == "seed" else self._output_columns(target)
        if inferred is None:
            return ColumnLineage(kind, target.name, column)
        if kind == "snapshot" and column.lower() not in {c.name.lower() for c in inferred}:
            # A column the snapshot adds (dbt_valid_from, dbt_scd_id...): it starts there.
            return ColumnLineage(kind, target.name, column)
        return self._column(target, column)

    def _scope(self, node):
        from sqlglot.optimizer.scope import build_scope

        if node.unique_id not in self._scopes:
            self._scopes[node.unique_id] = build_scope(self.analyzer.schemas.qualified[node.unique_id])
        return self._scopes[node.unique_id]

    def _steps_of(self, node) -> dict[str, object]:
        """sqlglot's lineage of every output column of ``node``, worked out in one pass.

        One pass shares sqlglot's cache between the columns, and ``trim_selects=False``
        spares a copy of the query per step (the trimmed copy only labels a step; the
        tables a column reaches are the same): a project's every column in a fraction
        of the time column by column takes."""
        from sqlglot.errors import SqlglotError
        from sqlglot.lineage import lineage

        if node.unique_id not in self._steps:
            try:
                steps = lineage(None, self.analyzer.schemas.qualified[node.unique_id],
                                schema=self.analyzer.schemas.sqlglot_schemas[node.unique_id], dialect="duckdb",
                                scope=self._scope(node), copy=False, trim_selects=False)
            except SqlglotError:  # an unnamed projection: each column is traced alone
                steps = {}
            self._steps[node.unique_id] = steps
        return self._steps[node.unique_id]

    def _direct(self, node, column: str) -> list[tuple[str, object, str]]:
        """(kind, node or source, column) of each column of a relation ``node`` reads that ``column`` uses."""
        leaves = self._memo_entry(node).leaves.get(column) if self.memo is not None else None
        if leaves is None:
            leaves = self.leaves(node, column)
        found: list[tuple[str, object, str]] = []
        for leaf in leaves:
            if leaf.read_key is not None:
                source = self._files.get(leaf.read_key)
                target = ("source", source) if source is not None else None
            else:
                target = self._relations.get(_key(leaf.schema or self.project.config.target_schema, leaf.table))
            if target is None:
                continue
            entry = (target[0], target[1], leaf.column)
            if entry not in found:
                found.append(entry)
        # sqlglot's walk order is not stable between runs: sort for a deterministic tree.
        return sorted(found, key=lambda e: (KIND_ORDER[e[0]], _name(e[1]), e[2]))

    def leaves(self, node, column: str) -> tuple[Leaf, ...]:
        """The table columns ``column`` of ``node`` reads, as sqlglot's lineage ends at them."""
        from sqlglot import exp
        from sqlglot.lineage import lineage

        root = self._steps_of(node).get(column)
        if root is None:
            # Not among the names of the all-columns pass: this column alone, as sqlglot names it.
            root = lineage(column, self.analyzer.schemas.qualified[node.unique_id],
                           schema=self.analyzer.schemas.sqlglot_schemas[node.unique_id], dialect="duckdb",
                           scope=self._scope(node), copy=False, trim_selects=False)
        leaves = []
        for step in root.walk():
            if step.downstream or not isinstance(step.expression, exp.Table):
                continue
            table = step.expression
            name = self._step_column(step.name)
            if isinstance(table.this, exp.Func):
                leaves.append(Leaf(name, read_key=digest(table.this.sql("duckdb"))))
            else:
                leaves.append(Leaf(name, schema=table.db, table=table.name))
        return tuple(leaves)

    def _output_columns(self, node) -> tuple[ColumnInfo, ...] | None:
        """``node``'s columns as its SQL gives them, or None when unknown (from the memo when it has them)."""
        if self.memo is not None:
            return self._memo_entry(node).columns
        return self.analyzer.schemas.inferred(node)

    def _memo_entry(self, node) -> MemoEntry:
        """What tracing ``node`` needs, from the memo when an earlier run worked it out from the same
        SQL read over the same upstream columns, else worked out now and given to the memo."""
        found = self._entries.get(node.unique_id)
        if found is not None:
            return found
        # What it reads first: their columns are part of what its SQL is read with (and of its key).
        for uid in node.depends_on:
            upstream = self.project.nodes.get(uid)
            if upstream is not None and upstream.resource_type in ("model", "snapshot"):
                self._memo_entry(upstream)
        schemas = self.analyzer.schemas
        sql = self.analyzer.compiled(node)
        key = self.memo.key(sql, schemas.mapping(node))
        found = self.memo.get(key)
        if found is None and self.ahead is not None:
            self.ahead.drain(self.memo)
            # Worked out ahead over the same SQL and upstream columns; the helper leaves judging the
            # syntax to the database (a model it refuses has no columns, as analyzer.parsed says).
            if self.memo.is_offered(key) and self.analyzer.adapter.syntax_error(sql) is None:
                found = self.memo.take_offer(key)
        if found is None:
            columns = schemas.inferred(node)
            leaves = {} if columns is None else {c.name: self.leaves(node, c.name) for c in columns}
            found = MemoEntry(columns, leaves)
            self.memo.put(key, found)
        else:
            schemas.remember(node, found.columns)
        self._entries[node.unique_id] = found
        return found

    def _step_column(self, name: str) -> str:
        """The column a leaf step's name (``"t"."id"``, qualified as sqlglot writes it) names.

        Parsed once per distinct name: a project's leaves share a handful (every model's
        ``"t"."id"``), and parsing each of thousands of steps anew was a tenth of lineage's time."""
        found = self._step_columns.get(name)
        if found is None:
            import sqlglot
            from sqlglot import exp

            parsed = sqlglot.parse_one(name, read="duckdb")
            found = self._step_columns[name] = parsed.name if isinstance(parsed, exp.Column) else name
        return found


def _name(target) -> str:
    return f"{target.source_name}.{target.name}" if hasattr(target, "source_name") else target.name


def _key(schema: str, name: str) -> tuple[str, str]:
    return (schema.lower(), name.lower())


def render_tree(items: list[ColumnLineage]) -> str:
    """Each column as a tree of what it derives from, separated by blank lines."""
    blocks = []
    for item in items:
        lines = [item.label()]
        _branches(item, "", lines)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _branches(item: ColumnLineage, indent: str, lines: list[str]) -> None:
    for index, child in enumerate(item.upstream):
        last = index == len(item.upstream) - 1
        lines.append(f"{indent}{'└── ' if last else '├── '}{child.label()}")
        _branches(child, indent + ("    " if last else "│   "), lines)
