"""Running a data test: its query's rows are failures, judged against warn_if / error_if.

The test query is compiled to ``target/compiled/...`` (rerun it to see every
failing row), then counted the way dbt does::

    select count(*) as failures, count(*) != 0 as should_warn, count(*) != 0 as should_error
    from (<test query> limit <limit>) dbt_internal_test

``severity: error`` fails when ``error_if`` holds, else warns when ``warn_if``
holds; ``severity: warn`` can only warn. With ``store_failures`` the failing
rows are kept in ``<schema>_audit.<test name>``, replaced on every run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stockx_export.core.compilation import inject_ctes
from stockx_export.core.jinja.render import Frame
from stockx_export.core.nodes import Node
from stockx_export.core.testdefs.collect import render_generic
from stockx_export.db import Relation
from stockx_export.errors import ProjectError
from stockx_export.run.results import NodeResult, query_error
from stockx_export.tables import format_table

PREVIEW_ROWS = 5
_THRESHOLD = re.compile(r"^\s*(==|=|!=|<>|>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Verdict:
    status: str  # pass | warn | fail
    failures: int
    message: str


def threshold(node: Node, key: str) -> str:
    """``warn_if`` / ``error_if`` as SQL to put after the failure count, e.g. ``> 10``."""
    value = str(node.config.get(key, "!= 0"))
    match = _THRESHOLD.match(value)
    if match is None:
        raise ProjectError(
            f"{node.path}: test {node.name}: {key} {value!r} is not a comparison with a number; "
            f"write it like '>10', '!= 0' or '>=5'"
        )
    operator = "=" if match.group(1) == "==" else match.group(1)
    return f"{operator} {match.group(2)}"


def severity(node: Node) -> str:
    value = str(node.config.get("severity", "error")).lower()
    if value not in ("error", "warn"):
        raise ProjectError(f"{node.path}: test {node.name}: severity must be error or warn, got {value!r}")
    return value


def judge(node: Node, failures: int, should_warn: bool, should_error: bool) -> Verdict:
    """dbt's verdict and message: 'Got 3 results, configured to fail if != 0'."""
    counted = f"{failures} result{'' if failures == 1 else 's'}"  # dbt's wording: no thousands separator
    if severity(node) == "error" and should_error:
        return Verdict("fail", failures, f"Got {counted}, configured to fail if {threshold(node, 'error_if')}")
    if should_warn:
        return Verdict("warn", failures, f"Got {counted}, configured to warn if {threshold(node, 'warn_if')}")
    return Verdict("pass", failures, "")


def compile_test(project, node: Node) -> str:
    """The test's query: rows are failures."""

    frame = Frame(
        node.name,
        node.path,
        "test",
        dict(node.config),
        "compile",
        allowed_refs=frozenset(node.refs),
        extra={"node": node},
        package=node.package_name,
    )
    if node.extra.get("test_kind") == "generic":
        sql = render_generic(project, node, frame)
    else:
        sql = project.renderer.render(node.raw_code, frame)
    sql = sql.strip().rstrip(";").strip()
    return project.compiler.for_target(node, inject_ctes(sql, project.compiler.ctes(frame.ctes)))


def audit_relation(project, node: Node) -> Relation:
    """Where ``store_failures`` keeps a test's failing rows: ``<target schema>_<schema config, else the layout's audit schema>``."""
    schema = f"{project.config.target_schema}_{node.config.get('schema') or project.layout.audit_schema}"
    return Relation(schema, str(node.config.get("alias") or node.extra.get("file_name") or node.name))


def _limited(sql: str, limit) -> str:
    if limit is None:
        return sql
    try:
        rows = int(limit)
    except (TypeError, ValueError):
        raise ProjectError(f"test limit must be a whole number, got {limit!r}") from None
    return f"select * from (\n{sql}\n) dbt_limited limit {rows}"


def run_data_test(runner, node: Node) -> NodeResult:
    """The executor for resource type ``test``."""
    project, adapter = runner.project, runner.adapter
    sql = compile_test(project, node)
    shown = runner.write_compiled(node, sql)
    failing = _limited(sql, node.config.get("limit"))
    stored = audit_relation(project, node) if node.config.get("store_failures") else None
    fail_calc = str(node.config.get("fail_calc") or "count(*)")
    try:
        if stored is not None:
            adapter.store_failures(stored, failing, str(node.config.get("store_failures_as") or "table") == "view")
            failing = f"select * from {stored}"
        row = adapter.test_verdict(failing, fail_calc, threshold(node, "warn_if"), threshold(node, "error_if"))
    except adapter.error_types as exc:
        result = query_error(node, node.name, exc, shown)
        unbuilt = [
            n
            for n in (project.nodes.get(u) for u in node.depends_on)
            if n is not None and n.relation is not None and adapter.relation_kind(n.relation) is None
        ]
        if unbuilt:  # the usual cause: `stockx test` before anything was built
            names = " ".join(n.name for n in unbuilt)
            result.message += f" ({', '.join(str(n.relation) for n in unbuilt)} not built yet: run `stockx build -s {names}`)"
        return result
    failures = int(row[0] or 0)
    verdict = judge(node, failures, bool(row[1]), bool(row[2]))
    extra = {"severity": severity(node)}
    detail = f"compiled SQL: {shown}"
    if stored is not None:
        extra["store_failures_relation"] = str(stored)
        detail += f"\nfailing rows stored in {stored}"
    if verdict.status != "pass":
        sample = adapter.sample(failing, PREVIEW_ROWS)
        extra["sample"] = {"columns": sample.names, "rows": [list(r) for r in sample.rows]}
        extra["preview"] = preview(verdict, failures, sample.names, sample.rows, detail)
    return NodeResult(
        node,
        verdict.status,
        verdict.message,
        failures=failures,
        compiled_path=shown,
        detail=detail if verdict.status != "pass" else "",
        extra=extra,
    )


def preview(verdict: Verdict, failures: int, names: list[str], rows: list[tuple], detail: str) -> str:
    """What the log shows under a failing or warning test line."""
    lines = [f"    {verdict.message}"]
    if names:
        lines.append(format_table(names, rows, indent="    "))
    if failures > len(rows) and rows:
        lines.append(f"    ... {failures - len(rows)} more")
    lines.extend(f"    {line}" for line in detail.splitlines())
    return "\n".join(lines)
