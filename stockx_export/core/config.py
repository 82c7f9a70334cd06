"""Project configuration: ``[tool.stockx]`` in pyproject.toml, plus command-line overrides.

A stockx project is a directory with a ``pyproject.toml`` holding ``[tool.stockx]``::

    [tool.stockx]
    name = "stockx"                    # project name, used in node ids
    model-paths = ["models"]           # also: macro-paths, seed-paths, test-paths, snapshot-paths
    database = "target/stockx.duckdb"  # or ":memory:"
    [tool.stockx.vars]
    lookback_days = 3
    [tool.stockx.models.marts]         # folder-level config, inherited by sub-folders
    materialized = "table"

Paths accept dbt's spelling (``model-paths``) and the snake-case one (``model_paths``).

The database is DuckDB's file above unless a target is chosen (``--target NAME``,
else ``STOCKX_TARGET``): a table under ``[tool.stockx.targets]``::

    [tool.stockx.targets.warehouse]
    type = "postgres"                  # or "duckdb", "spark"
    host = "db.internal"               # the adapter's own settings (stockx_export.adapters)
    schema = "analytics"

Other kinds of project (a dbt project) are read by a :class:`ProjectKind` of
their own, passed to :func:`load_config` by the layer that knows them.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stockx_export.core.layout import STOCKX, Layout
from stockx_export.errors import ProjectError

DEFAULT_DATABASE = "target/stockx.duckdb"
MEMORY = ":memory:"
TARGET_ENV = "STOCKX_TARGET"  # the target to build in when --target is not given
DEFAULT_TYPE = "duckdb"
# Keys of a target table that every adapter shares; the others are the adapter's own (``options``).
COMMON_TARGET_KEYS = ("type", "schema", "threads", "database", "extensions", "settings")
# Config keys whose values are mappings: in folder config they are settings, not sub-folders.
MAPPING_CONFIGS = {"meta", "contract", "column_types", "docs", "persist_docs", "grants", "quote_columns"}
ADDITIVE_KEYS = ("tags",)
MERGED_KEYS = ("meta",)


@dataclass(frozen=True)
class TargetConfig:
    """The database a project builds in: its adapter type, location, schema and connection settings."""

    database: str = MEMORY  # a file path, or ":memory:"
    type: str = "duckdb"  # the adapter (stockx_export.adapters.ADAPTERS)
    name: str = "dev"
    schema: str = "main"
    threads: int | None = None  # nodes run at once; None: as many as the machine has cores (run_threads)
    extensions: tuple[Any, ...] = ()  # loaded on the connection before a run
    settings: dict[str, Any] = field(default_factory=dict)  # SET on the connection before a run
    origin: str = ""  # where this target is defined, for messages: "profiles.yml: profile 'p' output 'dev'"
    options: dict[str, Any] = field(default_factory=dict)  # the adapter's own settings (host, master, ...)
    root: str = ""  # the project folder: relative paths in ``options`` are read from it

    @property
    def label(self) -> str:
        """How messages name the target: ``target 'warehouse' (postgres)``."""
        return f"target '{self.name}' ({self.type})"

    @property
    def built_in(self) -> str:
        """Where a build ran, as the results files record it: the DuckDB file, or ``<type>://<target name>``
        for another target (two targets of one project are two databases, whatever their settings)."""
        return self.database if self.type == DEFAULT_TYPE else f"{self.type}://{self.name}"


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
    snapshot_paths: tuple[str, ...] = ("snapshots",)
    target_path: str = "target"
    target: TargetConfig = field(default_factory=TargetConfig)
    vars: dict[str, Any] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    seeds: dict[str, Any] = field(default_factory=dict)
    snapshots: dict[str, Any] = field(default_factory=dict)
    data_tests: dict[str, Any] = field(default_factory=dict)
    on_run_start: tuple[str, ...] = ()
    on_run_end: tuple[str, ...] = ()
    layout: Layout = STOCKX
    # Installed packages, each read as a project of its own (its vars as its nodes see them), in load order.
    packages: tuple[ProjectConfig, ...] = ()
    # adapter.dispatch's search order for a macro namespace: {namespace: (package, ...)}
    dispatch: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def database(self) -> str:
        return self.target.database

    @property
    def target_name(self) -> str:
        return self.target.name

    @property
    def target_schema(self) -> str:
        return self.target.schema

    @property
    def target_dir(self) -> Path:
        return self.root / self.target_path

    def path(self, relative: str) -> Path:
        return self.root / relative


# (root, --vars, --database, --profiles-dir, --target) -> the project's config, or None when the folder is not of this kind
ConfigReader = Callable[[Path, dict[str, Any], str | None, str | None, str | None], ProjectConfig | None]


@dataclass(frozen=True)
class ProjectKind:
    """One kind of project folder: how to read it, and what to tell a user whose folder is none."""

    read: ConfigReader
    hint: str  # e.g. "add a [tool.stockx] table to pyproject.toml"


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


def resolve_database(root: Path, configured: str) -> str:
    """A database path as configured, made absolute against the project root (``:memory:`` stays)."""
    if configured == MEMORY:
        return configured
    path = Path(os.path.expanduser(configured))
    return str(path if path.is_absolute() else (root / path))


def merge_config(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """dbt's config merge: tags accumulate, meta merges, everything else overrides."""
    merged = dict(base)
    for key, value in update.items():
        key = key.lstrip("+")
        if key in ADDITIVE_KEYS:
            values = [value] if isinstance(value, str) else list(value or [])
            merged[key] = list(dict.fromkeys([*merged.get(key, []), *values]))
        elif key in MERGED_KEYS and isinstance(value, dict):
            merged[key] = {**merged.get(key, {}), **value}
        else:
            merged[key] = value
    return merged


