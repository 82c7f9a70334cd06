"""A bug in stockx, seen from the command line: one line, exit code 3, no traceback
unless asked for, and never a secret. Bugs are injected by making a library
function raise, then the real command runs through the real CLI group."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest
from click.testing import CliRunner
from sync_support import TOKEN, make_project

from stockx_export.cli import cli

REPORT = "(a bug in stockx; please report it with the output of the same command run with --debug)"


def boom(*args, **kwargs):
    raise RuntimeError("boom")


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = make_project(tmp_path / "proj", 30)
    (root / "models").mkdir()
    (root / "models" / "one.sql").write_text("select 1 as x\n")
    monkeypatch.chdir(root)
    return root


def stockx(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env or {}, catch_exceptions=False)


# command line -> the library function that breaks (each is imported where it is called)
BUGS = {
    "build": (("build", "-s", "one"), "stockx_export.adapters.duckdb.DuckDBAdapter.relations"),
    "ls": (("ls",), "stockx_export.run.selection.list_nodes"),
    "export --out": (("export", "--out", "payloads"), "stockx_export.export.files.page_file_name"),
    "export --plan": (("export", "--plan"), "stockx_export.sync.push.compute_plan"),
    "runs": (("runs",), "stockx_export.sync.report.runs_text"),
}


@pytest.mark.parametrize("name", sorted(BUGS))
def test_a_bug_is_one_line_and_exit_code_3(project, monkeypatch, name):
    args, target = BUGS[name]
    if name == "runs":
        assert stockx("export", "--plan").exit_code == 0  # a state to read
    monkeypatch.setattr(target, boom)
    result = stockx(*args)
    assert result.exit_code == 3
    assert result.stderr == f"Internal error: RuntimeError: boom {REPORT}\n"
    assert "Traceback" not in result.output


@pytest.mark.parametrize("how", ["option", "environment"])
def test_debug_shows_the_traceback(project, monkeypatch, how):
    monkeypatch.setattr("stockx_export.export.files.page_file_name", boom)
    if how == "option":
        result = stockx("--debug", "export", "--out", "payloads")
    else:
        result = stockx("export", "--out", "payloads", env={"STOCKX_DEBUG": "1"})
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert any(line.strip() == 'raise RuntimeError("boom")' for line in lines)
    assert lines[-2:] == ["RuntimeError: boom", f"Internal error: RuntimeError: boom {REPORT}"]


def test_debug_off_in_the_environment_shows_no_traceback(project, monkeypatch):
    monkeypatch.setattr("stockx_export.export.files.page_file_name", boom)
    result = stockx("export", "--out", "payloads", env={"STOCKX_DEBUG": "0"})
    assert (result.exit_code, result.stderr) == (3, f"Internal error: RuntimeError: boom {REPORT}\n")


def test_a_multi_line_message_stays_one_line(project, monkeypatch):
    def bug(*args, **kwargs):
        raise KeyError("first\nsecond\x1b[31m")

    monkeypatch.setattr("stockx_export.export.files.page_file_name", bug)
    result = stockx("export", "--out", "payloads")
    assert result.exit_code == 3
    assert result.stderr == f"Internal error: KeyError: 'first\\nsecond\\x1b[31m' {REPORT}\n"


def test_secrets_never_appear_in_the_message_or_the_traceback(project, monkeypatch):
    password = "pg-pass/w0rd+7"
    basic = base64.b64encode(f"user:{TOKEN}".encode()).decode()
    forms = [TOKEN, json.dumps({"t": TOKEN}), f"Authorization: Basic {basic}", urllib.parse.quote(password, safe=""),
             TOKEN.encode().hex(), repr(password.encode())]

    def leaky(*args, **kwargs):
        raise ValueError(" | ".join(forms))

    monkeypatch.setattr("stockx_export.export.files.page_file_name", leaky)
    env = {"PEAK_AUTH_TOKEN": TOKEN, "PGPASSWORD": password}
    for debug in ((), ("--debug",)):
        result = stockx(*debug, "export", "--out", "payloads", env=env)
        assert result.exit_code == 3
        assert result.stderr.splitlines()[-1] == (
            "Internal error: ValueError: *** | {\"t\": \"***\"} | Authorization: Basic dXNlcjp***Q== | *** | *** | "
            f"b'***' {REPORT}"
        )
        for secret in (TOKEN, password, basic[8:], TOKEN.encode().hex(), urllib.parse.quote(password, safe="")):
            assert secret not in result.output


def test_json_log_format_gets_the_internal_error_as_an_event(project, monkeypatch):
    monkeypatch.setattr("stockx_export.adapters.duckdb.DuckDBAdapter.relations", boom)
    result = stockx("build", "-s", "one", "--log-format", "json")
    assert result.exit_code == 3
    event = json.loads(result.stderr.splitlines()[-1])
    assert {k: event[k] for k in ("level", "event", "message", "exit_code")} == {
        "level": "error", "event": "internal_error", "message": "RuntimeError: boom", "exit_code": 3}


def test_a_stockx_error_is_still_exit_code_2(project):
    result = stockx("export", "--out", "payloads", "--push")
    assert (result.exit_code, result.stderr) == (2, "Error: choose one of --out DIR, --push or --validate-only\n")


def test_ctrl_c_keeps_clicks_abort(project, monkeypatch):
    """Ctrl-C is not a bug: outside a push (which records it and exits 2) click's
    own "Aborted!" and exit code 1 stay, as before."""

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("stockx_export.export.files.page_file_name", interrupted)
    result = stockx("export", "--out", "payloads")
    assert (result.exit_code, result.stderr) == (1, "\nAborted!\n")


def test_help_names_debug_and_the_exit_codes():
    result = stockx("--help")
    assert result.exit_code == 0
    assert "--debug" in result.output
    assert "3 an internal error" in " ".join(result.output.split())


def test_which_variables_hold_secrets():
    from stockx_export.redact import secret_values

    env = {"PEAK_AUTH_TOKEN": "ab", "PGPASSWORD": "hunter22", "DB_PASSWORD": "s3cret-db", "GITHUB_TOKEN": "ghp_x1",
           "AWS_SECRET_ACCESS_KEY": "aws/key", "TOKENIZERS_PARALLELISM": "false", "PWD": "/root", "X_TOKEN": "1",
           "HOME": "/root"}
    assert secret_values(env) == ["s3cret-db", "hunter22", "aws/key", "ghp_x1", "ab"]


def test_json_log_format_gets_a_stockx_error_as_an_event(project):
    """Reported by the CLI group (no command has a handler of its own), in the command's log format."""
    (project / "models" / "one.sql").write_text("select {{ undefined_macro() }} as x\n")
    result = stockx("build", "-s", "one", "--log-format", "json")
    assert result.exit_code == 2
    event = json.loads(result.stderr.splitlines()[-1])
    assert {k: event[k] for k in ("level", "event", "exit_code")} == {"level": "error", "event": "error", "exit_code": 2}
    assert event["message"] == "models/one.sql:1: 'undefined_macro' is undefined" and "Traceback" not in result.output


def test_a_secret_escaped_in_a_message_is_found_through_the_escapes(project, monkeypatch):
    """One redaction module: an internal error's message is scrubbed of the environment's
    secrets in the layered encodings an answer is scrubbed in (HTML, JSON of URL...)."""
    password = "pg&pass<w0rd>"
    html_escaped = password.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    json_of_url = json.dumps(urllib.parse.quote(password, safe=""))[1:-1]

    def leaky(*args, **kwargs):
        raise ValueError(f"{html_escaped} / {json_of_url}")

    monkeypatch.setattr("stockx_export.export.files.page_file_name", leaky)
    result = stockx("export", "--out", "payloads", env={"PGPASSWORD": password})
    assert result.stderr == f"Internal error: ValueError: *** / *** {REPORT}\n"
