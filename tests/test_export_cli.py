"""``stockx export`` as a user runs it: a project on disk, a DuckDB file, a loopback Peak."""

from __future__ import annotations

import hashlib
import os
import json

import duckdb
import pytest
from click.testing import CliRunner
from peak_server import AWKWARD_ROWS, create_stock_extra, peak_server, table_rows  # noqa: F401

from stockx_export.cli import cli

TOKEN = "pat-secret-5b1e0c77"
ROWS = 230


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    (root / "target").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.stockx]\nname = "proj"\ndatabase = "target/stockx.duckdb"\n\n[tool.stockx.export]\npage_rows = 50\n'
    )
    con = duckdb.connect(str(root / "target" / "stockx.duckdb"))
    create_stock_extra(con, ROWS, extra=AWKWARD_ROWS)
    con.close()
    write_build(root, model_status="success", test_status="pass", meta={"peak": {"page-bytes": 9_000}})
    monkeypatch.chdir(root)
    monkeypatch.delenv("PEAK_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("PEAK_BASE_URL", raising=False)
    return root


def write_build(root, model_status, test_status, meta=None):
    model = "model.proj.stock_extra"
    test = "test.proj.unique_stock_extra_key"
    nodes = {
        model: {"unique_id": model, "name": "stock_extra", "resource_type": "model", "relation_name": "main.stock_extra",
                "meta": meta or {}, "depends_on": {"nodes": []}},
        test: {"unique_id": test, "name": "unique_stock_extra_key", "resource_type": "test",
               "depends_on": {"nodes": [model]}},
    }
    results = [
        {"unique_id": model, "resource_type": "model", "status": model_status, "attached_node": None},
        {"unique_id": test, "resource_type": "test", "status": test_status, "failures": 0, "attached_node": model},
    ]
    (root / "target" / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    (root / "target" / "run_results.json").write_text(json.dumps({"metadata": {}, "results": results}))


def expected_rows(root):
    con = duckdb.connect(str(root / "target" / "stockx.duckdb"), read_only=True)
    try:
        return table_rows(con)
    finally:
        con.close()


def invoke(*args, env=None):
    return CliRunner().invoke(cli, ["export", *args], env=env or {}, catch_exceptions=False)


def test_out_writes_pages_and_a_manifest(project):
    result = invoke("--out", "payloads")
    out = project / "payloads"
    manifest = json.loads((out / "manifest.json").read_text())
    pages = manifest["pages"]
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"wrote {len(pages)} pages ({ROWS + len(AWKWARD_ROWS)} rows, {manifest['totals']['bytes']:,} bytes) "
        "and manifest.json to payloads\n"
    )
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"] + [f"page-{i:06d}.json" for i in range(1, len(pages) + 1)]
    rows = []
    for entry in pages:
        body = (out / entry["file"]).read_bytes()
        assert entry["bytes"] == len(body) <= 9_000
        assert entry["sha256"] == hashlib.sha256(body).hexdigest()
        data = json.loads(body)["data"]
        assert entry["rows"] == len(data) <= 50
        assert entry["first_key"] == [data[0][k] for k in manifest["key"]]
        assert entry["last_key"] == [data[-1][k] for k in manifest["key"]]
        rows.extend(data)
    assert rows == expected_rows(project)
    assert manifest["totals"] == {"pages": len(pages), "rows": len(rows), "bytes": sum(p["bytes"] for p in pages)}
    assert (manifest["settings"]["page_rows"], manifest["settings"]["page_bytes"]) == (50, 9_000)
    assert manifest["key"] == ["product_id", "location_id", "product_variant", "stock_date_at"]


def test_out_replaces_the_pages_of_the_earlier_export_and_nothing_else(project):
    out = project / "payloads"
    assert invoke("--out", "payloads").exit_code == 0
    assert len(list(out.glob("page-*.json"))) > 1
    (out / "notes.txt").write_text("mine")
    (out / "rejected.jsonl").write_text("{}\n")
    assert invoke("--out", "payloads", "--page-rows", "500", "--page-bytes", "1000000").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "notes.txt", "page-000001.json",
                                                     "rejected.jsonl"]
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("earlier", [False, True])
def test_out_never_removes_a_page_file_it_did_not_write(project, earlier):
    out = project / "payloads"
    if earlier:
        assert invoke("--out", "payloads").exit_code == 0
    else:
        out.mkdir()
        (out / "page-000001.json").write_text("someone else's")
    (out / "page-000999.json").write_text("someone else's")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = invoke("--out", "payloads", "--page-rows", "500", "--page-bytes", "1000000")
    assert result.exit_code == 2
    foreign = "page-000999.json" if earlier else "page-000001.json, page-000999.json"
    assert result.stderr == (
        f"Error: payloads holds page files no earlier export listed in its manifest.json ({foreign}); stockx "
        "removes only the pages it wrote: move them away, or choose another --out directory\n"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_out_names_the_first_foreign_pages_and_counts_the_rest(project):
    out = project / "payloads"
    out.mkdir()
    for number in range(1, 9):
        (out / f"page-{number:06d}.json").write_text("{}")
    result = invoke("--out", "payloads")
    assert result.exit_code == 2
    assert "(page-000001.json, page-000002.json, page-000003.json, page-000004.json, page-000005.json and 3 more)" \
        in result.stderr
    assert len(list(out.iterdir())) == 8


@pytest.mark.parametrize("manifest, reason", [
    ('{"pages": [{"file": "../pyproject.toml"}]}', 'no "pages" list of page-NNNNNN.json files'),
    ('{"name": "my manifest"}', 'no "pages" list of page-NNNNNN.json files'),
    ("[1, 2]", 'no "pages" list of page-NNNNNN.json files'),
    ('{"pages": [', "not readable JSON: Expecting value: line 1 column 12 (char 11)"),
])
def test_out_leaves_a_manifest_it_did_not_write_alone(project, manifest, reason):
    out = project / "payloads"
    out.mkdir()
    (out / "manifest.json").write_text(manifest)
    result = invoke("--out", "payloads")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: payloads/manifest.json is not a manifest stockx wrote ({reason}), so stockx cannot tell which "
        "files in payloads are its own: move it away, or choose another --out directory\n"
    )
    assert (out / "manifest.json").read_text() == manifest
    assert (project / "pyproject.toml").exists()


