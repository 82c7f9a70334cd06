"""The token never leaves: a loopback Peak echoes it back in every encoding a
server may use, and no output of stockx shows it, in any encoding either.

Outputs checked: stdout and stderr of the push, rejected.jsonl, every text
column of every table of the sync state, every other file the push wrote, and
``stockx runs`` / ``stockx rejected`` in each format. The oracle that looks for
the token decodes on its own (urllib, html, a regex for backslash escapes),
sharing no code with stockx's scrubber.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote, unquote_plus

import duckdb
import pytest
from peak_server import Flood, PeakServer, Reply
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


# Review finding 4: echoes that no decoding of characters brings back. The oracle looks
# for each form on its own terms (sharing no code with the scrubber).
BASE64 = base64.b64encode(TOKEN.encode()).decode()
HEX = TOKEN.encode().hex()
HALVES = TOKEN[:7], TOKEN[7:]


def shows_token_in_any_form(text: str) -> bool:
    flat = text.replace("\x00", "")
    folded = flat.lower()
    unescaped = _unescape_backslashes(flat)
    return (shows_token(flat) or BASE64 in flat or HEX in folded or TOKEN.lower() in _unescape_backslashes(folded)
            or TOKEN[::-1] in unescaped or all(half in unescaped for half in HALVES))


def test_the_token_in_base64_hex_another_case_reversed_cut_apart_or_utf16_leaves_no_trace(project, server):
    echoes = {
        "base64": f'{{"message": "request had Authorization: Basic {BASE64}"}}',
        "hex": f'{{"message": "bad token {HEX}"}}',
        "upper case": json.dumps({"message": f"bad token {TOKEN.upper()}"}),
        "reversed": json.dumps({"message": f"bad token {TOKEN[::-1]}"}),
        "two fields": json.dumps({"a": HALVES[0], "b": HALVES[1]}),
    }
    utf16 = json.dumps({"message": f"bad token {TOKEN}"}).encode("utf-16-le")  # no BOM, no charset
    server.script(*(Reply(422, headers={"X-Echo": TOKEN}, body=body) for body in echoes.values()),
                  Flood(422, headers={"Content-Type": "application/json"}, body=utf16, endless=False))
    pushed = invoke(project, "export", "--push", "--in-flight", "1", env=env(server))
    assert pushed.exit_code == 1, pushed.output
    assert f"{len(echoes) + 1} rows rejected" in pushed.stdout
    responses = [json.loads(line)["response"]
                 for line in (project / "target" / "export" / "rejected.jsonl").read_text().splitlines()]
    # base64 keeps its last characters, which also depend on the bytes after the token's
    assert responses[0]["message"].startswith("request had Authorization: Basic ***")
    assert responses[1:3] == [{"message": "bad token ***"}, {"message": "bad token ***"}]
    assert responses[4:] == [{"a": "***", "b": "***"}, {"message": "bad token ***"}]

    # Aborted pushes quote the answer on stderr and keep it as the run's message (`stockx runs`).
    outputs = {"push stdout": pushed.stdout, "push stderr": pushed.stderr}
    for name, body in (("hex", f"no route for {HEX}"), ("base64", f"no route for Basic {BASE64}")):
        server.script(Reply(404, body=body))
        aborted = invoke(project, "export", "--push", "--in-flight", "1", "--full", env=env(server))
        assert aborted.exit_code == 2 and "(page 1): 'no route for " in aborted.stderr
        outputs.update({f"{name} stdout": aborted.stdout, f"{name} stderr": aborted.stderr})
    server.script(Flood(404, headers={"Content-Type": "text/plain"}, body=f"no route for {TOKEN}".encode("utf-16"),
                        endless=False))
    aborted = invoke(project, "export", "--push", "--in-flight", "1", "--full", env=env(server))
    assert aborted.exit_code == 2 and "'no route for ***'" in aborted.stderr
    outputs.update({"utf-16 stdout": aborted.stdout, "utf-16 stderr": aborted.stderr})

    outputs.update(written_files(project))
    outputs.update({f"state value {i}": text for i, text in enumerate(state_texts(project))})
    for args in (("runs",), ("rejected",), ("rejected", "--format", "jsonl")):
        for with_token in (False, True):
            shown = invoke(project, *args, env=env(server) if with_token else None)
            assert shown.exit_code == 0, shown.output
            outputs[f"{' '.join(args)} (token set: {with_token})"] = shown.output
    assert "no route for ***" in outputs["runs (token set: False)"]
    leaks = [name for name, text in outputs.items() if shows_token_in_any_form(text)]
    assert leaks == []
