"""The package as users install it: a wheel, in a fresh virtual environment.

One wheel is built from a copy of the checkout (so no stale ``build/`` folder can
hide a missing file) and installed, without ``-e``, into one venv for the whole
session; every command then runs with that venv's ``stockx`` console script from
a folder outside the checkout, so nothing can be imported from the source tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "stockx_export"
SAMPLE = ("pyproject.toml", "models", "macros", "seeds", "tests/sql")


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    scratch: Path  # a working directory outside the checkout

    @property
    def stockx(self) -> str:
        return str(self.venv / "bin" / "stockx")

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")


def clean_env() -> dict[str, str]:
    """The environment without anything that could point Python at the checkout."""
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONSAFEPATH"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout)


def package_data_files() -> set[str]:
    """Every file under stockx_export/ that is not Python source (nor bytecode), as wheel paths."""
    found = set()
    for path in (REPO / PACKAGE).rglob("*"):
        if path.is_dir() or "__pycache__" in path.parts or path.suffix in (".py", ".pyc"):
            continue
        found.add(path.relative_to(REPO).as_posix())
    return found


# One wheel built and installed per test run: under pytest-xdist each worker has its own session, so the
# module's tests go to one worker (a second build and install cost ~30 s).
pytestmark = pytest.mark.xdist_group("wheel")


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / PACKAGE, source / PACKAGE, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = base / "dist"
    built = run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(source)], cwd=base)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("stockx-*.whl")
    venv = base / "venv"
    made = run([sys.executable, "-m", "venv", str(venv)], cwd=base)
    assert made.returncode == 0, made.stderr
    install = run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], cwd=base)
    assert install.returncode == 0, install.stderr
    scratch = base / "scratch"
    scratch.mkdir()
    return Installed(wheel, venv, scratch)


def test_every_file_the_package_reads_is_in_the_wheel(installed):
    expected = package_data_files()
    assert f"{PACKAGE}/core/macros/generic_tests.sql" in expected  # the walk itself found the package's data
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    assert sorted(expected - names) == []
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_the_package_imported_is_the_installed_one(installed):
    result = run([installed.python, "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"], cwd=installed.scratch)
    assert result.returncode == 0, result.stderr
    imported = Path(result.stdout.strip()).resolve()
    assert imported.is_relative_to(installed.venv.resolve())
    assert not imported.is_relative_to(REPO)


def test_version_is_the_installed_metadata(installed):
    version = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    result = run([installed.stockx, "--version"], cwd=installed.scratch)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"stockx, version {version}\n"


def test_build_and_export_the_sample_project_with_the_installed_script(installed, tmp_path):
    project = tmp_path / "sample"
    for name in SAMPLE:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, project / name)
        else:
            project.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO / name, project / name)

    build = run([installed.stockx, "build"], cwd=project)
    assert build.returncode == 0, build.stdout + build.stderr
    export = run([installed.stockx, "export", "--out", "target/export"], cwd=project)
    assert export.returncode == 0, export.stdout + export.stderr

    # the sample's family: a folder per model
    manifest = json.loads((project / "target" / "export" / "stock_extra" / "manifest.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(project / "target" / "stockx.duckdb"), read_only=True)
    try:
        (rows,) = con.execute("select count(*) from main.stock_extra").fetchone()
    finally:
        con.close()
    assert rows > 0
    assert manifest["totals"]["rows"] == rows
    assert export.stdout.startswith(f"wrote {manifest['totals']['pages']} page")


def test_the_docs_site_is_written_from_the_installed_package(installed, tmp_path):
    """The page and its vendored library are package data: the installed script finds them."""
    project = tmp_path / "small"
    (project / "models").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.stockx]\nname = "small"\n')
    (project / "models" / "items.sql").write_text("select 1 as item_id\n")
    done = run([installed.stockx, "docs", "generate"], cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    site = project / "target" / "docs"
    for asset in ("index.html", "assets/app.js", "assets/style.css", "assets/vendor/dagre.min.js",
                  "assets/vendor/dagre.LICENSE"):
        source = REPO / PACKAGE / "docs" / "assets" / asset.removeprefix("assets/")
        assert (site / asset).read_bytes() == source.read_bytes(), asset
    assert (site / "data.js").read_text(encoding="ascii").startswith('window.STOCKX_DOCS = {"project":"small"')