def test_push_delivers_everything_and_exits_0(project, peak_server):
    peak_server.token = TOKEN
    result = invoke("--push", env={"PEAK_AUTH_TOKEN": TOKEN, "PEAK_BASE_URL": peak_server.base_url})
    assert result.exit_code == 0, result.output
    total = ROWS + len(AWKWARD_ROWS)
    assert result.stdout.startswith(
        f"pushed {len(peak_server.log)} pages to {peak_server.base_url}/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB: "
        f"{total} rows acknowledged, 0 rejected; {len(peak_server.log)} requests, 0 retries, "
    )
    assert f"pushed {total}/{total} rows in {len(peak_server.log)} pages, 0 rejected, " in result.stderr
    assert peak_server.violations == []
    assert peak_server.held_rows() == expected_rows(project)


def test_validate_only_sends_dry_runs(project, peak_server):
    peak_server.token = TOKEN
    result = invoke("--validate-only", env={"PEAK_AUTH_TOKEN": TOKEN, "PEAK_BASE_URL": peak_server.base_url})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("validated ")
    total = ROWS + len(AWKWARD_ROWS)
    assert f"validated {total}/{total} rows in {len(peak_server.log)} pages, 0 rejected, " in result.stderr
    assert peak_server.held_rows() == [] and all(entry.dry_run for entry in peak_server.log)


