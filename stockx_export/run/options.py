"""What a command asks of a run: the project, the selection and the flags, typed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunOptions:
    """The options of ``seed``, ``run``, ``build``, ``test``, ``compile``, ``ls``, ``show``, ``check``, ``lineage``."""

    project_dir: str = "."
    vars: Any = None  # a mapping, or the raw --vars text
    database: str | None = None  # overrides the configured database
    profiles_dir: str | None = None  # where a dbt project's profiles.yml is looked for
    target: str | None = None  # --target: the target to build in (default STOCKX_TARGET, else the project's)
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    state: str | None = None  # --state: the manifest (or its folder) state:modified compares with
    full_refresh: bool = False
    fail_fast: bool = False
    junit: str | None = None  # write JUnit XML of the run here
