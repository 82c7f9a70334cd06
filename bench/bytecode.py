"""Byte-compile stockx as an install does, before a bench times it.

``pip install`` of the wheel writes every module's ``.pyc`` at install time, and an
editable install writes them on first import; either way a user's second command
loads bytecode. A shell with ``PYTHONDONTWRITEBYTECODE=1`` (set on some machines,
this one among them) never writes them for an editable checkout, so every timed
process would compile ~80 modules from source (~0.15 s), a cost no user pays and
the baselines (DuckDB, dbt in its own venv) do not pay either. The benches call
:func:`compile_package` once before timing anything and say so.
"""

from __future__ import annotations

import compileall
import importlib.util
from pathlib import Path


def compile_package(name: str = "stockx_export") -> Path:
    """Write the ``.pyc`` of every module of ``name`` (as pip does); returns its folder."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{name} is not installed in this interpreter")
    folder = Path(next(iter(spec.submodule_search_locations)))
    compileall.compile_dir(folder, quiet=1)
    return folder
