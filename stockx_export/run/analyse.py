"""Library functions behind ``stockx check`` and ``stockx lineage``."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from stockx_export.analysis.analyzer import Analyzer
from stockx_export.analysis.checks import run_checks
from stockx_export.analysis.lineage import ColumnLineage, LineageTracer


@contextmanager
def analysed_project(options, reporter):
    """The project of ``options``, attached to its database read-only (or to an empty one) for rendering."""
    from stockx_export.db import connect
    from stockx_export.run.engine import open_project

    project = open_project(options, reporter)
    database = project.config.database
    exists = database != ":memory:" and Path(database).exists()
    con = connect(database, read_only=True) if exists else connect(":memory:")
    try:
        project.attach(con)
        yield project, con
    finally:
        con.close()


def check(options, reporter) -> list:
    """Run the static checks on the selected models; returns the models checked (errors raise CheckError)."""
    from stockx_export.core.selector import select

    with analysed_project(options, reporter) as (project, con):
        order = select(project, options.select, options.exclude, ("model",))
        analyzer = run_checks(project, con, order, reporter.warn)
        return analyzer.models(order)


def lineage(options, reporter, model: str, column: str | None = None) -> list[ColumnLineage]:
    """The lineage of ``column`` of ``model`` (every column when None)."""
    with analysed_project(options, reporter) as (project, con):
        tracer = LineageTracer(Analyzer(project, con))
        return tracer.trace(tracer.model(model), column)
