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
    threads: int | None = None  # --threads: nodes built at once (default: the target's threads, else one per core)
    empty: bool = False  # --empty: refs and sources read as zero rows
    target_path: str | None = None  # --target-path: instead of the project's target folder
    resource_types: tuple[str, ...] = ()  # --resource-type: only these kinds of node (build, ls)
    defer: bool = False  # --defer: refs to unselected nodes read the --state manifest's relations
    partial_parse: bool = True  # False: --no-partial-parse (or STOCKX_NO_PARTIAL_PARSE=1): parse from scratch

    def args(self) -> dict[str, Any]:
        """The options as run_results.json's ``args`` record them (dbt's names), so a run can be repeated."""
        return {
            "select": list(self.select),
            "exclude": list(self.exclude),
            "resource_types": list(self.resource_types),
            "state": self.state,
            "defer": self.defer,
            "full_refresh": self.full_refresh,
            "fail_fast": self.fail_fast,
            "threads": self.threads,
            "empty": self.empty,
            "target_path": self.target_path,
            "vars": self.vars if isinstance(self.vars, dict) else (self.vars or {}),
        }
