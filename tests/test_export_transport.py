"""What a base URL may be: no credentials in it, and plain http only to this
machine unless the user says otherwise; refused before anything is sent."""

from __future__ import annotations

import json

import duckdb
import httpx
import pytest
from peak_server import create_stock_extra
from sync_support import invoke, make_project

from stockx_export.errors import ExportError
from stockx_export.export.contract import STOCK_EXTRA
from stockx_export.export.deliver import Delivery, deliver
from stockx_export.export.pages import pack_pages
from stockx_export.export.run import ExportJob
from stockx_export.export.serialize import iter_row_batches
from stockx_export.export.settings import resolve_settings
from stockx_export.export.urls import is_loopback

TOKEN = "pat-transport-91c0"
INSECURE = (
    "Error: base_url http://peak.invalid:8080 is plain http: the access token would cross the network "
    "unencrypted. Use https://, or, on a network you trust, pass --allow-insecure-http "
    "(or set allow_insecure_http = true under [tool.stockx.export])\n"
)
CREDENTIALS = (
    "base_url holds a user name or password (the part before '@'); a URL is printed and stored, so it must "
    "not carry secrets: remove it, and put the access token in PEAK_AUTH_TOKEN"
)


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = make_project(tmp_path / "proj", 20, page_rows=10)
    monkeypatch.chdir(root)
    return root


@pytest.mark.parametrize("mode", [["--push"], ["--validate-only"]])
def test_plain_http_to_another_machine_is_refused_before_anything(project, mode):
    # --max-attempts 1: were the request attempted, the run would end at once, not retry for minutes.
    result = invoke(project, "export", *mode, "--max-attempts", "1",
                    env={"PEAK_AUTH_TOKEN": TOKEN, "PEAK_BASE_URL": "http://peak.invalid:8080"})
    assert result.exit_code == 2
    assert result.stderr == INSECURE
    assert not (project / ".stockx").exists() and not (project / "target" / "export").exists()


def test_the_flag_and_the_setting_allow_plain_http(project):
    shown = invoke(project, "export", "--out", "a", "--base-url", "http://peak.invalid", "--allow-insecure-http")
    assert shown.exit_code == 0, shown.output
    assert json.loads((project / "a" / "manifest.json").read_text())["settings"]["allow_insecure_http"] is True
    with (project / "pyproject.toml").open("a") as toml:
        toml.write("allow_insecure_http = true\n")
    assert resolve_settings(project={"allow_insecure_http": True}).allow_insecure_http is True
    shown = invoke(project, "export", "--out", "b")
    assert json.loads((project / "b" / "manifest.json").read_text())["settings"]["allow_insecure_http"] is True
    with pytest.raises(ExportError) as caught:
        resolve_settings(project={"allow_insecure_http": "yes"})
    assert str(caught.value) == (
        "[tool.stockx.export] in pyproject.toml: export setting 'allow_insecure_http' must be true or false, got 'yes'")


@pytest.mark.parametrize("url, loopback", [
    ("http://127.0.0.1:8080", True), ("http://127.45.0.3", True), ("http://[::1]:9000/x", True),
    ("http://localhost:1", True), ("http://LOCALHOST.", True), ("http://10.0.0.1", False),
    ("http://0.0.0.0:80", False), ("http://localhost.example.com", False), ("http://[::2]", False),
])
def test_loopback_hosts(url, loopback):
    assert is_loopback(url) is loopback


def job_for(con, **overrides):
    settings = resolve_settings(overrides={"page_rows": 5, **overrides})
    job = ExportJob("stock_extra", "main.stock_extra", STOCK_EXTRA, settings)
    pages = pack_pages(iter_row_batches(con, job.relation, STOCK_EXTRA, settings.strftime), job.envelope,
                       settings.page_rows, settings.page_bytes)
    return job, pages


def test_the_library_refuses_too_and_sends_when_allowed():
    con = duckdb.connect()
    create_stock_extra(con, 12)
    requests = []

    def answer(request):
        requests.append(request)
        return httpx.Response(200, json={"status": "accepted"})

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        job, pages = job_for(con, base_url="http://peak.invalid")
        with pytest.raises(ExportError) as caught:
            deliver(pages, client, Delivery(job.settings, STOCK_EXTRA, job.envelope, TOKEN))
        assert str(caught.value).startswith("base_url http://peak.invalid is plain http")
        assert requests == []
        job, pages = job_for(con, base_url="http://peak.invalid", allow_insecure_http=True)
        summary = deliver(pages, client, Delivery(job.settings, STOCK_EXTRA, job.envelope, TOKEN))
    assert summary.acknowledged == 12 and len(requests) == 3
    con.close()


