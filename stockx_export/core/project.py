"""A parsed project: its models, seeds, sources, tests and their DAG.

:class:`Project` holds what loading found (stockx_export.core.loading builds
it). Two collaborators hang off it: ``resolver`` answers the renderer's
questions (``ref``, ``source``, ``this``, ``is_incremental()``, ``run_query``;
stockx_export.core.resolution) and ``compiler`` turns a node into the SQL that
runs (stockx_export.core.compilation).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from stockx_export.core.compilation import Compiler
from stockx_export.core.config import MEMORY, ProjectConfig, run_threads
from stockx_export.core.dag import DAG
from stockx_export.core.jinja.render import Renderer
from stockx_export.core.nodes import Node, SourceTable
from stockx_export.core.parse_cache import ModelParse, ParseCache
from stockx_export.core.properties import Properties
from stockx_export.core.resolution import CTE_PREFIX, Resolver

# Ties in DAG order: tests first, so each runs right after what it tests; then seeds, then models.
# Sources run nothing: they come first, so a source's tests are ready as soon as their seed is.
RESOURCE_ORDER = {"source": -2, "test": -1, "unit_test": -1, "seed": 0, "snapshot": 1, "model": 1}


def target_context(config: ProjectConfig) -> dict:
    """``target`` as templates see it."""
    target = config.target
    return {
        "name": target.name,
        "schema": target.schema,
        "type": target.type,
        "path": target.database,
        "database": Path(target.database).stem if target.database != MEMORY else "memory",
        "threads": run_threads(None, target),
        "profile_name": config.name,
    }


class Project:
    """Everything stockx knows about a project after parsing it."""

    def __init__(self, config: ProjectConfig, *, full_refresh: bool = False, warn=None, log=None,
                 today: date | None = None) -> None:
        self.config = config
        self.layout = config.layout
        self.full_refresh = full_refresh
        self.nodes: dict[str, Node] = {}
        self.by_name: dict[str, Node] = {}
        self.sources: dict[tuple[str, str], SourceTable] = {}
        self.properties = Properties()
        self.model_files: dict[str, str] = {}  # every model's and snapshot's name, parsed yet or not -> its unique id
        self.warnings: list[str] = []
        # The build's clock for incremental windows: one date for the whole run.
        self.today = today or date.today()
        self.resolver = Resolver(self)
        self.renderer = Renderer(
            vars=config.vars,
            target=target_context(config),
            resolver=self.resolver,
            full_refresh=full_refresh,
            warn=warn,
            log=log,
            root=config.name,
            package_vars={package.name: package.vars for package in config.packages},
            dispatch=config.dispatch,
            quote_relations=config.layout.qualified_relations,
            cte_prefix=CTE_PREFIX,
            strict=config.layout.strict_undefined,
        )
        self.compiler = Compiler(self)
        self.parse_cache = ParseCache(config.target_dir, enabled=False)  # loading sets the run's
        # unique id -> what loading's render of a model found, when its config() calls changed nothing:
        # the SQL is then the model's parse-mode text (its fingerprint's) as long as what it read still
        # resolves as it did (stockx_export.core.loading.ProjectLoader.parse_text).
        self.parse_texts: dict[str, ModelParse] = {}
        self.dag: DAG[str] = DAG(sort_key=self._sort_key, label=self._label)

    @property
    def projects(self) -> tuple[ProjectConfig, ...]:
        """The installed packages, then the root project: the order their files are read in."""
        return (*self.config.packages, self.config)

    def display_root(self, config: ProjectConfig) -> str:
        """Where ``config``'s files are, relative to the root project ("" for the root project itself)."""
        if config is self.config:
            return ""
        return Path(os.path.relpath(config.root, self.config.root)).as_posix()

    def project_of(self, path: str) -> ProjectConfig:
        """The project (the root one, or a package) a file belongs to; ``path`` as shown to users."""
        for package in self.config.packages:
            if path.startswith(self.display_root(package) + "/"):
                return package
        return self.config

    def register(self, node: Node) -> None:
        """Add a model, seed or placeholder to the project (the DAG is built once all are in)."""
        self.nodes[node.unique_id] = node
        self.by_name[node.name] = node

    def add_node(self, node: Node) -> None:
        """Add a node that depends on others (tests) to the project and the DAG."""
        self.nodes[node.unique_id] = node
        self.dag.add(node.unique_id, node.depends_on)

    def ref_id(self, name: str) -> str:
        """The unique id ``ref(name)`` depends on (a model or snapshot not parsed yet included)."""
        node = self.by_name.get(name)
        if node is not None:
            return node.unique_id
        return self.model_files.get(name, f"seed.{self.config.name}.{name}")

    def _sort_key(self, unique_id: str) -> tuple[int, str, str]:
        node = self.nodes.get(unique_id)
        kind = node.resource_type if node else unique_id.split(".", 1)[0]
        name = node.name if node else unique_id
        return (RESOURCE_ORDER.get(kind, 1), name, unique_id)

    def _label(self, unique_id: str) -> str:
        node = self.nodes.get(unique_id)
        return node.name if node else unique_id.rsplit(".", 1)[-1]
