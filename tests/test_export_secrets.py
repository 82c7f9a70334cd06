"""The token never leaves: a loopback Peak echoes it back in every encoding a
server may use, and no output of stockx shows it, in any encoding either.

Outputs checked: stdout and stderr of the push, rejected.jsonl, every text
column of every table of the sync state, every other file the push wrote, and
``stockx runs`` / ``stockx rejected`` in each format. The oracle that looks for
the token decodes on its own (urllib, html, a regex for backslash escapes),
sharing no code with stockx's scrubber.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote, unquote_plus

import duckdb
import pytest
from peak_server import PeakServer, Reply
from sync_support import invoke, make_project, state_path

TOKEN = 'pat&<"/+ k=Zq9'  # characters that JSON, URL and HTML encoders all rewrite

ECHOES = {  # how a server may write the Authorization header back
    "raw": TOKEN,
    "json": json.dumps(TOKEN)[1:-1],
    "json, / as \\/": json.dumps(TOKEN)[1:-1].replace("/", "\\/"),
    "json, every character escaped": "".join(f"\\u{ord(c):04x}" for c in TOKEN),
    "json, Go style": TOKEN.replace("&", "\\u0026").replace("<", "\\u003c").replace('"', '\\"'),
    "url": quote(TOKEN, safe=""),
    "url, lower-case, + for space": re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quote_plus(TOKEN)),
    "url of json": quote(json.dumps(TOKEN)[1:-1], safe=""),
    "json of url": json.dumps(quote_plus(TOKEN))[1:-1],
    "url twice": quote(quote(TOKEN, safe=""), safe=""),
    "html": html.escape(TOKEN),
}


def _unescape_backslashes(text: str) -> str:
    return re.sub(r'\\u([0-9a-fA-F]{4})|\\(["\\/])',
                  lambda m: chr(int(m.group(1), 16)) if m.group(1) else m.group(2), text)


def shows_token(text: str) -> bool:
    """Whether ``text`` holds the token, as is or after up to four rounds of decoding."""
    seen, frontier = {text}, [text]
    for _ in range(4):
        following = []
        for current in frontier:
            for decoded in (unquote(current), unquote_plus(current), html.unescape(current),
                            _unescape_backslashes(current)):
                if decoded not in seen:
                    seen.add(decoded)
                    following.append(decoded)
        frontier = following
    return any(TOKEN in current for current in seen)


def test_the_oracle_sees_every_echo():
    for name, echo in ECHOES.items():
        assert shows_token(f'{{"message": "you sent {echo}"}}'), name
    assert not shows_token('{"message": "you sent ***"}')


def state_texts(root: Path) -> list[str]:
    """Every value of every text column of every table in the sync state."""
    con = duckdb.connect(str(state_path(root)), read_only=True)
    try:
        columns = con.execute("SELECT table_name, column_name FROM duckdb_columns() "
                              "WHERE NOT internal AND data_type = 'VARCHAR' ORDER BY ALL").fetchall()
        assert {table for table, _ in columns} >= {"acknowledged", "rejected", "runs", "destinations", "meta"}
        return [value for table, column in columns
                for (value,) in con.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL').fetchall()]
    finally:
        con.close()


def written_files(root: Path) -> dict[str, str]:
    """Every file under the project except the DuckDB files (read as text)."""
    return {str(path.relative_to(root)): path.read_text(encoding="utf-8", errors="replace")
            for path in sorted(root.rglob("*")) if path.is_file() and ".duckdb" not in path.name}


def assert_nowhere(outputs: dict[str, str]) -> None:
    leaks = [name for name, text in outputs.items() if shows_token(text)]
    assert leaks == [], f"the token shows in: {leaks}"


@pytest.fixture
def server():
    with PeakServer(token=TOKEN) as peak:
        yield peak


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = make_project(tmp_path / "proj", 30, page_rows=1)
    monkeypatch.chdir(root)
    return root


def env(server):
    return {"PEAK_AUTH_TOKEN": TOKEN, "PEAK_BASE_URL": server.base_url}


def test_echoed_tokens_leave_no_trace_in_any_output(project, server):
    # One page per row: each echo rejects one row, with the echo as Peak's answer.
    server.script(*(Reply(422, body=f'{{"errorCode": "DI_E_10422", "message": "bad row", "auth": "{echo}"}}')
                    for echo in ECHOES.values()))
    pushed = invoke(project, "export", "--push", "--in-flight", "1", env=env(server))
    assert pushed.exit_code == 1, pushed.output
    assert f"{len(ECHOES)} rows rejected (all listed in target/export/rejected.jsonl)" in pushed.stdout
    rejected = (project / "target" / "export" / "rejected.jsonl").read_text(encoding="utf-8")
    assert [json.loads(line)["response"]["auth"] for line in rejected.splitlines()] == ["***"] * len(ECHOES)

    # A later push aborted by an answer quoting the token: stderr, and the run's message.
    server.script(Reply(404, body=f"no route for Authorization: {ECHOES['url, lower-case, + for space']}"))
    aborted = invoke(project, "export", "--push", "--in-flight", "1", "--full", env=env(server))
    assert aborted.exit_code == 2
    assert aborted.stderr.endswith("(page 1): 'no route for Authorization: ***'; check base_url and path in "
                                   "the export settings\n")

    outputs = {"push stdout": pushed.stdout, "push stderr": pushed.stderr,
               "aborted stdout": aborted.stdout, "aborted stderr": aborted.stderr}
    outputs.update(written_files(project))
    outputs.update({f"state value {i}": text for i, text in enumerate(state_texts(project))})
    for args in (("runs",), ("rejected",), ("rejected", "--format", "jsonl")):
        # Without the token in the environment: the state itself must be clean.
        shown = invoke(project, *args)
        assert shown.exit_code == 0, shown.output
        outputs[" ".join(args)] = shown.output
    assert "'auth': '***'" in outputs["rejected"] or '"auth": "***"' in outputs["rejected"]
    assert_nowhere(outputs)


def test_a_2xx_proxy_page_echoing_the_token_is_not_shown(project, server):
    echoes = ECHOES["html"], ECHOES["json, every character escaped"]
    server.script(Reply(200, body="<html><p>Welcome %s (%s)</p>" % echoes))
    result = invoke(project, "export", "--push", "--in-flight", "1", env=env(server))
    assert result.exit_code == 2
    assert "is not a JSON answer: '<html><p>Welcome *** (***)</p>'" in result.stderr
    assert_nowhere({"stdout": result.stdout, "stderr": result.stderr, **written_files(project),
                    **{f"state {i}": t for i, t in enumerate(state_texts(project))}})


def test_validate_only_output_and_rejected_file_hold_no_token(project, server):
    server.script(Reply(422, body=f'{{"auth": "{ECHOES["json, Go style"]}", "q": "{ECHOES["url of json"]}"}}'))
    result = invoke(project, "export", "--validate-only", "--in-flight", "1", env=env(server))
    assert result.exit_code == 1, result.output
    line = (project / "target" / "export" / "rejected.jsonl").read_text(encoding="utf-8")
    assert json.loads(line)["response"] == {"auth": "***", "q": "***"}
    assert_nowhere({"stdout": result.stdout, "stderr": result.stderr, **written_files(project)})
