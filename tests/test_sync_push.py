"""``stockx export --push`` with its sync state, as a user runs it, against a loopback Peak.

After every scenario the server holds exactly the table's rows (minus the rows
it refused), and the state says exactly what was acknowledged."""

from __future__ import annotations

import json
import os

import pytest
from peak_server import di_error, Reply
from sync_support import (TOKEN, RecordingPeak, acknowledged_keys, change_table, expected_rows, invoke,
                          make_project, push_env, state_path, state_query)

from stockx_export.export.contract import STOCK_EXTRA
from stockx_export.export.serialize import row_json_sql
from stockx_export.sync.lock import PushLock
from stockx_export.sync.plan import key_text_sql
from stockx_export.sync.state import Destination

ROWS = 600
PAGE = 50
KEYS = ("product_id", "location_id", "product_variant", "stock_date_at")
ISO = "%Y-%m-%dT%H:%M:%SZ"


@pytest.fixture
def server():
    with RecordingPeak() as peak:
        yield peak


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = make_project(tmp_path / "proj", ROWS, page_rows=PAGE)
    monkeypatch.chdir(root)
    return root


def key_of(row):
    return tuple(row[k] for k in KEYS)


def push(root, server, *args):
    return invoke(root, "export", "--push", *args, env=push_env(server))


def test_first_push_sends_everything_then_nothing(project, server):
    first = push(project, server)
    assert first.exit_code == 0, first.output
    assert server.held_rows() == expected_rows(project)
    assert first.stdout.splitlines()[1] == (
        f"sync run 1 (changes): {ROWS} of {ROWS} rows sent ({ROWS} new, 0 changed, 0 rejected before); "
        "0 unchanged, 0 gone; state .stockx/state.duckdb"
    )
    requests = len(server.log)
    assert requests == ROWS // PAGE

    second = push(project, server)
    assert second.exit_code == 0, second.output
    assert len(server.log) == requests  # not one request
    assert second.stdout.splitlines()[1] == (
        f"sync run 2 (changes): 0 of {ROWS} rows sent (0 new, 0 changed, 0 rejected before); "
        f"{ROWS} unchanged, 0 gone; state .stockx/state.duckdb"
    )
    assert acknowledged_keys(project) == {key_of(r) for r in expected_rows(project)}


def test_only_new_and_changed_rows_are_sent_and_gone_keys_are_reported(project, server):
    assert push(project, server).exit_code == 0
    before = {key_of(r): r for r in expected_rows(project)}
    change_table(project, """
        UPDATE stock_extra SET stock_units = stock_units + 1 WHERE stock_units % 100 = 1;
        DELETE FROM stock_extra WHERE stock_units % 100 = 3;
        INSERT INTO stock_extra VALUES ('NEW-1', 'LOC-9', 'size:XL', DATE '2025-03-01', NULL, NULL, 5, NULL)""")
    after = {key_of(r): r for r in expected_rows(project)}
    changed = {k for k in after if k in before and after[k] != before[k]}
    gone = sorted(set(before) - set(after))
    new = set(after) - set(before)
    assert changed and gone and new == {("NEW-1", "LOC-9", "size:XL", "2025-03-01")}
    start = len(server.stored)

    plan = invoke(project, "export", "--plan", env=push_env(server))
    assert plan.exit_code == 0, plan.output
    unchanged = len(after) - len(changed) - 1
    width = len(str(unchanged))
    gone_lines = [f"  {json.dumps(list(k), ensure_ascii=False, separators=(',', ':'))}" for k in gone[:10]]
    assert plan.stdout == "\n".join([
        f"plan for stock_extra -> {server.base_url}/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB (solution QP_OOTB):",
        f"  new             {1:>{width}}",
        f"  changed         {len(changed):>{width}}",
        f"  unchanged       {unchanged:>{width}}  (not sent)",
        f"  rejected before {0:>{width}}  (sent again)",
        f"  gone            {len(gone):>{width}}  (acknowledged earlier, no longer in the table; gone-keys keep: "
        "Peak has no delete and keeps their last rows)",
        f"  to send         {len(changed) + 1:>{width}}  of {len(after)} rows (changes)",
        f"gone keys (first {min(10, len(gone))} of {len(gone)}):",
        *gone_lines,
        "volume guard: sizes are judged once 2 daily pushes are on record (0 so far); the first push and the first "
        "days are not stopped",
    ]) + "\n"
    assert len(server.stored) == start  # --plan sends nothing

    result = push(project, server)
    assert result.exit_code == 0, result.output
    assert sorted(server.stored_keys(start)) == sorted(changed | new)
    assert (f"{len(gone)} acknowledged keys are no longer in the table (Peak has no delete; gone-keys keep); "
            "`stockx export --plan` lists them") in result.stdout
    # Peak has no delete: it still holds the gone rows, and every row of the table as it is now.
    assert server.held_rows() == sorted(list(after.values()) + [before[k] for k in gone],
                                        key=lambda r: tuple(str(r[k]).encode() for k in KEYS))


