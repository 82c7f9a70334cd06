"""dbt packages: ``packages.yml`` / ``dependencies.yml``, ``stockx deps``, and the installed packages a build loads.

What is read, as dbt reads it::

    packages:
      - local: ../my_package                          # a folder on this machine
      - package: dbt-labs/dbt_utils                   # dbt Hub
        version: [">=1.0.0", "<2.0.0"]
      - git: https://github.com/dbt-labs/dbt-utils.git
        revision: 1.3.0
      - tarball: https://example.com/pkg.tar.gz
        name: my_package

Packages live in the project's ``packages-install-path`` (``dbt_packages/``), one
folder per package, named after the package's own ``dbt_project.yml`` name.
``stockx deps`` installs ``local:`` packages as dbt does: a link to the folder
(a copy where links are not allowed). stockx assumes no network, so it never
downloads: a hub, git or tarball package is used from ``dbt_packages/`` when a
copy is already there (vendored: committed, or left by ``dbt deps``), and is an
error naming the package and how to vendor it otherwise.

A build loads every package found in ``dbt_packages/`` (dbt does too: the
packages of packages are installed there beside them), each read as a project
of its own (:func:`read_packages`): its macros are a namespace
(``dbt_utils.star``), its models, seeds and tests are built, and its nodes see
vars as dbt resolves them (``--vars``, then the root project's vars for the
package, then the package's own).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockx_export.core.config import ProjectConfig
from stockx_export.core.properties import load_yaml
from stockx_export.errors import ProjectError

PACKAGE_FILES = ("packages.yml", "dependencies.yml")
LOCK_FILE = "package-lock.yml"
DEFAULT_INSTALL_PATH = "dbt_packages"
PROJECT_FILE = "dbt_project.yml"
KINDS = ("local", "package", "git", "tarball")
# Renders the Jinja in a dbt_project.yml as read (dbt.config.render_project, with its context).
Renderer = Callable[[Any], Any]



@dataclass(frozen=True)
class PackageSpec:
    """One entry of packages.yml: what it names and where it comes from."""

    kind: str  # local | package (dbt Hub) | git | tarball
    source: str  # the path, hub name, URL or tarball URL as written
    file: str  # the file that declares it, for messages
    revision: str = ""  # git revision, or hub version, as written
    subdirectory: str = ""  # git: the package's folder inside the repository
    name: str = ""  # tarball: the name given; others: from the lock file, when there is one

    @property
    def shown(self) -> str:
        """The entry as a user wrote it: ``local: ../x``, ``package: dbt-labs/dbt_utils``."""
        return f"{self.kind}: {self.source}" + (f" ({self.revision})" if self.revision else "")


@dataclass(frozen=True)
class InstalledPackages:
    """The packages a build loads, and what is declared but not installed (each a message)."""

    configs: tuple[ProjectConfig, ...]
    missing: tuple[str, ...]


def install_path(root: Path, project: dict[str, Any]) -> Path:
    """The project's ``packages-install-path`` (default ``dbt_packages``), absolute but not resolved."""
    return root / str(project.get("packages-install-path") or DEFAULT_INSTALL_PATH)


def read_specs(root: Path) -> list[PackageSpec]:
    """The packages declared in ``root``'s packages.yml and dependencies.yml, in order."""
    locked = _locked_names(root)
    specs: list[PackageSpec] = []
    for file in PACKAGE_FILES:
        path = root / file
        if not path.is_file():
            continue
        data = load_yaml(path, file) or {}
        if not isinstance(data, dict):
            raise ProjectError(f"{file}: expected a mapping with a 'packages:' list")
        if data.get("projects"):
            names = ", ".join(str(p.get("name", p)) if isinstance(p, dict) else str(p) for p in data["projects"])
            raise ProjectError(
                f"{file}: 'projects:' ({names}) are dbt Mesh projects of dbt Cloud; stockx cannot read "
                "another project's models this way: list it under 'packages:' as a local or vendored package"
            )
        entries = data.get("packages") or []
        if not isinstance(entries, list):
            raise ProjectError(f"{file}: 'packages:' must be a list of packages")
        for index, entry in enumerate(entries, 1):
            spec = _spec(entry, f"{file}: package {index}")
            specs.append(PackageSpec(**{**spec.__dict__, "file": file, "name": spec.name or locked.get(spec.shown, "")}))
    return specs


def _spec(entry: Any, where: str) -> PackageSpec:
    kinds = [k for k in KINDS if isinstance(entry, dict) and entry.get(k)]
    if len(kinds) != 1:
        raise ProjectError(
            f"{where}: expected exactly one of local:, package:, git: or tarball:, got {entry!r}"
        )
    kind = kinds[0]
    revision = entry.get("revision") if kind == "git" else entry.get("version")
    if isinstance(revision, list):
        revision = " ".join(str(r) for r in revision)
    return PackageSpec(
        kind=kind,
        source=str(entry[kind]),
        file="",
        revision=str(revision or ""),
        subdirectory=str(entry.get("subdirectory") or ""),
        name=str(entry.get("name") or ""),
    )


