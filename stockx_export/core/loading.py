"""Loading a project from disk: macros, property files, seeds, models, snapshots, then tests.

Each model is rendered once in *parse* mode: what it ``ref``s and ``source``s
is its dependencies, and its ``config()`` calls complete its config. The
project's installed packages (``config.packages``) are read the same way, each
before the root project, their nodes and macros under their own names. The
project's layout (``config.layout``) adds what its kind of project needs before
and after the models are parsed.

What rendering each model found is kept between runs (stockx_export.core.parse_cache):
a model whose inputs are all as they were is not rendered again while loading.
"""

from __future__ import annotations

import difflib
import os
from datetime import date
from pathlib import Path

from stockx_export.core.config import ProjectConfig, folder_config, merge_config
from stockx_export.core.files import read_text
from stockx_export.core.jinja.render import Frame
from stockx_export.core.nodes import Node
from stockx_export.core.parse_cache import ModelParse, ParseCache, digest, files_digest, tool_versions
from stockx_export.core.project import Project
from stockx_export.core.properties import Patch, Properties, read_properties
from stockx_export.core.snapshots import SnapshotSource, add_snapshot, snapshot_sources
from stockx_export.core.testdefs.collect import GENERIC_TESTS_FOLDER, collect_tests
from stockx_export.core.window import STRATEGY as WINDOW_STRATEGY
from stockx_export.core.window import window_config
from stockx_export.errors import ProjectError
from stockx_export.redact import note_secret

BUILTIN_MACROS = Path(__file__).parent / "macros"
BUILTIN_NAMESPACE = "dbt"  # built-in macros answer to dbt's package name: {{ dbt.some_macro() }}

File = tuple[Path, str, Path]  # (absolute path, path shown to users, the resource folder it was found under)


