"""The docs site in a real browser, as a user opens it: headless Chromium on the generated
files (file://) and on ``stockx docs serve``. Every page fails its test on a console error or
a request that leaves file:// and loopback (see browser.py). Screenshots of the main views
go to target/screenshots/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from browser import browser, visit  # noqa: F401
from docs_support import (STOCK_EXTRA_COLUMNS, TOKEN, EchoingPeak, built_sample, drop_held, generate, hold_rows,
                          push_history, stockx, write_family_state, write_state)

from conftest import write_project


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The sample project built (with a warn threshold its data crosses), pushed three times
    to a Peak that refuses one key and quotes the token and markup in its answer, then
    documented; the index's file:// URL and the refused key."""
    root = built_sample(tmp_path_factory.mktemp("browser") / "sample", "--vars", "{max_reject_rate: 0.001}")
    with EchoingPeak() as server:
        key = push_history(root, server)
    done = generate(root, env={"PEAK_AUTH_TOKEN": TOKEN})
    assert done.exit_code == 0, done.output
    return root, (root / "target" / "docs" / "index.html").as_uri(), key


def test_the_overview_opens_from_file_with_no_error_and_no_request_off_the_machine(site, visit):
    root, index, _ = site
    shown = visit(index)
    page = shown.page
    assert page.title() == "stockx · stockx docs"
    assert page.locator("main h1").inner_text() == "stockx"
    assert page.locator("#tree").get_by_role("link", name="stock_extra", exact=True).is_visible()
    assert {url.split("/target/docs/", 1)[1] for url in shown.requests if url.startswith("file:")} == {
        "index.html", "data.js", "assets/style.css", "assets/app.js", "assets/vendor/dagre.min.js"}
    shown.screenshot("docs-overview")


def test_searching_stock_extra_opens_its_page_with_its_eight_columns_and_their_tests(site, visit):
    _, index, _ = site
    page = visit(index).page
    page.locator("#search").fill("stock_extra")
    first = page.locator("#search-results li").first
    assert first.locator("span").nth(1).inner_text() == "stock_extra"
    page.keyboard.press("Enter")
    page.wait_for_url("**#/node/model.stockx.stock_extra")
    # The page is drawn on the hash change, after the URL has changed: wait for its heading.
    page.locator("main h1", has_text="stock_extra").wait_for()
    assert page.locator("main h1").inner_text().split("\n")[0] == "stock_extra"
    rows = page.locator("table.columns tr[data-column]")
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.column)") == STOCK_EXTRA_COLUMNS
    chips = {column: rows.nth(i).locator(".chip").all_inner_texts() for i, column in enumerate(STOCK_EXTRA_COLUMNS)}
    assert sorted(chips["product_id"]) == ["not_null · pass", "relationships · pass"]
    assert sorted(chips["stock_units"]) == ["accepted_range · pass", "not_null · pass"]
    assert chips["created_at"] == []
    assert rows.nth(3).locator("td").nth(1).inner_text() == "DATE"


def test_the_model_page_draws_the_lineage_of_product_variant_back_to_raw_size_colour_and_pack(site, visit):
    _, index, _ = site
    shown = visit(index + "#/node/model.stockx.stock_extra")
    page = shown.page
    page.select_option("#lineage-column", "product_variant")
    graph = page.locator("#column-lineage svg")
    graph.locator("g.gnode").first.wait_for()
    drawn = graph.locator("g.gnode").evaluate_all("nodes => nodes.map(n => n.dataset.id)")
    edges = graph.locator("path.gedge").evaluate_all("paths => paths.map(p => [p.dataset.from, p.dataset.to])")
    for raw in ("size", "colour", "pack"):
        start = f"seed:raw_inventory.{raw}"
        assert start in drawn
        assert graph.locator(f'g.gnode[data-id="{start}"]').is_visible()
        assert reaches(edges, start, "model:stock_extra.product_variant"), raw
    # The page from its title down to the column lineage drawn (the SQL below it left out).
    bottom = page.evaluate("document.getElementById('column-lineage').getBoundingClientRect().bottom + scrollY")
    page.evaluate("window.scrollTo(0, 0)")
    shown.screenshot("docs-model-page", full_page=True, clip={"x": 0, "y": 0, "width": 1400, "height": bottom + 24})


def reaches(edges: list[list[str]], start: str, goal: str) -> bool:
    seen, frontier = {start}, [start]
    while frontier:
        here = frontier.pop()
        for source, target in edges:
            if source == here and target not in seen:
                seen.add(target)
                frontier.append(target)
    return goal in seen


