"""A dbt project as stockx sees it: ``dbt_project.yml`` plus the duckdb output of ``profiles.yml``.

stockx reads a dbt project as it stands, so a user can point ``stockx build`` at it
unmodified. What is read:

- ``dbt_project.yml``: ``name``, ``profile``, the ``*-paths``, ``target-path``, ``vars``
  (top level and scoped under the project name), ``on-run-start`` / ``on-run-end``,
  and the ``models:`` / ``seeds:`` / ``snapshots:`` / ``data_tests:`` blocks as written
  (keyed by the project name, then folders; ``+`` prefixes optional).
- ``profiles.yml`` where dbt finds it: ``--profiles-dir``, else the
  ``DBT_PROFILES_DIR`` environment variable, else the working directory when it
  holds a profiles.yml, else ``~/.dbt``: the profile named by ``profile:``, its
  ``target`` (or ``DBT_TARGET``), and that output's ``path`` and ``schema``
  (``type: duckdb``), or a postgres or spark output, read as a target of that
  type (``--target`` or ``STOCKX_TARGET`` names the output before ``DBT_TARGET``
  does). No profile found is an error, as in dbt (unless ``--database`` names
  the database).

- the packages installed in ``dbt_packages/`` (stockx_export.dbt.packages), each read
  as a project of its own, and ``dispatch:``'s search orders.

A relative ``path`` is resolved against the working directory, as dbt-duckdb does
(the same place as the project when it is run from the project root, as dbt
projects normally are).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import re

from stockx_export.core.config import ProjectConfig, ProjectKind, TargetConfig, resolve_database, target_from_table
from stockx_export.core.jinja.context import Target, Var, env_var
from stockx_export.core.properties import load_yaml
from stockx_export.dbt.layout import PROJECT_FILE, DbtLayout
from stockx_export.dbt.packages import dispatch_orders, read_packages
from stockx_export.errors import ProjectError

PROFILES_FILE = "profiles.yml"
# dbt-duckdb's defaults when an output leaves them out.
DEFAULT_SCHEMA = "main"
DEFAULT_PATH = ":memory:"
TYPES = ("duckdb", "postgres", "spark")
_ENV_VAR = re.compile(r"env_var\(\s*['\"]([^'\"]+)['\"]")
# Keys dbt renders only when a node runs: hooks see run-time context, so they stay raw here.
UNRENDERED_KEYS = ("on-run-start", "on-run-end", "pre-hook", "post-hook", "+pre-hook", "+post-hook")


def read_dbt_config(
    root: Path, cli_vars: dict[str, Any], database: str | None = None, profiles_dir: str | os.PathLike | None = None,
    target_name: str | None = None,
) -> ProjectConfig | None:
    """Read ``root/dbt_project.yml`` (and profiles.yml) into a ProjectConfig with the dbt layout;
    None when ``root`` holds no dbt_project.yml."""
    if not (root / PROJECT_FILE).is_file():
        return None
    raw = load_yaml(root / PROJECT_FILE, PROJECT_FILE)
    if not isinstance(raw, dict) or not raw.get("name"):
        raise ProjectError(f"{root / PROJECT_FILE}: a dbt project needs a 'name:'")
    name = str(raw["name"])
    output = read_profile(root, raw, name, profiles_dir, target_name, required=database is None)
    target_context = {
        "name": output["name"] if output else "dev",
        "schema": (output.get("schema") if output else None) or DEFAULT_SCHEMA,
        "type": (output or {}).get("type") or "duckdb",
        "profile_name": str(raw.get("profile") or name),
        **{k: v for k, v in (output or {}).items() if k in ("path", "threads")},
    }
    context = {"var": Var(cli_vars, lambda: PROJECT_FILE), "target": Target(target_context)}
    data = render_project(raw, context=context)
    packages = read_packages(root, data, cli_vars, lambda text: render_project(text, context=context))
    if output and output["type"] != "duckdb":
        target = target_from_table(root, output["name"], output["table"], output["origin"], database)
    else:
        target = _duckdb_target(root, name, output, database)
    return ProjectConfig(
        root=root,
        name=name,
        settings=data,
        model_paths=_paths(data, "model-paths", "models"),
        macro_paths=_paths(data, "macro-paths", "macros"),
        seed_paths=_paths(data, "seed-paths", "seeds"),
        test_paths=_paths(data, "test-paths", "tests"),
        snapshot_paths=_paths(data, "snapshot-paths", "snapshots"),
        target_path=str(data.get("target-path") or "target"),
        target=target,
        vars={**project_vars(data.get("vars") or {}, name), **cli_vars},
        models=data.get("models") or {},
        seeds=data.get("seeds") or {},
        snapshots=data.get("snapshots") or {},
        data_tests=data.get("data_tests") or data.get("tests") or {},
        on_run_start=_hooks(data, "on-run-start"),
        on_run_end=_hooks(data, "on-run-end"),
        layout=DbtLayout(profile=output or {}, missing_packages=packages.missing),
        packages=packages.configs,
        dispatch=dispatch_orders(data),
    )


def _duckdb_target(root: Path, name: str, output: dict[str, Any] | None, database: str | None) -> TargetConfig:
    """A duckdb output (or the ``--database`` given when there is no profiles.yml)."""
    if database is None:
        # dbt-duckdb opens a relative path from the working directory.
        database = resolve_database(Path.cwd(), str(output["path"]))
    return TargetConfig(
        database=resolve_database(root, database),
        name=str(output["name"]) if output else "dev",
        schema=str((output.get("schema") if output else None) or DEFAULT_SCHEMA),
        extensions=tuple((output or {}).get("extensions") or ()),
        settings=dict((output or {}).get("settings") or {}),
        origin=output["origin"] if output else "",
        root=str(root),
    )


DBT_KIND = ProjectKind(read_dbt_config, "run from a dbt project with dbt_project.yml")


def project_vars(values: dict[str, Any], project: str) -> dict[str, Any]:
    """dbt's vars: global ones, overridden by those scoped under this project's name.

    Scopes of other projects (packages) are dropped: their vars are not this project's.
    """
    if not isinstance(values, dict):
        raise ProjectError(f"{PROJECT_FILE}: 'vars:' must be a mapping")
    scoped = values.get(project)
    own = {k: v for k, v in values.items() if k != project}
    return {**own, **scoped} if isinstance(scoped, dict) else dict(values)


def _paths(data: dict[str, Any], key: str, default: str) -> tuple[str, ...]:
    value = data.get(key) or [default]
    if isinstance(value, str):
        value = [value]
    return tuple(str(v).rstrip("/") for v in value)


def _hooks(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if isinstance(value, str):
        value = [value]
    return tuple(str(v) for v in value)


def render_project(data: Any, key: str = "", context: dict[str, Any] | None = None) -> Any:
    """Render Jinja in the project file (``env_var``, ``var`` from --vars, ``target``), as dbt does at load time."""
    if key in UNRENDERED_KEYS:
        return data
    if isinstance(data, dict):
        return {k: render_project(v, str(k), context) for k, v in data.items()}
    if isinstance(data, list):
        return [render_project(v, key, context) for v in data]
    if isinstance(data, str) and "{" in data:
        return _render_text(data, PROJECT_FILE, context)
    return data


def _render_text(text: str, where: str, context: dict[str, Any] | None = None) -> str:
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    try:
        return env.from_string(text).render(env_var=env_var, **(context or {}))
    except ProjectError as exc:
        raise ProjectError(f"{where}: {exc}") from None
    except jinja2.TemplateError as exc:
        raise ProjectError(f"{where}: cannot render {text!r}: {exc}") from None


def profiles_path(profiles_dir: str | os.PathLike | None) -> Path:
    """Where profiles.yml is looked for, in dbt's order: ``--profiles-dir``, then DBT_PROFILES_DIR,
    then the working directory when it holds one, then ``~/.dbt`` (dbt-core's default_profiles_dir)."""
    folder = profiles_dir or os.environ.get("DBT_PROFILES_DIR")
    if not folder:
        folder = Path.cwd() if (Path.cwd() / PROFILES_FILE).is_file() else Path.home() / ".dbt"
    return Path(os.path.expanduser(str(folder))) / PROFILES_FILE


def read_profile(
    root: Path, data: dict[str, Any], name: str, profiles_dir: str | os.PathLike | None, chosen: str | None = None,
    required: bool = True,
) -> dict[str, Any] | None:
    """The chosen output of the project's profile (``chosen``, else DBT_TARGET, else the profile's
    ``target``), with ``name`` set to the target's name.

    No profiles.yml found is an error when ``required`` (else None: ``--database`` names the database).
    """
    path = profiles_path(profiles_dir)
    if not path.is_file():
        if profiles_dir:
            raise ProjectError(f"--profiles-dir {profiles_dir}: no {PROFILES_FILE} there")
        if os.environ.get("DBT_PROFILES_DIR"):
            raise ProjectError(f"DBT_PROFILES_DIR={os.environ['DBT_PROFILES_DIR']}: no {PROFILES_FILE} there")
        if not required:
            return None
        profile_name = str(data.get("profile") or name)
        raise ProjectError(
            f"{root / PROJECT_FILE}: could not find profile '{profile_name}': there is no {PROFILES_FILE} in the "
            f"working directory ({Path.cwd()}) nor in {path.parent}; run stockx from the folder that holds "
            f"{PROFILES_FILE}, or pass --profiles-dir (or set DBT_PROFILES_DIR), or name the database with --database"
        )
    shown = str(path)
    profiles = load_yaml(path, shown) or {}
    profile_name = str(data.get("profile") or name)
    profile = profiles.get(profile_name) if isinstance(profiles, dict) else None
    if not isinstance(profile, dict):
        known = ", ".join(sorted(k for k in profiles if k != "config")) if isinstance(profiles, dict) else ""
        raise ProjectError(
            f"{shown}: no profile named '{profile_name}' (dbt_project.yml's 'profile:')"
            + (f"; it has {known}" if known else "")
        )
    outputs = profile.get("outputs") or {}
    target_name = _render_text(str(chosen or os.environ.get("DBT_TARGET") or profile.get("target") or "dev"), shown)
    output = outputs.get(target_name)
    if not isinstance(output, dict):
        raise ProjectError(
            f"{shown}: profile '{profile_name}' has no output '{target_name}'; "
            f"its outputs are {', '.join(sorted(outputs)) or 'none'}"
        )
    origin = f"{shown}: profile '{profile_name}' output '{target_name}'"
    settings = _password_from_env(output, origin)
    settings = {k: _render_text(v, shown) if isinstance(v, str) else v for k, v in settings.items()}
    kind = settings.get("type")
    if kind not in TYPES:
        raise ProjectError(
            f"{shown}: profile '{profile_name}' target '{target_name}' is type '{kind}'; "
            f"stockx builds on {', '.join(TYPES)}: add an output of one of those types"
        )
    return {
        **settings,
        "name": target_name,
        "path": str(settings.get("path") or DEFAULT_PATH),
        "profile_file": shown,
        "profile_name": profile_name,
        "origin": origin,
        "table": settings,
    }


def _password_from_env(output: dict[str, Any], origin: str) -> dict[str, Any]:
    """The output with its password given by the variable its ``env_var()`` names (``password_env``).

    A password written into the file is refused: stockx reads passwords from the environment only.
    """
    settings = dict(output)
    for key in ("password", "pass"):
        if key not in settings:
            continue
        found = _ENV_VAR.search(str(settings.pop(key)))
        if found is None:
            raise ProjectError(
                f"{origin}: '{key}' must come from the environment, e.g. {key}: \"{{{{ env_var('PGPASSWORD') }}}}\"; "
                "stockx never reads a password written into a file"
            )
        settings["password_env"] = found.group(1)
    return settings
