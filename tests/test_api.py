"""``stockx_export.api``: the README's orchestrator example, run as written on the
sample project against the loopback Peak, and the errors it raises."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sync_support import TOKEN, RecordingPeak, change_table, expected_rows, make_project
from test_stock_extra import copy_project

from stockx_export import api
from stockx_export.errors import BuildFailed, ExportError, VolumeGuardStop

README = Path(__file__).resolve().parents[1] / "README.md"
KEYS = ("product_id", "location_id", "product_variant", "stock_date_at")


def readme_example() -> dict:
    """The Python block of "Running it every day", executed: its names."""
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- the example below is run by tests/test_api.py -->\n```python\n(.*?)```", text, re.S)
    assert found, "the orchestrator example is gone from README.md"
    names: dict = {}
    exec(compile(found.group(1), "README.md", "exec"), names)
    return names


@pytest.fixture
def server():
    with RecordingPeak() as peak:
        yield peak


@pytest.fixture
def peak_env(server, monkeypatch):
    monkeypatch.setenv("PEAK_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("PEAK_BASE_URL", server.base_url)
    return server


@pytest.fixture
def sample(tmp_path, monkeypatch) -> Path:
    project = copy_project(tmp_path / "stockx")
    monkeypatch.chdir(project)
    return project


def test_the_readme_example_runs_a_day_then_a_day_with_a_sku_gone(sample, peak_env):
    stock_to_peak = readme_example()["stock_to_peak"]
    first = stock_to_peak(str(sample))
    rows = expected_rows(sample)
    # five objects, parents first: stock_extra's is the fifth run
    assert first == {"run": 5, "sent": len(rows), "refused": 0, "held": 0, "gone": 0}
    assert peak_env.held_rows() == rows

    products = sample / "seeds" / "raw_products.csv"
    products.write_text("".join(line for line in products.read_text().splitlines(True) if "MUG-007" not in line))
    second = stock_to_peak(str(sample))
    now = expected_rows(sample)
    gone = {tuple(r[k] for k in KEYS) for r in rows} - {tuple(r[k] for k in KEYS) for r in now}
    assert gone and second == {"run": 10, "sent": 0, "refused": 0, "held": 0, "gone": len(gone)}
    assert len(peak_env.held_rows()) == len(now) + len(gone)  # keep: Peak holds the gone keys' last rows


def test_the_readme_example_raises_when_the_build_fails(sample, peak_env):
    stock_to_peak = readme_example()["stock_to_peak"]
    products = sample / "seeds" / "raw_products.csv"
    lines = len(products.read_text().splitlines())
    products.write_text(products.read_text() + "TEE-001,P-1001,Organic Tee,Apparel,extra\n")  # a malformed row
    with pytest.raises(BuildFailed) as caught:
        stock_to_peak(str(sample))
    assert caught.value.exit_code == 1
    skipped = sum(1 for r in caught.value.results if r.status == "skipped")
    assert skipped > 0 and str(caught.value) == (
        f"build failed: 1 failed, {skipped} skipped (raw_products: seeds/raw_products.csv:{lines + 1}: row has 5 "
        "values but the header has 4 columns: `TEE-001,P-1001,Organic Tee,Apparel,extra`; quote values that contain ',', or set the seed's delimiter); nothing "
        "can be exported until a build succeeds")
    assert peak_env.log == []
    with pytest.raises(ExportError) as refused:  # the push refuses, as `stockx export` does
        api.push(str(sample))
    assert refused.value.exit_code == 2 and peak_env.log == []


def test_push_raises_the_volume_guard_and_returns_refused_rows(tmp_path, peak_env):
    root = make_project(tmp_path / "proj", 300)
    assert api.push(str(root)).exit_code == 0
    change_table(root, "DELETE FROM stock_extra WHERE stock_units < 500")
    report = api.plan(str(root))
    assert report.guard is not None and report.guard.startswith("the table shrank from 300 to ")
    with pytest.raises(VolumeGuardStop) as caught:
        api.push(str(root))
    assert caught.value.exit_code == 2
    peak_env.reject_keys = {tuple(expected_rows(root)[0][k] for k in KEYS)}
    change_table(root, "UPDATE stock_extra SET stock_units = stock_units + 1")
    result = api.push(str(root), force=True)
    assert (result.rejected, result.exit_code, result.run_id) == (1, 1, 3)
    assert result.plan.changed == len(expected_rows(root))


def test_push_without_a_token_is_an_export_error(tmp_path, server, monkeypatch):
    monkeypatch.delenv("PEAK_AUTH_TOKEN", raising=False)
    root = make_project(tmp_path / "proj", 10)
    with pytest.raises(ExportError) as caught:
        api.push(str(root), overrides={"base_url": server.base_url})
    assert str(caught.value) == (
        "PEAK_AUTH_TOKEN is not set: export your Peak personal access token in it before pushing")


def test_write_files_returns_what_it_wrote(tmp_path):
    root = make_project(tmp_path / "proj", 120, page_rows=50)
    written = api.write_files(str(root), out_dir=tmp_path / "out")
    pages = sorted((tmp_path / "out").glob("page-*.json"))
    assert (written.pages, written.rows) == (3, 120) and len(pages) == 3
    assert written.bytes == sum(page.stat().st_size for page in pages)
    assert written.manifest == json.loads((tmp_path / "out" / "manifest.json").read_text())


def test_validate_sends_a_dry_run_and_keeps_no_state(tmp_path, server):
    root = make_project(tmp_path / "proj", 120, page_rows=50)
    result = api.validate(str(root), env={"PEAK_AUTH_TOKEN": TOKEN, "PEAK_BASE_URL": server.base_url})
    assert (result.summary.pages, result.summary.acknowledged, result.exit_code, result.dry_run) == (3, 120, 0, True)
    assert [entry.dry_run for entry in server.log] == [True] * 3 and server.held_rows() == []
    assert not (root / ".stockx").exists()


def test_runs_and_rejected_read_the_state_a_push_left(tmp_path, peak_env):
    root = make_project(tmp_path / "proj", 120, page_rows=50)
    assert api.runs(str(root)).found is False and api.rejected(str(root)).found is False
    refused = expected_rows(root)[7]
    peak_env.reject_keys = {tuple(refused[k] for k in KEYS)}
    pushed = api.push(str(root))
    runs = api.runs(str(root))
    assert runs.found and [(r.run_id, r.status, r.acknowledged, r.rejected) for r in runs.runs] == [
        (pushed.run_id, "completed with errors", 119, 1)]
    rows = api.rejected(str(root)).rows
    assert [(r.run_id, json.loads(r.row), r.status) for r in rows] == [(pushed.run_id, refused, 422)]
    assert api.rejected(str(root), run_id=pushed.run_id + 1).rows == ()


def test_push_tells_progress_what_it_sends_and_reports_each_page(tmp_path, peak_env):
    from stockx_export.export.deliver import Listeners

    root = make_project(tmp_path / "proj", 120, page_rows=50)
    started, pages = [], []

    def progress(sending):
        started.append(sending)
        return Listeners(on_page=lambda result: pages.append(len(result.page.rows)))

    result = api.push(str(root), progress=progress)
    assert [(s.rows, s.dry_run, s.state) for s in started] == [(120, False, root / ".stockx" / "state.duckdb")]
    assert pages == [50, 50, 20] and result.summary.acknowledged == 120


def test_an_interrupted_push_closes_its_run_and_says_so_when_asked(tmp_path, peak_env, monkeypatch):
    from stockx_export.errors import PushInterrupted
    from stockx_export.export.deliver import Listeners

    root = make_project(tmp_path / "proj", 120, page_rows=50)
    monkeypatch.chdir(root)

    def interrupted(result):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        api.push(str(root), progress=lambda sending: Listeners(on_page=interrupted))
    with pytest.raises(PushInterrupted) as caught:
        api.push(str(root), full=True, progress=lambda sending: Listeners(on_page=interrupted), handle_signals=True)
    assert (str(caught.value), caught.value.exit_code) == (
        "interrupted (Ctrl-C or SIGTERM); the pages answered so far are recorded in .stockx/state.duckdb: "
        "the next push sends only the rest", 2)
    assert [(r.status, r.message) for r in api.runs(str(root)).runs] == [
        ("aborted", "interrupted (Ctrl-C or SIGTERM)")] * 2


def test_test_raises_build_failed_naming_the_failed_test(tmp_path):
    from conftest import write_project

    root = write_project(tmp_path / "proj", {
        "models/twice.sql": "select 1 as id union all select 1 as id\n",
        "models/twice.yml": """
            models:
              - name: twice
                columns:
                  - name: id
                    data_tests: [unique]
        """,
    })
    with pytest.raises(BuildFailed):
        api.build(str(root))
    with pytest.raises(BuildFailed) as caught:
        api.test(str(root))
    failed = [r for r in caught.value.results if r.failed]
    assert [r.node.name for r in failed] == ["unique_twice_id"]
    assert str(caught.value) == (
        f"test failed: 1 failed, 0 skipped (unique_twice_id: {failed[0].message}); "
        "nothing can be exported until a build succeeds")
