"""``stockx docs generate`` and ``stockx docs serve`` on real projects, DuckDB files and sync
states: what they write (target/catalog.json in dbt's shape, the site's data), what they
read without changing, what they say, and the token, which never reaches a file."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import duckdb
import pytest
from dbt_artifacts_parser.parser import parse_catalog
from docs_support import (STOCK_EXTRA_COLUMNS, TOKEN, EchoingPeak, built_sample, drop_held, first_key, generate, push,
                          push_history, site_data, stockx, write_family_state, write_state)

from conftest import write_project
from stockx_export.docs.results import read_last_run


@pytest.fixture(scope="module")
def pushed(tmp_path_factory):
    """The sample project built, pushed three times to a Peak that refuses one key (and
    quotes the token in its answer), then documented; the token is in the environment."""
    root = built_sample(tmp_path_factory.mktemp("docs") / "sample")
    with EchoingPeak() as server:
        key = push_history(root, server)
    done = generate(root, env={"PEAK_AUTH_TOKEN": TOKEN})
    assert done.exit_code == 0, done.output
    return root, key


def describe(root: Path, relation: str) -> list[tuple[str, str]]:
    con = duckdb.connect(str(root / "target" / "stockx.duckdb"), read_only=True)
    try:
        return [(row[0], row[1]) for row in con.execute(f"DESCRIBE {relation}").fetchall()]
    finally:
        con.close()


# -- catalog.json -------------------------------------------------------------------------------


def test_the_catalog_is_in_dbts_shape_with_every_relations_columns_and_types(pushed):
    root, _ = pushed
    catalog = json.loads((root / "target" / "catalog.json").read_text())
    parsed = parse_catalog(catalog)  # dbt-artifacts-parser's model of dbt's catalog v1 (extra keys forbidden)
    assert parsed.metadata.dbt_schema_version == "https://schemas.getdbt.com/dbt/catalog/v1.json"
    assert sorted(catalog["nodes"]) == sorted(
        [f"model.stockx.{m}" for m in ("int_inventory_lines", "locations", "product_categories", "products", "stock",
                                       "stock_extra", "stock_extra_rejects", "stg_warehouse__inventory",
                                       "stg_warehouse__products", "stg_warehouse__warehouses")]
        + [f"seed.stockx.{s}" for s in ("raw_inventory", "raw_products", "raw_warehouses")]
        + ["snapshot.stockx.products_history"])
    assert sorted(catalog["sources"]) == ["source.stockx.warehouse.inventory", "source.stockx.warehouse.products",
                                          "source.stockx.warehouse.warehouses"]
    for uid, entry in {**catalog["nodes"], **catalog["sources"]}.items():
        meta = entry["metadata"]
        relation = f"{meta['schema']}.{meta['name']}"
        assert entry["unique_id"] == uid
        assert [(c["name"], c["type"]) for c in entry["columns"].values()] == describe(root, relation), uid
        assert [c["index"] for c in entry["columns"].values()] == list(range(1, len(entry["columns"]) + 1))
        assert meta["database"] == "stockx"
    stock_extra = catalog["nodes"]["model.stockx.stock_extra"]
    assert stock_extra["metadata"]["type"] == "BASE TABLE"
    assert list(stock_extra["columns"]) == STOCK_EXTRA_COLUMNS
    assert catalog["nodes"]["model.stockx.stg_warehouse__inventory"]["metadata"]["type"] == "VIEW"


# -- what the page is given ------------------------------------------------------------------------


def test_the_site_has_every_node_its_columns_tests_verdicts_sql_and_lineage(pushed):
    root, _ = pushed
    data = site_data(root)
    nodes = {n["id"]: n for n in data["nodes"]}
    stock_extra = nodes["model.stockx.stock_extra"]
    assert [c["name"] for c in stock_extra["columns"]] == STOCK_EXTRA_COLUMNS
    assert stock_extra["contract"] is True and stock_extra["materialized"] == "incremental"
    product_id = stock_extra["columns"][0]
    assert (product_id["type"], product_id["declared_type"], product_id["constraints"]) == ("VARCHAR", "varchar",
                                                                                          ["not_null"])
    tests = sorted(nodes[t]["test_name"] for t in product_id["tests"])
    assert tests == ["not_null", "relationships"]
    assert all(data["verdicts"][t]["status"] == "pass" for t in product_id["tests"])
    assert stock_extra["raw"] == (Path(root) / "models/marts/stock_extra.sql").read_text()
    assert stock_extra["compiled"].lstrip().startswith("with") and "{{" not in stock_extra["compiled"]
    edges = data["lineage"]["edges"]
    assert edges["model:stock_extra.product_variant"] == ["model:int_inventory_lines.product_variant"]
    assert edges["model:stg_warehouse__inventory.product_variant"] == [
        "source:warehouse.inventory.colour", "source:warehouse.inventory.pack", "source:warehouse.inventory.size"]
    assert edges["source:warehouse.inventory.size"] == ["seed:raw_inventory.size"]
    assert nodes["source.stockx.warehouse.inventory"]["depends_on"] == ["seed.stockx.raw_inventory"]
    assert data["last_run"]["command"] == "build"
    assert {r["status"] for r in data["last_run"]["results"]} == {"success", "pass"}


def test_a_snapshot_has_its_page_columns_compiled_sql_verdict_and_lineage(pushed):
    root, _ = pushed
    data = site_data(root)
    snapshot = next(n for n in data["nodes"] if n["id"] == "snapshot.stockx.products_history")
    assert (snapshot["type"], snapshot["materialized"], snapshot["built"]) == ("snapshot", "snapshot", "table")
    assert (snapshot["config"]["strategy"], snapshot["depends_on"]) == ("check", ["model.stockx.products"])
    assert [c["name"] for c in snapshot["columns"]] == [name for name, _ in describe(root, "snapshots.products_history")]
    assert "dbt_valid_to" in [c["name"] for c in snapshot["columns"]]
    assert "{{" not in snapshot["compiled"] and "from main.products" in snapshot["compiled"]
    assert data["verdicts"]["snapshot.stockx.products_history"]["status"] == "success"
    # (the snapshot's category is products' lowest_product_category_id, renamed)
    assert data["lineage"]["edges"]["snapshot:products_history.category"] == [
        "model:products.lowest_product_category_id"]


def test_the_sync_view_holds_each_push_and_the_refused_row_with_peaks_answer(pushed):
    root, key = pushed
    sync = site_data(root)["sync"]
    assert (sync["found"], sync["problem"], sync["state"]) == (True, None, ".stockx/state.duckdb")
    # Each push sends the family, parents first (level by level), one destination (and one run) per Peak object.
    family = [("product_categories", "PRODUCT_CATEGORY"), ("locations", "LOCATION"), ("products", "PRODUCT"),
              ("stock", "STOCK"), ("stock_extra", "STOCK_EXTRA")]
    by_object = {d["url"].rsplit("/", 1)[1]: d for d in sync["destinations"]}
    assert sorted(by_object) == sorted(f"QP_{obj}_OOTB" for _, obj in family)
    for order, (model, obj) in enumerate(family, start=1):
        parent = by_object[f"QP_{obj}_OOTB"]
        assert parent["models"] == [model]
        assert [r["run"] for r in parent["runs"]] == [order, order + 5, order + 10]
        assert [r["held"] for r in parent["runs"]] == [0, 0, 0]  # every parent was acknowledged first
        assert parent["held"] == []
    for obj in ("LOCATION", "PRODUCT_CATEGORY", "PRODUCT", "STOCK"):
        parent = by_object[f"QP_{obj}_OOTB"]
        assert parent["rejected"] == [] and [r["status"] for r in parent["runs"]] == ["success"] * 3
    destination = by_object["QP_STOCK_EXTRA_OOTB"]
    runs = destination["runs"]
    assert [(r["run"], r["mode"], r["status"], r["rejected"]) for r in runs] == [
        (5, "changes", "completed with errors", 1), (10, "changes", "completed with errors", 1),
        (15, "changes", "completed with errors", 1)]
    assert runs[0]["sent"] == runs[0]["table_rows"] == runs[0]["acknowledged"] + 1
    [refused] = destination["rejected"]
    assert (refused["run"], refused["key"], refused["status"]) == (15, list(key), 422)
    assert refused["response"].startswith('{"errorCode": "DI_E_10422"')
    assert "(request authorised by ***)" in refused["response"]


def test_the_token_reaches_no_file_of_the_site(pushed):
    root, _ = pushed
    forms = [TOKEN, base64.b64encode(TOKEN.encode()).decode(), TOKEN.encode().hex(), urllib.parse.quote(TOKEN)]
    for path in [root / "target" / "catalog.json", *sorted((root / "target" / "docs").rglob("*"))]:
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not [form for form in forms if form in text], path


def test_a_token_stored_by_an_older_stockx_is_scrubbed_from_the_site(tmp_path):
    """Older versions stored Peak's answers as they came; the site scrubs them with the token in the environment."""
    root = write_project(tmp_path / "p", {})
    state = root / ".stockx" / "state.duckdb"
    answer = json.dumps({"message": f"bad row (token {TOKEN}, base64 {base64.b64encode(TOKEN.encode()).decode()})"})
    write_state(state, runs=[(1, "running", f"stopped by {TOKEN}")], rejected=[(1, '["K1"]', answer)])
    done = generate(root, env={"PEAK_AUTH_TOKEN": TOKEN})
    assert done.exit_code == 0, done.output
    text = (root / "target" / "docs" / "data.js").read_text()
    assert TOKEN not in text and base64.b64encode(TOKEN.encode()).decode() not in text
    [destination] = site_data(root)["sync"]["destinations"]
    assert destination["runs"][0]["message"] == "stopped by ***"
    # (the redactor replaces the base64 text that encodes the token; a padding character may stay)
    assert json.loads(destination["rejected"][0]["response"])["message"].startswith("bad row (token ***, base64 ***")


