"""Which nodes a command's ``--select`` / ``--exclude`` pick, and ``stockx ls``.

Apart from the engine (stockx_export.run.engine) so that listing a project
imports no adapter, executor or static check: ``stockx ls`` starts faster.
"""

from __future__ import annotations

from stockx_export.analysis.state import ManifestState
from stockx_export.core.nodes import Node
from stockx_export.core.project import Project
from stockx_export.core.selector import select, unmatched
from stockx_export.run.options import RunOptions
from stockx_export.run.projects import open_project


def selected(project: Project, options: RunOptions, resource_types: tuple[str, ...], *, ephemeral: bool = False,
             reporter=None) -> list[str]:
    """The unique ids ``options`` select, in DAG order; each term that matches nothing is warned about."""
    state = ManifestState(project, options.state)
    order = select(project, options.select, options.exclude, resource_types, ephemeral=ephemeral, state=state)
    if reporter is not None:
        warn_unmatched(project, options, order, reporter, state)
    return order


def warn_unmatched(project: Project, options: RunOptions, order: list[str], reporter, state=None) -> None:
    """Name each --select / --exclude term that matches no node; say so when nothing at all is selected."""
    if not order and options.select:
        reporter.warn(f"nothing selected by --select {' '.join(options.select)}: check names, tags and paths (stockx ls)")
        flags = (("--exclude", options.exclude),)
    else:
        flags = (("--select", options.select), ("--exclude", options.exclude))
    for flag, expressions in flags:
        for term in unmatched(project, expressions, state):
            reporter.warn(f"{flag} '{term}' matches no node: check names, tags and paths (stockx ls)")


def list_nodes(options: RunOptions, reporter, resource_types: tuple[str, ...]) -> list[Node]:
    """The nodes ``options`` select, in DAG order (unmatched terms are warned about on the reporter)."""
    project = open_project(options, reporter)
    return [project.nodes[u] for u in selected(project, options, resource_types, ephemeral=True, reporter=reporter)]
