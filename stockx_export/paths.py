"""Paths as stockx prints them."""

from __future__ import annotations

from pathlib import Path


def shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies inside it, else as it is."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)
