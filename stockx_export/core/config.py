"""Project configuration: ``[tool.stockx]`` in pyproject.toml, plus command-line overrides.

A stockx project is a directory with a ``pyproject.toml`` holding ``[tool.stockx]``::

    [tool.stockx]
    name = "stockx"                    # project name, used in node ids
    model-paths = ["models"]           # also: macro-paths, seed-paths, test-paths
    database = "target/stockx.duckdb"  # or ":memory:"
    [tool.stockx.vars]
    lookback_days = 3
    [tool.stockx.models.marts]         # folder-level config, inherited by sub-folders
    materialized = "table"

Paths accept dbt's spelling (``model-paths``) and the snake-case one (``model_paths``).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stockx_export.errors import ProjectError

DEFAULT_DATABASE = "target/stockx.duckdb"


@dataclass(frozen=True)
class ProjectConfig:
    """Everything a command needs to know about where a project lives and how it is set up."""

    root: Path
    name: str
    settings: dict[str, Any]
    model_paths: tuple[str, ...] = ("models",)
    macro_paths: tuple[str, ...] = ("macros",)
    seed_paths: tuple[str, ...] = ("seeds",)
    test_paths: tuple[str, ...] = ("tests/sql",)
    target_path: str = "target"
    database: str = ":memory:"
    vars: dict[str, Any] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    seeds: dict[str, Any] = field(default_factory=dict)
    data_tests: dict[str, Any] = field(default_factory=dict)
    target_name: str = "dev"
    target_schema: str = "main"
    flavour: str = "stockx"  # "dbt" when read from dbt_project.yml
    on_run_start: tuple[str, ...] = ()
    on_run_end: tuple[str, ...] = ()

    @property
    def target_dir(self) -> Path:
        return self.root / self.target_path

    def path(self, relative: str) -> Path:
        return self.root / relative


def parse_vars(text: str | None) -> dict[str, Any]:
    """Parse ``--vars``: a YAML or JSON mapping (JSON is YAML, so one parser serves both)."""
    if not text:
        return {}
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProjectError(f"--vars is not valid YAML or JSON: {exc}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProjectError(f"--vars must be a mapping like '{{key: value}}', got: {text!r}")
    return value


def _paths(settings: dict[str, Any], key: str, default: str) -> tuple[str, ...]:
    value = settings.get(key, settings.get(key.replace("-", "_"), [default]))
    if isinstance(value, str):
        value = [value]
    return tuple(str(v).rstrip("/") for v in value)


def _resolve_database(root: Path, configured: str) -> str:
    if configured == ":memory:":
        return configured
    path = Path(os.path.expanduser(configured))
    return str(path if path.is_absolute() else (root / path))


def load_config(
    project_dir: str | os.PathLike = ".",
    vars: dict[str, Any] | str | None = None,
    database: str | None = None,
) -> ProjectConfig:
    """Read the project at ``project_dir`` and apply command-line overrides.

    ``vars`` (a mapping, or the raw ``--vars`` text) override the project's vars;
    ``database`` overrides the configured DuckDB file.
    """
    root = Path(project_dir).resolve()
    if not root.is_dir():
        raise ProjectError(f"project directory {project_dir} does not exist")
    cli_vars = parse_vars(vars) if isinstance(vars, str) or vars is None else dict(vars)

    pyproject = root / "pyproject.toml"
    settings: dict[str, Any] | None = None
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ProjectError(f"{pyproject}: {exc}") from None
        settings = data.get("tool", {}).get("stockx")
        project_name = data.get("project", {}).get("name")
    if settings is None:
        if (root / "dbt_project.yml").is_file():
            from stockx_export.dbt.config import load_dbt_config

            return load_dbt_config(root, cli_vars, database)
        raise ProjectError(
            f"{root} is not a stockx project: add a [tool.stockx] table to pyproject.toml "
            "(or run from a dbt project with dbt_project.yml)"
        )

    name = str(settings.get("name") or project_name or root.name).replace("-", "_")
    merged_vars = {**settings.get("vars", {}), **cli_vars}
    return ProjectConfig(
        root=root,
        name=name,
        settings=settings,
        model_paths=_paths(settings, "model-paths", "models"),
        macro_paths=_paths(settings, "macro-paths", "macros"),
        seed_paths=_paths(settings, "seed-paths", "seeds"),
        test_paths=_paths(settings, "test-paths", "tests/sql"),
        target_path=str(settings.get("target-path", settings.get("target_path", "target"))),
        database=_resolve_database(root, database or str(settings.get("database", DEFAULT_DATABASE))),
        vars=merged_vars,
        models=settings.get("models", {}),
        seeds=settings.get("seeds", {}),
        data_tests=settings.get("data_tests", settings.get("tests", {})),
        target_name=str(settings.get("target", "dev")),
        target_schema=str(settings.get("schema", "main")),
    )