def test_full_sends_every_row_again(project, server):
    assert push(project, server).exit_code == 0
    start = len(server.stored)
    result = push(project, server, "--full")
    assert result.exit_code == 0, result.output
    assert len(server.stored_keys(start)) == ROWS
    assert result.stdout.splitlines()[1].startswith(f"sync run 2 (full): {ROWS} of {ROWS} rows sent (0 new, ")


def test_rejected_rows_are_kept_listed_and_retried(project, server):
    rows = expected_rows(project)
    bad = [rows[60], rows[400]]
    server.reject_keys = {key_of(r) for r in bad}
    result = push(project, server)
    assert result.exit_code == 1
    assert result.stderr.endswith("Error: Peak rejected 2 rows; see target/export/rejected.jsonl\n")
    assert server.held_rows() == [r for r in rows if r not in bad]

    listed = invoke(project, "rejected")
    assert listed.exit_code == 0
    lines = listed.stdout.splitlines()
    assert lines[0] == f"run 1 -> {server.base_url}/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB:"
    body = di_error("DI_E_10422", f"product_id {bad[0]['product_id']!r} does not exist in PRODUCT")
    first_key = json.dumps([bad[0][k] for k in KEYS], ensure_ascii=False, separators=(",", ":"))
    assert lines[1] == f"  {first_key}  HTTP 422  {body}"
    assert json.loads(lines[2].removeprefix("    row ")) == bad[0]
    assert len(lines) == 5
    as_json = [json.loads(line) for line in invoke(project, "rejected", "--format", "jsonl").stdout.splitlines()]
    assert [(r["run_id"], r["status"], r["row"], r["response"]["errorCode"]) for r in as_json] == [
        (1, 422, bad[0], "DI_E_10422"), (1, 422, bad[1], "DI_E_10422")]

    # Peak now knows the products: the next push sends exactly the two rows again.
    server.reject_keys = set()
    start = len(server.stored)
    again = push(project, server)
    assert again.exit_code == 0, again.output
    assert sorted(server.stored_keys(start)) == sorted(key_of(r) for r in bad)
    assert server.held_rows() == rows
    assert invoke(project, "rejected").stdout == "no rejected rows\n"


def test_rows_in_a_failed_array_are_not_acknowledged(project, server):
    rows = expected_rows(project)
    failed = {key_of(rows[10]), key_of(rows[11]), key_of(rows[500])}
    server.fail_keys = set(failed)
    result = push(project, server)
    assert result.exit_code == 1
    assert acknowledged_keys(project) == {key_of(r) for r in rows} - failed
    stored = state_query(project, "SELECT key, status, run_id FROM rejected ORDER BY key")
    assert {tuple(json.loads(k)) for k, _, _ in stored} == failed
    assert {(s, r) for _, s, r in stored} == {(200, 1)}
    server.fail_keys = set()
    start = len(server.stored)
    assert push(project, server).exit_code == 0
    assert sorted(server.stored_keys(start)) == sorted(failed)
    assert server.held_rows() == rows


