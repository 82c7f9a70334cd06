"""``adapter`` as templates see it: dispatch, quoting, and what packages ask of the database.

It answers through the renderer (the node being rendered, its resolver and its
``api``), so it works the same in a model, a test, a hook or a macro; it asks the
database only when compiling (``execute``), as dbt's does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stockx_export.db import Relation, quote
from stockx_export.errors import CompilationError

if TYPE_CHECKING:
    from stockx_export.core.jinja.render import Renderer


class TemplateAdapter:
    """The slice of dbt's ``adapter`` that projects and packages use; its type is the target's."""

    def __init__(self, renderer: Renderer, kind: str) -> None:
        self._renderer = renderer
        self._kind = kind

    def dispatch(self, macro_name: str, macro_namespace: str | None = None, packages: Any = None) -> Any:
        """The first macro named ``<type>__<name>`` or ``default__<name>``, searched as dbt searches.

        Packages are searched in the ``dispatch:`` order dbt_project.yml gives for
        ``macro_namespace``, else (for an installed package) the root project then
        that package, else by bare name (the node's package, the root project,
        the built-ins).
        """
        if "." in str(macro_name):
            namespace, _, name = str(macro_name).partition(".")
            raise CompilationError(
                f"adapter.dispatch('{macro_name}'): '.' is not part of a macro name; "
                f"did you mean adapter.dispatch('{name}', macro_namespace='{namespace}')?"
            )
        renderer = self._renderer
        attempts = []
        for package in renderer.search_packages(macro_namespace):
            for prefix in (self._kind, "default"):
                name = f"{prefix}__{macro_name}"
                attempts.append(name if package is None else f"{package}.{name}")
                found = renderer.macro_from(package, name)
                if found is not None:
                    return found
        raise CompilationError(
            f"adapter.dispatch('{macro_name}', '{macro_namespace}'): no macro found; searched for "
            + ", ".join(repr(a) for a in attempts)
        )

    @staticmethod
    def quote(identifier: str) -> str:
        return quote(identifier)

    def type(self) -> str:
        return self._kind

    def get_columns_in_relation(self, relation: Any) -> list[Any]:
        if self._renderer.frame.mode != "compile":
            return []
        self._renderer.introspected()
        column = self._renderer.api.Column
        return [column.from_description(name, kind) for name, kind in self._renderer.resolver.columns(relation)]

    def get_relation(self, database: Any = None, schema: str = "main", identifier: str = "") -> Relation | None:
        self._renderer.introspected()
        relation = Relation(schema, identifier)
        kind = self._renderer.resolver.relation_exists(relation)
        if kind is None:
            return None
        return self._renderer.api.Relation.create(database=database, schema=schema, identifier=identifier, type=kind)

    def load_relation(self, relation: Any) -> Relation | None:
        """``relation`` with its type when it exists in the database, else None."""
        if not isinstance(relation, Relation):
            return None
        self._renderer.introspected()
        kind = self._renderer.resolver.relation_exists(relation)
        return relation.incorporate(type=kind) if kind is not None else None

    def drop_relation(self, relation: Any) -> str:
        if self._renderer.frame.mode == "compile" and isinstance(relation, Relation):
            self._renderer.resolver.drop(relation)
        return ""

    def execute(self, sql: str, auto_begin: bool = False, fetch: bool = False) -> tuple[Any, Any]:
        """Run ``sql``: (a response, the rows as a table; empty unless ``fetch``)."""
        return self._renderer.resolver.execute(str(sql), bool(fetch))

    def commit(self) -> str:
        return ""
