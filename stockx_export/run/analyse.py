"""Library functions behind ``stockx check``, ``stockx lineage`` and ``stockx compile --dialect``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stockx_export import adapters
from stockx_export.analysis import rewrites
from stockx_export.analysis.analyzer import Analyzer
from stockx_export.analysis.checks import run_checks
from stockx_export.analysis.lineage import ColumnLineage, LineageTracer
from stockx_export.analysis.transpile import SUPPORT_FILE, database_name, transpile_sql
from stockx_export.errors import TranspileError
from stockx_export.core.nodes import Node
from stockx_export.run.engine import selected
from stockx_export.run.options import RunOptions
from stockx_export.run.projects import open_project
from stockx_export.tables import plural


@contextmanager
def analysed_project(options: RunOptions, reporter) -> Iterator[tuple]:
    """The project of ``options``, attached to its database read-only (or to an empty one) for rendering."""
    project = open_project(options, reporter)
    with adapters.for_reading(project.config.target) as adapter:
        project.resolver.attach(adapter)
        yield project, adapter


def check(options: RunOptions, reporter) -> list[Node]:
    """Run the static checks on the selected models; returns the models checked (errors raise CheckError)."""
    with analysed_project(options, reporter) as (project, adapter):
        order = selected(project, options, ("model",))
        analyzer = run_checks(project, adapter, order, reporter.warn)
        return analyzer.models(order)


def lineage(options: RunOptions, reporter, model: str, column: str | None = None) -> list[ColumnLineage]:
    """The lineage of ``column`` of ``model`` (every column when None)."""
    with analysed_project(options, reporter) as (project, adapter):
        tracer = LineageTracer(Analyzer(project, adapter))
        return tracer.trace(tracer.model(model), column)


def transpile_project(options, reporter, dialect: str) -> list[Path]:
    """Write each selected model in ``dialect`` under ``target/compiled/<dialect>/``; paths written.

    Models are compiled as a full refresh (an incremental model's filter needs its
    own DuckDB table). Untranslatable models are not written, and raise
    :class:`TranspileError` naming each model and construct once the others are written.
    """
    options = dataclasses.replace(options, full_refresh=True)
    written: list[Path] = []
    failures: list[tuple[str, str]] = []
    with analysed_project(options, reporter) as (project, adapter):
        order = selected(project, options, ("model",))
        run_checks(project, adapter, order, reporter.warn)
        transpile = project.config.settings.get("transpile", {})
        database = str(transpile.get("database") or database_name(project.config.database))
        out = project.config.target_dir / "compiled" / dialect
        needs_support = False
        for uid in order:
            node = project.nodes[uid]
            result = transpile_sql(project.compiler.compile(node, translated=False), dialect, database)
            if result.sql is None:
                failures += [(str(node.path), construct) for construct in result.untranslatable]
                continue
            path = out / node.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(result.sql, encoding="utf-8")
            written.append(path)
            needs_support |= result.needs_support
        if needs_support:
            support = out / SUPPORT_FILE
            support.write_text(rewrites.support_sql(dialect), encoding="utf-8")
            reporter.warn(
                f"some models call stockx_try_cast(): run {support.relative_to(project.config.root).as_posix()} "
                f"once in the {dialect} database before them"
            )
    if failures:
        raise TranspileError(dialect, failures, len(written))
    return written
