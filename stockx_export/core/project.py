"""A project on disk, parsed: every model, seed and source, their configs and the DAG.

Loading renders each model once in *parse* mode: what it ``ref``s and
``source``s is its dependencies, and its ``config()`` calls complete its config.
The same object answers the renderer's questions while compiling (it is the
renderer's resolver), once a DuckDB connection is attached.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from stockx_export.core.config import ProjectConfig, load_config
from stockx_export.core.dag import DAG
from stockx_export.db import Relation
from stockx_export.errors import CompilationError, ProjectError
from stockx_export.core.files import read_text
from stockx_export.core.jinja.context import QueryResult
from stockx_export.core.jinja.render import Frame, Renderer, merge_config
from stockx_export.core.nodes import Node, SourceTable
from stockx_export.core.properties import Patch, read_properties
from stockx_export.core.window import STRATEGY as WINDOW_STRATEGY
from stockx_export.core.window import Window, plan_window, recorded_start, window_config

BUILTIN_MACROS = Path(__file__).parent / "macros"
CTE_PREFIX = "__stockx_cte__"
# Config keys whose values are mappings: in folder config they are settings, not sub-folders.
MAPPING_CONFIGS = {"meta", "contract", "column_types", "docs", "persist_docs", "grants", "quote_columns"}
# Ties in DAG order: tests first, so each runs right after what it tests; then seeds, then models.
# Sources run nothing: they come first, so a source's tests are ready as soon as their seed is.
RESOURCE_ORDER = {"source": -2, "test": -1, "unit_test": -1, "seed": 0, "model": 1}


class CteName(str):
    """What ``ref()`` of an ephemeral model renders to; ``.include()`` keeps it as it is."""

    def include(self, **_: Any) -> "CteName":
        return self


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


class Project:
    """Everything stockx knows about a project after parsing it."""

    def __init__(self, config: ProjectConfig, *, full_refresh: bool = False, warn=None, log=None) -> None:
        self.config = config
        self.full_refresh = full_refresh
        self.nodes: dict[str, Node] = {}
        self.by_name: dict[str, Node] = {}
        self.sources: dict[tuple[str, str], SourceTable] = {}
        self.con = None
        self.existing: dict[tuple[str, str], str] = {}
        self._compiled: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._source_exprs: dict[tuple[str, str], str] = {}
        self.warnings: list[str] = []
        # The build's clock for incremental windows: one date for the whole run.
        self.today = date.today()
        self.renderer = Renderer(
            vars=config.vars,
            target={
                "name": config.target_name,
                "schema": config.target_schema,
                "type": "duckdb",
                "path": config.database,
                "database": Path(config.database).stem if config.database != ":memory:" else "memory",
                "threads": 1,
                "profile_name": config.name,
            },
            resolver=self,
            full_refresh=full_refresh,
            warn=warn,
            log=log,
        )
        self.dag: DAG[str] = DAG(sort_key=self._sort_key, label=self._label)

    # -- loading -------------------------------------------------------------------------------

    def _display(self, path: Path) -> str:
        return path.relative_to(self.config.root).as_posix()

    def _files(self, folders: tuple[str, ...], patterns: tuple[str, ...]) -> list[tuple[Path, str, Path]]:
        found = []
        for folder in folders:
            base = self.config.path(folder)
            if not base.is_dir():
                continue
            for pattern in patterns:
                found.extend((p, self._display(p), base) for p in base.rglob(pattern) if p.is_file())
        return sorted(found, key=lambda item: item[1])

    def load(self) -> "Project":
        cfg = self.config
        for path in sorted(BUILTIN_MACROS.glob("*.sql")):
            self.renderer.macros.add_file(path, f"<stockx>/{path.name}", "dbt")
        for path, display, _ in self._files(cfg.macro_paths, ("*.sql",)):
            self.renderer.macros.add_file(path, display, cfg.name)
        self.renderer.macros.install()

        property_files = self._files(cfg.model_paths + cfg.seed_paths, ("*.yml", "*.yaml"))
        self.properties = read_properties([(p, d) for p, d, _ in property_files], cfg.name, cfg.target_schema)
        self.sources = dict(sorted(self.properties.sources.items()))

        seeds = self._files(cfg.seed_paths, ("*.csv",))
        models = self._files(cfg.model_paths, ("*.sql",))
        self._check_names(seeds, models)
        for path, display, base in seeds:
            self._add_seed(path, display, base)
        self._model_files = {p.stem: (p, d, b) for p, d, b in models}
        if cfg.flavour == "dbt":  # docs blocks; Python models, snapshots and packages reported
            from stockx_export.dbt import layout as support

            support.before_models(self)
        for path, display, base in models:
            self._parse_model(path, display, base)
        if cfg.flavour == "dbt":  # Jinja in descriptions, as dbt renders it
            support.after_models(self)
        self._check_patches()
        for node in self.nodes.values():
            self.dag.add(node.unique_id, node.depends_on)
        self._link_seeded_sources()
        self.dag.sorted()  # raises CycleError naming the cycle
        self._load_tests()
        return self

    def _link_seeded_sources(self) -> None:
        """A source whose table a seed of the project loads depends on that seed.

        So what reads the source runs after the seed, and is skipped when the seed
        fails, instead of failing on a missing table. A source read from files (its
        ``external_location``) depends on nothing.
        """
        seeds = {n.relation: n.unique_id for n in self.nodes.values() if n.resource_type == "seed"}
        for (source, table), entry in self.sources.items():
            if entry.unique_id in self.dag and self.resolve_source(source, table, None) in seeds:
                self.dag.add(entry.unique_id, [seeds[entry.relation]])

    def _load_tests(self) -> None:
        """Data tests and unit tests join the DAG here (see stockx_export.run.testing)."""
        from stockx_export.core.testdefs.collect import collect_tests

        collect_tests(self)

    def _check_names(self, seeds, models) -> None:
        seen: dict[str, str] = {}
        for path, display, _ in [*seeds, *models]:
            name = path.stem
            if name in seen:
                raise ProjectError(f"two nodes are named '{name}': {seen[name]} and {display}; rename one of them")
            seen[name] = display

    def _check_patches(self) -> None:
        for kind, patches in (("model", self.properties.models), ("seed", self.properties.seeds)):
            for name, patch in patches.items():
                node = self.by_name.get(name)
                if node is None or node.resource_type != kind:
                    known = [n for n, v in self.by_name.items() if v.resource_type == kind]
                    import difflib

                    close = difflib.get_close_matches(name, known, n=1)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    self.warnings.append(f"{patch.path}: {kind} '{name}' is described but has no file{hint}")

    def _parts(self, path: Path, base: Path) -> list[str]:
        parts = list(path.relative_to(base).parent.parts)
        return [self.config.name, *parts] if self.config.flavour == "dbt" else parts

    def _config_parts(self, path: Path, base: Path) -> list[str]:
        """The keys leading to a node's config block: dbt also keys a block by the node's own name."""
        parts = self._parts(path, base)
        return [*parts, path.stem] if self.config.flavour == "dbt" else parts

    def _add_seed(self, path: Path, display: str, base: Path) -> None:
        name = path.stem
        patch = self.properties.seeds.get(name) or Patch(name=name, path="")
        config = merge_config({"materialized": "seed"}, folder_config(self.config.seeds, self._config_parts(path, base)))
        config = merge_config(config, patch.config)
        if config.get("enabled") is False:
            return
        frame = Frame(name, display, "seed", config, "parse")
        node = Node(
            unique_id=f"seed.{self.config.name}.{name}",
            name=name,
            resource_type="seed",
            path=display,
            raw_code="",
            config=config,
            relation=self.this(frame),
            description=patch.description,
            columns=patch.columns,
            fqn=(self.config.name, *self._parts(path, base)[(1 if self.config.flavour == "dbt" else 0):], name),
            patch_path=patch.path or None,
        )
        self._register(node)

    def _parse_model(self, path: Path, display: str, base: Path) -> None:
        name = path.stem
        patch = self.properties.models.get(name) or Patch(name=name, path="")
        config = merge_config({"materialized": "view"}, folder_config(self.config.models, self._config_parts(path, base)))
        config = merge_config(config, patch.config)
        raw = read_text(path, display)
        frame = Frame(name, display, "model", config, "parse")
        self.renderer.render(raw, frame)
        if frame.config.get("enabled") is False:
            return
        if frame.config.get("materialized") == "incremental" and frame.config.get("incremental_strategy") == WINDOW_STRATEGY:
            window_config(display, name, frame.config, self.renderer.context["var"])  # a bad setting stops here
        depends = [self._ref_id(r) for r in frame.refs]
        depends += [self.sources[s].unique_id for s in frame.sources]
        node = Node(
            unique_id=f"model.{self.config.name}.{name}",
            name=name,
            resource_type="model",
            path=display,
            raw_code=raw,
            config=frame.config,
            relation=None if frame.config.get("materialized") == "ephemeral" else self.this(frame),
            depends_on=tuple(dict.fromkeys(depends)),
            description=patch.description,
            columns=patch.columns,
            fqn=(self.config.name, *self._parts(path, base)[(1 if self.config.flavour == "dbt" else 0):], name),
            patch_path=patch.path or None,
            refs=tuple(frame.refs),
            sources=tuple(frame.sources),
        )
        self._register(node)

    def _register(self, node: Node) -> None:
        self.nodes[node.unique_id] = node
        self.by_name[node.name] = node

    def _ref_id(self, name: str) -> str:
        node = self.by_name.get(name)
        if node is not None:
            return node.unique_id
        kind = "seed" if name not in self._model_files else "model"
        return f"{kind}.{self.config.name}.{name}"

    def _sort_key(self, unique_id: str) -> tuple[int, str, str]:
        node = self.nodes.get(unique_id)
        kind = node.resource_type if node else unique_id.split(".", 1)[0]
        name = node.name if node else unique_id
        return (RESOURCE_ORDER.get(kind, 1), name, unique_id)

    def _label(self, unique_id: str) -> str:
        node = self.nodes.get(unique_id)
        return node.name if node else unique_id.rsplit(".", 1)[-1]

    def add_node(self, node: Node) -> None:
        """Add a node that depends on others (tests) to the project and the DAG."""
        self.nodes[node.unique_id] = node
        self.dag.add(node.unique_id, node.depends_on)

    # -- the renderer's resolver -------------------------------------------------------------

    def ref_names(self) -> list[str]:
        return sorted({*self.by_name, *getattr(self, "_model_files", {})})

    def source_names(self) -> list[tuple[str, str]]:
        return list(self.sources)

    def resolve_ref(self, name: str, frame: Frame) -> Any:
        redirected = frame.extra.get("relations", {})
        if name in redirected:  # a unit test's fixture table
            return redirected[name]
        node = self.by_name.get(name)
        if node is None:  # a model not parsed yet: parsing only needs a stand-in
            return Relation(self.config.target_schema, name)
        if node.materialized != "ephemeral":
            return node.relation
        if frame.mode == "parse":
            return CteName(CTE_PREFIX + name)
        _, ctes = self.compiled_ephemeral(node)
        for cte in (*ctes, name):
            if cte not in frame.ctes:
                frame.ctes.append(cte)
        return CteName(CTE_PREFIX + name)

    def resolve_source(self, source: str, table: str, frame: Frame) -> Any:
        key = (source, table)
        redirected = frame.extra.get("relations", {}) if frame is not None else {}
        if key in redirected:  # a unit test's fixture table
            return redirected[key]
        if key not in self._source_exprs:
            entry = self.sources[key]
            expression = self.renderer.render_string(entry.external_location, entry.path).strip()
            self._source_exprs[key] = expression.replace("{name}", entry.name) if expression else ""
        return self._source_exprs[key] or self.sources[key].relation

    def this(self, frame: Frame) -> Relation:
        redirected = frame.extra.get("relations", {})
        if "this" in redirected:  # a unit test's fixture for the model's previous state
            return redirected["this"]
        schema = self.generate_schema_name(frame.config.get("schema"), frame)
        return Relation(schema, str(frame.config.get("alias") or frame.name))

    def generate_schema_name(self, custom: str | None, frame: Frame) -> str:
        macro = self.renderer.macros.macros.get("generate_schema_name")
        if macro is not None and not macro.block.path.startswith("<stockx>"):
            return str(macro(custom, frame.extra.get("node"))).strip()
        if not custom:
            return self.config.target_schema
        if self.config.flavour == "dbt":
            return f"{self.config.target_schema}_{str(custom).strip()}"
        return str(custom).strip()

    def relation_exists(self, relation: Relation) -> str | None:
        return self.existing.get((relation.schema, relation.identifier))

    def incremental_window(self, frame: Frame) -> Window:
        """The window a replace_window build of ``frame``'s model would replace now (see stockx_export.core.window)."""
        settings = window_config(frame.path, frame.name, frame.config, self.renderer.context["var"])
        this = self.this(frame)
        if self.con is None or self.relation_exists(this) != "table":
            return Window(settings.column, None, None, settings.lookback_days)
        return plan_window(self.con, this, settings, self.today, rebuild=False)

    def window_start(self, model: Any) -> date | None:
        """The first day the last build of ``model`` (a name or a relation) replaced; None for every day."""
        if isinstance(model, str):
            node = self.by_name.get(model)
            if node is None or node.relation is None:
                raise CompilationError(f"window_start('{model}'): no model of that name is built into a table")
            model = node.relation
        if not isinstance(model, Relation):
            raise CompilationError(f"window_start() takes a model name or ref('model'), got {model!r}")
        return recorded_start(self.con, model) if self.con is not None else None

    def run_query(self, sql: str) -> QueryResult:
        if self.con is None:
            raise CompilationError("run_query needs a database: it is not available in this command")
        cursor = self.con.execute(sql)
        names = [d[0] for d in cursor.description or []]
        return QueryResult(names, cursor.fetchall() if names else [])

    # -- running -------------------------------------------------------------------------------

    def attach(self, con) -> None:
        """Use ``con`` for is_incremental(), run_query() and relation checks."""
        from stockx_export.db import existing_relations

        self.con = con
        self.existing = existing_relations(con)

    def compile(self, node: Node, relations: dict[Any, Any] | None = None, window: Window | None = None) -> str:
        """The SQL that builds ``node``, with ephemeral models inlined as CTEs.

        ``relations`` redirects inputs (a ref name, a (source, table) pair or
        ``"this"``) to other relations: unit tests point them at fixture tables.
        ``window`` is the window a replace_window build replaces (``in_window()``
        renders it); without it, ``in_window()`` works it out from the database.
        """
        body, ctes = self._render_compile(node, relations, window)
        body = body.rstrip().rstrip(";").rstrip() + "\n"  # a trailing semicolon would end the wrapping DDL
        return inject_ctes(body, [(CTE_PREFIX + n, self._ephemeral_sql(self.by_name[n], relations)) for n in ctes])

    def _ephemeral_sql(self, node: Node, relations: dict[Any, Any] | None) -> str:
        """An inlined ephemeral model's body; redirected inputs reach through it (a unit test's fixtures)."""
        inputs = {k: v for k, v in (relations or {}).items() if k != "this"}  # `this` is the tested model's
        if not inputs:
            return self.compiled_ephemeral(node)[0]
        return self._render_compile(node, inputs)[0]

    def compiled_ephemeral(self, node: Node) -> tuple[str, tuple[str, ...]]:
        if node.name not in self._compiled:
            self._compiled[node.name] = self._render_compile(node)
        return self._compiled[node.name]

    def _render_compile(self, node: Node, relations: dict[Any, Any] | None = None,
                        window: Window | None = None) -> tuple[str, tuple[str, ...]]:
        extra: dict[str, Any] = {"node": node}
        if relations:
            extra["relations"] = relations
        if window is not None:
            extra["window"] = window
        frame = Frame(
            node.name,
            node.path,
            node.resource_type,
            dict(node.config),
            "compile",
            allowed_refs=frozenset(node.refs),
            extra=extra,
        )
        sql = self.renderer.render(node.raw_code, frame)
        return sql, tuple(frame.ctes)

    def compiled_path(self, node: Node) -> Path:
        base = self.config.target_dir / "compiled"
        if node.path.endswith((".yml", ".yaml")):  # a test declared in a property file: a folder per file, as dbt
            return base / node.path / f"{node.extra.get('file_name', node.name)}.sql"
        return base / node.path


def inject_ctes(sql: str, ctes: list[tuple[str, str]]) -> str:
    """Put ``ctes`` in front of ``sql``, merging with its own WITH clause if it has one."""
    if not ctes:
        return sql
    import re

    definitions = ",\n".join(f"{name} as (\n{body.strip().rstrip(';')}\n)" for name, body in ctes)
    lead = re.match(r"(\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*)with(\s+recursive)?\b", sql, re.I | re.S)
    if lead:
        return f"{sql[: lead.end()]} {definitions},\n{sql[lead.end():].lstrip()}"
    return f"with {definitions}\n{sql.lstrip()}"


def load_project(
    project_dir: str = ".",
    vars: Any = None,
    database: str | None = None,
    *,
    full_refresh: bool = False,
    warn=None,
    log=None,
) -> Project:
    """Read and parse the project at ``project_dir``."""
    config = load_config(project_dir, vars, database)
    return Project(config, full_refresh=full_refresh, warn=warn, log=log).load()
