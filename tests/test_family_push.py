"""One sync job for Peak's whole inventory family: the sample project built for real,
pushed with ``stockx export --push`` to the multi-object loopback Peak, which
enforces product and location foreign keys the way Peak does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from peak_server import Delay, PeakServer, Reply, Stall, table_rows
from sync_support import TOKEN as RECORDING_TOKEN
from sync_support import RecordingPeak
from test_stock_extra import copy_project

from stockx_export.cli import cli
from stockx_export.errors import ExportError
from stockx_export.export.contract import RESOURCES
from stockx_export.export.family import family_of
from stockx_export.export.settings import resolve_settings

TOKEN = "pat-family-91c2e7"
FAMILY = {"product_categories": "PRODUCT_CATEGORY", "locations": "LOCATION", "products": "PRODUCT",
          "stock": "STOCK", "stock_extra": "STOCK_EXTRA"}
# Peak's three levels, as the issue orders them: categories, then products and locations, then stock.
LEVELS = {"PRODUCT_CATEGORY": 0, "LOCATION": 1, "PRODUCT": 1, "STOCK": 2, "STOCK_EXTRA": 2}
PARENTS = {"PRODUCT": {"PRODUCT_CATEGORY"}, "STOCK": {"PRODUCT", "LOCATION"}, "STOCK_EXTRA": {"PRODUCT", "LOCATION"}}


def stockx(project, *args, env=None):
    return CliRunner().invoke(cli, [*args, "--project-dir", str(project)], env=env or {}, catch_exceptions=False)


@pytest.fixture
def project(tmp_path):
    """The sample project, built (its database in target/)."""
    project = copy_project(tmp_path / "project")
    text = (project / "pyproject.toml").read_text()
    text = text.replace('name = "stockx"\n', 'name = "stockx"\ndatabase = "target/stockx.duckdb"\n', 1)
    (project / "pyproject.toml").write_text(text + "\n[tool.stockx.export]\npage_rows = 40\nrequests_per_second = 1000\n"
                                                   "backoff_base = 0.01\n")
    result = stockx(project, "build")
    assert result.exit_code == 0, result.output
    return project


@pytest.fixture
def server():
    with PeakServer(token=TOKEN) as peak:
        peak.fk_mode = "failed"
        yield peak


def env_for(server, **extra):
    return {"PEAK_AUTH_TOKEN": TOKEN, "PEAK_BASE_URL": server.base_url, **extra}


def tables(project) -> dict[str, list[dict]]:
    con = duckdb.connect(str(project / "target" / "stockx.duckdb"), read_only=True)
    try:
        return {obj: table_rows(con, RESOURCES[obj], f"main.{model}") for model, obj in FAMILY.items()}
    finally:
        con.close()


def sql(project, statement: str) -> None:
    con = duckdb.connect(str(project / "target" / "stockx.duckdb"))
    try:
        con.execute(statement)
    finally:
        con.close()


def test_the_family_goes_parents_first_and_peak_ends_up_equal_to_every_table(project, server):
    result = stockx(project, "export", "--push", env=env_for(server))
    assert result.exit_code == 0, result.output
    assert server.violations == []
    for obj, rows in tables(project).items():
        assert rows, obj
        assert server.held_rows(obj) == rows, obj
    # parents first: every request of a child came after every request of its parents
    order = server.order
    for child, parents in PARENTS.items():
        for parent in parents:
            assert max(i for i, o in enumerate(order) if o == parent) < min(i for i, o in enumerate(order) if o == child)
    # level by level: every request of a level before any of the next
    levels = [LEVELS[o] for o in order]
    assert levels == sorted(levels) and set(levels) == {0, 1, 2}
    # one block per object in the summary, and nothing refused or held
    for model, obj in FAMILY.items():
        assert f"{obj} ({model}):" in result.stdout
    assert "Error" not in result.stderr and ", 0 rejected;" in result.stdout
    runs = stockx(project, "runs", env=env_for(server))
    assert runs.output.count("success") == 5
    again = stockx(project, "export", "--push", env=env_for(server))
    assert again.exit_code == 0 and again.stdout.count("0 of ") == 5, again.output


def test_a_product_peak_lacks_holds_its_rows_until_it_is_back(project, server):
    sql(project, "create table main.products_kept as select * from main.products where product_id = 'P-1001'; "
                 "delete from main.products where product_id = 'P-1001'")
    env = env_for(server)
    planned = stockx(project, "export", "--plan", env=env)
    assert planned.exit_code == 0, planned.stdout
    held_counts = [line for line in planned.stdout.splitlines() if line.strip().startswith("held ")]
    expected_held = sum(1 for r in tables(project)["STOCK_EXTRA"] if r["product_id"] == "P-1001")
    assert expected_held > 0
    assert [int(line.split()[1]) for line in held_counts] == [expected_held]  # stock_extra's plan alone
    assert planned.stdout.count("note: held counts assume the parents' rows are accepted: a parent key in a "
                                "parent's table, pushed before its children in this run, counts as on Peak\n") == 1

    first = stockx(project, "export", "--push", env=env)
    assert first.exit_code == 1, first.output
    assert f"Error: {expected_held} rows held back: Peak does not hold their parent yet" in first.stderr
    assert not [r for r in server.held_rows("STOCK_EXTRA") if r["product_id"] == "P-1001"]
    assert stockx(project, "rejected", env=env).output == "no rejected rows\n"  # held, not refused
    held = stockx(project, "rejected", "--held", env=env).output
    assert held.count('product_id "P-1001" is not on Peak: PRODUCT (products) has not acknowledged it') == expected_held
    as_json = [json.loads(line) for line in stockx(project, "rejected", "--held", "--format", "jsonl",
                                                    env=env).stdout.splitlines()]
    assert len(as_json) == expected_held and {entry["row"]["product_id"] for entry in as_json} == {"P-1001"}
    runs = stockx(project, "runs", env=env).stdout.splitlines()
    assert runs[0].split()[10:13] == ["rejected", "held", "pages"]
    newest = runs[1].split()  # stock_extra's run: status success, its held count beside rejected
    assert newest[-1].endswith("QP_STOCK_EXTRA_OOTB") and newest[10:12] == ["0", str(expected_held)]

    sql(project, "insert into main.products select * from main.products_kept")
    second = stockx(project, "export", "--push", env=env)
    assert second.exit_code == 0, second.output
    for obj, rows in tables(project).items():
        assert server.held_rows(obj) == rows, obj
    assert stockx(project, "rejected", "--held", env=env).output == "no held rows\n"


@pytest.mark.parametrize("mode", ["failed", "422"])
def test_rows_peak_still_refuses_for_a_missing_parent_are_rejected(project, server, mode):
    env = env_for(server)
    assert stockx(project, "export", "--push", env=env).exit_code == 0
    server.fk_mode = mode
    del server.tables["PRODUCT"][("P-1001",)]  # Peak lost the product; the state still says acknowledged
    sql(project, "update main.stock_extra set stock_units = stock_units + 1 where product_id = 'P-1001'")
    changed = sum(1 for r in tables(project)["STOCK_EXTRA"] if r["product_id"] == "P-1001")
    result = stockx(project, "export", "--push", env=env)
    assert result.exit_code == 1, result.output
    refused = stockx(project, "rejected", "--format", "jsonl", env=env).output.splitlines()
    assert len(refused) == changed
    assert all(json.loads(line)["row"]["product_id"] == "P-1001" for line in refused)


def test_a_schema_difference_stops_the_family_before_any_row(project, server):
    server.schema_changes = {"PRODUCT": {"name": "integer"}}
    result = stockx(project, "export", "--push", env=env_for(server))
    assert result.exit_code == 2
    assert "Error: Peak's schema differs from the exported models in 1 way; nothing was sent:\n" \
           "  QP_PRODUCT_OOTB.name: Peak's type is integer, the model sends string\n" in result.stderr
    assert server.order == [] and all(entry.path.startswith("/api/v2/schema") for entry in server.log)
    checked = stockx(project, "export", "--validate-only", env=env_for(server))  # a dry run checks it too
    assert checked.exit_code == 2 and "QP_PRODUCT_OOTB.name: Peak's type is integer" in checked.stderr
    assert all(entry.path.startswith("/api/v2/schema") for entry in server.log)


def test_a_schema_endpoint_that_is_not_there_is_reported_and_the_push_goes_on(project, server):
    server.schema_mode = 404
    result = stockx(project, "export", "--push", env=env_for(server))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"schema not readable (HTTP 404 from GET {server.base_url}/api/v2/schema): "
                                    "columns not checked; the push goes on\n")
    assert server.held_rows("STOCK_EXTRA") == tables(project)["STOCK_EXTRA"]
    # the schema is read before the first push to a destination only, unless asked
    reads = server.schema_reads
    assert stockx(project, "export", "--push", env=env_for(server)).exit_code == 0
    assert server.schema_reads == reads
    assert stockx(project, "export", "--push", "--check-schema", env=env_for(server)).exit_code == 0
    assert server.schema_reads == reads + 1


def declare_season(project, settings: str = "") -> None:
    """products gets a custom attribute, season (declared in its meta.peak), and is built again."""
    products = project / "models" / "marts" / "products.sql"
    products.write_text(products.read_text().replace("    cast(null as timestamp) as updated_at\nfrom",
                                                     "    cast(null as timestamp) as updated_at,\n"
                                                     "    'all-year' as season\nfrom"))
    yml = project / "models" / "marts" / "_marts__models.yml"
    yml.write_text(yml.read_text().replace(
        "      peak: {object: PRODUCT}\n",
        "      peak:\n        object: PRODUCT\n        attributes:\n"
        "          season: {type: string, default: all-year, validations: {maxLength: 20}}\n").replace(
        "      - {name: updated_at, data_type: timestamp}\n\n  - name: product_categories",
        "      - {name: updated_at, data_type: timestamp}\n      - {name: season, data_type: varchar}\n\n"
        "  - name: product_categories"))
    if settings:
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + settings)
    assert stockx(project, "build").exit_code == 0


def test_a_declared_custom_attribute_is_added_once_and_its_values_arrive(project, server):
    declare_season(project)
    env = env_for(server)
    planned = stockx(project, "export", "--plan", env=env)
    assert "QP_PRODUCT_OOTB: would add attribute SEASON (string)" in planned.stdout
    assert server.attribute_requests == []

    result = stockx(project, "export", "--push", env=env)
    assert result.exit_code == 0, result.output
    assert "QP_PRODUCT_OOTB: added attribute SEASON (string)\n" in result.stdout
    assert server.attribute_requests == [{"solutionName": "QP_OOTB", "columnName": "SEASON", "dataType": "string",
                                          "defaultValue": "all-year", "validations": {"maxLength": 20}}]
    assert {r["season"] for r in server.held_rows("PRODUCT")} == {"all-year"}
    again = stockx(project, "export", "--push", "--check-schema", env=env)
    assert again.exit_code == 0, again.output
    assert len(server.attribute_requests) == 1 and "attribute" not in again.stdout


def test_the_older_add_attribute_form_is_a_setting(project, server):
    declare_season(project, 'attribute_form = "ingestion-api"\n')
    result = stockx(project, "export", "--push", env=env_for(server))
    assert result.exit_code == 0, result.output
    assert "QP_PRODUCT_OOTB: added attribute SEASON (string)\n" in result.stdout
    assert server.attribute_requests == [{"solutionName": "QP_OOTB", "attributeName": "SEASON", "dataType": "string",
                                          "defaultValue": "all-year", "validations": {"maxLength": 20}}]
    assert [e.path for e in server.log if e.path.endswith("add-attribute")] == [
        "/ingestion-api/api/v2/QP_PRODUCT_OOTB/add-attribute"]
    assert {r["season"] for r in server.held_rows("PRODUCT")} == {"all-year"}
    assert server.violations == []


def test_schema_calls_are_retried_like_pages_and_give_up_naming_the_endpoint(project, server):
    declare_season(project, "max_attempts = 3\n")
    env = env_for(server)
    server.script_get(Reply(503), Reply(429, {"Retry-After": "0"}))
    server.script(Reply(500), Reply(502))  # the first POSTs: add-attribute
    result = stockx(project, "export", "--push", env=env)
    assert result.exit_code == 0, result.output
    assert [e.status for e in server.log if e.path.startswith("/api/v2/schema?")] == [503, 429, 200]
    assert [e.status for e in server.log if e.path.endswith("add-attribute")] == [500, 502, 200]
    assert "QP_PRODUCT_OOTB: added attribute SEASON (string)\n" in result.stdout

    server.log.clear()
    sent = list(server.order)
    server.script_get(Reply(503, body=f'{{"echo": "{TOKEN}"}}'), Reply(504), Reply(503))
    failed = stockx(project, "export", "--push", "--check-schema", env=env)
    assert failed.exit_code == 2
    assert failed.stderr.startswith(f"Error: could not read Peak's schema (GET {server.base_url}/api/v2/schema): gave "
                                    "up after 3 attempts in ")
    assert "s (last: HTTP 503); nothing was sent: run the push again later" in failed.stderr
    assert TOKEN not in failed.output and server.order == sent
    assert [e.path for e in server.log if not e.path.startswith("/api/v2/schema?")] == []


@pytest.mark.parametrize("reply, said", [
    (Reply(200, body='{"success": false, "errorCode": "DI_E_40010", "message": "invalid dataType"}'),
     'answered HTTP 200, but "errorCode": "DI_E_40010"'),
    (Reply(200, body="<html>gateway</html>"), "answered HTTP 200, but its body is not JSON"),
    (Reply(400, body='{"message": "bad"}'), "Peak refused to add attribute SEASON to QP_PRODUCT_OOTB (HTTP 400 from POST"),
])
def test_an_add_attribute_answer_that_says_it_failed_stops_before_any_row(project, server, reply, said):
    declare_season(project)
    server.script(reply)
    result = stockx(project, "export", "--push", env=env_for(server))
    assert result.exit_code == 2, result.output
    assert said in result.stderr and "nothing was sent" in result.stderr and "Traceback" not in result.output
    assert server.order == []


SQL_WORDS = {"string": "VARCHAR(255)", "integer": "BIGINT", "timestamp": "TIMESTAMP(6)", "date": "Date"}


def test_a_schema_answer_in_other_words_is_read_and_the_push_goes_on(project, server):
    # objects named without prefix and suffix, in lower case; columnName/dataType; SQL type words
    answer = server.schema()
    for entry in answer["objects"]:
        entry["name"] = entry["name"].removeprefix("QP_").removesuffix("_OOTB").lower()
        for column in entry["columns"]:
            column["columnName"], column["dataType"] = column.pop("name").upper(), SQL_WORDS[column.pop("type")]
    server.script_get(Reply(200, body=json.dumps(answer)))
    result = stockx(project, "export", "--push", env=env_for(server))
    assert result.exit_code == 0, result.output
    assert server.held_rows("STOCK") == tables(project)["STOCK"]
    # a word that could be integer or float is not guessed: it is listed
    answer["objects"][0]["columns"][0]["dataType"] = "NUMBER"
    server.script_get(Reply(200, body=json.dumps(answer)))
    checked = stockx(project, "export", "--push", "--check-schema", env=env_for(server))
    assert checked.exit_code == 2
    assert "  QP_LOCATION_OOTB.location_id: Peak's type is number, the model sends string\n" in checked.stderr


def test_a_token_echoed_in_a_schema_answer_is_never_shown(project, server):
    answer = server.schema()
    answer["objects"][0]["columns"].append({"name": TOKEN, "type": "string"})
    answer["objects"][1]["columns"].append({"name": "x_" + TOKEN.upper(), "type": TOKEN})
    body = json.dumps(answer).replace(TOKEN, "\\u0070" + TOKEN[1:], 1)  # a JSON escape in the first echo
    server.script_get(Reply(200, body=body), Reply(400, body=json.dumps({"message": f"who is {TOKEN}?"})))
    result = stockx(project, "export", "--push", env=env_for(server))
    assert result.exit_code == 2
    assert "  QP_LOCATION_OOTB.***: in Peak's schema (string) but not sent by the model" in result.stderr
    assert "  QP_PRODUCT_OOTB.x_***: in Peak's schema (***) but not sent" in result.stderr
    again = stockx(project, "export", "--push", env=env_for(server))
    assert again.exit_code == 2 and "answered HTTP 400: '{\"message\": \"who is ***?\"}'" in again.stderr
    shown = result.output + again.output
    assert TOKEN not in shown and TOKEN.upper() not in shown and TOKEN[1:] not in shown
    for path in (project / ".stockx").rglob("*"):  # nothing of the answer is kept, in any file
        assert not path.is_file() or TOKEN.encode() not in path.read_bytes()


@pytest.mark.parametrize("peak, message", [
    ("{object: PRODUCT, attributes: {season: {type: varchar}}}",
     "attribute 'season': type must be one of string, integer, float, boolean, datetime, date, got 'varchar'"),
    ("{object: PRODUCT, attributes: {'my season': string}}",
     "attribute 'my season': a column name is letters, digits and '_' (not starting with a digit)"),
    ("{object: PRODUCT, attributes: {NAME: string}}",
     "attribute NAME of object PRODUCT is one of Peak's standard columns: remove it from meta.peak.attributes"),
    ("{object: PRODUCT, attributes: {season: {type: integer, default: [1]}}}",
     "attribute 'season': default must be a string, a number or true/false, got [1]"),
    ("{object: PRODUCTS}", "no Peak contract for object 'PRODUCTS' (known: LOCATION, PRODUCT, PRODUCT_CATEGORY, "
                           "STOCK, STOCK_EXTRA)"),
])
def test_a_mistake_in_meta_peak_names_the_model_and_its_file(project, server, peak, message):
    yml = project / "models" / "marts" / "_marts__models.yml"
    yml.write_text(yml.read_text().replace("      peak: {object: PRODUCT}\n", f"      peak: {peak}\n"))
    assert stockx(project, "build").exit_code == 0
    for command in ("--plan", "--push"):
        result = stockx(project, "export", command, env=env_for(server))
        assert (result.exit_code, result.stderr) == (
            2, f"Error: meta.peak of model products (models/marts/_marts__models.yml): {message}\n")
    assert server.order == []


def test_two_models_for_one_peak_object_is_an_error_naming_both(project, server):
    yml = project / "models" / "marts" / "_marts__models.yml"
    yml.write_text(yml.read_text().replace("      peak: {object: PRODUCT}\n", "      peak: {object: LOCATION}\n"))
    assert stockx(project, "build").exit_code == 0
    result = stockx(project, "export", "--push", env=env_for(server))
    assert (result.exit_code, result.stderr) == (2, (
        f"Error: models locations and products both push to {server.base_url}/api/v2/ingest/object/QP_LOCATION_OOTB "
        "(solution QP_OOTB): give each its own Peak object in meta.peak (object: ...)\n"))
    assert server.log == []


def test_an_undeclared_extra_column_stops_the_export_naming_it(project, server):
    products = project / "models" / "marts" / "products.sql"
    products.write_text(products.read_text().replace("    cast(null as timestamp) as updated_at\nfrom",
                                                     "    cast(null as timestamp) as updated_at,\n    1 as extra\nfrom"))
    yml = project / "models" / "marts" / "_marts__models.yml"
    yml.write_text(yml.read_text().replace(
        "      - {name: updated_at, data_type: timestamp}\n\n  - name: product_categories",
        "      - {name: updated_at, data_type: timestamp}\n      - {name: extra, data_type: integer}\n\n"
        "  - name: product_categories"))
    assert stockx(project, "build").exit_code == 0
    result = stockx(project, "export", "--push", "products", env=env_for(server))
    assert result.exit_code == 2
    assert "column 7: unexpected column extra INTEGER" in result.stderr
    assert server.order == []


def test_an_aborted_parent_skips_its_children_and_the_others_go_on(project, server):
    # The first object in the order (product_categories) meets an answer no retry fixes.
    server.script(Reply(404, body='{"message": "no such object"}'))
    result = stockx(project, "export", "--push", env=env_for(server))
    assert result.exit_code == 2
    assert "skipped products (PRODUCT): its parent product_categories did not finish its push; nothing of it was " \
           "sent" in result.stdout
    for child in ("stock (STOCK)", "stock_extra (STOCK_EXTRA)"):
        assert f"skipped {child}: its parent product_categories, products did not finish its push" in result.stdout
    assert result.stderr.endswith("Error: the family push did not finish (aborted: product_categories; skipped (a "
                                  "parent did not finish): products, stock, stock_extra); fix the cause reported "
                                  "above and push again: what was acknowledged is not sent again\n")
    assert set(server.order) == {"LOCATION"}
    # the object that aborted says how far it got, as a single model's push does
    assert ("PRODUCT_CATEGORY (product_categories): aborted after 0 pages (0 rows) were answered; 0 rows rejected so "
            "far\ntheir outcome is recorded in ") in result.stderr
    assert result.stderr.count("aborted after") == 1


def test_one_model_asked_warns_about_a_parent_never_pushed_and_holds_its_rows(project, server):
    result = stockx(project, "export", "--push", "stock", env=env_for(server))
    assert result.exit_code == 1
    assert "Warning: stock: its parent locations (LOCATION) is not in this push and was never pushed" in result.stderr
    assert "Warning: stock: its parent products (PRODUCT) is not in this push" in result.stderr
    stock_rows = len(tables(project)["STOCK"])
    assert f"Error: {stock_rows} rows held back" in result.stderr  # held, not sent to certain refusal
    assert server.order == [] and [entry for entry in server.log if "STOCK" in entry.path] == []
    both = stockx(project, "export", "--push", "products", "locations", "product_categories", env=env_for(server))
    assert both.exit_code == 0, both.output
    assert server.order[:1] in (["LOCATION"], ["PRODUCT_CATEGORY"])
    last = stockx(project, "export", "--push", "stock", env=env_for(server))
    assert last.exit_code == 0 and "Warning" not in last.stderr
    assert server.held_rows("STOCK") == tables(project)["STOCK"]


def test_out_writes_a_folder_per_model_in_family_order(project, tmp_path):
    out = tmp_path / "pages"
    result = stockx(project, "export", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert [line.rsplit("/", 1)[-1] for line in result.stdout.splitlines()] == [
        "product_categories", "locations", "products", "stock", "stock_extra"]
    manifest = json.loads((out / "products" / "manifest.json").read_text())
    assert manifest["settings"]["object"] == "PRODUCT"


def test_tenant_headers_come_from_the_environment_and_are_not_printed(project, server):
    env = env_for(server, PEAK_TENANT="acme-retail", PEAK_TENANT_ID="t-4711")
    result = stockx(project, "export", "--push", "--check-schema", env=env)
    assert result.exit_code == 0, result.output
    assert {entry.tenant for entry in server.log} == {("acme-retail", "t-4711")}
    assert "acme-retail" not in result.stdout + result.stderr and "t-4711" not in result.stdout + result.stderr
    names = project / "pyproject.toml"
    names.write_text(names.read_text() + 'tenant_env = "MY_TENANT"\ntenant_id_env = "MY_TENANT_ID"\n')
    server.log.clear()
    sql(project, "update main.stock set stock_units = stock_units + 1")
    assert stockx(project, "export", "--push", "stock", env={**env, "MY_TENANT": "other"}).exit_code == 0
    assert {entry.tenant for entry in server.log} == {("other", None)}


def test_path_forms_by_name_and_regional_base_urls():
    assert resolve_settings({"path": "objects"}).url == "https://ingestion.peak.ai/api/v2/objects/QP_STOCK_EXTRA_OOTB"
    assert resolve_settings({"path": "ingest/object", "base_url": "https://ingestion.eu-west-1.peak.ai"},
                            {"peak": {"object": "PRODUCT"}}).url == (
        "https://ingestion.eu-west-1.peak.ai/api/v2/ingest/object/QP_PRODUCT_OOTB")
    with pytest.raises(ExportError, match="path 'object' must be 'ingest/object' or 'objects' or a template"):
        resolve_settings({"path": "object"})
    older = resolve_settings({"attribute_form": "ingestion-api"}, {"peak": {"object": "PRODUCT"}})
    assert older.add_attribute_url == "https://ingestion.peak.ai/ingestion-api/api/v2/QP_PRODUCT_OOTB/add-attribute"
    assert resolve_settings().add_attribute_url == "https://ingestion.peak.ai/api/v2/schema/QP_STOCK_EXTRA_OOTB/add-attribute"
    with pytest.raises(ExportError) as info:
        resolve_settings({"attribute_form": "older"})
    assert str(info.value) == ("[tool.stockx.export] in pyproject.toml: attribute_form must be 'schema' or "
                               "'ingestion-api' (POST /api/v2/schema/{object}/add-attribute, or the older "
                               "/ingestion-api/api/v2/{object}/add-attribute), got 'older'")


def test_objects_path_form_pushes_the_family(project, server):
    server.path = "/api/v2/objects/QP_STOCK_EXTRA_OOTB"
    result = stockx(project, "export", "--push", "--path", "objects", env=env_for(server))
    assert result.exit_code == 0, result.output
    assert server.held_rows("LOCATION") == tables(project)["LOCATION"]


def _model(name, peak=True, depends=()):
    return {f"model.p.{name}": {"resource_type": "model", "name": name, "meta": {"peak": {"object": name.upper()}}
                                if peak else {}, "depends_on": {"nodes": [f"model.p.{d}" for d in depends]}}}


def _relationship(child, column, parent, field):
    return {f"test.p.rel_{child}_{column}": {
        "resource_type": "test", "attached_node": f"model.p.{child}", "column_name": column,
        "test_metadata": {"name": "relationships", "kwargs": {"to": f"ref('{parent}')", "field": field}},
        "depends_on": {"nodes": [f"model.p.{child}", f"model.p.{parent}"]}}}


def test_a_foreign_key_cycle_is_an_error_naming_it():
    nodes = {**_model("a"), **_model("b"), **_relationship("a", "b_id", "b", "id"),
             **_relationship("b", "a_id", "a", "id")}
    with pytest.raises(ExportError) as info:
        family_of(nodes)
    assert str(info.value).startswith("the exported models' foreign keys form a cycle: a -> b -> a;")


def test_the_dag_orders_models_without_a_relationships_test():
    nodes = {**_model("z_parent"), **_model("middle", peak=False, depends=["z_parent"]),
             **_model("a_child", depends=["middle"])}
    assert family_of(nodes).order == ("z_parent", "a_child")
    assert family_of({**_model("x", peak=False)}).order == ("stock_extra",)


def test_a_family_model_that_names_no_object_is_an_error_naming_it():
    nodes = {**_model("locations"), **_model("products")}
    nodes["model.p.products"].update(meta={"peak": {"page_rows": 10}}, patch_path="models/_models.yml")
    with pytest.raises(ExportError) as info:
        family_of(nodes)
    assert str(info.value) == ("meta.peak of model products (models/_models.yml) names no Peak object, and other "
                               "models of the family do (locations): add object: <the Peak object it fills, e.g. "
                               "PRODUCT> to its meta.peak (without it, it would go to STOCK_EXTRA)")
    assert family_of({**_model("x", peak=False), "model.p.y": {**nodes["model.p.products"], "name": "y"}}).order == ("y",)


def test_a_family_push_killed_mid_way_is_finished_without_resending_earlier_objects(project):
    """kill -9 while stock_extra's second page is in flight (one page at a time): the next
    run sends nothing of the four objects before it, and of stock_extra only the rest."""
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "in_flight = 1\n")
    rows = {obj: len(found) for obj, found in tables(project).items()}
    earlier = sum(-(-rows[obj] // 40) for obj in ("PRODUCT_CATEGORY", "LOCATION", "PRODUCT", "STOCK"))
    assert rows["STOCK_EXTRA"] > 80
    with RecordingPeak() as server:
        server.fk_mode = "failed"
        server.script(*[Delay(0)] * (earlier + 1), Stall())
        env = {**os.environ, "PEAK_AUTH_TOKEN": RECORDING_TOKEN, "PEAK_BASE_URL": server.base_url}
        script = Path(sys.executable).parent / "stockx"
        process = subprocess.Popen([str(script), "export", "--push", "--project-dir", str(project)], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert server.wait_for_arrivals(earlier + 2, timeout=120)
        finally:
            process.send_signal(signal.SIGKILL)
            process.communicate()
        assert process.returncode == -signal.SIGKILL
        assert server.wait_idle()
        server.log.clear()
        again = stockx(project, "export", "--push", env={"PEAK_AUTH_TOKEN": RECORDING_TOKEN,
                                                         "PEAK_BASE_URL": server.base_url})
        assert again.exit_code == 0, again.output
        sent = {obj: sum(e.rows for e in server.log if e.path.endswith(f"/QP_{obj}_OOTB")) for obj in FAMILY.values()}
        assert sent == {**{obj: 0 for obj in FAMILY.values()}, "STOCK_EXTRA": rows["STOCK_EXTRA"] - 40}
        for obj, found in tables(project).items():
            assert server.held_rows(obj) == found, obj