class ProjectLoader:
    """Reads one project's files into a :class:`Project`."""

    def __init__(self, project: Project, cache: ParseCache | None = None) -> None:
        self.project = project
        self.config = project.config
        self.cache = cache or ParseCache(project.config.target_dir, enabled=False)

    def files(self, folders: tuple[str, ...], patterns: tuple[str, ...], owner: ProjectConfig | None = None) -> list[File]:
        """Every file matching ``patterns`` under ``folders`` (relative to ``owner``'s root: the root
        project's, or a package's), sorted by shown path."""
        found = []
        for folder in folders:
            base = (owner or self.config).path(folder)
            if not base.is_dir():
                continue
            for pattern in patterns:
                found.extend((p, self._display(p), base) for p in base.rglob(pattern) if p.is_file())
        return sorted(found, key=lambda item: item[1])

    def _display(self, path: Path) -> str:
        # Not resolved: a package installed as a link (dbt_packages/x -> ../x) shows under dbt_packages/.
        return Path(os.path.relpath(path, self.config.root)).as_posix()

    @staticmethod
    def folders(path: Path, base: Path) -> list[str]:
        """The folders of ``path`` under its resource folder ``base``."""
        return list(path.relative_to(base).parent.parts)

    def config_keys(self, path: Path, base: Path, owner: ProjectConfig | None = None) -> list[str]:
        """The keys leading to the config block of the node in ``path`` (the layout decides)."""
        return self.project.layout.config_keys(owner or self.config, self.folders(path, base), path.stem)

    def node_config(self, tree: str, default: dict, keys: list[str], owner: ProjectConfig) -> dict:
        """A node's config from the ``models:`` / ``seeds:`` blocks: a package's own, then the root
        project's (which wins, as in dbt), over ``default``."""
        config = merge_config(default, folder_config(getattr(owner, tree), keys))
        if owner is not self.config:
            config = merge_config(config, folder_config(getattr(self.config, tree), keys))
        return config

    def load(self) -> Project:
        project, cfg = self.project, self.config
        macros = project.renderer.macros
        for path in sorted(BUILTIN_MACROS.glob("*.sql")):
            macros.add_file(path, f"<stockx>/{path.name}", BUILTIN_NAMESPACE)
        for owner in project.projects:
            for path, display, _ in self.files(owner.macro_paths + generic_test_paths(owner), ("*.sql",), owner):
                macros.add_file(path, display, owner.name)
        macros.install(cfg.name, BUILTIN_NAMESPACE)

        project.properties = Properties()
        for owner in project.projects:
            folders = owner.model_paths + owner.seed_paths + owner.snapshot_paths
            property_files = self.files(tuple(dict.fromkeys(folders)), ("*.yml", "*.yaml"), owner)
            project.properties.merge(
                read_properties([(p, d) for p, d, _ in property_files], owner.name, cfg.target_schema)
            )
        project.sources = dict(sorted(project.properties.sources.items()))

        seeds = [(f, owner) for owner in project.projects for f in self.files(owner.seed_paths, ("*.csv",), owner)]
        models = [(f, owner) for owner in project.projects for f in self.files(owner.model_paths, ("*.sql",), owner)]
        for (path, display, base), owner in seeds:
            self._add_seed(path, display, base, owner)
        snapshots = snapshot_sources(self)
        self._check_names([f for f, _ in seeds], [f for f, _ in models], snapshots)
        project.model_files = {p.stem: f"model.{owner.name}.{p.stem}" for (p, _, _), owner in models}
        project.model_files |= {s.name: f"snapshot.{s.owner.name}.{s.name}" for s in snapshots}
        project.layout.before_models(self)
        if self.cache.enabled:
            self.cache.project_key = self.project_key()
        for (path, display, base), owner in models:
            self._parse_model(path, display, base, owner)
        for snapshot in snapshots:
            add_snapshot(self, snapshot)
        project.layout.after_models(project)
        self._check_patches()
        for node in project.nodes.values():
            project.dag.add(node.unique_id, node.depends_on)
        self._link_seeded_sources()
        project.dag.sorted()  # raises CycleError naming the cycle
        collect_tests(project)
        return project

    def project_key(self) -> str:
        """A hash of every input a model's parse-mode render can see besides its own file and config:
        the tools' versions, the configuration of the project and its packages (vars, target, settings),
        the full-refresh flag, and every macro, property and docs file of the project and its packages."""
        files: list[Path] = []
        for owner in self.project.projects:
            macros = owner.macro_paths + generic_test_paths(owner)
            files += [p for p, _, _ in self.files(macros, ("*.sql",), owner)]
            folders = (*owner.model_paths, *owner.seed_paths, *owner.snapshot_paths, *owner.test_paths, *macros)
            docs = owner.settings.get("docs-paths") or ()
            folders += (docs,) if isinstance(docs, str) else tuple(str(d) for d in docs)
            files += [p for p, _, _ in self.files(tuple(dict.fromkeys(folders)), ("*.yml", "*.yaml", "*.md"), owner)]
        return digest(tool_versions(), repr(self.config), self.project.full_refresh, files_digest(files))

    def _link_seeded_sources(self) -> None:
        """A source whose table a seed of the project loads depends on that seed.

        So what reads the source runs after the seed, and is skipped when the seed
        fails, instead of failing on a missing table. A source read from files (its
        ``external_location``) depends on nothing.
        """
        project = self.project
        seeds = {n.relation: n.unique_id for n in project.nodes.values() if n.resource_type == "seed"}
        for (source, table), entry in project.sources.items():
            if entry.unique_id in project.dag and project.resolver.resolve_source(source, table, None) in seeds:
                project.dag.add(entry.unique_id, [seeds[entry.relation]])

    def _check_names(self, seeds: list[File], models: list[File], snapshots: list[SnapshotSource]) -> None:
        seen: dict[str, str] = {}
        named = [(p.stem, display) for p, display, _ in [*seeds, *models]] + [(s.name, s.path) for s in snapshots]
        for name, display in named:
            if name in seen:
                raise ProjectError(f"two nodes are named '{name}': {seen[name]} and {display}; rename one of them")
            seen[name] = display

    def _check_patches(self) -> None:
        project = self.project
        props = project.properties
        for kind, patches in (("model", props.models), ("seed", props.seeds), ("snapshot", props.snapshots)):
            for name, patch in patches.items():
                node = project.by_name.get(name)
                if node is None or node.resource_type != kind:
                    known = [n for n, v in project.by_name.items() if v.resource_type == kind]
                    close = difflib.get_close_matches(name, known, n=1)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    project.warnings.append(f"{patch.path}: {kind} '{name}' is described but has no file{hint}")

    def _add_seed(self, path: Path, display: str, base: Path, owner: ProjectConfig) -> None:
        project = self.project
        name = path.stem
        patch = project.properties.seeds.get(name) or Patch(name=name, path="")
        config = self.node_config("seeds", {"materialized": "seed"}, self.config_keys(path, base, owner), owner)
        config = merge_config(config, patch.config)
        if config.get("enabled") is False:
            return
        frame = Frame(name, display, "seed", config, "parse", package=owner.name)
        project.register(
            Node(
                unique_id=f"seed.{owner.name}.{name}",
                name=name,
                resource_type="seed",
                path=display,
                raw_code="",
                config=config,
                relation=project.resolver.this(frame),
                description=patch.description,
                columns=patch.columns,
                fqn=(owner.name, *self.folders(path, base), name),
                patch_path=patch.path or None,
            )
        )

    def _parse_model(self, path: Path, display: str, base: Path, owner: ProjectConfig) -> None:
        project = self.project
        name = path.stem
        patch = project.properties.models.get(name) or Patch(name=name, path="")
        config = self.node_config("models", {"materialized": "view"}, self.config_keys(path, base, owner), owner)
        config = merge_config(config, patch.config)
        raw = read_text(path, display)
        frame = Frame(name, display, "model", config, "parse", package=owner.name)
        found = self._render_model(raw, frame)
        if found is not None and found.text is not None:
            project.parse_texts[f"model.{owner.name}.{name}"] = found
        if frame.config.get("enabled") is False:
            return
        if frame.config.get("materialized") == "incremental" and frame.config.get("incremental_strategy") == WINDOW_STRATEGY:
            window_config(display, name, frame.config, project.renderer.context["var"])  # a bad setting stops here
        depends = [project.ref_id(r) for r in frame.refs]
        depends += [project.sources[s].unique_id for s in frame.sources]
        project.register(
            Node(
                unique_id=f"model.{owner.name}.{name}",
                name=name,
                resource_type="model",
                path=display,
                raw_code=raw,
                config=frame.config,
                relation=None if frame.config.get("materialized") == "ephemeral" else project.resolver.this(frame),
                depends_on=tuple(dict.fromkeys(depends)),
                description=patch.description,
                columns=patch.columns,
                fqn=(owner.name, *self.folders(path, base), name),
                patch_path=patch.path or None,
                refs=tuple(frame.refs),
                sources=tuple(frame.sources),
            )
        )

    def _render_model(self, raw: str, frame: Frame) -> ModelParse | None:
        """Render a model in parse mode, or take what an earlier run's render found (the parse cache).

        What the render found, unless it read what may differ the next time (the clock, the database).
        """
        cache, renderer = self.cache, self.project.renderer
        key = cache.model_key(cache.project_key, frame.path, frame.package or "", raw, frame.config) if cache.enabled else ""
        found = cache.model(key) if cache.enabled else None
        if found is not None and still_resolves(self.project, found, frame):
            frame.config = found.config
            frame.refs = [name for name, _ in found.refs]
            frame.sources = [(source, table) for source, table, _ in found.sources]
            return found
        start, this = frame.config, this_text(self.project, frame)  # `this` as the template sees it
        with renderer.recording() as seen:
            text = renderer.render(raw, frame)
        if seen.volatile:
            return None
        project = self.project
        found = ModelParse(
            config=frame.config,
            refs=tuple((name, ref_text(project, name, frame)) for name in frame.refs),
            sources=tuple((s, t, source_text(project, s, t, frame)) for s, t in frame.sources),
            this=this,
            text=text if frame.config == start else None,
        )
        cache.keep_model(key, found, seen.env_vars)
        return found