def test_rejected_rows_exit_1_and_are_listed(project, peak_server):
    peak_server.token = TOKEN
    expected = expected_rows(project)
    bad = expected[60]
    peak_server.reject_keys = {peak_server.key_of(bad)}
    result = invoke("--push", "--base-url", peak_server.base_url, env={"PEAK_AUTH_TOKEN": TOKEN})
    assert result.exit_code == 1
    key = ", ".join(str(bad[k]) for k in ("product_id", "location_id", "product_variant", "stock_date_at"))
    assert "1 row rejected (all listed in target/export/rejected.jsonl):\n" in result.stdout
    assert f"  page 2: ({key}): HTTP 422 " in result.stdout
    assert result.stderr.endswith("Error: Peak rejected 1 row; see target/export/rejected.jsonl\n")
    lines = (project / "target" / "export" / "rejected.jsonl").read_text().splitlines()
    assert [json.loads(line)["row"] for line in lines] == [bad]
    assert peak_server.held_rows() == [row for row in expected if row != bad]


def test_a_refused_token_aborts_with_exit_2_and_is_never_shown(project, peak_server):
    result = invoke("--push", env={"PEAK_AUTH_TOKEN": TOKEN, "PEAK_BASE_URL": peak_server.base_url})
    assert result.exit_code == 2
    assert "aborted after 0 pages (0 rows) were answered; 0 rows rejected so far\n" in result.stderr
    assert result.stderr.endswith(
        f"Error: Peak refused the access token (HTTP 401) at {peak_server.base_url}/api/v2/ingest/object/"
        "QP_STOCK_EXTRA_OOTB: set PEAK_AUTH_TOKEN to a valid personal access token for this tenant\n"
    )
    assert TOKEN not in result.output
    for path in (project / "target").rglob("*"):
        if path.is_file() and path.suffix != ".duckdb":
            assert TOKEN not in path.read_text(errors="replace")
    assert {entry.authorization for entry in peak_server.log} == {TOKEN}  # sent raw, no "Bearer"


def test_missing_token(project):
    result = invoke("--push")
    assert result.exit_code == 2
    assert result.stderr == "Error: PEAK_AUTH_TOKEN is not set: export your Peak personal access token in it before pushing\n"


def test_exactly_one_mode(project):
    for args in ([], ["--push", "--out", "x"]):
        result = invoke(*args)
        assert result.exit_code == 2
        assert result.stderr == "Error: choose one of --out DIR, --push or --validate-only\n"


def test_a_failed_build_stops_before_anything_is_written(project):
    write_build(project, model_status="success", test_status="fail")
    result = invoke("--out", "payloads")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: tests on model stock_extra did not pass in the last run: unique_stock_extra_key (fail); "
        "fix them and run `stockx build --select +stock_extra`\n"
    )
    assert not (project / "payloads").exists()


def test_bad_table_stops_before_anything_is_sent(project, peak_server):
    con = duckdb.connect(str(project / "target" / "stockx.duckdb"))
    con.execute("UPDATE stock_extra SET product_variant = 'L' WHERE product_id = 'P-café'")
    con.close()
    result = invoke("--push", env={"PEAK_AUTH_TOKEN": TOKEN, "PEAK_BASE_URL": peak_server.base_url})
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: table main.stock_extra: 1 row with a product_variant that is not 'dimension:value'; first:\n"
        "  (product_id='P-café', location_id='LOC-Zürich', product_variant='L', "
    )
    assert peak_server.log == []


def test_unknown_setting_in_pyproject(project):
    (project / "pyproject.toml").write_text('[tool.stockx]\nname = "proj"\n[tool.stockx.export]\npages = 5\n')
    result = invoke("--out", "x")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: [tool.stockx.export] in pyproject.toml: unknown export setting 'pages' (known: ")


def test_help():
    result = CliRunner().invoke(cli, ["export", "--help"])
    assert result.exit_code == 0
    assert "Export MODELS (default: every model with meta.peak, else stock_extra) as Peak" in result.output


def test_end_to_end_after_a_real_build(tmp_path, monkeypatch, peak_server):
    """The repository's own project, built by `stockx build`, then pushed."""
    import shutil
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    root = tmp_path / "built"
    for folder in ("models", "seeds", "macros", "tests/sql"):
        shutil.copytree(repo / folder, root / folder)
    shutil.copy(repo / "pyproject.toml", root / "pyproject.toml")
    monkeypatch.chdir(root)
    build = CliRunner().invoke(cli, ["build"], catch_exceptions=False)
    assert build.exit_code == 0, build.output
    peak_server.token = TOKEN
    result = invoke("--push", "--page-rows", "40", env={"PEAK_AUTH_TOKEN": TOKEN, "PEAK_BASE_URL": peak_server.base_url})
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(root / "target" / "stockx.duckdb"), read_only=True)
    try:
        expected = table_rows(con)
    finally:
        con.close()
    assert expected and peak_server.violations == []
    assert peak_server.held_rows() == expected


