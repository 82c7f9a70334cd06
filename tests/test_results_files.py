"""run_results.json, manifest.json and JUnit XML, checked against their documented fields."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import Invoker, node_results, query
from stockx_export.core.artifacts import read_last_run, read_manifest
from stockx_export.run import artifacts

FIXTURE = Path(__file__).parent / "fixtures" / "tested_project"

RESULT_FIELDS = {"status", "timing", "thread_id", "execution_time", "adapter_response", "message", "failures",
                 "unique_id", "compiled", "relation_name"}
NODE_FIELDS = {"database", "schema", "name", "resource_type", "package_name", "path", "original_file_path", "unique_id",
               "fqn", "description", "meta", "depends_on", "alias", "checksum", "config", "tags", "columns",
               "patch_path", "relation_name", "raw_code", "language", "refs", "sources", "compiled_path"}
SEED_FIELDS = NODE_FIELDS - {"raw_code", "language", "refs", "sources", "compiled_path"}
DATA_TEST_FIELDS = {"column_name", "attached_node", "test_metadata"}
UNIT_TEST_FIELDS = {"model", "given", "expect", "overrides"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The tested project plus one model that errors at run time, built once with --junit."""
    root = tmp_path_factory.mktemp("results") / "tested_project"
    shutil.copytree(FIXTURE, root)
    (root / "models/marts/broken.sql").write_text(
        "{{ config(materialized='table') }}\nselect cast(name as integer) as n from {{ ref('stg_customers') }}\n"
    )
    result = Invoker(root)("build", "--junit", str(root / "reports" / "junit.xml"))
    assert result.exit_code == 1
    return root, result


def load(root: Path, name: str) -> dict:
    return json.loads((root / "target" / name).read_text())


def documented(name: str) -> str:
    """The part of the artifacts docstring that documents ``name``."""
    sections = re.split(r"^(manifest\.json|run_results\.json)$", artifacts.__doc__, flags=re.M)
    return sections[sections.index(name) + 1]


def test_run_results_are_in_dbts_schema_with_the_documented_fields(run):
    from dbt_artifacts_parser.parser import parse_run_results

    root, _ = run
    data = load(root, "run_results.json")
    assert type(parse_run_results(data)).__name__ == "RunResultsV6"  # dbt's published schema, extra fields refused
    assert set(data) == {"metadata", "results", "elapsed_time", "args"}
    assert data["metadata"]["dbt_schema_version"] == "https://schemas.getdbt.com/dbt/run-results/v6.json"
    assert data["metadata"]["env"]["stockx_database"] == str((root / "target" / "tested.duckdb").resolve())
    assert data["args"]["which"] == "build" and data["args"]["select"] == []
    text = documented("run_results.json")
    for field in RESULT_FIELDS | set(data["metadata"]) | set(data["metadata"]["env"]) | {"started_at", "completed_at"}:
        assert re.search(rf"\b{field}\b", text), f"{field} is written but not documented"
    for result in data["results"]:
        assert set(result) == RESULT_FIELDS
        assert result["status"] in ("success", "error", "skipped", "pass", "fail", "warn")
        assert [t["name"] for t in result["timing"]] == ([] if result["status"] == "skipped" else ["execute"])


def test_run_results_statuses_failures_and_timing(run):
    root, _ = run
    results = {r["name"]: r for r in node_results(root)}
    assert {r["status"] for r in results.values()} == {"success", "error", "skipped", "pass", "fail", "warn"}
    unique = results["unique_stg_orders_order_id"]
    assert (unique["status"], unique["failures"], unique["severity"]) == ("fail", 1, "error")
    assert unique["message"] == "Got 1 result, configured to fail if != 0"
    assert unique["attached_node"] == "model.tested.stg_orders"
    assert unique["compiled_path"] == "target/compiled/models/staging/_staging.yml/unique_stg_orders_order_id.sql"
    warned = results["relationships_stg_orders_customer_id__customer_id__ref_stg_customers_"]
    assert (warned["status"], warned["failures"], warned["severity"]) == ("warn", 1, "warn")
    assert results["customer_totals"]["status"] == "skipped"
    # the first failure upstream is named: the singular test ran before the unique test
    assert results["customer_totals"]["message"] == "skipped: upstream test assert_amounts_not_negative failed"
    assert results["customer_totals"]["started_at"] is None
    assert results["broken"]["status"] == "error"
    assert results["stg_customers"]["started_at"].endswith("Z")
    unit = results["countries_are_distinct_and_known"]
    assert (unit["resource_type"], unit["status"], unit["failures"]) == ("unit_test", "pass", 0)