def _locked_names(root: Path) -> dict[str, str]:
    """Package names from package-lock.yml (``dbt deps`` writes one), by the entry they were locked for."""
    path = root / LOCK_FILE
    if not path.is_file():
        return {}
    data = load_yaml(path, LOCK_FILE) or {}
    names = {}
    for entry in (data.get("packages") or []) if isinstance(data, dict) else []:
        try:
            spec = _spec({k: v for k, v in entry.items() if k != "name"}, LOCK_FILE)
        except (ProjectError, AttributeError):
            continue
        if entry.get("name"):
            names[spec.shown] = str(entry["name"])
    return names


def project_name(folder: Path, shown: str) -> str:
    """The ``name:`` in ``folder``'s dbt_project.yml."""
    path = folder / PROJECT_FILE
    if not path.is_file():
        raise ProjectError(f"{shown}: {folder} has no {PROJECT_FILE}, so it is not a dbt package")
    data = load_yaml(path, f"{shown}: {PROJECT_FILE}") or {}
    name = data.get("name") if isinstance(data, dict) else None
    if not name:
        raise ProjectError(f"{shown}: {path} has no 'name:'")
    return str(name)


def local_folder(root: Path, spec: PackageSpec) -> Path:
    """A local package's folder: its path, relative to the project that declares it."""
    folder = Path(os.path.expanduser(spec.source))
    return (folder if folder.is_absolute() else root / folder).resolve()


def expected_names(root: Path, spec: PackageSpec) -> list[str]:
    """The folder names under dbt_packages/ that may hold ``spec``'s package, most likely first.

    A local package's name is in its dbt_project.yml; a tarball's is given; for a
    hub or git package it is the lock file's, else guessed from the hub name or the
    repository's (``dbt-labs/dbt-utils.git`` may be installed as dbt_utils).
    """
    if spec.kind == "local":
        return [project_name(local_folder(root, spec), f"{spec.file}: {spec.shown}")]
    if spec.name:
        return [spec.name]
    base = spec.subdirectory.rstrip("/") or spec.source.rstrip("/")
    last = base.rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")
    return list(dict.fromkeys([last, last.replace("-", "_")] if last else []))


def deps(root: Path, log: Callable[[str], None]) -> list[str]:
    """``stockx deps`` for the project in ``root``: the names of the packages installed or found."""
    path = root / PROJECT_FILE
    if not path.is_file():
        raise ProjectError(f"{root} has no {PROJECT_FILE}: packages belong to dbt projects (a stockx project has none)")
    data = load_yaml(path, PROJECT_FILE) or {}
    if not isinstance(data, dict):
        raise ProjectError(f"{PROJECT_FILE}: expected a mapping")
    return install(root, data, log=log)


def install(root: Path, project: dict[str, Any], *, log: Callable[[str], None] = lambda _: None) -> list[str]:
    """``stockx deps``: link each local package (and its own local packages) into dbt_packages/, and check
    that every other package is there already. The names installed or found, in order."""
    target = install_path(root, project)
    target.mkdir(parents=True, exist_ok=True)
    done: list[str] = []
    missing: list[str] = []
    _install_from(root, target, done, missing, log, seen=set())
    if missing:
        raise ProjectError("; ".join(missing))
    return done


def _install_from(root: Path, target: Path, done: list[str], missing: list[str], log, seen: set[Path]) -> None:
    if root.resolve() in seen:
        return
    seen.add(root.resolve())
    for spec in read_specs(root):
        if spec.kind == "local":
            folder = local_folder(root, spec)
            name = project_name(folder, f"{spec.file}: {spec.shown}")
            _link(folder, target / name)
            log(f"Installed {name} from {spec.shown} (a link to {folder})")
            done.append(name)
            _install_from(folder, target, done, missing, log, seen)
            continue
        found = next((n for n in expected_names(root, spec) if (target / n / PROJECT_FILE).is_file()), None)
        if found is None:
            missing.append(not_installed(root, target, spec))
            continue
        log(f"Found {found} for {spec.shown} in {_shown(root, target / found)} (vendored; stockx does not download)")
        done.append(found)
        _install_from(target / found, target, done, missing, log, seen)


def _link(source: Path, destination: Path) -> None:
    """``destination`` becomes a link to ``source`` (a copy where links are refused), replacing what was there."""
    if destination.is_symlink() or destination.is_file():
        destination.unlink()
    elif destination.is_dir():
        shutil.rmtree(destination)
    try:
        destination.symlink_to(source, target_is_directory=True)
    except OSError:
        shutil.copytree(source, destination, ignore=shutil.ignore_patterns("target", "dbt_packages", "logs"))


