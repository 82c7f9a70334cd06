"""The same project on PostgreSQL and on Spark gives what it gives on DuckDB.

The sample project reading a generated 20k-line raw file (bench/gen_raw.py,
messy lines included) is built and exported with ``--target postgres`` on a
real throwaway PostgreSQL cluster (one per test session) and with ``--target
spark`` on a real local Spark (one shared session); stock_extra and
stock_extra_rejects must equal the DuckDB build's row for row and type for
type, every data test must give the same verdict, and every payload file the
same sha256.
"""

from __future__ import annotations

import uuid

import pytest

from conftest import dsn_settings
from engine_projects import assert_same_build, build_and_export, generate_raw, sample_project


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return generate_raw(tmp_path_factory.mktemp("raw"))


@pytest.fixture(scope="module")
def duckdb_build(tmp_path_factory, seeds):
    project = sample_project(tmp_path_factory.mktemp("duckdb") / "project", seeds)
    return build_and_export(project, None)


def postgres_target(dsn: str, schema: str, name: str = "pg") -> str:
    settings = dsn_settings(dsn)
    return (f'[tool.stockx.targets.{name}]\ntype = "postgres"\nhost = "{settings["host"]}"\n'
            f'port = {settings["port"]}\nuser = "{settings["user"]}"\ndbname = "postgres"\nschema = "{schema}"\n')


def test_the_sample_on_a_generated_raw_file_builds_and_exports_the_same_on_postgres(
        tmp_path, seeds, duckdb_build, postgres_dsn):
    schema = f"t_{uuid.uuid4().hex[:8]}"
    project = sample_project(tmp_path / "project", seeds, postgres_target(postgres_dsn, schema))
    assert_same_build(build_and_export(project, "pg"), duckdb_build)


def test_the_sample_on_a_generated_raw_file_builds_and_exports_the_same_on_spark(
        tmp_path, seeds, duckdb_build, spark_session):
    schema = f"t_{uuid.uuid4().hex[:8]}"
    project = sample_project(tmp_path / "project", seeds, f'[tool.stockx.targets.spark]\ntype = "spark"\nschema = "{schema}"\n')
    assert_same_build(build_and_export(project, "spark"), duckdb_build)
