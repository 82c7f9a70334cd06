"""A project attached to its target: templates ask its database, compiled SQL speaks its dialect.

Models, macros and tests are written in DuckDB's SQL. On another target they
are rendered with that target's ``target.type`` (so ``adapter.dispatch`` picks
``postgres__x`` or ``spark__x`` before ``default__x``), then translated by
sqlglot with stockx's exact rewrites (stockx_export.analysis.transpile). A
construct with no faithful translation stops the node with an error naming
the model, the construct and the macro to make dispatch.
"""

from __future__ import annotations

import re

from stockx_export.adapters.base import Adapter
from stockx_export.analysis.transpile import transpile_sql
from stockx_export.core.compilation import Translate
from stockx_export.core.nodes import Node
from stockx_export.core.project import Project
from stockx_export.errors import UntranslatableSql

_FUNCTION = re.compile(r"^(?:function )?([A-Za-z_][A-Za-z0-9_]*)")


def attach(project: Project, adapter: Adapter) -> None:
    """Render ``project`` against ``adapter``'s database and compile its nodes into its dialect."""
    project.resolver.attach(adapter)
    project.compiler.translate = translator(project, adapter)


def translator(project: Project, adapter: Adapter) -> Translate | None:
    """DuckDB SQL -> the adapter's dialect (None for DuckDB itself: nothing to translate)."""
    if adapter.dialect == "duckdb":
        return None

    def translate(node: Node, sql: str) -> str:
        result = transpile_sql(sql, adapter.dialect, None)
        if result.sql is None:
            raise UntranslatableSql(node.path, adapter.type, result.untranslatable,
                                    macros_using(project, node, result.untranslatable))
        return result.sql

    return translate


def macros_using(project: Project, node: Node, constructs: tuple[str, ...]) -> list[str]:
    """The project's macros whose SQL calls a function the constructs name (none when the node's own
    text does): where an ``adapter.dispatch`` variant is to be written."""
    names = {m.group(1).lower() for m in (_FUNCTION.match(c) for c in constructs) if m}
    if any(re.search(rf"\b{re.escape(name)}\s*\(", node.raw_code, re.I) for name in names):
        return []
    found = []
    for macro_name, macro in sorted(project.renderer.macros.macros.items()):
        if macro.block.path.startswith("<stockx>"):
            continue
        if any(re.search(rf"\b{re.escape(name)}\s*\(", macro.block.source, re.I) for name in names):
            found.append(macro_name)
    return found