def test_runs_lists_every_run(project, server):
    assert push(project, server).exit_code == 0
    before = expected_rows(project)
    change_table(project, "UPDATE stock_extra SET stock_units = stock_units + 1 WHERE stock_units % 100 = 1")
    server.reject_keys = {next(key_of(r) for r, old in zip(expected_rows(project), before) if r != old)}
    changed = push(project, server)
    changed_rows = state_query(project, "SELECT rows_planned FROM runs WHERE run_id = 2")[0][0]
    result = invoke(project, "runs")
    assert changed.exit_code == 1 and result.exit_code == 0
    lines = result.stdout.splitlines()
    header = lines[0].split()
    assert header[:3] == ["run", "started", "(UTC)"] and header[-1] == "destination"
    second = lines[1].split()
    url = f"{server.base_url}/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB"
    # run, date, time, seconds, mode, status (3 words), table, planned, sent, acknowledged, rejected, held, pages,
    # retries
    assert second[0] == "2" and second[4:8] == ["changes", "completed", "with", "errors"]
    assert second[8:] == [str(ROWS), str(changed_rows), str(changed_rows), str(changed_rows - 1), "1", "0",
                          str(-(-changed_rows // PAGE)), "0", url]
    first = lines[2].split()
    assert first[0] == "1" and first[4:] == ["changes", "success", str(ROWS), str(ROWS), str(ROWS), str(ROWS), "0",
                                             "0", str(ROWS // PAGE), "0", url]
    assert invoke(project, "runs", "-n", "1").stdout.splitlines()[1:] == [lines[1]]


def test_volume_guard_stops_a_shrunken_table_unless_forced(project, server):
    assert push(project, server).exit_code == 0
    change_table(project, "DELETE FROM stock_extra WHERE product_id < 'PROD-0300'")
    remaining = len(expected_rows(project))
    start = len(server.log)
    result = push(project, server)
    assert result.exit_code == 2
    share = (ROWS - remaining) / ROWS * 100
    message = (f"volume guard: the table shrank from {ROWS} to {remaining} rows ({share:.1f}% fewer) since the last "
               f"sync (run 1), above max-shrink-share 20.0%")
    assert result.stderr == f"Error: {message}; nothing was sent (run 2). Check the build; re-run with --force to send anyway\n"
    assert len(server.log) == start
    assert state_query(project, "SELECT status, message FROM runs WHERE run_id = 2") == [("aborted", message)]
    forced = push(project, server, "--force")
    assert forced.exit_code == 0, forced.output
    assert state_query(project, "SELECT status, table_rows FROM runs WHERE run_id = 3") == [("success", remaining)]


def test_volume_guard_stops_a_push_far_above_the_recent_pushes(project, server):
    # Ten days of stock, 60 keys each (one day of the table: a normal day sends about that much).
    change_table(project, "UPDATE stock_extra SET stock_date_at = stock_date_at + "
                          "CAST(substr(product_id, 6) AS INTEGER) % 10")
    assert push(project, server).exit_code == 0  # the first push loads the whole table: not judged
    for remainder in (1, 2):  # two normal days, a few rows changed each
        change_table(project, f"UPDATE stock_extra SET stock_units = stock_units + 1 WHERE stock_units % 100 = {remainder}")
        assert push(project, server).exit_code == 0
    plan = invoke(project, "export", "--plan", env=push_env(server))
    day = f"one day of the table: {ROWS} rows Peak holds over 10 dates"
    assert plan.stdout.splitlines()[-1] == f"volume guard: sends up to {3 * ROWS // 10} rows (3 x {ROWS // 10}, {day})"
    # A format change that rewrites every row.
    change_table(project, "UPDATE stock_extra SET stock_id = coalesce(stock_id, '') || '-v2'")
    plan = invoke(project, "export", "--plan", env=push_env(server))
    message = (f"{ROWS} rows would be sent (new, changed or zeroed; a key that moved counts once), above "
               f"guard-tolerance 3 x {ROWS // 10}, {day}")
    assert plan.stdout.splitlines()[-1] == f"volume guard: a push would stop: {message}; --force sends anyway"
    start = len(server.log)
    result = push(project, server)
    assert (result.exit_code, result.stderr) == (
        2, f"Error: volume guard: {message}; nothing was sent (run 4). Check the build; re-run with --force to send "
           "anyway\n")
    assert len(server.log) == start
    assert push(project, server, "--force").exit_code == 0
    assert server.held_rows() == expected_rows(project)


def test_a_second_push_to_the_same_destination_stops_at_once(project, server, tmp_path):
    from stockx_export.export.settings import resolve_settings

    settings = resolve_settings(overrides={"base_url": server.base_url})
    destination = Destination.from_settings(settings)
    lock = project / ".stockx" / f"{destination.id}.lock"
    with PushLock(lock, destination.describe(), "2026-01-05 06:00:00"):
        results = [push(project, server), push(project, server, "--state-db", str(tmp_path / "other.duckdb"))]
    for result in results:  # the lock is the project's, whichever state file a push uses
        assert result.exit_code == 2
        assert result.stderr.startswith(
            f"Error: another push to {server.base_url}/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB (solution QP_OOTB) "
            "is running (pid "
        )
        assert result.stderr.endswith(
            "started 2026-01-05 06:00:00 UTC); nothing was sent: wait for it to finish, then run this push again\n")
    assert server.log == []
    assert push(project, server).exit_code == 0  # released


def test_a_plan_while_a_push_runs_says_to_run_the_plan_again(project, server):
    """Review taste T2: a plan was told "nothing was sent ... run this push again"."""
    from stockx_export.export.settings import resolve_settings

    destination = Destination.from_settings(resolve_settings(overrides={"base_url": server.base_url}))
    lock = project / ".stockx" / f"{destination.id}.lock"
    with PushLock(lock, destination.describe(), "2026-01-05 06:00:00"):
        planned = invoke(project, "export", "--plan", env=push_env(server))
    assert (planned.exit_code, planned.stderr) == (2, (
        f"Error: another push to {destination.describe()} is running (pid {os.getpid()}, started 2026-01-05 06:00:00 "
        "UTC); a plan reads the sync state the push holds: wait for it to finish, then run this plan again\n"))
    # And a push refused while a plan holds the lock says so.
    with PushLock(lock, destination.describe(), "2026-01-05 06:00:00", action="plan"):
        pushed = push(project, server)
    assert pushed.stderr.endswith(f"is running (a plan, pid {os.getpid()}, started 2026-01-05 06:00:00 UTC); nothing "
                                  "was sent: wait for it to finish, then run this push again\n")


def test_a_refused_token_closes_the_run_as_failed(project, server):
    server.token = "another-token"
    result = push(project, server)
    assert result.exit_code == 2
    assert TOKEN not in result.output
    [(status, message)] = state_query(project, "SELECT status, message FROM runs")
    assert status == "failed" and message.startswith("Peak refused the access token (HTTP 401)")
    assert TOKEN not in state_path(project).read_bytes().decode("latin-1")


def test_exhausted_retries_fail_the_run_and_the_next_push_sends_the_rest(project, server):
    # Page 3 is answered 503 until the page gives up (max_attempts 2): pages 1-2 are recorded.
    server.script(None, None, Reply(503), Reply(503))
    result = push(project, server, "--max-attempts", "2", "--in-flight", "1")
    assert result.exit_code == 2
    assert "gave up on page 3 after 2 attempts" in result.stderr
    acked = acknowledged_keys(project)
    assert acked == set(server.stored_keys())  # exactly what Peak took, nothing more
    assert state_query(project, "SELECT status FROM runs") == [("failed",)]
    start = len(server.stored)
    assert push(project, server).exit_code == 0
    assert set(server.stored_keys(start)) == {key_of(r) for r in expected_rows(project)} - acked
    assert server.held_rows() == expected_rows(project)


def test_state_db_option_and_help(project, server, tmp_path):
    other = tmp_path / "elsewhere" / "sync.duckdb"
    result = push(project, server, "--state-db", str(other))
    assert result.exit_code == 0, result.output
    assert other.is_file() and not state_path(project).exists()
    assert invoke(project, "runs").stdout == "no sync state yet at .stockx/state.duckdb (`stockx export --push` creates it)\n"
    assert invoke(project, "runs", "--state-db", str(other)).stdout.splitlines()[1].split()[0] == "1"
    no_token = invoke(project, "export", "--plan", "--full", "--base-url", server.base_url)
    assert no_token.exit_code == 0, no_token.output  # planning needs no token
    assert f"  to send         {ROWS}  of {ROWS} rows (full)" in no_token.stdout.splitlines()
    misuse = invoke(project, "export", "--out", "x", "--full")
    assert (misuse.exit_code, misuse.stderr) == (2, "Error: --full, --force, --check-schema and --state-db go with --push or --plan\n")
    for command in ("runs", "rejected"):
        assert invoke(project, command, "--help").exit_code == 0


def test_a_table_that_cannot_be_read_stops_with_exit_2_before_sending(project, server):
    # A view left over a table that is gone: DuckDB fails inside the preflight.
    change_table(project, "ALTER TABLE stock_extra RENAME TO stock_extra_t; "
                          "CREATE VIEW stock_extra AS SELECT * FROM stock_extra_t; DROP TABLE stock_extra_t")
    for args in (["--push"], ["--out", "payloads"]):
        result = invoke(project, "export", *args, env=push_env(server))
        assert (result.exit_code, result.stderr) == (2, (
            "Error: table main.stock_extra cannot be read: Catalog Error: Table with name stock_extra_t does not "
            "exist!; run `stockx build --select +stock_extra` again\n"))
    assert server.log == []


def test_a_day_of_refused_new_rows_is_recorded_not_blamed_on_the_payload(project, server):
    # The only change of the day: a product Peak does not know yet, 60 rows, all refused
    # with 422. The destination took this payload before, so they are row rejections.
    assert push(project, server).exit_code == 0
    change_table(project, """
        INSERT INTO stock_extra SELECT 'AAA-NEW', 'LOC-' || lpad(i::VARCHAR, 3, '0'), 'size:S', DATE '2025-03-01',
                                       NULL, NULL, 1, NULL FROM range(60) AS t(i)""")
    new = {key_of(r) for r in expected_rows(project) if r["product_id"] == "AAA-NEW"}
    server.reject_keys = set(new)
    result = push(project, server, "--in-flight", "1")
    assert result.exit_code == 1, result.output
    assert result.stderr.endswith("Error: Peak rejected 60 rows; see target/export/rejected.jsonl\n")
    assert {tuple(json.loads(k)) for (k,) in state_query(project, "SELECT key FROM rejected")} == new
    assert state_query(project, "SELECT status FROM runs WHERE run_id = 2") == [("completed with errors",)]


def test_a_duckdb_failure_mid_push_is_an_abort_with_the_answered_pages_kept(project, server, monkeypatch):
    import duckdb

    import stockx_export.sync.push as sync_push

    real = sync_push.iter_send_rows

    def disk_full_after_the_first_batch(*args, **kwargs):
        batches = real(*args, batch_rows=100, **{k: v for k, v in kwargs.items() if k != "batch_rows"})
        yield next(batches)
        raise duckdb.IOException("IO Error: could not write to the temporary directory: No space left on device")

    monkeypatch.setattr(sync_push, "iter_send_rows", disk_full_after_the_first_batch)
    result = push(project, server, "--in-flight", "1")
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (2, (
        "Error: DuckDB failed while reading main.stock_extra to send it: IO Error: could not write to the temporary "
        "directory: No space left on device; the pages answered before are recorded (run 1): fix the cause and "
        "push again"))
    assert state_query(project, "SELECT status FROM runs") == [("failed",)]
    assert acknowledged_keys(project) <= set(server.stored_keys())  # nothing marked sent that Peak did not take


def test_pushes_and_plans_leave_no_lock_files(project, server):
    assert push(project, server).exit_code == 0
    assert invoke(project, "export", "--plan", env=push_env(server)).exit_code == 0
    with RecordingPeak() as elsewhere:  # a second destination
        assert push(project, elsewhere).exit_code == 0
    assert sorted(p.name for p in (project / ".stockx").iterdir() if p.suffix == ".lock") == []


def test_a_2xx_that_reports_failure_is_not_recorded_as_acknowledged(project, server):
    server.script(Reply(200, body='{"success": false, "message": "solution QP_OOTB is locked"}'))
    result = push(project, server)
    assert result.exit_code == 0, result.output
    rows = expected_rows(project)
    assert server.held_rows() == rows
    assert acknowledged_keys(project) == {key_of(r) for r in rows}
    assert state_query(project, "SELECT rows_acknowledged, requests FROM runs") == [(ROWS, ROWS // PAGE + 2)]


def spellings(server):
    """Other spellings of ``server``'s ingest endpoint: scheme and host case, the path's
    percent-escapes and dot segments, a trailing slash."""
    host = server.base_url.replace("http://127.0.0.1", "HTTP://127.0.0.1")
    return [
        ("--base-url", f"{host}/"),
        ("--path", "/api/v2/./ingest/object/{prefix}STOCK%5fEXTRA{suffix}/"),
        ("--path", "/api/v2/x/../ingest/object/%51P_{object}%5F%4F%4FTB"),
    ]


def test_every_spelling_of_a_destination_shares_its_state_and_lock(project, server):
    assert push(project, server).exit_code == 0
    for option, value in spellings(server):
        start = len(server.stored)
        result = push(project, server, option, value)
        assert result.exit_code == 0, result.output
        assert server.stored_keys(start) == []  # nothing new for this endpoint
        assert f"0 of {ROWS} rows sent" in result.stdout
    assert state_query(project, "SELECT count(*) FROM destinations") == [(1,)]
    from stockx_export.export.settings import resolve_settings

    destination = Destination.from_settings(resolve_settings(overrides={"base_url": server.base_url}))
    with PushLock(project / ".stockx" / f"{destination.id}.lock", destination.describe(), "2026-01-05 06:00:00"):
        locked = push(project, server, *spellings(server)[0])
    assert locked.exit_code == 2 and "is running (pid " in locked.stderr


def legacy_id(url, solution="QP_OOTB"):
    """A destination id as stockx made it before URLs were normalised."""
    import hashlib

    return hashlib.sha256(json.dumps([url, solution]).encode("utf-8")).hexdigest()[:16]


def relabel(root, old_id, base_url, url):
    """Rewrite the state as an older stockx would have written it for this spelling."""
    import duckdb

    con = duckdb.connect(str(state_path(root)))
    try:
        (current,) = con.execute("SELECT destination FROM destinations").fetchone()
        for table in ("acknowledged", "rejected", "runs"):
            con.execute(f"UPDATE {table} SET destination = ? WHERE destination = ?", [old_id, current])
        con.execute("UPDATE destinations SET destination = ?, base_url = ?, url = ?", [old_id, base_url, url])
    finally:
        con.close()


def test_a_state_keyed_by_an_unnormalised_url_keeps_working(project, server):
    """A state written by an older stockx under two spellings of one endpoint: the
    first push from now on moves both to the normalised destination, keeping each
    key's latest acknowledgement, and sends only what neither acknowledged."""
    import duckdb

    path = "/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB"
    spelled = "/api/v2/ingest/object/{prefix}STOCK%5FEXTRA{suffix}"  # a spelling an older stockx took as is
    assert push(project, server, "--path", spelled).exit_code == 0
    relabel(project, legacy_id(server.base_url + spelled.format(prefix="QP_", suffix="_OOTB")), server.base_url,
            server.base_url + spelled.format(prefix="QP_", suffix="_OOTB"))
    # The other spelling acknowledged the rows of PROD-0001 after they changed (run 99).
    change_table(project, "UPDATE stock_extra SET stock_units = stock_units + 1 WHERE product_id = 'PROD-0001'")
    change_table(project, "UPDATE stock_extra SET stock_units = stock_units + 1 WHERE product_id = 'PROD-0002'")
    other = legacy_id(server.base_url + path + "/")
    state = duckdb.connect(str(state_path(project)))
    state.execute("INSERT INTO destinations SELECT ?, ?, object, solution_name, ?, first_seen_at FROM destinations",
                  [other, server.base_url + "/", server.base_url + path + "/"])
    state.execute("INSERT INTO runs (run_id, destination, status, merged) VALUES (99, ?, 'success', true)", [other])
    state.execute(f"ATTACH '{project / 'target' / 'stockx.duckdb'}' AS p (READ_ONLY)")
    state.execute(
        f"INSERT INTO acknowledged SELECT ?, {key_text_sql(STOCK_EXTRA)}, md5({row_json_sql(STOCK_EXTRA, ISO)}), "
        "now(), 99 FROM p.main.stock_extra WHERE product_id = 'PROD-0001'", [other])
    state.close()
    changed = {key_of(r) for r in expected_rows(project) if r["product_id"] == "PROD-0002"}

    start = len(server.stored)
    result = push(project, server)  # a third spelling: the normalised one
    assert result.exit_code == 0, result.output
    assert set(server.stored_keys(start)) == changed and changed
    assert state_query(project, "SELECT count(*), count(DISTINCT key) FROM acknowledged") == [(ROWS, ROWS)]
    assert state_query(project, "SELECT count(DISTINCT destination) FROM runs") == [(1,)]
    assert state_query(project, "SELECT url FROM destinations") == [(server.base_url + path,)]
    assert acknowledged_keys(project) == {key_of(r) for r in expected_rows(project)}