def should_full_refresh(config: dict[str, Any], flag: bool) -> bool:
    """Whether a model is rebuilt from scratch: its ``full_refresh`` config, when set, wins over ``--full-refresh``.

    As in dbt: ``full_refresh: false`` protects a table that cannot be rebuilt
    (its history is gone upstream) from a project-wide ``--full-refresh``.
    """
    configured = config.get("full_refresh")
    return configured if isinstance(configured, bool) else flag


def folder_config(tree: dict[str, Any], parts: list[str]) -> dict[str, Any]:
    """Config from a dbt-style ``models:`` block for a file under the folders ``parts``."""
    config: dict[str, Any] = {}
    level: Any = tree
    for part in [None, *parts]:
        if part is not None:
            level = level.get(part) if isinstance(level, dict) else None
        if not isinstance(level, dict):
            break
        own = {
            k: v
            for k, v in level.items()
            if k.startswith("+") or not isinstance(v, dict) or k in MAPPING_CONFIGS
        }
        config = merge_config(config, own)
    return config


DUCKDB_SETTINGS = "[tool.stockx.duckdb]"


def duckdb_settings(table: Any, root: Path) -> dict[str, Any]:
    """``[tool.stockx.duckdb]``: the DuckDB settings a build sets on its connection, checked.

    Values are strings, numbers or booleans, passed to DuckDB as they are
    (``memory_limit = "1GB"``, ``threads = 2``); a relative ``temp_directory`` is
    read from the project directory ``root``, so spilled data stays under the
    project whatever directory stockx runs in. DuckDB itself judges names and
    values when the adapter sets them.
    """
    if not isinstance(table, dict):
        raise ProjectError(f'{DUCKDB_SETTINGS} must be a table of DuckDB settings, e.g. memory_limit = "1GB"')
    checked: dict[str, Any] = {}
    for name, value in sorted(table.items()):
        where = f"{DUCKDB_SETTINGS} {name}"
        if not (name.replace("_", "a").isalnum() and name.isascii()):
            raise ProjectError(f"{where}: not a DuckDB setting name (letters, digits and _)")
        if not isinstance(value, (bool, int, float, str)):
            raise ProjectError(f"{where}: must be a string, a number or true/false, got {value!r}")
        if name == "temp_directory" and isinstance(value, str) and value:
            value = str(root / Path(value).expanduser())
        checked[name] = value
    return checked


