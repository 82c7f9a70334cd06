"""What differs between kinds of project on disk, behind one seam.

A :class:`Layout` answers every question whose answer depends on whether the
folder is a stockx project (``[tool.stockx]`` in pyproject.toml) or another
kind, such as a dbt project (``stockx_export.dbt`` subclasses it): which config
block configures a node, how a custom schema is named, where failing test rows
are stored, which hooks a node has, how a seed's column types are chosen, and
what loading adds before and after the models are parsed.

The base class is stockx's own layout. Nothing in the core asks which kind of
project it reads; it asks the project's layout (``ProjectConfig.layout``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stockx_export.core.config import ProjectConfig
    from stockx_export.core.loading import ProjectLoader
    from stockx_export.core.nodes import Node
    from stockx_export.core.project import Project


@dataclass(frozen=True)
class Layout:
    """A stockx project's answers; subclasses override what their kind of project does differently."""

    project_file: str = "pyproject.toml"  # named in messages about project-level settings (hooks)
    audit_schema: str = "audit"  # store_failures: <target schema>_<this>, unless a test sets its schema
    # Templates see relations with the database and every part quoted ("db"."main"."x"), as dbt renders them.
    qualified_relations: bool = False
    # An undefined name in a template is an error wherever it is used (else it renders as nothing, as in dbt).
    strict_undefined: bool = True

    def config_keys(self, config: ProjectConfig, folders: list[str], name: str | None = None) -> list[str]:
        """The keys leading to a node's block in a ``models:`` / ``seeds:`` / ``data_tests:`` tree.

        ``folders`` are the node's folders under its resource path; ``name`` its
        own name (None for tests). stockx keys blocks by folder only.
        """
        return list(folders)

    def schema_name(self, config: ProjectConfig, custom: str | None) -> str:
        """The schema of a node whose config sets ``schema`` to ``custom`` (no generate_schema_name macro)."""
        if not custom:
            return config.target_schema
        return str(custom).strip()

    def before_models(self, loader: ProjectLoader) -> None:
        """Called once macros are installed and seeds are added, before models are parsed."""

    def after_models(self, project: Project) -> None:
        """Called once every model is parsed, before the DAG is checked and tests are collected."""

    def node_hooks(self, node: Node, when: str) -> list[str]:
        """SQL to run right ``when`` ("pre" or "post") ``node`` is built; stockx projects have none."""
        return []

    def seed_column_types(self, path: Path, config: dict[str, Any]) -> dict[str, str] | None:
        """Every column of a seed with its SQL type, when the layout decides them; None lets the
        database's CSV reader type the columns (with the seed's ``column_types``)."""
        return None


STOCKX = Layout()