def test_a_secret_a_model_reads_from_the_environment_is_scrubbed_from_the_site(tmp_path):
    """dbt's env_var() puts a value in the compiled SQL; no secret of the environment reaches a file."""
    password = "hunter2-wh-9f3e71"
    root = write_project(tmp_path / "p", {
        "models/items.sql": "select 1 as item_id, '{{ env_var(\"WAREHOUSE_DB_PASSWORD\") }}' as dsn_password\n"})
    done = generate(root, env={"WAREHOUSE_DB_PASSWORD": password})
    assert done.exit_code == 0, done.output
    assert password not in (root / "target" / "docs" / "data.js").read_text()
    [items] = [n for n in site_data(root)["nodes"] if n["name"] == "items"]
    assert items["compiled"] == "select 1 as item_id, '***' as dsn_password\n"


def test_the_sync_state_is_read_without_being_changed(tmp_path):
    """A run a killed push left open stays open (only a push, or `stockx runs`, closes it):
    generating the site writes nothing to the state, not even that."""
    root = write_project(tmp_path / "p", {})
    state = root / ".stockx" / "state.duckdb"
    write_state(state, runs=[(1, "success", None), (2, "running", None)], rejected=[(2, '["K1"]', "{}")])
    before = (state.read_bytes(), state.stat().st_mtime_ns)
    done = generate(root)
    assert done.exit_code == 0, done.output
    assert (state.read_bytes(), state.stat().st_mtime_ns) == before
    assert not Path(f"{state}.wal").exists()
    [destination] = site_data(root)["sync"]["destinations"]
    assert [(r["run"], r["status"]) for r in destination["runs"]] == [(1, "success"), (2, "running")]


