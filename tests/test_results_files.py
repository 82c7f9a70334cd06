"""run_results.json, manifest.json and JUnit XML, checked against their documented fields."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import Invoker
from stockx_export.run import artifacts

FIXTURE = Path(__file__).parent / "fixtures" / "tested_project"

RESULT_FIELDS = {
    "unique_id",
    "resource_type",
    "name",
    "status",
    "timing",
    "execution_time",
    "message",
    "failures",
    "rows",
    "relation",
    "compiled_path",
    "attached_node",
    "severity",
    "store_failures_relation",
}
NODE_FIELDS = {
    "unique_id",
    "name",
    "resource_type",
    "original_file_path",
    "patch_path",
    "relation",
    "schema",
    "alias",
    "fqn",
    "config",
    "meta",
    "tags",
    "description",
    "columns",
    "depends_on",
    "compiled_path",
    "attached_node",
    "fingerprint",
}
DATA_TEST_FIELDS = {"test_kind", "test_name", "column_name", "test_metadata"}
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


def test_run_results_have_the_documented_fields_for_every_node(run):
    root, _ = run
    data = load(root, "run_results.json")
    assert set(data) == {"metadata", "elapsed_time", "success", "results"}
    assert set(data["metadata"]) == {"stockx_version", "generated_at", "invocation_id", "command", "database"}
    assert data["metadata"]["database"] == str((root / "target" / "tested.duckdb").resolve())
    assert data["metadata"]["command"] == "build" and data["success"] is False
    text = documented("run_results.json")
    for field in RESULT_FIELDS | set(data["metadata"]) | {"started_at", "completed_at"}:
        assert re.search(rf"\b{field}\b", text), f"{field} is written but not documented"
    for result in data["results"]:
        assert set(result) == RESULT_FIELDS
        assert set(result["timing"]) == {"started_at", "completed_at", "execution_time"}
        assert result["status"] in ("success", "error", "skipped", "pass", "fail", "warn")


def test_run_results_statuses_failures_and_timing(run):
    root, _ = run
    results = {r["name"]: r for r in load(root, "run_results.json")["results"]}
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
    assert results["customer_totals"]["timing"]["started_at"] is None
    assert results["broken"]["status"] == "error"
    assert results["stg_customers"]["timing"]["started_at"].endswith("Z")
    unit = results["countries_are_distinct_and_known"]
    assert (unit["resource_type"], unit["status"], unit["failures"]) == ("unit_test", "pass", 0)


def test_manifest_has_the_documented_fields_for_every_node(run):
    root, _ = run
    manifest = load(root, "manifest.json")
    text = documented("manifest.json")
    for field in NODE_FIELDS | DATA_TEST_FIELDS | UNIT_TEST_FIELDS:
        assert re.search(rf"\b{field}\b", text), f"{field} is written but not documented"
    kinds = set()
    for uid, node in manifest["nodes"].items():
        kind = node["resource_type"]
        kinds.add(kind)
        extra = DATA_TEST_FIELDS if kind == "test" else UNIT_TEST_FIELDS if kind == "unit_test" else set()
        assert set(node) == NODE_FIELDS | extra, uid
        assert node["unique_id"] == uid
    assert kinds == {"seed", "model", "test", "unit_test"}


def test_manifest_describes_tests_and_their_models(run):
    root, _ = run
    nodes = load(root, "manifest.json")["nodes"]
    [unique] = [n for n in nodes.values() if n["name"] == "unique_stg_orders_order_id"]
    assert unique["unique_id"].startswith("test.tested.unique_stg_orders_order_id.")
    assert unique["original_file_path"] == "models/staging/_staging.yml"
    assert unique["depends_on"] == {"nodes": ["model.tested.stg_orders"]}
    assert unique["test_metadata"] == {"name": "unique", "namespace": None, "kwargs": {"column_name": "order_id"}}
    assert (unique["test_kind"], unique["column_name"], unique["config"]["severity"]) == ("generic", "order_id", "ERROR")
    relationships = next(n for n in nodes.values() if n["name"].startswith("relationships_"))
    assert relationships["depends_on"] == {"nodes": ["model.tested.stg_orders", "model.tested.stg_customers"]}
    singular = nodes["test.tested.assert_amounts_not_negative"]
    assert (singular["test_kind"], singular["attached_node"], singular["test_metadata"]) == ("singular", None, None)
    assert singular["compiled_path"] == "target/compiled/tests/sql/assert_amounts_not_negative.sql"
    unit = nodes["unit_test.tested.countries.countries_are_distinct_and_known"]
    assert unit["model"] == "countries" and unit["depends_on"] == {"nodes": ["model.tested.countries"]}
    assert unit["expect"] == {"rows": [{"country": "GB"}]}
    model = nodes["model.tested.stg_orders"]
    assert model["columns"]["order_id"] == {"name": "order_id", "data_type": "bigint", "description": "", "constraints": []}
    assert model["depends_on"] == {"nodes": ["seed.tested.raw_orders"]}
    assert model["compiled_path"] == "target/compiled/models/staging/stg_orders.sql"


def test_junit_has_one_case_per_node_with_failures_and_sample_rows(run):
    root, _ = run
    results = load(root, "run_results.json")["results"]
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
    assert json.loads((root / "target" / "run_results.json").read_text())["success"] is True


def test_junit_stays_well_formed_when_failing_rows_hold_control_characters(make_project, tmp_path):
    root, stockx = make_project({"tests/sql/ctrl.sql": "select chr(1) || 'bad' || chr(27) as v\n"})
    report = tmp_path / "junit.xml"
    result = stockx("test", "--junit", str(report))
    assert result.exit_code == 1
    failure = ET.parse(report).getroot().find("testsuite/testcase/failure")  # raises if not XML
    assert "| \\x01bad\\x1b |" in failure.text