def test_manifest_is_in_dbts_schema_with_the_documented_fields(run):
    from dbt_artifacts_parser.parser import parse_manifest

    root, _ = run
    manifest = load(root, "manifest.json")
    assert type(parse_manifest(manifest)).__name__ == "ManifestV12"
    assert manifest["metadata"]["dbt_schema_version"] == "https://schemas.getdbt.com/dbt/manifest/v12.json"
    text = documented("manifest.json")
    for field in NODE_FIELDS | DATA_TEST_FIELDS | UNIT_TEST_FIELDS | {"parent_map", "child_map", "unit_tests"}:
        assert re.search(rf"\b{field}\b", text), f"{field} is written but not documented"
    kinds = set()
    for uid, node in manifest["nodes"].items():
        kind = node["resource_type"]
        kinds.add(kind)
        expected = SEED_FIELDS if kind == "seed" else NODE_FIELDS | (DATA_TEST_FIELDS if kind == "test" else set())
        assert set(node) == expected, uid
        assert node["unique_id"] == uid
        assert len(node["meta"]["stockx"]["fingerprint"]) == 64  # stockx's own field, under meta
    assert kinds == {"seed", "model", "test"}
    assert list(manifest["unit_tests"]) == ["unit_test.tested.countries.countries_are_distinct_and_known"]
    assert manifest["parent_map"]["model.tested.stg_orders"] == ["seed.tested.raw_orders"]
    assert "model.tested.stg_orders" in manifest["child_map"]["seed.tested.raw_orders"]


def test_manifest_describes_tests_and_their_models(run):
    root, _ = run
    manifest = read_manifest(root / "target" / "manifest.json")
    nodes = manifest.nodes
    [unique] = [n for n in nodes.values() if n.name == "unique_stg_orders_order_id"]
    assert unique.unique_id.startswith("test.tested.unique_stg_orders_order_id.")
    assert unique.original_file_path == "models/staging/_staging.yml"
    assert unique.depends_on == ("model.tested.stg_orders",)
    assert unique.test_metadata == {"name": "unique", "namespace": None, "kwargs": {"column_name": "order_id"}}
    assert (unique.column_name, unique.config["severity"], unique.checksum) == ("order_id", "ERROR", "")
    relationships = next(n for n in nodes.values() if n.name.startswith("relationships_"))
    assert relationships.depends_on == ("model.tested.stg_orders", "model.tested.stg_customers")
    singular = nodes["test.tested.assert_amounts_not_negative"]
    assert (singular.attached_node, singular.test_metadata) == (None, None)
    assert singular.compiled_path == "target/compiled/tests/sql/assert_amounts_not_negative.sql"
    unit = nodes["unit_test.tested.countries.countries_are_distinct_and_known"]
    assert unit.raw["model"] == "countries" and unit.depends_on == ("model.tested.countries",)
    assert unit.raw["expect"] == {"rows": [{"country": "GB"}]}
    model = nodes["model.tested.stg_orders"]
    assert model.columns["order_id"] == {"name": "order_id", "data_type": "bigint", "description": "", "constraints": [],
                                         "meta": {}, "quote": None, "tags": []}
    assert model.depends_on == ("seed.tested.raw_orders",)
    assert model.compiled_path == "target/compiled/models/staging/stg_orders.sql"
    # dbt's checksum: sha256 of the file's text, stripped, so a manifest dbt wrote compares with stockx's.
    text = (root / "models/staging/stg_orders.sql").read_text().strip()
    assert model.checksum == hashlib.sha256(text.encode()).hexdigest()


def test_junit_has_one_case_per_node_with_failures_and_sample_rows(run):
    root, _ = run
    results = node_results(root)
    suites = ET.parse(root / "reports" / "junit.xml").getroot()
    [suite] = suites.findall("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == [r["name"] for r in results]
    counts = {s: sum(r["status"] == s for r in results) for s in ("fail", "error", "skipped")}
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        str(len(results)),
        str(counts["fail"]),
        str(counts["error"]),
        str(counts["skipped"]),
    )
    failure = cases["unique_stg_orders_order_id"].find("failure")
    assert failure.get("message") == "Got 1 result, configured to fail if != 0"
    assert failure.text == (
        "Got 1 result, configured to fail if != 0\n"
        "| unique_field | n_records |\n"
        "|--------------|-----------|\n"
        "| 12           | 2         |\n"
        "compiled SQL: target/compiled/models/staging/_staging.yml/unique_stg_orders_order_id.sql"
    )
    assert cases["unique_stg_orders_order_id"].get("classname") == "tested.data_test"
    assert cases["countries_are_distinct_and_known"].get("classname") == "tested.unit_test"
    assert cases["stg_orders"].get("classname") == "tested.model"
    assert cases["customer_totals"].find("skipped").get("message") == "skipped: upstream test assert_amounts_not_negative failed"
    assert cases["broken"].find("error").get("message").startswith("models/marts/broken.sql: Conversion Error")
    warned = cases["relationships_stg_orders_customer_id__customer_id__ref_stg_customers_"]
    assert warned.find("failure") is None and warned.find("system-out").text.startswith("WARN Got 1 result")
    assert cases["stg_customers"].find("*") is None  # passed: no child element