def test_the_snapshot_page_shows_its_strategy_and_draws_a_columns_lineage(site, visit):
    _, index, _ = site
    page = visit(index + "#/node/snapshot.stockx.products_history?column=category").page
    facts = dict(zip(page.locator("dl.facts dt").all_inner_texts(), page.locator("dl.facts dd").all_inner_texts()))
    assert (facts["Strategy"], facts["Check columns"], facts["Hard deletes"]) == ("check", "all", "invalidate")
    graph = page.locator("#column-lineage svg")
    graph.locator("g.gnode").first.wait_for()
    edges = graph.locator("path.gedge").evaluate_all("paths => paths.map(p => [p.dataset.from, p.dataset.to])")
    assert reaches(edges, "model:products.lowest_product_category_id", "snapshot:products_history.category")
    assert "dbt_valid_to" in page.locator("table.columns").inner_text()


def test_the_dag_focuses_on_a_node_and_its_lineage_and_zooms(site, visit):
    _, index, _ = site
    shown = visit(index + "#/dag")
    page = shown.page
    page.wait_for_selector(".graph.dag[data-drawn]")
    node = page.locator('g.gnode[data-id="model.stockx.stock_extra"]')
    node.click()
    dimmed = page.locator("g.gnode.dim").evaluate_all("nodes => nodes.map(n => n.dataset.id)")
    assert "model.stockx.locations" in dimmed and "model.stockx.stock_extra_rejects" in dimmed
    assert "model.stockx.int_inventory_lines" not in dimmed and "seed.stockx.raw_inventory" not in dimmed
    assert page.url.endswith("#/dag?focus=model.stockx.stock_extra")
    layer = page.locator(".graph.dag g.layer")
    before = layer.get_attribute("transform")
    page.get_by_role("button", name="Zoom in").click()
    assert layer.get_attribute("transform") != before
    shown.screenshot("docs-dag")
    page.get_by_role("button", name="Show only its lineage").click()
    # The drawing being replaced is marked drawn too, until the new one takes its place: wait
    # for the node outside the lineage to go (a timeout, and a failure, if it stays).
    page.locator('.graph.dag g.gnode[data-id="model.stockx.locations"]').wait_for(state="detached")
    drawn = page.locator("g.gnode").evaluate_all("n => n.map(x => x.dataset.id)")
    assert "model.stockx.stock_extra" in drawn and "model.stockx.int_inventory_lines" in drawn
    assert "model.stockx.locations" not in drawn


def test_the_last_build_lists_each_node_and_shows_the_warning_with_its_message(site, visit):
    _, index, _ = site
    shown = visit(index + "#/build")
    page = shown.page
    warning = page.locator(".panel.failure.warn")
    assert warning.locator("a").inner_text() == "warn_reject_rate"
    assert warning.locator(".message").inner_text()
    statuses = page.locator("table.results tr td:first-child").all_inner_texts()
    assert len(statuses) > 50 and set(statuses) == {"success", "pass", "warn"}
    assert page.locator(".elsewhere").count() == 0  # the run was on the database documented
    shown.screenshot("docs-last-build")


def test_a_last_build_on_another_database_says_so(tmp_path, visit):
    root = write_project(tmp_path / "p", {"models/items.sql": "select 1 as item_id\n"})
    scratch = tmp_path / "scratch.duckdb"
    assert stockx("build", "--quiet", "--project-dir", str(root), "--database", str(scratch)).exit_code == 0
    assert generate(root).exit_code == 0
    page = visit((root / "target" / "docs" / "index.html").as_uri() + "#/build").page
    assert page.locator(".elsewhere").inner_text() == (
        f"This run was on another database, {scratch.resolve()}, not the one documented here: "
        "the verdicts on the model pages are this database's own.")


