"""Tables a model reads directly instead of through ``ref()`` or ``source()``.

Such a read hides a dependency from the DAG: the model may run before the
table is built, and selection and lineage cannot see it. It is an error unless
``[tool.stockx] direct-reads = "warn"``.
"""

from __future__ import annotations

import re

from stockx_export.analysis.problems import Problem
from stockx_export.errors import ProjectError

LEVELS = ("error", "warn")
# Catalog schemas every DuckDB database has: reading them is not a hidden dependency.
SYSTEM_SCHEMAS = {"information_schema", "pg_catalog"}


def direct_reads_level(settings: dict) -> str:
    level = str(settings.get("direct-reads", settings.get("direct_reads", "error")))
    if level not in LEVELS:
        raise ProjectError(f'pyproject.toml: [tool.stockx] direct-reads = "{level}" is not valid; use "error" or "warn"')
    return level


def _key(schema: str | None, name: str, default_schema: str) -> tuple[str, str]:
    return ((schema or default_schema).lower(), name.lower())


def _line_of(raw: str, name: str) -> int | None:
    pattern = re.compile(rf"(?<![\w.]){re.escape(name)}\b|\.{re.escape(name)}\b", re.I)
    for number, line in enumerate(raw.splitlines(), 1):
        if pattern.search(line):
            return number
    return None


def _suggestion(project, schema: str | None, name: str) -> str:
    """The ref() or source() that reads the same table, if the project has one."""
    default = project.config.target_schema
    wanted = _key(schema, name, default)
    for node in project.nodes.values():
        if node.resource_type in ("model", "seed") and node.relation is not None:
            if _key(node.relation.schema, node.relation.identifier, default) == wanted:
                return f"use {{{{ ref('{node.name}') }}}} instead"
    for source in project.sources.values():
        if _key(source.relation.schema, source.relation.identifier, default) == wanted:
            return f"use {{{{ source('{source.source_name}', '{source.name}') }}}} instead"
    return "declare it as a source in a property file and read it with {{ source(...) }}"


def direct_reads(project, node, expression, level: str) -> list[Problem]:
    """A problem for each table ``expression`` (the compiled SQL of ``node``) names without ref/source."""
    from sqlglot import exp

    default = project.config.target_schema
    allowed = set()
    refs, seen_refs, sources = list(node.refs), set(), list(node.sources)
    while refs:  # an ephemeral model's refs and sources are read by the models it is inlined into
        name = refs.pop()
        upstream = project.by_name.get(name)
        if upstream is None or name in seen_refs:
            continue
        seen_refs.add(name)
        if upstream.relation is not None:
            allowed.add(_key(upstream.relation.schema, upstream.relation.identifier, default))
        elif upstream.materialized == "ephemeral":
            refs.extend(upstream.refs)
            sources.extend(upstream.sources)
    for key in sources:
        source = project.sources.get(key)
        if source is not None:
            allowed.add(_key(source.relation.schema, source.relation.identifier, default))
    if node.relation is not None:  # {{ this }} in an incremental model
        allowed.add(_key(node.relation.schema, node.relation.identifier, default))
    ctes = {cte.alias_or_name.lower() for cte in expression.find_all(exp.CTE)}

    problems, seen = [], set()
    for table in expression.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function such as read_csv(...)
        name, schema = table.name, table.db or None
        if schema is None and name.lower() in ctes:
            continue
        if (schema or "").lower() in SYSTEM_SCHEMAS:
            continue
        key = _key(schema, name, default)
        if key in allowed or key in seen:
            continue
        seen.add(key)
        shown = f"{schema}.{name}" if schema else name
        problems.append(
            Problem(
                node.path,
                f"reads {shown} directly, so stockx cannot see the dependency; {_suggestion(project, schema, name)}",
                _line_of(node.raw_code, name),
                level,
            )
        )
    return problems