def test_state_db_names_another_sync_state(tmp_path):
    root = write_project(tmp_path / "p", {})
    elsewhere = tmp_path / "states" / "peak-eu.duckdb"
    write_state(elsewhere, runs=[(4, "success", None)], rejected=[])
    done = generate(root, "--state-db", str(elsewhere))
    assert done.exit_code == 0, done.output
    sync = site_data(root)["sync"]
    assert (sync["state"], [r["run"] for r in sync["destinations"][0]["runs"]]) == (str(elsewhere), [4])
    assert generate(root).exit_code == 0
    assert site_data(root)["sync"]["found"] is False  # the default state, .stockx/state.duckdb, is not there


def test_a_state_a_push_holds_leaves_the_sync_view_saying_why(tmp_path):
    root = write_project(tmp_path / "p", {})
    state = root / ".stockx" / "state.duckdb"
    write_state(state, runs=[(1, "success", None)], rejected=[])
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time\ncon = duckdb.connect({str(state)!r})\n"
                               "print('ready', flush=True)\ntime.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "ready\n"
        done = generate(root)
    finally:
        holder.kill()
        holder.wait()
    assert done.exit_code == 0, done.output
    reason = (f"sync state {state} is in use by another stockx process (PID {holder.pid}); wait for it to finish, "
              "or give this destination its own state with --state-db")
    assert f"Warning: the sync view is empty: {reason}\n" in done.stderr
    assert site_data(root)["sync"] == {"state": ".stockx/state.duckdb", "found": True, "destinations": [],
                                       "problem": reason, "rejected_cut": False, "rejected_shown": 2000,
                                       "held_cut": False, "held_shown": 2000}