def not_installed(root: Path, target: Path, spec: PackageSpec) -> str:
    """What to tell a user whose package is declared but not in dbt_packages/."""
    names = expected_names(root, spec) if spec.kind != "local" else []
    folder = _shown(root, target / (names[0] if names else "<name>"))
    if spec.kind == "local":
        return f"{spec.file}: package {spec.shown} is not installed; run `stockx deps`"
    how = {
        "git": f"git clone {spec.source} {folder}" + (f" && git -C {folder} checkout {spec.revision}" if spec.revision else ""),
        "package": f"dbt deps (on a machine with network), or a copy of the package's release in {folder}",
        "tarball": f"unpack {spec.source} into {folder}",
    }[spec.kind]
    return (
        f"{spec.file}: package {spec.shown} is not in {_shown(root, target)}/ and stockx does not download packages: "
        f"vendor it ({how}), then commit {folder} or run `stockx deps` again"
    )


def _shown(root: Path, path: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def read_packages(root: Path, project: dict[str, Any], cli_vars: dict[str, Any], render: Renderer) -> InstalledPackages:
    """Every package installed in ``root``'s dbt_packages/, sorted by name, and a message for each package
    the project declares that is not installed. ``project`` is the root's dbt_project.yml as read;
    ``render`` renders the Jinja in a package's dbt_project.yml (``var``, ``target``, ``env_var``)."""
    target = install_path(root, project)
    missing = []
    for spec in read_specs(root):
        if spec.kind == "local" and not local_folder(root, spec).is_dir():
            missing.append(f"{spec.file}: local package {spec.source} does not exist")
            continue
        names = expected_names(root, spec)
        if not any((target / n / PROJECT_FILE).is_file() for n in names):
            missing.append(not_installed(root, target, spec))
    configs = []
    if target.is_dir():
        for folder in sorted(target.iterdir(), key=lambda p: p.name):
            if folder.is_dir() and (folder / PROJECT_FILE).is_file():
                configs.append(read_package(folder, project, cli_vars, render, _shown(root, folder)))
    return InstalledPackages(tuple(configs), tuple(missing))


def read_package(folder: Path, root_project: dict[str, Any], cli_vars: dict[str, Any], render: Renderer,
                 shown: str) -> ProjectConfig:
    """One installed package read as a project: its paths, config blocks and vars (as its nodes see them)."""
    where = f"{shown}/{PROJECT_FILE}"
    raw = load_yaml(folder / PROJECT_FILE, where)
    if not isinstance(raw, dict) or not raw.get("name"):
        raise ProjectError(f"{where}: a dbt package needs a 'name:'")
    data = render(raw)
    name = str(data["name"])
    return ProjectConfig(
        root=folder,
        name=name,
        settings=data,
        model_paths=_paths(data, "model-paths", "models"),
        macro_paths=_paths(data, "macro-paths", "macros"),
        seed_paths=_paths(data, "seed-paths", "seeds"),
        test_paths=_paths(data, "test-paths", "tests"),
        snapshot_paths=_paths(data, "snapshot-paths", "snapshots"),
        vars=package_vars(root_project.get("vars"), data.get("vars"), name, cli_vars),
        models=data.get("models") or {},
        seeds=data.get("seeds") or {},
        snapshots=data.get("snapshots") or {},
        data_tests=data.get("data_tests") or data.get("tests") or {},
    )


def _paths(data: dict[str, Any], key: str, default: str) -> tuple[str, ...]:
    value = data.get(key) or [default]
    return tuple(str(v).rstrip("/") for v in ([value] if isinstance(value, str) else value))


def package_vars(root_vars: Any, own_vars: Any, package: str, cli_vars: dict[str, Any]) -> dict[str, Any]:
    """The vars a package's nodes see, as dbt resolves them: ``--vars``, then the root project's
    (global, then scoped under the package's name), then the package's own (the same way)."""
    merged: dict[str, Any] = {}
    for values in (own_vars, root_vars):
        if isinstance(values, dict):
            merged.update(values)
            scoped = values.get(package)
            if isinstance(scoped, dict):
                merged.update(scoped)
    return {**merged, **cli_vars}


def dispatch_orders(project: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """``dispatch:`` of dbt_project.yml: {macro_namespace: (package, ...)} in the order to search."""
    entries = project.get("dispatch") or []
    orders = {}
    if not isinstance(entries, list):
        raise ProjectError(f"{PROJECT_FILE}: 'dispatch:' must be a list of {{macro_namespace, search_order}}")
    for entry in entries:
        namespace = entry.get("macro_namespace") if isinstance(entry, dict) else None
        order = entry.get("search_order") if isinstance(entry, dict) else None
        if not namespace or not isinstance(order, list) or not order:
            raise ProjectError(
                f"{PROJECT_FILE}: every 'dispatch:' entry needs a macro_namespace and a search_order list, got {entry!r}"
            )
        orders[str(namespace)] = tuple(str(p) for p in order)
    return orders