@pytest.mark.parametrize("token", ["pat-s\u00e9cret-5b1e", "pat-line\nbreak-5b1e"])
def test_a_token_no_http_header_can_carry_stops_before_sending(project, peak_server, token):
    result = invoke("--push", env={"PEAK_AUTH_TOKEN": token, "PEAK_BASE_URL": peak_server.base_url})
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: PEAK_AUTH_TOKEN holds a character an HTTP header cannot carry (non-ASCII, or a control character "
        "such as a line break); copy the personal access token again\n"
    )
    assert peak_server.log == []


def test_export_follows_the_model_and_its_tests_across_runs(make_project, tmp_path):
    """Later runs that do not rebuild the model keep it exportable; a rebuild without
    its tests does not; `stockx test` afterwards makes it exportable again."""
    from conftest import write_project

    root = write_project(
        tmp_path / "runs",
        {
            "models/stock_extra.sql": """
                select 'P1' as product_id, 'L1' as location_id, 'size:L' as product_variant,
                       date '2025-01-28' as stock_date_at, null::timestamp as created_at,
                       null::varchar as stock_id, 5::bigint as stock_units, null::timestamp as updated_at
            """,
            "models/other.sql": "select 1 as one\n",
            "models/props.yml": """
                models:
                  - name: stock_extra
                    columns:
                      - name: product_id
                        data_tests: [not_null]
            """,
        },
    )

    def stockx(*args):
        return CliRunner().invoke(cli, [*args[:1], "--project-dir", str(root), *args[1:]], catch_exceptions=False)

    out = str(tmp_path / "out")
    assert stockx("build").exit_code == 0
    assert stockx("run", "-s", "other").exit_code == 0  # the last run did not touch stock_extra
    assert stockx("export", "--out", out).exit_code == 0
    assert stockx("test", "-s", "stock_extra").exit_code == 0
    assert stockx("export", "--out", out).exit_code == 0
    assert stockx("run", "-s", "stock_extra").exit_code == 0  # rebuilt, not tested since
    refused = stockx("export", "--out", out)
    assert refused.exit_code == 2
    assert refused.stderr == (
        "Error: tests on model stock_extra have not run since its last build: not_null_stock_extra_product_id; "
        "run `stockx test --select stock_extra`\n"
    )
    assert stockx("test", "-s", "stock_extra").exit_code == 0
    assert stockx("export", "--out", out).exit_code == 0


@pytest.mark.parametrize("args, toml, meta, message", [
    (["--timeout", "inf"], "", None, "the command line: export setting 'timeout' must be a number above 0 and at most 3,600, got inf"),
    (["--timeout", "nan"], "", None, "the command line: export setting 'timeout' must be a number above 0 and at most 3,600, got nan"),
    (["--retry-seconds", "-5"], "", None, "the command line: export setting 'retry_seconds' must be a number above 0 and at most 86,400, got -5.0"),
    (["--in-flight", "100000"], "", None, "the command line: export setting 'in_flight' must be a whole number from 1 to 64, got 100000"),
    ([], "timeout = inf\n", None, "[tool.stockx.export] in pyproject.toml: export setting 'timeout' must be a number above 0 and at most 3,600, got inf"),
    ([], "requests_per_second = nan\n", None, "[tool.stockx.export] in pyproject.toml: export setting 'requests_per_second' must be a number from 0.01 to 100,000, got nan"),
    ([], "", {"peak": {"page_bytes": 10**12}}, "meta.peak of model stock_extra: export setting 'page_bytes' must be a whole number from 1,000 to 100,000,000, got 1000000000000"),
    ([], "", {"peak": {"backoff_cap": float("inf")}}, "meta.peak of model stock_extra: export setting 'backoff_cap' must be a number above 0 and at most 3,600, got inf"),
])
def test_numbers_out_of_range_stop_with_the_option_and_its_range(project, args, toml, meta, message):
    if toml:
        with (project / "pyproject.toml").open("a") as file:
            file.write(toml)
    if meta:
        write_build(project, model_status="success", test_status="pass", meta=meta)
    result = invoke("--out", "payloads", *args)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message}\n"
    assert not (project / "payloads").exists()


