"""Hooks: SQL a project runs around its run (on-run-start, on-run-end) and around each node.

The project's layout says which hooks there are (stockx projects have none; a
dbt project's come from dbt_project.yml, property files and ``config()``).

A model's or seed's pre-hooks and post-hooks (project ones first) run right
before and after it is built, rendered with its own context (``{{ this }}`` is
the node's relation). A failing hook fails the node.

Run hooks render with the project's context (``target``, ``var``, macros ...).
on-run-end also sees ``schemas`` (the schemas of the seeds and models that were
built, sorted), ``database_schemas`` and ``results`` (one per seed, model and
test of the run, each with ``status``, ``message``, ``failures``,
``execution_time`` and ``node``), as in dbt.
"""

from __future__ import annotations

from typing import Any

from stockx_export.core.jinja.context import Target
from stockx_export.core.jinja.render import Frame
from stockx_export.core.nodes import Node
from stockx_export.db import first_line
from stockx_export.errors import ExecutionError
from stockx_export.run.results import NodeResult, RunResults

BUILT = ("seed", "model", "snapshot")


def with_node_hooks(build):
    """An executor that runs ``build`` between the node's pre-hooks and post-hooks."""

    def executor(runner, node: Node) -> NodeResult:
        layout = runner.project.layout
        for index, sql in enumerate(layout.node_hooks(node, "pre")):
            error = _run_node_hook(runner, node, "pre-hook", index, sql)
            if error:
                return NodeResult(node, "error", error)
        result = build(runner, node)
        if result.status != "success":
            return result
        for index, sql in enumerate(layout.node_hooks(node, "post")):
            error = _run_node_hook(runner, node, "post-hook", index, sql)
            if error:
                return NodeResult(node, "error", error, compiled_path=result.compiled_path)
        return result

    return executor


def _run_node_hook(runner, node: Node, event: str, index: int, sql: str) -> str | None:
    project = runner.project
    key = f"{node.path}#{event}-{index}"
    frame = Frame(node.name, key, node.resource_type, dict(node.config), "compile", extra={"node": node},
                  package=node.package_name)
    try:
        rendered = project.renderer.render(sql, frame)
        if rendered.strip():
            runner.adapter.execute(rendered)
    except runner.adapter.error_types as exc:
        return f"{node.path}: {event} {index + 1}: {first_line(str(exc))}"
    except Exception as exc:
        return f"{node.path}: {event} {index + 1}: {str(exc).removeprefix(key).lstrip(':0123456789 ')}"
    return None


def connection_hooks(project, order: list[str]) -> str | None:
    """Why the run's nodes should share one connection, or None: hooks may set a connection's state
    (``SET`` of a session option, a temporary table) that every later node then sees on one thread."""
    if project.config.on_run_start:
        return "the project has on-run-start hooks"
    layout = project.layout
    for uid in order:
        node = project.nodes[uid]
        if node.resource_type in ("model", "seed", "snapshot") and (
                layout.node_hooks(node, "pre") or layout.node_hooks(node, "post")):
            return f"{node.resource_type} {node.name} has pre- or post-hooks"
    return None


def run_start_hooks(runner, order: list[str]) -> None:
    """Run on-run-start; a failing hook stops the run before any node, as in dbt."""
    hooks = runner.project.config.on_run_start
    for index, sql in enumerate(hooks):
        error = _run_hook(runner, "on-run-start", index, sql, {})
        if error:
            raise ExecutionError(error)


def run_end_hooks(runner, run: RunResults) -> None:
    """Run on-run-end with ``schemas`` and ``results``; a failing hook is an error result of the run."""
    built = [r for r in run.results if r.node.resource_type in BUILT and r.status == "success" and r.node.relation]
    schemas = sorted({r.node.relation.schema for r in built})
    database = runner.project.renderer.context["target"]["database"]
    extra = {
        "schemas": schemas,
        "database_schemas": [(database, schema) for schema in schemas],
        "results": [hook_result(r, database) for r in run.results],
    }
    for index, sql in enumerate(runner.project.config.on_run_end):
        error = _run_hook(runner, "on-run-end", index, sql, extra)
        if error:
            node = _hook_node(runner, "on-run-end", index, sql)
            run.results.append(NodeResult(node, "error", error))


def _hook_node(runner, event: str, index: int, sql: str) -> Node:
    name = runner.project.config.name
    return Node(
        unique_id=f"operation.{name}.{name}-{event}-{index}",
        name=f"{name}-{event}-{index}",
        resource_type="operation",
        path=runner.project.layout.project_file,
        raw_code=sql,
        config={},
        relation=None,
    )


def _run_hook(runner, event: str, index: int, sql: str, extra: dict[str, Any]) -> str | None:
    """Render and run one hook; the error message if it failed, else None."""
    project = runner.project
    project_file = project.layout.project_file
    where = f"{project_file}: {event} hook {index + 1}"
    # The renderer caches templates by path, so each hook gets a path of its own.
    key = f"{project_file}#{event}-{index}"
    frame = Frame(f"{project.config.name}-{event}-{index}", key, "operation", {}, "compile")
    try:
        rendered = project.renderer.render(sql, frame, extra)
    except Exception as exc:
        message = str(exc).removeprefix(key).lstrip(":0123456789 ")
        return f"{where}: {message}"
    if rendered.strip():
        try:
            runner.adapter.execute(rendered)
        except runner.adapter.error_types as exc:
            return f"{where}: {first_line(str(exc))}"
    total = len(project.config.on_run_start if event == "on-run-start" else project.config.on_run_end)
    runner.reporter.log(f"OK {event} hook {index + 1} of {total}")
    return None


def hook_result(result: NodeResult, database: str) -> Target:
    """A run result as a hook sees it: dbt's RunResult attributes that macros read."""
    node = result.node
    relation = node.relation
    return Target(
        status=result.status,
        message=result.message or None,
        failures=result.failures,
        execution_time=result.execution_time,
        adapter_response={"rows_affected": result.rows} if result.rows is not None else {},
        thread_id=result.thread_id,
        timing=[],
        node=Target(
            unique_id=node.unique_id,
            name=node.name,
            resource_type=node.resource_type,
            original_file_path=node.path,
            path=node.path,
            package_name=node.unique_id.split(".")[1],
            database=database,
            schema=relation.schema if relation is not None else None,
            alias=relation.identifier if relation is not None else None,
            identifier=relation.identifier if relation is not None else None,
            config=node.config,
            tags=list(node.tags),
            fqn=list(node.fqn),
        ),
    )