def test_unit_test_failures_carry_the_diff_in_junit(make_project):
    root, stockx = make_project(
        {
            "seeds/src.csv": "id\n1\n",
            "models/doubled.sql": "select id * 2 as id from {{ ref('src') }}\n",
            "models/_unit.yml": """
                version: 2
                unit_tests:
                  - name: doubles
                    model: doubled
                    given:
                      - input: ref('src')
                        rows: [{id: 2}]
                    expect:
                      rows: [{id: 5}]
            """,
        }
    )
    result = stockx("test", "--junit", str(root / "junit.xml"))
    assert result.exit_code == 1
    failure = ET.parse(root / "junit.xml").getroot().find("testsuite/testcase/failure")
    assert failure.get("message") == "actual differs from expected: 1 expected row missing, 1 unexpected row"
    assert "| diff | id |\n|------|----|\n| +    | 4  |\n| -    | 5  |\n" in failure.text


def test_an_unwritable_junit_path_is_an_error_once_the_run_is_recorded(make_project, tmp_path):
    """Review taste T3: it was a warning with exit code 0, so a CI job reading the file passed without it."""
    root, stockx = make_project({"seeds/src.csv": "id\n1\n"})
    (tmp_path / "file").write_text("")
    result = stockx("build", "--junit", str(tmp_path / "file" / "junit.xml"))
    assert (result.exit_code, result.stderr) == (2, (
        f"Error: cannot write JUnit XML to {tmp_path / 'file' / 'junit.xml'}: File exists; the run itself finished "
        "and its results are in target/run_results.json: give --junit a path that can be written\n"))
    assert "Done. PASS=1" in result.stdout
    assert read_last_run(root / "target").success is True


def test_junit_stays_well_formed_when_failing_rows_hold_control_characters(make_project, tmp_path):
    root, stockx = make_project({"tests/sql/ctrl.sql": "select chr(1) || 'bad' || chr(27) as v\n"})
    report = tmp_path / "junit.xml"
    result = stockx("test", "--junit", str(report))
    assert result.exit_code == 1
    failure = ET.parse(report).getroot().find("testsuite/testcase/failure")  # raises if not XML
    assert "| \\x01bad\\x1b |" in failure.text


def test_compiled_sql_is_written_even_when_its_folder_went_during_the_command(make_project):
    # A command prepares each folder of target/compiled once; if the folder goes meanwhile (`stockx clean`
    # or `rm -r target` while a long build runs), the next node's SQL must still be written, not crash the run.
    from stockx_export.core.loading import load_project
    from stockx_export.run.projects import load_config

    root, _ = make_project({
        "models/marts/first.sql": "select 1 as id\n",
        "models/marts/second.sql": "select 2 as id\n",
    })
    project = load_project(load_config(root))
    first, second = (next(n for n in project.nodes.values() if n.name == name) for name in ("first", "second"))
    written = project.compiler.write(first, "select 1 as id")
    shutil.rmtree(root / "target" / "compiled")
    assert project.compiler.write(second, "select 2 as id") == written.parent / "second.sql"
    assert (written.parent / "second.sql").read_text() == "select 2 as id\n"
    # a file where its folder was (an earlier layout's, made meanwhile) goes too, as at the first write
    shutil.rmtree(root / "target" / "compiled" / "models" / "marts")
    (root / "target" / "compiled" / "models" / "marts").write_text("old\n")
    assert project.compiler.write(first, "select 1 as id").read_text() == "select 1 as id\n"


