"""Opening a project folder of any kind stockx reads: a stockx project, else a dbt project.

The one place the kinds of project are listed: the core reads stockx projects,
and each other kind plugs in here from above (its reader and its layout live
in its own package, such as stockx_export.dbt).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from stockx_export.core.config import STOCKX_KIND, ProjectConfig, ProjectKind
from stockx_export.core.config import load_config as load_config_of
from stockx_export.core.loading import load_project
from stockx_export.core.project import Project
from stockx_export.dbt.config import DBT_KIND
from stockx_export.dbt.packages import deps
from stockx_export.errors import ProjectError
from stockx_export.run.options import RunOptions

# In the order they are tried: a folder with [tool.stockx] is a stockx project even beside a dbt_project.yml.
KINDS: tuple[ProjectKind, ...] = (STOCKX_KIND, DBT_KIND)


def load_config(project_dir: str | os.PathLike = ".", vars: Any = None, database: str | None = None, *,
                profiles_dir: str | None = None, target: str | None = None) -> ProjectConfig:
    """The configuration of the project at ``project_dir``, whatever its kind (see core.config.load_config)."""
    return load_config_of(project_dir, vars, database, profiles_dir=profiles_dir, target=target, kinds=KINDS)


def options_config(options: RunOptions) -> ProjectConfig:
    """The configuration of the project ``options`` name, with its command-line overrides (``--target-path``)."""
    config = load_config(options.project_dir, options.vars, options.database, profiles_dir=options.profiles_dir,
                         target=options.target)
    return dataclasses.replace(config, target_path=options.target_path) if options.target_path else config


NO_PARTIAL_PARSE = "STOCKX_NO_PARTIAL_PARSE"


def partial_parse(options: RunOptions) -> bool:
    """Whether parsing may reuse what earlier runs learnt: not with --no-partial-parse, nor when
    STOCKX_NO_PARTIAL_PARSE is set to anything but empty, 0, false or no."""
    off = os.environ.get(NO_PARTIAL_PARSE, "").strip().lower() not in ("", "0", "false", "no")
    return options.partial_parse and not off


def open_project(options: RunOptions, reporter) -> Project:
    """Load and parse the project ``options`` name; its load warnings go to ``reporter``."""
    config = options_config(options)
    project = load_project(config, full_refresh=options.full_refresh, warn=reporter.warn, log=reporter.log,
                           partial_parse=partial_parse(options))
    for warning in project.warnings:
        reporter.warn(warning)
    return project


def install_packages(project_dir: str | os.PathLike, log) -> list[str]:
    """``stockx deps``: install the packages of the project at ``project_dir`` (a dbt project's
    local packages are linked into its packages folder; vendored ones are checked); their names."""
    root = Path(project_dir).resolve()
    if not root.is_dir():
        raise ProjectError(f"project directory {project_dir} does not exist")
    return deps(root, log)
