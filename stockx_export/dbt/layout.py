"""How a dbt project differs from a stockx one: the :class:`DbtLayout`.

Config blocks are keyed by the project name, then folders, then the node's own
name; a custom schema is ``<target schema>_<custom>``; failing test rows go to
``<target schema>_dbt_test__audit``; models and seeds run their ``pre-hook`` /
``post-hook``; seeds are typed the way dbt-duckdb types them (stockx_export.dbt.seeds).

Loading adds, before the models are parsed: a stop naming each package
packages.yml declares that is not installed (stockx_export.dbt.packages), ``{% docs %}``
blocks from the docs paths, and a report of what stockx does not run (Python
models, profile keys it ignores), each once, naming its file. A Python model
stays known by name, so a model that ``ref``s it still parses: it reads that
relation as it already is in the database (built earlier by dbt), and fails with
DuckDB's "does not exist" error naming the model if it is not there.
After the models: Jinja in descriptions (``{{ doc('x') }}``, ``{{ var('y') }}``) is
rendered, as dbt does, so manifest.json carries the text a reader should see.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stockx_export.core.config import folder_config
from stockx_export.core.jinja.macros import extract_blocks
from stockx_export.core.jinja.render import Frame
from stockx_export.core.layout import Layout
from stockx_export.core.nodes import Node
from stockx_export.db import Relation
from stockx_export.dbt import seeds
from stockx_export.errors import ProjectError

PROJECT_FILE = "dbt_project.yml"
# Output keys stockx acts on (or that change nothing here, or that stockx adds when reading the output);
# any other key of a duckdb output is reported as ignored.
PROFILE_KEYS_USED = {"type", "path", "schema", "threads", "extensions", "settings", "database", "name", "profile_file",
                     "profile_name", "origin", "table"}


@dataclass(frozen=True)
class DbtLayout(Layout):
    """A dbt project's answers (see the module docstring)."""

    project_file: str = PROJECT_FILE
    audit_schema: str = "dbt_test__audit"
    qualified_relations: bool = True
    strict_undefined: bool = False
    profile: dict[str, Any] = field(default_factory=dict)  # the chosen profiles.yml output, {} without one
    missing_packages: tuple[str, ...] = ()  # a message for each package declared but not installed

    def config_keys(self, config, folders: list[str], name: str | None = None) -> list[str]:
        return [config.name, *folders, *([name] if name is not None else [])]

    def schema_name(self, config, custom: str | None) -> str:
        if not custom:
            return config.target_schema
        return f"{config.target_schema}_{str(custom).strip()}"

    def node_hooks(self, node: Node, when: str) -> list[str]:
        """Hooks from dbt_project.yml (``+post-hook``), then config() (``post_hook``)."""
        found: list[str] = []
        for key in (f"{when}-hook", f"{when}_hook"):
            value = node.config.get(key) or []
            for hook in [value] if isinstance(value, (str, dict)) else value:
                found.append(str(hook.get("sql", "")) if isinstance(hook, dict) else str(hook))
        return [h for h in found if h.strip()]

    def seed_column_types(self, path: Path, config: dict[str, Any]) -> dict[str, str] | None:
        return seeds.infer_types(path, config)

    def before_models(self, loader) -> None:
        project = loader.project
        if self.missing_packages:
            # Before any model is parsed: a model calling the package's macros would fail less clearly.
            raise ProjectError("; ".join(self.missing_packages))
        load_docs(loader)
        self._report_profile_keys(project)
        for path, display, base in loader.files(project.config.model_paths, ("*.py",)):
            keys = loader.config_keys(path, base)
            _placeholder(loader, path.stem, display, "python_model", keys)
            project.warnings.append(
                f"{display}: Python models are not supported by stockx, so it is not built (nor its tests); "
                f"models that ref it read {_relation(loader, path.stem, keys)} as it is in the database"
            )
        for node in project.nodes.values():
            if node.resource_type == "seed" and node.config.get("fast") is False:
                project.warnings.append(
                    f"{node.path}: 'fast: false' is not supported by stockx; it loads the seed the fast way, "
                    "so DuckDB parses the values ('null' stays text, '1,000' is not a number)"
                )

    def after_models(self, project) -> None:
        """Render each seed's and model's description and its columns' (sources' too)."""
        for uid, node in list(project.nodes.items()):
            where = node.patch_path or node.path
            described = dataclasses.replace(
                node,
                description=describe(project, node.description, where),
                columns=tuple(
                    dataclasses.replace(c, description=describe(project, c.description, where)) for c in node.columns
                ),
            )
            project.nodes[uid] = described
            if project.by_name.get(node.name) is node:
                project.by_name[node.name] = described
        for key, source in list(project.sources.items()):
            project.sources[key] = dataclasses.replace(
                source,
                description=describe(project, source.description, source.path),
                columns=tuple(
                    dataclasses.replace(c, description=describe(project, c.description, source.path))
                    for c in source.columns
                ),
            )

    def _report_profile_keys(self, project) -> None:
        if self.profile.get("type", "duckdb") != "duckdb":
            return  # another target's adapter takes its own settings, and refuses one it does not know
        ignored = sorted(k for k in self.profile if k not in PROFILE_KEYS_USED)
        if ignored:
            output = self.profile
            project.warnings.append(
                f"{output['profile_file']}: stockx ignores {', '.join(ignored)} in profile '{output['profile_name']}' "
                f"output '{output['name']}'; it uses type, path, schema, extensions and settings"
            )


def describe(project, text: str, where: str) -> str:
    return project.renderer.render_string(text, where) if text and "{" in text else text


def load_docs(loader) -> None:
    """``{% docs %}`` blocks in ``*.md`` files of the docs paths (dbt's default: every resource path), of the
    project and of its packages (the project's own win a name they share)."""
    project = loader.project
    docs = project.renderer.macros.docs
    for owner in project.projects:
        default = (*owner.model_paths, *owner.seed_paths, *owner.snapshot_paths, *owner.test_paths, *owner.macro_paths)
        paths = _setting_paths(owner, "docs-paths", None) or default
        for path, display, _ in loader.files(tuple(dict.fromkeys(paths)), ("*.md",), owner):
            for block in extract_blocks(path.read_text(encoding="utf-8"), display):
                if block.kind == "docs":
                    docs[block.name] = block


def _placeholder(loader, name: str, display: str, kind: str, keys: list[str]) -> None:
    _register(loader, name, display, kind, _relation(loader, name, keys))
    loader.project.properties.models.pop(name, None)  # its tests and docs would describe a model stockx does not build


def _relation(loader, name: str, keys: list[str]) -> Relation:
    project = loader.project
    config = folder_config(project.config.models, keys)
    return project.resolver.this(Frame(name, "", "model", config, "parse"))


def _register(loader, name: str, display: str, kind: str, relation: Relation) -> None:
    loader.project.register(
        Node(
            unique_id=f"{kind}.{loader.project.config.name}.{name}",
            name=name,
            resource_type=kind,
            path=display,
            raw_code="",
            config={"materialized": kind},
            relation=relation,
        )
    )


def _setting_paths(config, key: str, default: str | None) -> tuple[str, ...]:
    value = config.settings.get(key) or ([default] if default else [])
    return tuple(str(v).rstrip("/") for v in ([value] if isinstance(value, str) else value))
