"""Running a unit test: the model's SQL against fixture rows, compared with the expected rows.

Everything happens in the run's scratch database (an empty in-memory one for
DuckDB), inside a transaction rolled back after each test: each ``given`` input becomes a
table, the model is compiled with its ``ref``/``source`` (and ``this``)
pointed at those tables, and its output is compared with ``expect`` on the
expected columns, as multisets (row order does not matter). The project
database is never opened. ``overrides`` replace vars, macros (``is_incremental``
is false unless overridden, as in dbt) and environment variables.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
from collections.abc import Iterator
from typing import Any

from stockx_export.analysis.analyzer import Analyzer
from stockx_export.core.nodes import Node
from stockx_export.core.testdefs.collect import parse_input
from stockx_export.db import Relation
from stockx_export.errors import ProjectError, StockxError
from stockx_export.run.results import NodeResult, query_error
from stockx_export.run.testing.fixtures import Rows, given_columns, load_table, read_rows
from stockx_export.tables import format_table, plural

DIFF_ROWS = 20
ACTUAL = "__stockx_actual"
EXPECTED = "__stockx_expected"


def _table_name(key: Any) -> str:
    text = "this" if key == "this" else "__".join(key) if isinstance(key, tuple) else key
    return "given_" + re.sub(r"\W+", "_", text)


def _declared(project, model: Node, key: Any, analyzer=None) -> list[tuple[str, str | None]]:
    """The columns of the upstream of ``key`` (the model itself for ``this``).

    Its YAML columns; else, as dbt reads them off the built relation, the columns
    of the seed's file or of the upstream's SQL, worked out without the project
    database (``analyzer`` works on the unit test's own connection). So rows
    need name only the columns a test is about; the others are NULL.
    """
    if key == "this":
        columns = model.columns
    elif isinstance(key, tuple):
        columns = project.sources[key].columns
        if not columns and analyzer is not None:
            columns = analyzer.schemas.source_columns(project.sources[key]) or ()
    else:
        columns = project.by_name[key].columns
        if not columns and analyzer is not None:
            columns = analyzer.columns(project.by_name[key]) or ()
    return [(c.name, c.data_type) for c in columns]


def _describe(key: Any) -> str:
    if key == "this":
        return "this"
    if isinstance(key, tuple):
        return f"source('{key[0]}', '{key[1]}')"
    return f"ref('{key}')"


@contextlib.contextmanager
def environment(values: dict[str, Any]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def load_given(project, adapter, node: Node, model: Node) -> dict[Any, Relation]:
    """Create a table per given input (and an empty one per undeclared-but-typed input)."""
    relations: dict[Any, Relation] = {}
    inputs = []
    for number, item in enumerate(node.extra["given"], 1):
        where = f"{node.path}: unit test '{node.name}', given {number}"
        key = parse_input(item["input"], where)
        described = f"{where} ({_describe(key)})"
        inputs.append((key, read_rows(item, described, fixture_folders(project)), described))
    analyzer = None
    # `this` last: its columns default to the model's own output types over the other inputs.
    for key, rows, where in sorted(inputs, key=lambda i: i[0] == "this"):
        declared = _declared(project, model, key)
        # YAML may list only some columns; columns worked out from the file or SQL are all of them.
        complete = not declared
        if complete:
            analyzer = analyzer or Analyzer(project, adapter)
            declared = _declared(project, model, key, analyzer)
        if key == "this" and not (declared and all(t for _, t in declared)):
            output = _output_types(project, adapter, model, relations)
            complete = complete or bool(output)
            declared = output or declared
        if complete and declared:
            _check_row_columns(rows, [n for n, _ in declared], where)
        table = _table_name(key)
        load_table(adapter, table, given_columns(declared, rows), rows, where)
        relations[key] = Relation(adapter.target.schema, table)
    for key in [*model.refs, *model.sources]:
        if key in relations or (isinstance(key, str) and project.by_name[key].materialized == "ephemeral"):
            continue
        declared = _declared(project, model, key)
        if not declared:
            raise ProjectError(
                f"{node.path}: unit test '{node.name}' gives no rows for {_describe(key)}, and its columns are not "
                f"declared in YAML: add `- input: {_describe(key)}` with `rows: []` and the columns the model reads"
            )
        table = _table_name(key)
        load_table(adapter, table, given_columns(declared, Rows()), Rows(), node.path)
        relations[key] = Relation(adapter.target.schema, table)
    return relations


def _check_row_columns(rows: Rows, names: list[str], where: str) -> None:
    """A column the rows name that the input does not have is a typo, not a new column (dbt refuses it too)."""
    known = {n.lower() for n in names}
    for column in rows.columns:
        if column.lower() not in known:
            close = difflib.get_close_matches(column, names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ProjectError(f"{where}: it has no column '{column}' (its columns: {', '.join(names)}){hint}")


def _output_types(project, adapter, model: Node, relations: dict[Any, Relation]) -> list[tuple[str, str]]:
    """The model's output columns on a first (non-incremental) run over the given inputs; [] if unknown."""
    try:
        with project.renderer.overridden(macros={"is_incremental": False}), _isolated(project, adapter):
            sql = project.compiler.compile(model, relations)
        return adapter.columns(f"(\n{sql}\n)")
    except (StockxError, *adapter.error_types):
        return []


@contextlib.contextmanager
def _isolated(project, adapter) -> Iterator[None]:
    """Point the project's run_query / is_incremental at the scratch database, as it holds the given tables now."""
    adapter.refresh()
    with project.resolver.attached(adapter):
        yield


def run_unit_test(runner, node: Node) -> NodeResult:
    """The executor for resource type ``unit_test``."""
    project = runner.project
    model = project.nodes[node.extra["model_id"]]
    overrides = node.extra.get("overrides") or {}
    macros = {"is_incremental": False, **(overrides.get("macros") or {})}
    scratch = runner.scratch()
    # Each unit test works inside a transaction that is rolled back: its fixture tables
    # never meet another test's, and one scratch database serves the whole run.
    with scratch.rolled_back():
        relations = load_given(project, scratch, node, model)
        with project.renderer.overridden(overrides.get("vars") or {}, macros), environment(
            overrides.get("env_vars") or {}
        ), _isolated(project, scratch):
            sql = project.compiler.compile(model, relations)
        shown = runner.write_compiled(node, sql)
        try:
            scratch.create_table_as(ACTUAL, sql)
        except scratch.error_types as exc:
            return query_error(node, model.name, exc, shown)
        return compare(scratch, node, shown, project)


def fixture_folders(project) -> list:
    """Where ``fixture:`` files are looked for: ``fixtures/`` in each test path and beside it."""
    folders = []
    for test_path in project.config.test_paths:
        base = project.config.path(test_path)
        folders += [base / "fixtures", base.parent / "fixtures"]
    return list(dict.fromkeys(folders))


def compare(adapter, node: Node, shown: str, project) -> NodeResult:
    """Expected rows against the model's output (already in ``__stockx_actual``)."""
    where = f"{node.path}: unit test '{node.name}', expect"
    expected = read_rows(node.extra["expect"], where, fixture_folders(project))
    actual_columns = adapter.columns(ACTUAL)
    actual_types = dict(actual_columns)
    if expected.sql is not None:
        adapter.create_table_as(EXPECTED, expected.sql)
        names = [n for n, _ in adapter.columns(EXPECTED)]
    else:
        names = expected.columns or [n for n, _ in actual_columns]
    missing = [n for n in names if n not in actual_types]
    if missing:
        return NodeResult(
            node,
            "error",
            f"expected column{'s' if len(missing) != 1 else ''} {', '.join(missing)} not in the output of "
            f"{node.extra['model']} (it has {', '.join(n for n, _ in actual_columns)})",
            compiled_path=shown,
        )
    if expected.sql is None:
        load_table(adapter, EXPECTED, [(n, actual_types[n]) for n in names], expected, where)
    unexpected = adapter.rows_missing(names, ACTUAL, EXPECTED)
    absent = adapter.rows_missing(names, EXPECTED, ACTUAL)
    if not unexpected and not absent:
        return NodeResult(node, "pass", compiled_path=shown, failures=0)
    diff = sorted(
        [("-", *r) for r in absent] + [("+", *r) for r in unexpected],
        key=lambda r: ([str(v) for v in r[1:]], r[0] != "-"),
    )
    message = (
        f"actual differs from expected: {plural(len(absent), 'expected row')} missing, "
        f"{plural(len(unexpected), 'unexpected row')}"
    )
    table = format_table(["diff", *names], diff[:DIFF_ROWS], indent="    ")
    more = f"\n    ... {len(diff) - DIFF_ROWS} more" if len(diff) > DIFF_ROWS else ""
    legend = "    (- expected but missing, + in the output but not expected)"
    return NodeResult(
        node,
        "fail",
        message,
        failures=len(diff),
        compiled_path=shown,
        detail=f"compiled SQL: {shown}",
        extra={
            "preview": f"    {message}\n{table}{more}\n{legend}",
            "sample": {"columns": ["diff", *names], "rows": [list(r) for r in diff[:DIFF_ROWS]]},
        },
    )
