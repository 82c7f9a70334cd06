"""Shared fixtures: real projects written to disk, and the real CLI run on them."""

from __future__ import annotations

import contextlib
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from stockx_export.cli import cli

REPO = Path(__file__).resolve().parents[1]


def write_project(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text, dedented) under ``root``; a pyproject is added if missing."""
    root.mkdir(parents=True, exist_ok=True)
    if "pyproject.toml" not in files:
        files = {"pyproject.toml": '[tool.stockx]\nname = "demo"\n', **files}
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


class Invoker:
    """Runs ``stockx`` in-process against one project directory."""

    def __init__(self, project_dir: Path) -> None:
        self.project_dir = project_dir

    def __call__(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
        runner = CliRunner()
        argv = list(args)
        if "--project-dir" not in argv and argv and argv[0] not in ("--help", "--version"):
            argv[1:1] = ["--project-dir", str(self.project_dir)]
        # A dbt project runs from its own folder, as dbt users run it: profiles.yml and a relative
        # DuckDB path are found from the working directory.
        if cwd is None and (self.project_dir / "dbt_project.yml").is_file():
            cwd = self.project_dir
        with contextlib.chdir(cwd or Path.cwd()):
            return runner.invoke(cli, argv, env=env, catch_exceptions=False)


@pytest.fixture
def make_project(tmp_path):
    """``make_project({path: text})`` -> (project dir, invoker)."""

    def make(files: dict[str, str], name: str = "project"):
        root = write_project(tmp_path / name, files)
        return root, Invoker(root)

    return make


# Under pytest-xdist, the tests that need one program outside Python (the PostgreSQL cluster, the local
# Spark, the browser) run together in one worker, so each program starts once per run, not once per
# worker; the three groups can run side by side. (No test needs two of them.)
EXTERNAL = ("spark_session", "postgres_dsn", "browser")


def pytest_collection_modifyitems(config, items):
    for item in items:
        needed = [name for name in EXTERNAL if name in getattr(item, "fixturenames", ())]
        if needed:
            item.add_marker(pytest.mark.xdist_group(needed[0]))


def query(database: Path, sql: str):
    """Rows of ``sql`` on a built DuckDB file, opened read-only."""
    import duckdb

    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def node_results(root: Path, target: str = "target") -> list[dict]:
    """The last run's results (run_results.json, named from manifest.json), as dicts, read by the artifact reader."""
    import dataclasses

    from stockx_export.core.artifacts import read_last_run

    return [dataclasses.asdict(r) for r in read_last_run(root / target).results]


def artifact_schemas(target: Path) -> dict[str, str]:
    """Each dbt artifact in ``target`` -> the class dbt-artifacts-parser reads it as (dbt's published
    schemas, which refuse unknown fields); a file that does not fit raises pydantic's ValidationError."""
    import json

    from dbt_artifacts_parser.parser import parse_manifest, parse_run_results, parse_sources

    parsers = {"manifest.json": parse_manifest, "run_results.json": parse_run_results, "sources.json": parse_sources}
    return {name: type(parse(json.loads((target / name).read_text()))).__name__
            for name, parse in parsers.items() if (target / name).exists()}


@pytest.fixture(scope="session")
def postgres_dsn():
    """A libpq connection string (without dbname) to ONE throwaway PostgreSQL cluster per test session."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'stockx[postgres]')")
    from postgres_server import Unavailable, postgres_server

    try:
        with postgres_server() as dsn:
            yield dsn
    except Unavailable as exc:
        pytest.skip(f"no PostgreSQL server: {exc}")


def dsn_settings(dsn: str) -> dict[str, str]:
    """``host=... port=... user=...`` as a mapping."""
    return dict(part.split("=", 1) for part in dsn.split())


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """ONE local Spark (local[2], two shuffle partitions, no UI) shared by every Spark test of the session.

    Each test builds in a schema (a Spark database) of its own, stored under its own project."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'stockx[spark]')")
    import shutil

    if shutil.which("java") is None and not __import__("os").environ.get("JAVA_HOME"):
        pytest.skip("no Java for Spark: apt-get install openjdk-17-jre-headless")
    from pyspark.sql import SparkSession

    home = tmp_path_factory.mktemp("spark")
    spark = (
        SparkSession.builder.master("local[2]").appName("stockx-tests")
        .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2").config("spark.default.parallelism", "2")
        .config("spark.sql.warehouse.dir", str(home / "warehouse"))
        .config("spark.sql.catalogImplementation", "hive")
        .config("spark.hadoop.javax.jdo.option.ConnectionURL", f"jdbc:derby:;databaseName={home}/metastore_db;create=true")
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={home}")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()