def test_each_destination_of_a_family_export_has_its_models_runs_and_refused_rows(tmp_path):
    root = write_project(tmp_path / "p", {})
    write_family_state(root / ".stockx" / "state.duckdb")
    assert generate(root).exit_code == 0
    products, stock_extra = site_data(root)["sync"]["destinations"]
    assert (products["url"], products["models"]) == ("https://peak.test/api/v2/ingest/object/QP_PRODUCTS_OOTB",
                                                     ["products"])
    assert [(r["run"], r["sent"], r["rejected"]) for r in products["runs"]] == [(1, 5, 0), (3, 1, 0)]
    assert products["rejected"] == []
    assert stock_extra["models"] == ["stock_extra"]
    assert [(r["run"], r["sent"], r["rejected"]) for r in stock_extra["runs"]] == [(2, 10, 1), (4, 3, 1)]
    assert [(r["run"], r["key"], r["response"]) for r in stock_extra["rejected"]] == [(4, ["SKU-1"], "no such product")]


def test_a_state_of_the_layout_before_held_rows_shows_no_held_count(tmp_path):
    """A state written before held rows existed reads 0 for every run: that says nothing, so the
    site leaves held out rather than show a count the state never kept."""
    root = write_project(tmp_path / "p", {})
    state = root / ".stockx" / "state.duckdb"
    write_state(state, runs=[(1, "success", None), (2, "success", None)], rejected=[])
    drop_held(state)
    assert generate(root).exit_code == 0
    [destination] = site_data(root)["sync"]["destinations"]
    assert [r["run"] for r in destination["runs"]] == [1, 2]
    assert all("held" not in r for r in destination["runs"]) and "held" not in destination


def test_rows_held_back_for_a_parent_are_counted_per_run_and_listed_with_the_reason(tmp_path):
    """stock_extra pushed alone, before Peak holds any product or location: every row is held back,
    the run says how many, and the held rows are listed by key with why (as `stockx rejected --held`)."""
    root = built_sample(tmp_path / "sample")
    with EchoingPeak() as server:
        server.token = TOKEN
        done = push(root, server, "stock_extra")
    assert done.exit_code == 1 and "196 rows held back" in done.output, done.output
    assert generate(root).exit_code == 0
    [destination] = site_data(root)["sync"]["destinations"]
    [run] = destination["runs"]
    assert (run["run"], run["sent"], run["held"], run["table_rows"]) == (1, 0, 196, 196)
    held = destination["held"]
    assert len({json.dumps(h["key"]) for h in held}) == 196 and {h["run"] for h in held} == {1}
    [first] = [h for h in held if h["key"] == list(first_key(root))]
    assert first["reason"] == (f'location_id "{first["key"][1]}" is not on Peak: LOCATION (locations) has not acknowledged '
                               f'it; product_id "{first["key"][0]}" is not on Peak: PRODUCT (products) has not '
                               "acknowledged it")
    assert first["row"]["product_id"] == first["key"][0] and list(first["row"]) == STOCK_EXTRA_COLUMNS


# -- what generate reads, and what it says -----------------------------------------------------------

SMALL = {
    "models/staging/stg_items.sql": "select 1 as item_id, 'a' as label\n",
    "models/marts/items.sql": "{{ config(materialized='table', tags=['daily']) }}\nselect item_id, upper(label) as label "
                              "from {{ ref('stg_items') }}\n",
    "models/marts/_marts.yml": """
        version: 2
        models:
          - name: items
            description: Every item, <b>once</b>.
            columns:
              - name: item_id
                data_tests: [unique, not_null]
        """,
}