def _threads(value: Any, origin: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ProjectError(f"{origin}: threads must be a whole number of at least 1, got {value!r}")
    return value


def run_threads(requested: int | None, target: TargetConfig) -> int:
    """How many nodes a run builds at once: ``--threads``, else the target's ``threads``, else one per core."""
    return requested or target.threads or os.cpu_count() or 1


def _paths(settings: dict[str, Any], key: str, default: str) -> tuple[str, ...]:
    value = settings.get(key, settings.get(key.replace("-", "_"), [default]))
    if isinstance(value, str):
        value = [value]
    return tuple(str(v).rstrip("/") for v in value)


def target_from_table(root: Path, name: str, table: Any, origin: str, database: str | None) -> TargetConfig:
    """A target from its table of settings (``[tool.stockx.targets.NAME]``, or a profile's output)."""
    if not isinstance(table, dict):
        raise ProjectError(f"{origin}: a target must be a table of settings, e.g. type = \"postgres\"")
    kind = str(table.get("type") or "")
    if not kind:
        raise ProjectError(f"{origin}: no type; set type = \"duckdb\", \"postgres\" or \"spark\"")
    if kind != DEFAULT_TYPE and database is not None:
        raise ProjectError(f"--database names a DuckDB file, and {origin} is a {kind} target; leave --database out")
    configured = database or str(table.get("database") or (DEFAULT_DATABASE if kind == DEFAULT_TYPE else ""))
    return TargetConfig(
        database=resolve_database(root, configured) if kind == DEFAULT_TYPE else configured,
        type=kind,
        name=name,
        schema=str(table.get("schema") or "main"),
        threads=_threads(table.get("threads"), origin),
        extensions=tuple(table.get("extensions") or ()),
        settings=dict(table.get("settings") or {}),
        origin=origin,
        options={k: v for k, v in table.items() if k not in COMMON_TARGET_KEYS},
        root=str(root),
    )


def _stockx_target(root: Path, settings: dict[str, Any], database: str | None, chosen: str | None) -> TargetConfig:
    """The target ``chosen`` names under ``[tool.stockx.targets]``; DuckDB's file when none is chosen."""
    if not chosen:
        return TargetConfig(
            database=resolve_database(root, database or str(settings.get("database", DEFAULT_DATABASE))),
            name=str(settings.get("target", "dev")),
            schema=str(settings.get("schema", "main")),
            settings=duckdb_settings(settings.get("duckdb", {}), root),
            origin=DUCKDB_SETTINGS,
            root=str(root),
        )
    targets = settings.get("targets") or {}
    origin = f"pyproject.toml [tool.stockx.targets.{chosen}]"
    if isinstance(targets, dict) and isinstance(targets.get(chosen), dict) and "password" in targets[chosen]:
        raise ProjectError(
            f"{origin}: a password is never read from a file in the repository; set PGPASSWORD in the "
            "environment, or password_env = \"NAME\" naming the environment variable that holds it"
        )
    if not isinstance(targets, dict) or chosen not in targets:
        known = ", ".join(sorted(targets)) if isinstance(targets, dict) else ""
        raise ProjectError(
            f"{root / 'pyproject.toml'}: no target named '{chosen}' (from --target or {TARGET_ENV}); "
            + (f"its targets are {known}" if known else "add a [tool.stockx.targets." + chosen + "] table with a type")
        )
    target = target_from_table(root, chosen, targets[chosen], origin, database)
    if target.type == DEFAULT_TYPE:  # a DuckDB target: its own settings table, else [tool.stockx.duckdb]
        own = "settings" in targets[chosen]
        table = targets[chosen]["settings"] if own else settings.get("duckdb", {})
        target = replace(target, settings=duckdb_settings(table, root), origin=origin if own else DUCKDB_SETTINGS)
    return target


def read_stockx_config(
    root: Path, cli_vars: dict[str, Any], database: str | None, profiles_dir: str | None = None,
    target_name: str | None = None,
) -> ProjectConfig | None:
    """``[tool.stockx]`` of ``root/pyproject.toml`` as a ProjectConfig; None when there is no such table."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return None
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{pyproject}: {exc}") from None
    settings = data.get("tool", {}).get("stockx")
    if settings is None:
        return None
    project_name = data.get("project", {}).get("name")
    name = str(settings.get("name") or project_name or root.name).replace("-", "_")
    target = _stockx_target(root, settings, database, target_name)
    return ProjectConfig(
        root=root,
        name=name,
        settings=settings,
        model_paths=_paths(settings, "model-paths", "models"),
        macro_paths=_paths(settings, "macro-paths", "macros"),
        seed_paths=_paths(settings, "seed-paths", "seeds"),
        test_paths=_paths(settings, "test-paths", "tests/sql"),
        snapshot_paths=_paths(settings, "snapshot-paths", "snapshots"),
        target_path=str(settings.get("target-path", settings.get("target_path", "target"))),
        target=target,
        vars={**settings.get("vars", {}), **cli_vars},
        models=settings.get("models", {}),
        seeds=settings.get("seeds", {}),
        snapshots=settings.get("snapshots", {}),
        data_tests=settings.get("data_tests", settings.get("tests", {})),
    )


STOCKX_KIND = ProjectKind(read_stockx_config, "add a [tool.stockx] table to pyproject.toml")


def load_config(
    project_dir: str | os.PathLike = ".",
    vars: dict[str, Any] | str | None = None,
    database: str | None = None,
    *,
    profiles_dir: str | None = None,
    target: str | None = None,
    kinds: Sequence[ProjectKind] = (STOCKX_KIND,),
) -> ProjectConfig:
    """Read the project at ``project_dir`` and apply command-line overrides.

    ``vars`` (a mapping, or the raw ``--vars`` text) override the project's vars;
    ``database`` overrides the configured DuckDB file; ``profiles_dir`` is where
    a kind of project that reads target profiles looks for them; ``target``
    names the target to build in (default: ``STOCKX_TARGET``, else the
    project's default). The first of ``kinds`` that recognises the folder reads it.
    """
    root = Path(project_dir).resolve()
    if not root.is_dir():
        raise ProjectError(f"project directory {project_dir} does not exist")
    cli_vars = parse_vars(vars) if isinstance(vars, str) or vars is None else dict(vars)
    target = target or os.environ.get(TARGET_ENV) or None
    for kind in kinds:
        config = kind.read(root, cli_vars, database, profiles_dir, target)
        if config is not None:
            return config
    first, *others = [kind.hint for kind in kinds]
    alternatives = f" (or {' or '.join(others)})" if others else ""
    raise ProjectError(f"{root} is not a stockx project: {first}{alternatives}")