@pytest.mark.parametrize("source, layer, value", [
    ("[tool.stockx.export] in pyproject.toml", "project", "https://peak-user:s3cr3t@ingestion.peak.ai"),
    ("the command line", "overrides", "https://:s3cr3t@ingestion.peak.ai/"),
    ("PEAK_BASE_URL", "env", "s3cr3t@ingestion.peak.ai"),
    ("PEAK_BASE_URL", "env", "peak:s3cr3t@ingestion.peak.ai/api"),
])
def test_credentials_in_the_url_are_refused_and_never_echoed(source, layer, value):
    kwargs = {"env": {"PEAK_BASE_URL": value}} if layer == "env" else {layer: {"base_url": value}}
    with pytest.raises(ExportError) as caught:
        resolve_settings(**kwargs)
    assert str(caught.value) == f"{source}: {CREDENTIALS}"


def test_credentials_stop_every_mode_before_anything_is_written(project):
    for args in (["--out", "payloads"], ["--plan"], ["--push"]):
        result = invoke(project, "export", *args, "--base-url", "https://peak:s3cr3t@ingestion.peak.ai",
                        env={"PEAK_AUTH_TOKEN": TOKEN})
        assert result.exit_code == 2
        assert result.stderr == f"Error: the command line: {CREDENTIALS}\n"
        assert "s3cr3t" not in result.output
    assert not (project / "payloads").exists() and not (project / ".stockx").exists()


QUERY = (
    "base_url holds a query or a fragment (the part from '?' or '#'); a base URL is scheme://host[:port][/path] "
    "and nothing more, and it is printed and stored, so it must not carry secrets such as an API key: remove it, "
    "and put the access token in PEAK_AUTH_TOKEN"
)


@pytest.mark.parametrize("value", [
    "https://ingestion.peak.ai/?api_key=hunter2", "https://ingestion.peak.ai?api_key=hunter2",
    "https://ingestion.peak.ai/#hunter2", "ftp://ingestion.peak.ai/?api_key=hunter2",
])
def test_a_query_or_fragment_in_the_base_url_is_refused_and_never_echoed(project, value):
    """Review finding 5: the key in the query went into the manifest, every plan and push
    line, the state and `stockx runs`, and the ingest path was appended after the query."""
    for args in (["--out", "payloads"], ["--plan"], ["--push"]):
        result = invoke(project, "export", *args, env={"PEAK_AUTH_TOKEN": TOKEN, "PEAK_BASE_URL": value})
        assert result.exit_code == 2
        assert result.stderr == f"Error: PEAK_BASE_URL: {QUERY}\n"
    assert not (project / "payloads").exists() and not (project / ".stockx").exists()


def test_a_query_in_the_path_template_is_refused():
    with pytest.raises(ExportError) as caught:
        resolve_settings(project={"path": "/api/v2/ingest/object/{object}?api_key=hunter2"})
    assert str(caught.value) == (
        "[tool.stockx.export] in pyproject.toml: path template holds a query or a fragment (the part from '?' or "
        "'#'); it must be a path only, e.g. /api/v2/ingest/object/{prefix}{object}{suffix}")


def test_a_path_must_not_run_into_the_host():
    with pytest.raises(ExportError) as caught:
        resolve_settings(project={"base_url": "https://ingestion.peak.ai", "path": "@evil.example/{object}"})
    assert str(caught.value) == (
        "[tool.stockx.export] in pyproject.toml: path '@evil.example/{object}' must be 'ingest/object' or 'objects' "
        "or a template starting with '/'")


@pytest.mark.parametrize("spelling", [
    "https://ingestion.peak.ai/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB",
    "HTTPS://Ingestion.PEAK.ai/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB",
    "https://ingestion.peak.ai:443/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB",
    "https://ingestion.peak.ai/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB/",
    "https://ingestion.peak.ai/api/v2/./ingest/x/../object/QP_STOCK_EXTRA_OOTB",
    "https://ingestion.peak.ai/api/v2/ingest/object/QP%5fSTOCK%5FEXTRA_OOTB",
    "https://ingestion.peak.ai/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB#part",
])
def test_spellings_of_one_endpoint_normalise_to_one(spelling):
    from stockx_export.export.urls import normalize_url

    assert normalize_url(spelling) == "https://ingestion.peak.ai/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB"


@pytest.mark.parametrize("url, normal", [
    ("http://127.0.0.1:80/x", "http://127.0.0.1/x"),
    ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
    ("https://h:80/x", "https://h:80/x"),
    ("http://[::0001]:8080/a%2fb", "http://[::1]:8080/a%2Fb"),
    ("https://h/a%20b?q=%7e", "https://h/a%20b?q=~"),
    ("https://h/", "https://h"),
])
def test_normalisation_keeps_what_makes_endpoints_differ(url, normal):
    from stockx_export.export.urls import normalize_url

    assert normalize_url(url) == normal
