"""The sample project (stock_extra, at the repository root) copied for analysis tests."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden"
SAMPLE_PARTS = ("pyproject.toml", "models", "macros", "seeds")


def copy_sample(dest: Path) -> Path:
    """The sample project's models, macros and seeds (not the repo's tests) under ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in SAMPLE_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, dest / part)
        else:
            shutil.copy(source, dest / part)
    return dest