def ref_text(project: Project, name: str, frame: Frame) -> str:
    """What ``ref(name)`` renders to for ``frame`` now."""
    return str(project.resolver.present(project.resolver.resolve_ref(name, frame)))


def source_text(project: Project, source: str, table: str, frame: Frame) -> str:
    """What ``source(source, table)`` renders to for ``frame`` now."""
    return str(project.resolver.present(project.resolver.resolve_source(source, table, frame)))


def this_text(project: Project, frame: Frame) -> str:
    """What ``this`` renders to for ``frame`` now."""
    return str(project.resolver.present(project.resolver.this(frame)))


def still_resolves(project: Project, found: ModelParse, frame: Frame) -> bool:
    """Whether every ref, source and ``this`` a kept render read still renders as it did for ``frame``
    (a model renamed or removed elsewhere, or one whose relation changed, means rendering again)."""
    if any(not project.resolver.knows_ref(name) or ref_text(project, name, frame) != text for name, text in found.refs):
        return False
    if any((s, t) not in project.sources or source_text(project, s, t, frame) != text for s, t, text in found.sources):
        return False
    return this_text(project, frame) == found.this


def parse_text(project: Project, node: Node) -> str | None:
    """``node``'s SQL rendered in parse mode with its final config, as loading rendered it, when that
    render's context was the same as now (what it read resolves as it did); None: render it again."""
    found = project.parse_texts.get(node.unique_id)
    if found is None:
        return None
    frame = Frame(node.name, node.path, node.resource_type, dict(node.config), "parse", extra={"node": node},
                  package=node.package_name)
    return found.text if still_resolves(project, found, frame) else None


def generic_test_paths(config: ProjectConfig) -> tuple[str, ...]:
    """Where ``{% test %}`` blocks live besides the macro paths: ``generic/`` in each test path, as in dbt."""
    return tuple(f"{folder}/{GENERIC_TESTS_FOLDER}" for folder in config.test_paths)


def load_project(config: ProjectConfig, *, full_refresh: bool = False, warn=None, log=None,
                 today: date | None = None, partial_parse: bool = False) -> Project:
    """Parse the project ``config`` describes: every node, the DAG, and the tests.

    ``partial_parse``: reuse what earlier runs learnt (``target/partial_parse.json``, see
    stockx_export.core.parse_cache) and keep what this one learns; ``project.parse_cache.save``
    keeps what the rest of the command adds (templates compiled while running).
    """
    project = Project(config, full_refresh=full_refresh, warn=warn, log=log, today=today)
    # The variable the target's password is read from holds a secret whatever its name: one from loading
    # on (a config or hook written from it is not kept in the parse cache), not only once the target opens.
    password_env = config.target.options.get("password_env")
    if password_env and os.environ.get(str(password_env)):
        note_secret(os.environ[str(password_env)])
    cache = ParseCache(config.target_dir, enabled=partial_parse)
    cache.lend_templates(project.renderer.codes)
    project.parse_cache = cache
    ProjectLoader(project, cache).load()
    cache.save(project.renderer.codes)
    return project