def test_the_sync_view_charts_each_push_and_lists_the_refused_row_without_the_token(site, visit):
    _, index, key = site
    shown = visit(index + "#/sync")
    page = shown.page
    # One section per Peak object of the family, each with its three pushes.
    sections = page.locator("section.destination")
    assert sections.evaluate_all("s => s.map(e => e.dataset.url.split('/').pop())") == [
        "QP_LOCATION_OOTB", "QP_PRODUCT_CATEGORY_OOTB", "QP_PRODUCT_OOTB", "QP_STOCK_EXTRA_OOTB", "QP_STOCK_OOTB"]
    products = page.locator("section.destination[data-url$='/QP_PRODUCT_OOTB']")
    assert products.locator("g.run-bar").evaluate_all("b => b.map(e => e.dataset.run)") == ["3", "8", "13"]
    assert products.locator("table.rejected").count() == 0
    assert products.locator(".held-rows").inner_text().endswith("None: the last push held no row back for a parent.")
    stock_extra = page.locator("section.destination[data-url$='/QP_STOCK_EXTRA_OOTB']")
    bars = stock_extra.locator(".chart g.run-bar")
    assert bars.evaluate_all("bars => bars.map(b => b.dataset.run)") == ["5", "10", "15"]
    first = bars.first.locator("title").text_content()
    assert first.startswith("Run 5 (changes, completed with errors)") and "rejected 1" in first
    assert bars.first.locator("rect.acknowledged").count() == 1 and bars.first.locator("rect.rejected").count() == 2
    cards = dict(zip(stock_extra.locator(".last-run .label").all_inner_texts(),
                     stock_extra.locator(".last-run .value").all_inner_texts()))
    assert (cards["run"], cards["rejected"], cards["held"]) == ("15 · changes", "1", "0")
    [row] = stock_extra.locator("table.rejected tr").all()[1:]
    cells = row.locator("td").all_inner_texts()
    assert cells[:3] == ["15", " · ".join(key), "422"]
    assert "does not exist in PRODUCT (request authorised by ***)" in cells[3]
    assert TOKEN not in page.content()
    # The family at a glance: a row per object with its last push, leading to its section.
    table = page.locator("table.destinations")
    rows = [r.locator("td").all_inner_texts() for r in table.locator("tr.link").all()]
    assert [r[:5] for r in rows] == [["QP_LOCATION_OOTB", "locations", "3", "12", "success"],
                                     ["QP_PRODUCT_CATEGORY_OOTB", "product_categories", "3", "11", "success"],
                                     ["QP_PRODUCT_OOTB", "products", "3", "13", "success"],
                                     ["QP_STOCK_EXTRA_OOTB", "stock_extra", "3", "15", "completed with errors"],
                                     ["QP_STOCK_OOTB", "stock", "3", "14", "success"]]
    assert rows[3][5:] == [cards["sent"], cards["acknowledged"], "1", "0"]
    shown.screenshot("docs-sync", full_page=True)
    top = page.evaluate("document.querySelector('table.destinations').getBoundingClientRect().bottom + scrollY")
    shown.screenshot("docs-sync-destinations", full_page=True, clip={"x": 0, "y": 0, "width": 1400, "height": top + 24})
    box = stock_extra.evaluate("e => { const r = e.getBoundingClientRect(); "
                               "return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; }")
    shown.screenshot("docs-sync-stock-extra", full_page=True,
                     clip={"x": box["x"] - 16, "y": box["y"] - 16, "width": box["width"] + 32, "height": box["height"] + 32})


def test_markup_in_the_project_shows_as_text(tmp_path, visit):
    """A description (or a Peak answer, a test message) holding HTML is shown as written, never run."""
    root = write_project(tmp_path / "p", {
        "models/items.sql": "select 1 as item_id\n",
        "models/_models.yml": """
            version: 2
            models:
              - name: items
                description: 'Items <img src=x onerror="window.__injected = 1"><script>window.__injected = 2</script>'
                columns:
                  - name: item_id
                    description: <b>key</b>
            """})
    assert generate(root).exit_code == 0
    page = visit((root / "target" / "docs" / "index.html").as_uri() + "#/node/model.demo.items").page
    assert page.locator("main .description").inner_text() == (
        'Items <img src=x onerror="window.__injected = 1"><script>window.__injected = 2</script>')
    assert page.locator("table.columns td").nth(2).inner_text() == "<b>key</b>"
    assert page.locator("main img, main script, main b").count() == 0
    assert page.evaluate("window.__injected") is None


