"""One analysis of a project: each model rendered and parsed once, schemas inferred on demand.

An :class:`Analyzer` is stateful (it caches what it has worked out), so it is a
plain class; what it hands out (:class:`Parsed`, column tuples) is frozen.
"""

from __future__ import annotations

from stockx_export.analysis.parse import Parsed, SqlParses, parse_sql
from stockx_export.analysis.schema import ColumnInfo, SchemaInference
from stockx_export.errors import CompilationError


class Analyzer:
    """Parses the models of ``project`` (compiled against ``adapter``'s database) and infers their columns."""

    def __init__(self, project, adapter, parses: SqlParses | None = None, *, types: bool = True,
                 in_place: bool = False) -> None:
        """``types=False``: infer column names only (lineage needs no types; annotating them is
        about half the cost of inference). ``in_place``: the parses are read once, to infer
        columns, by nothing else (no ``parses`` shared): qualified without a copy first."""
        self.project = project
        self.adapter = adapter
        self.parses = parses or SqlParses()
        self._parsed: dict[str, Parsed] = {}
        self._compiled: dict[str, str] = {}
        self.schemas = SchemaInference(self, types=types, in_place=in_place and parses is None)

    def compiled_path(self, node) -> str:
        path = self.project.compiler.compiled_path(node)
        try:
            return path.relative_to(self.project.config.root).as_posix()
        except ValueError:
            return str(path)

    def compiled(self, node) -> str:
        """``node``'s SQL as it will run, rendered once."""
        if node.unique_id not in self._compiled:
            compiler = self.project.compiler
            try:
                self._compiled[node.unique_id] = compiler.compile(node, translated=False)
            except CompilationError:
                # Rendering can need the run itself (dbt's run_query over an upstream model
                # not built yet): such a model is left to run time, which reports its errors.
                self._compiled[node.unique_id] = ""
            if node.unique_id in compiler.introspective:
                # Its SQL came from the database as it is before the run (dbt_utils.star over a
                # table this run rebuilds, or has not built yet): checked at run time instead.
                self._compiled[node.unique_id] = ""
        return self._compiled[node.unique_id]

    def compiled_known(self, node) -> str | None:
        """``node``'s SQL when it has been rendered already (None when not: nothing is rendered)."""
        return self._compiled.get(node.unique_id)

    def parsed(self, node) -> Parsed:
        """``node``'s compiled SQL parsed (DuckDB dialect); a syntax error is in ``.problem``."""
        if node.unique_id not in self._parsed:
            sql = self.compiled(node)
            if not sql:
                self._parsed[node.unique_id] = Parsed("", None)
                return self._parsed[node.unique_id]
            parsed = parse_sql(
                sql,
                path=node.path,
                raw=node.raw_code,
                compiled_path=self.compiled_path(node),
                check_syntax=self.adapter.syntax_error,
                parses=self.parses,
            )
            if parsed.problem is not None and parsed.problem.level == "error":
                # The message points at the compiled file: make sure it is there to open.
                self.project.compiler.write(node, sql)
            self._parsed[node.unique_id] = parsed
        return self._parsed[node.unique_id]

    def columns(self, node) -> tuple[ColumnInfo, ...] | None:
        """The output columns of a model or seed, or None when they cannot be known."""
        return self.schemas.columns(node)

    def models(self, order: list[str]) -> list:
        nodes = self.project.nodes
        return [nodes[u] for u in order if u in nodes and nodes[u].resource_type == "model"]