def test_generate_before_any_build_warns_and_writes_what_it_knows(tmp_path):
    root = write_project(tmp_path / "p", SMALL)
    done = generate(root)
    assert done.exit_code == 0, done.output
    assert done.stderr == (
        f"Warning: nothing is built in {root}/target/stockx.duckdb yet: the site shows no column types and "
        "catalog.json is empty; run `stockx build`, then generate again\n")
    assert done.stdout.startswith("Documented 2 models, seeds, snapshots and sources (0 built) in ")
    assert done.stdout.endswith("s: target/docs/index.html, target/catalog.json\n")
    catalog = json.loads((root / "target" / "catalog.json").read_text())
    assert (catalog["nodes"], catalog["sources"]) == ({}, {})
    data = site_data(root)
    items = next(n for n in data["nodes"] if n["name"] == "items")
    assert (items["built"], items["description"], items["tags"]) == (None, "Every item, <b>once</b>.", ["daily"])
    # not built: the columns its SQL gives, without types
    assert [(c["name"], c["type"], len(c["tests"])) for c in items["columns"]] == [("item_id", None, 2), ("label", None, 0)]
    assert (data["last_run"], data["verdicts"], data["sync"]["found"]) == (None, {}, False)


def test_the_site_reads_the_project_not_the_manifests_shape(tmp_path):
    """manifest.json is another engineer's to change (dbt's v12 shape): the site reads the project itself."""
    root = write_project(tmp_path / "p", SMALL)
    assert stockx("build", "--quiet", "--project-dir", str(root)).exit_code == 0
    (root / "target" / "manifest.json").write_text(json.dumps({"metadata": {"dbt_schema_version":
                                                                            "https://schemas.getdbt.com/dbt/manifest/v12.json"},
                                                               "nodes": {}, "sources": {}, "child_map": {}}))
    done = generate(root)
    assert (done.exit_code, done.stderr) == (0, "")
    items = next(n for n in site_data(root)["nodes"] if n["name"] == "items")
    assert [(c["name"], c["type"]) for c in items["columns"]] == [("item_id", "INTEGER"), ("label", "VARCHAR")]


def test_run_results_in_dbts_v6_shape_read_as_stockxs(tmp_path):
    (tmp_path / "run_results.json").write_text(json.dumps({
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json",
                     "generated_at": "2026-01-05T06:00:00Z"},
        "args": {"which": "build"}, "elapsed_time": 3.5,
        "results": [{"unique_id": "model.p.items", "status": "success", "execution_time": 0.25, "message": "OK",
                     "failures": None, "thread_id": "Thread-1", "adapter_response": {},
                     "timing": [{"name": "compile", "started_at": "2026-01-05T05:59:58Z"},
                                {"name": "execute", "started_at": "2026-01-05T05:59:59Z"}]},
                    {"unique_id": "test.p.unique_items", "status": "fail", "execution_time": 0.1,
                     "message": "Got 2 results", "failures": 2, "timing": []}]}))
    run = read_last_run(tmp_path)
    assert (run.command, run.generated_at, run.elapsed) == ("build", "2026-01-05T06:00:00Z", 3.5)
    assert [(v.unique_id, v.status, v.seconds, v.failures, v.started_at) for v in run.results] == [
        ("model.p.items", "success", 0.25, None, "2026-01-05T05:59:59Z"),
        ("test.p.unique_items", "fail", 0.1, 2, None)]


def test_a_last_run_on_another_database_is_marked_and_the_verdicts_are_the_documented_ones(tmp_path):
    files = {**SMALL, "models/marts/_marts.yml": SMALL["models/marts/_marts.yml"].replace(
        "[unique, not_null]", "[unique, not_null, {accepted_values: {values: [2]}}]")}
    root = write_project(tmp_path / "p", files)
    assert stockx("build", "--quiet", "--project-dir", str(root)).exit_code == 1  # accepted_values fails here
    scratch = tmp_path / "scratch.duckdb"
    assert stockx("build", "--quiet", "--project-dir", str(root), "--database", str(scratch),
                  "--exclude", "test_type:generic").exit_code == 0
    assert generate(root).exit_code == 0
    data = site_data(root)
    assert (data["last_run"]["other_database"], data["last_run"]["database"]) == (True, str(scratch.resolve()))
    verdicts = {uid.split(".")[2]: v["status"] for uid, v in data["verdicts"].items()}
    assert verdicts["accepted_values_items_item_id__2"] == "fail"
    assert generate(root, "--database", str(scratch)).exit_code == 0
    assert site_data(root)["last_run"]["other_database"] is False