def test_the_site_opens_from_docs_serve(site, visit):
    root, _, _ = site
    server = subprocess.Popen([str(Path(sys.executable).parent / "stockx"), "docs", "serve", "--port", "0",
                               "--project-dir", str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().split()[4]
        shown = visit(url + "#/sync")
        assert shown.page.locator(".chart g.run-bar").count() == 15  # five objects, three pushes each
        assert all(u.startswith(url) for u in shown.requests), shown.requests
    finally:
        server.send_signal(2)
        server.communicate(timeout=30)


def test_each_destination_of_a_family_export_has_its_own_chart_and_refused_rows(tmp_path, visit):
    root = write_project(tmp_path / "p", {})
    write_family_state(root / ".stockx" / "state.duckdb")
    assert generate(root).exit_code == 0
    page = visit((root / "target" / "docs" / "index.html").as_uri() + "#/sync").page
    sections = page.locator("section.destination")
    assert sections.evaluate_all("s => s.map(e => e.dataset.url.split('/').pop())") == ["QP_PRODUCTS_OOTB",
                                                                                       "QP_STOCK_EXTRA_OOTB"]
    products, stock_extra = sections.all()
    assert products.locator(".models").inner_text() == "Model products"
    assert products.locator("g.run-bar").evaluate_all("b => b.map(e => e.dataset.run)") == ["1", "3"]
    assert products.locator("table.rejected").count() == 0
    assert stock_extra.locator(".models").inner_text() == "Model stock_extra"
    assert stock_extra.locator("g.run-bar").evaluate_all("b => b.map(e => e.dataset.run)") == ["2", "4"]
    [row] = stock_extra.locator("table.rejected tr").all()[1:]
    assert row.locator("td").all_inner_texts()[:4] == ["4", "SKU-1", "422", "no such product"]


def test_held_rows_are_charted_and_listed_once_the_state_records_them(tmp_path, visit):
    """Rows held back for a parent come with the family export. A state of the layout before them
    shows no held count; a state that records them shows it in the chart, the summary and the list
    of pushes, and lists the held rows with why."""
    root = write_project(tmp_path / "p", {})
    state = root / ".stockx" / "state.duckdb"
    index = (root / "target" / "docs" / "index.html").as_uri() + "#/sync"
    write_state(state, runs=[(1, "success", None), (2, "success", None)], rejected=[])
    drop_held(state)
    assert generate(root).exit_code == 0
    page = visit(index).page
    assert page.locator(".chart rect.held").count() == 0 and "held" not in page.locator(".chart-legend").inner_text()
    assert page.locator(".held-rows").count() == 0
    page.close()
    state.unlink()
    write_state(state, runs=[(1, "success", None), (2, "success", None)], rejected=[])
    hold_rows(state, 4, [(2, '["SKU-9", "LOC-1"]', 'product_id "SKU-9" is not on Peak: PRODUCT (products) has not acknowledged it')])
    assert generate(root).exit_code == 0
    page = visit(index).page
    assert page.locator(".chart rect.held").count() == 4  # per run: in the main bar and in the strip below
    assert "held" in page.locator(".chart-legend").inner_text()
    cards = dict(zip(page.locator(".last-run .label").all_inner_texts(), page.locator(".last-run .value").all_inner_texts()))
    assert cards["held"] == "4"
    assert "Held" in page.locator("table.runs tr").first.text_content()  # in the folded list of every push
    [row] = page.locator("table.held tr").all()[1:]
    assert row.locator("td").all_inner_texts()[:3] == [
        "2", "SKU-9 · LOC-1", 'product_id "SKU-9" is not on Peak: PRODUCT (products) has not acknowledged it']


def test_the_sidebar_groups_by_tag_and_search_finds_a_column_and_a_description(tmp_path, visit):
    root = write_project(tmp_path / "p", {
        "models/staging/stg_orders.sql": "{{ config(tags=['daily']) }}\nselect 1 as order_id, 2 as basket_total\n",
        "models/marts/revenue.sql": "{{ config(tags=['daily', 'finance']) }}\nselect order_id from {{ ref('stg_orders') }}\n",
        "models/marts/_marts.yml": """
            version: 2
            models:
              - name: revenue
                description: Money booked per order, for the finance team.
            """})
    assert generate(root).exit_code == 0
    page = visit((root / "target" / "docs" / "index.html").as_uri()).page
    page.get_by_role("button", name="By tag").click()
    groups = page.locator("#tree > details")
    assert groups.locator("summary").all_inner_texts() == ["#daily2", "#finance1"]
    assert groups.nth(0).locator("a").all_inner_texts() == ["revenue", "stg_orders"]
    search = page.locator("#search")
    search.fill("basket")
    assert page.locator("#search-results li").all_inner_texts() == ["model\nstg_orders\ncolumn basket_total"]
    search.fill("finance team")
    assert page.locator("#search-results li .why").all_inner_texts() == [
        "…per order, for the finance team."]
