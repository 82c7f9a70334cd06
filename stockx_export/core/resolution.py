"""What a template's ``ref``, ``source``, ``this`` and database questions resolve to.

The :class:`Resolver` is the renderer's resolver (stockx_export.core.jinja.render.Resolver).
While parsing it needs no database. Once a database is attached (``attach``:
the run's adapter, or a unit test's scratch one) it answers ``is_incremental()``,
``run_query``, ``adapter.get_columns_in_relation`` and the incremental window
from it. The database is any object with the adapter's catalog and query
methods (stockx_export.adapters.base.Adapter); the core never opens one.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from stockx_export.core.jinja.context import QueryResult, Target
from stockx_export.core.jinja.render import Frame
from stockx_export.core.window import Window, plan_window, window_config
from stockx_export.db import Relation, limited
from stockx_export.errors import CompilationError

if TYPE_CHECKING:
    from stockx_export.core.project import Project

CTE_PREFIX = "__stockx_cte__"


def cte_relation(name: str) -> Relation:
    """What ``ref()`` of an ephemeral model renders to: the name of the CTE it is inlined as.

    A relation of type ``cte`` (dbt's ``is_cte``), so a package macro that checks
    for a relation accepts it and one that refuses ephemeral models
    (dbt_utils' ``_is_ephemeral``) recognises it.
    """
    return Relation("", CTE_PREFIX + name, type="cte")


class Resolver:
    """Resolves references for one project, against the database attached (if any)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.database: Any = None  # an adapter, once attached
        self._source_exprs: dict[tuple[str, str], str] = {}
        self.empty = False  # --empty: refs and sources read as zero rows when a node is compiled
        # --defer: unique id -> the relation to read instead (an unselected node's, from the --state manifest)
        self.deferred: dict[str, Relation] = {}

    # -- the database -------------------------------------------------------------------------

    def attach(self, database: Any) -> None:
        """Use ``database`` (an adapter) for is_incremental(), run_query() and relation checks."""
        self.database = database

    @contextlib.contextmanager
    def attached(self, database: Any) -> Iterator[None]:
        """Use ``database`` for the duration of the block (a unit test's scratch database), then the previous one."""
        saved = self.database
        self.database = database
        try:
            yield
        finally:
            self.database = saved

    def relation_exists(self, relation: Relation) -> str | None:
        return self.database.relation_kind(relation) if self.database is not None else None

    def run_query(self, sql: str) -> QueryResult:
        if self.database is None:
            raise CompilationError("run_query needs a database: it is not available in this command")
        result = self.database.user_query(sql)
        return QueryResult(result.names, result.rows)

    def columns(self, relation: Any) -> list[tuple[str, str]]:
        """(name, type) of each column of ``relation`` in the attached database."""
        if self.database is None:
            raise CompilationError("run_query needs a database: it is not available in this command")
        return self.database.columns(str(relation))

    def execute(self, sql: str, fetch: bool) -> tuple[Any, QueryResult]:
        """Run a statement of a template (``{% call statement() %}``): (dbt's response, the rows when ``fetch``).

        A statement that fetches nothing may have made or dropped relations, so the
        database reads its catalog again.
        """
        if self.database is None:
            raise CompilationError("statement() needs a database: it is not available in this command")
        if fetch:
            result = self.database.user_query(sql)
            return Target(message="OK", code="OK", rows_affected=len(result.rows)), QueryResult(result.names, result.rows)
        self.database.execute(sql)
        self.database.refresh()
        return Target(message="OK", code="OK", rows_affected=-1), QueryResult([], [])

    def drop(self, relation: Relation) -> None:
        """Drop ``relation`` (``adapter.drop_relation``) if it exists."""
        if self.database is not None:
            self.database.drop(relation)

    def present(self, relation: Any) -> Any:
        """A relation as templates see it: with the database and every part quoted when the layout
        says so (a dbt project's ``{{ ref('x') }}`` is ``"db"."main"."x"``, as dbt renders it)."""
        if not isinstance(relation, Relation) or relation.database or relation.is_cte:
            return relation
        if not self.project.layout.qualified_relations:
            return relation
        catalog = self.project.renderer.context["target"]["database"]
        return replace(relation, database=catalog, quote_all=True)

    # -- names ----------------------------------------------------------------------------------

    def ref_names(self) -> list[str]:
        return sorted({*self.project.by_name, *self.project.model_files})

    def knows_ref(self, name: str) -> bool:
        """Whether ``ref(name)`` names a node (asked on every ref: no sorted list of every name)."""
        return name in self.project.by_name or name in self.project.model_files

    def source_names(self) -> list[tuple[str, str]]:
        return list(self.project.sources)

    def resolve_ref(self, name: str, frame: Frame) -> Any:
        redirected = frame.extra.get("relations", {})
        if name in redirected:  # a unit test's fixture table
            return redirected[name]
        project = self.project
        node = project.by_name.get(name)
        if node is None:  # a model not parsed yet: parsing only needs a stand-in
            return Relation(project.config.target_schema, name)
        if node.materialized != "ephemeral":
            return self._read(self.deferred.get(node.unique_id, node.relation), frame)
        if frame.mode == "parse":
            return cte_relation(name)
        _, ctes = project.compiler.ephemeral(node)
        for cte in (*ctes, name):
            if cte not in frame.ctes:
                frame.ctes.append(cte)
        return cte_relation(name)

    def resolve_source(self, source: str, table: str, frame: Frame | None) -> Any:
        key = (source, table)
        redirected = frame.extra.get("relations", {}) if frame is not None else {}
        if key in redirected:  # a unit test's fixture table
            return redirected[key]
        if key not in self._source_exprs:
            entry = self.project.sources[key]
            expression = self.project.renderer.render_string(entry.external_location, entry.path).strip()
            self._source_exprs[key] = expression.replace("{name}", entry.name) if expression else ""
        expression = self._source_exprs[key]
        if not expression:
            return self._read(self.project.sources[key].relation, frame)
        return limited(expression, 0) if self.empty and frame is not None and frame.mode == "compile" else expression

    def _read(self, relation: Relation, frame: Frame | None) -> Relation:
        """``relation`` as a compiled node reads it: with no rows under --empty."""
        if self.empty and frame is not None and frame.mode == "compile" and isinstance(relation, Relation):
            return replace(relation, limit=0)
        return relation

    def this(self, frame: Frame) -> Relation:
        redirected = frame.extra.get("relations", {})
        if "this" in redirected:  # a unit test's fixture for the model's previous state
            return redirected["this"]
        schema = self.generate_schema_name(frame.config.get("schema"), frame)
        return Relation(schema, str(frame.config.get("alias") or frame.name))

    def generate_schema_name(self, custom: str | None, frame: Frame) -> str:
        project = self.project
        macro = project.renderer.macros.macros.get("generate_schema_name")
        if macro is not None and not macro.block.path.startswith("<stockx>"):
            return str(macro(custom, frame.extra.get("node"))).strip()
        return project.layout.schema_name(project.config, custom)

    # -- incremental windows ------------------------------------------------------------------

    def incremental_window(self, frame: Frame) -> Window:
        """The window a replace_window build of ``frame``'s model would replace now (see stockx_export.core.window)."""
        project = self.project
        settings = window_config(frame.path, frame.name, frame.config, project.renderer.context["var"])
        this = self.this(frame)
        if self.database is None or self.relation_exists(this) != "table":
            return Window(settings.column, None, None, settings.lookback_days)
        return plan_window(settings, project.today, self.database.newest_date(this, settings.column))

    def window_start(self, model: Any) -> date | None:
        """The first day the last build of ``model`` (a name or a relation) replaced; None for every day."""
        if isinstance(model, str):
            node = self.project.by_name.get(model)
            if node is None or node.relation is None:
                raise CompilationError(f"window_start('{model}'): no model of that name is built into a table")
            model = node.relation
        if not isinstance(model, Relation):
            raise CompilationError(f"window_start() takes a model name or ref('model'), got {model!r}")
        return self.database.recorded_window_start(model) if self.database is not None else None