def test_a_failed_build_shows_each_failure_with_its_message(tmp_path):
    files = {**SMALL, "models/marts/_marts.yml": SMALL["models/marts/_marts.yml"].replace(
        "[unique, not_null]", "[unique, not_null, {accepted_values: {values: [2]}}]")}
    root = write_project(tmp_path / "p", files)
    assert stockx("build", "--quiet", "--project-dir", str(root)).exit_code == 1
    assert generate(root).exit_code == 0
    data = site_data(root)
    [failed] = [r for r in data["last_run"]["results"] if r["status"] == "fail"]
    assert failed["id"].startswith("test.demo.accepted_values_items_item_id__2")
    assert (failed["failures"], data["verdicts"][failed["id"]]["status"]) == (1, "fail")
    assert failed["message"]


def test_a_regenerated_site_replaces_the_old_one_whole(tmp_path):
    root = write_project(tmp_path / "p", SMALL)
    assert generate(root).exit_code == 0
    stale = root / "target" / "docs" / "assets" / "old.js"
    stale.write_text("// from an older stockx")
    assert generate(root).exit_code == 0
    assert not stale.exists()
    assert sorted(p.relative_to(root / "target" / "docs").as_posix() for p in (root / "target" / "docs").rglob("*")
                  if p.is_file()) == ["assets/app.js", "assets/style.css", "assets/vendor/README.md",
                                      "assets/vendor/dagre.LICENSE", "assets/vendor/dagre.min.js", "data.js",
                                      "index.html"]
    assert [p.name for p in (root / "target").iterdir() if p.name.startswith(".docs")] == []


# -- serve --------------------------------------------------------------------------------------------


def test_serve_without_a_site_says_to_generate_first(tmp_path):
    root = write_project(tmp_path / "p", SMALL)
    done = stockx("docs", "serve", "--project-dir", str(root))
    assert done.exit_code == 2
    assert done.stderr == f"Error: no docs site in {root}/target/docs; run `stockx docs generate` first\n"


def test_serve_prints_nothing_when_a_browser_leaves_mid_answer_but_a_bug_still_shows(tmp_path, capsys):
    # A reload or a cancelled download closes the connection while the server writes: not an error.
    from stockx_export.docs.serve import open_server

    root = write_project(tmp_path / "p", SMALL)
    assert generate(root).exit_code == 0
    server = open_server(root / "target" / "docs", port=0)
    try:
        for gone in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "Connection reset by peer")):
            try:
                raise gone
            except ConnectionError:
                server.handle_error(None, ("127.0.0.1", 50000))
        assert capsys.readouterr().err == ""
        try:
            raise ValueError("a bug in the handler")
        except ValueError:
            server.handle_error(None, ("127.0.0.1", 50000))
        assert "ValueError: a bug in the handler" in capsys.readouterr().err
    finally:
        server.server_close()


def test_serve_on_a_port_in_use_says_so(tmp_path):
    root = write_project(tmp_path / "p", SMALL)
    assert generate(root).exit_code == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = stockx("docs", "serve", "--project-dir", str(root), "--port", str(port))
    assert done.exit_code == 2
    assert done.stderr == (f"Error: cannot serve the docs on 127.0.0.1:{port}: Address already in use; "
                           "pass another --port (0 picks a free one)\n")


def test_serve_serves_the_site_on_loopback_and_says_where(tmp_path):
    root = write_project(tmp_path / "p", SMALL)
    assert generate(root).exit_code == 0
    server = subprocess.Popen([str(Path(sys.executable).parent / "stockx"), "docs", "serve", "--port", "0",
                               "--project-dir", str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert line.startswith("Serving the docs at http://127.0.0.1:") and line.endswith("/ (Ctrl-C to stop)\n")
        url = line.split()[4]
        with urllib.request.urlopen(url) as answer:
            page = answer.read().decode()
            assert answer.headers["Cache-Control"] == "no-store"
            assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'; script-src 'self'")
        assert '<script src="data.js"></script>' in page
        with urllib.request.urlopen(url + "data.js") as answer:
            assert answer.read().startswith(b"window.STOCKX_DOCS = {")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "../../pyproject.toml")
        assert refused.value.code == 404
    finally:
        server.send_signal(2)  # Ctrl-C
        out, err = server.communicate(timeout=30)
    assert (server.returncode, out, err) == (0, "Stopped.\n", "")