def test_a_rebuild_rewrites_only_compiled_sql_that_differs(make_project):
    # An unchanged model's compiled file is left as it is (a rebuild writes nothing new); one that differs from
    # what the model compiles to now, edited by hand or stale, is written again, whole.
    root, invoke = make_project({
        "models/marts/kept.sql": "select 1 as id\n",
        "models/marts/edited.sql": "select 2 as id\n",
        "models/marts/changed.sql": "select 3 as id\n",
    })
    assert invoke("run").exit_code == 0
    compiled = root / "target" / "compiled" / "models" / "marts"
    old = 1_000_000_000
    for name in ("kept", "edited", "changed"):
        os.utime(compiled / f"{name}.sql", ns=(old, old))
    (compiled / "edited.sql").write_text("select 2 as id\n-- edited by hand, longer than the model's SQL\n")
    os.utime(compiled / "edited.sql", ns=(old, old))
    (compiled / "changed.sql").write_text("select 3")  # a prefix of the new SQL: the whole file is compared
    os.utime(compiled / "changed.sql", ns=(old, old))
    (root / "models" / "marts" / "kept.sql").touch()
    assert invoke("run").exit_code == 0
    assert (compiled / "kept.sql").read_text() == "select 1 as id\n"
    assert (compiled / "kept.sql").stat().st_mtime_ns == old
    assert (compiled / "edited.sql").read_text() == "select 2 as id\n"
    assert (compiled / "changed.sql").read_text() == "select 3 as id\n"
    assert (compiled / "edited.sql").stat().st_mtime_ns != old


def test_a_folder_where_a_compiled_file_goes_is_replaced_by_the_file(make_project):
    # A folder of an earlier layout where a model's compiled file goes now (a snapshot file's compiled SQL is
    # a folder of one file per snapshot block) is stockx's own output: replaced, not an internal error.
    root, invoke = make_project({"models/marts/kept.sql": "select 1 as id\n"})
    compiled = root / "target" / "compiled" / "models" / "marts" / "kept.sql"
    compiled.mkdir(parents=True)
    (compiled / "kept_snapshot.sql").write_text("select 0 as id\n")
    result = invoke("run")
    assert result.exit_code == 0, result.output
    assert compiled.read_text() == "select 1 as id\n"


def test_no_secret_of_the_environment_reaches_the_manifest(make_project, monkeypatch):
    # A hook written from env_var()'s value, and a var rendered from one, put the secret in a model's config;
    # the manifest (an artifact CI keeps and docs sites publish) holds neither and stays readable, while the
    # build still ran the hook with the real value.
    monkeypatch.setenv("SHOP_SECRET", "hunter2-secret-value")
    monkeypatch.setenv("SHOP_PASSWORD", "pa55-word-value")
    root, stockx = make_project({
        "pyproject.toml": "[project]\nname = 'not-stockx'\n",
        "dbt_project.yml": ("name: shop\nprofile: shop\nconfig-version: 2\n"
                            "vars:\n  pw: \"{{ env_var('SHOP_PASSWORD') }}\"\n"),
        "profiles.yml": "shop:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: target/shop.duckdb}\n",
        "models/a.sql": ("{{ config(materialized='table', pre_hook=\"create table seen as select '\" ~ "
                         "env_var('SHOP_SECRET') ~ \"' as s\") }}\nselect 1 as id\n"),
        "models/b.sql": "{{ config(post_hook=\"select '\" ~ var('pw') ~ \"' as p\") }}\nselect 1 as id\n",
    })
    result = stockx("build", "--profiles-dir", str(root))
    assert result.exit_code == 0, result.output
    text = (root / "target" / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(text)
    assert "hunter2" not in text and "pa55" not in text
    assert "***" in manifest["nodes"]["model.shop.a"]["config"]["pre-hook"][0]["sql"]
    assert query(root / "target" / "shop.duckdb", "select s from seen") == [("hunter2-secret-value",)]


def test_a_named_pipe_where_a_compiled_file_goes_is_replaced_without_waiting(make_project):
    # Opening a named pipe to read (or write) waits for the other end, which never comes: a pipe left under
    # target/compiled (stockx's own output folder) must be replaced by the file, not hang an unattended build.
    import subprocess
    import sys

    root, invoke = make_project({"models/one.sql": "select 1 as id\n"})
    assert invoke("run").exit_code == 0
    compiled = root / "target" / "compiled" / "models" / "one.sql"
    compiled.unlink()
    os.mkfifo(compiled)
    script = Path(sys.executable).parent / "stockx"
    # the timeout only stops a run that waits on the pipe forever
    done = subprocess.run([str(script), "run", "--project-dir", str(root)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert compiled.is_file() and compiled.read_text() == "select 1 as id\n"
