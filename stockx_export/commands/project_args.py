"""The project and selection options every node command takes, as the library's RunOptions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stockx_export.run.options import RunOptions


def run_options(**params: Any) -> RunOptions:
    """RunOptions from a command's parameters (``vars_`` is ``--vars``; other names match the fields)."""
    names = RunOptions.__dataclass_fields__
    values = {("vars" if key == "vars_" else key): value for key, value in params.items()}
    if "no_partial_parse" in values:
        values["partial_parse"] = not values.pop("no_partial_parse")
    return RunOptions(**{key: value for key, value in values.items() if key in names})


def shown(path: Path, project_dir: str) -> str:
    """``path`` relative to the project folder when it lies inside it."""
    try:
        return path.relative_to(Path(project_dir).resolve()).as_posix()
    except ValueError:
        return str(path)