def test_out_into_a_folder_that_cannot_be_made_is_an_error_naming_it(project):
    """Review finding 10: an unwritable --out was an internal error (exit 3) with a traceback's words."""
    (project / "a-file").write_text("not a folder\n")
    result = invoke("--out", "a-file/payloads")
    assert (result.exit_code, result.stderr) == (2, (
        "Error: cannot create the directory a-file/payloads: Not a directory; check the directory and its "
        "permissions, or choose another --out directory\n"))


def test_out_failing_midway_removes_its_pages_and_the_next_export_works(project):
    """Review finding 10: a full disk left pages and no manifest, and the next export refused
    those pages as foreign. The file size limit (RLIMIT_FSIZE) fails the writes as a full
    disk would, in a real process."""
    import resource
    import subprocess
    import sys

    assert invoke("--out", "measured", "--page-rows", "5").exit_code == 0
    measured = project / "measured"
    largest_page = max(path.stat().st_size for path in measured.glob("page-*.json"))
    assert (measured / "manifest.json").stat().st_size > largest_page + 1  # the manifest is what fails

    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (largest_page + 1, largest_page + 1))

    failed = subprocess.run([sys.executable, "-m", "stockx_export.cli", "export", "--out", "payloads", "--page-rows", "5"],
                            cwd=project, capture_output=True, text=True, preexec_fn=limited,
                            env={**os.environ, "PEAK_BASE_URL": ""})
    assert failed.returncode == 2, failed.stderr
    assert failed.stderr == (
        f"Error: cannot write payloads/.manifest.json.partial: File too large; check the directory and its "
        "permissions, or choose another --out directory; nothing was exported, and the pages written before the "
        "failure were removed\n")
    assert sorted(path.name for path in (project / "payloads").iterdir()) == []
    again = invoke("--out", "payloads", "--page-rows", "5")
    assert again.exit_code == 0, again.output
    assert sorted(path.name for path in (project / "payloads").iterdir()) == sorted(
        path.name for path in measured.iterdir())


def test_out_after_an_export_killed_midway_removes_the_pages_it_left(project):
    assert invoke("--out", "payloads").exit_code == 0
    out = project / "payloads"
    # What a kill between the pages and the manifest leaves: the marker, pages, no manifest.
    (out / "manifest.json").unlink()
    (out / ".stockx-export-in-progress").write_text("")
    (out / "page-000999.json").write_text("{}")
    result = invoke("--out", "payloads")
    assert result.exit_code == 0, result.output
    assert not (out / "page-000999.json").exists() and not (out / ".stockx-export-in-progress").exists()
    listed = [entry["file"] for entry in json.loads((out / "manifest.json").read_text())["pages"]]
    assert sorted(path.name for path in out.glob("page-*.json")) == listed


def test_out_stopped_by_anything_else_leaves_no_half_export(tmp_path):
    from stockx_export.export import files
    from stockx_export.export.contract import STOCK_EXTRA
    from stockx_export.export.pages import Envelope, pack_pages

    con = duckdb.connect()
    create_stock_extra(con, 30)
    rows = [json.dumps(row) for row in table_rows(con)]
    con.close()

    def pages_then_ctrl_c():
        yield from list(pack_pages([rows], Envelope("QP_OOTB", "UPSERT"), 10, 1_000_000))[:2]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        files.write_pages(pages_then_ctrl_c(), tmp_path / "out", STOCK_EXTRA, "stock_extra", {})
    assert list((tmp_path / "out").iterdir()) == []
