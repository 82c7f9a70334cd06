"""Delivery against a real HTTP server on 127.0.0.1 that checks every payload.

After each scenario the rows the server holds are compared with the table
(formatted independently of the exporter), minus the rows it rejected.
"""

from __future__ import annotations

import json
import re
import time
from email.utils import format_datetime
from datetime import datetime, timezone

import duckdb
import httpx
import pytest
from peak_server import (AWKWARD_ROWS, Delay, Drip, FakeClock, Reply, Reset, create_stock_extra, di_error,  # noqa: F401
                         peak_server, table_rows)

from stockx_export.errors import DeliveryAborted
from stockx_export.export.deliver import Listeners
from stockx_export.export.retry import Clock
from stockx_export.export.retry import retry_after as retry_after_seconds
from stockx_export.export.run import ExportJob, preflight, send
from stockx_export.export.settings import resolve_settings

ROWS = 1200


@pytest.fixture
def con():
    connection = duckdb.connect()
    create_stock_extra(connection, ROWS, extra=AWKWARD_ROWS)
    yield connection
    connection.close()


def make_job(server, **overrides):
    settings = resolve_settings(overrides={"base_url": server.base_url, "page_rows": 100,
                                           "requests_per_second": 1000.0, "backoff_base": 0.01, **overrides})
    from stockx_export.export.contract import STOCK_EXTRA

    return ExportJob("stock_extra", "main.stock_extra", STOCK_EXTRA, settings)


class Recorder:
    """Collects what delivery reports, and stands in for sleeping."""

    def __init__(self):
        self.pages = []
        self.retries = []
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)


def run_push(con, server, tmp_path, job=None, token=None, recorder=None, **clock):
    """Push ``job``; ``clock`` holds parts of the delivery's :class:`Clock` (``sleep``: the recorder's by default)."""
    job = job or make_job(server)
    recorder = recorder or Recorder()
    preflight(con, job)
    with httpx.Client() as client:
        clock.setdefault("sleep", recorder.sleep)
        summary = send(con, job, client, token or server.token, tmp_path / "export" / "rejected.jsonl",
                       listeners=Listeners(on_page=recorder.pages.append, on_retry=recorder.retries.append),
                       clock=Clock(**clock))
    return summary, recorder


def test_every_row_arrives_exactly_once_in_key_order(con, peak_server, tmp_path):
    summary, recorder = run_push(con, peak_server, tmp_path)
    assert peak_server.violations == []
    assert peak_server.held_rows() == table_rows(con)
    total = ROWS + len(AWKWARD_ROWS)
    assert (summary.pages, summary.rows, summary.acknowledged, summary.rejected) == (13, total, total, [])
    assert [r.page.number for r in recorder.pages] == list(range(1, 14))
    assert {entry.authorization for entry in peak_server.log} == {peak_server.token}
    assert (tmp_path / "export" / "rejected.jsonl").read_text() == ""


def test_sql_timestamps_and_prefixless_path(con, tmp_path):
    from peak_server import PeakServer

    with PeakServer(path="/api/v2/objects/STOCK_EXTRA", timestamp_format="sql") as server:
        job = make_job(server, prefix="", suffix="", path="/api/v2/objects/{prefix}{object}{suffix}",
                       timestamp_format="sql")
        run_push(con, server, tmp_path, job=job)
        assert server.violations == []
        assert server.held_rows() == table_rows(con, timestamp_format="sql")


def test_dry_run_validates_and_stores_nothing(con, peak_server, tmp_path):
    job = make_job(peak_server)
    job = ExportJob(job.model, job.relation, job.resource, job.settings, dry_run=True)
    summary, _ = run_push(con, peak_server, tmp_path, job=job)
    assert peak_server.violations == []
    assert peak_server.held_rows() == []
    assert all(entry.dry_run for entry in peak_server.log)
    assert summary.acknowledged == ROWS + len(AWKWARD_ROWS)


def test_429_waits_as_retry_after_says_in_seconds_and_as_an_http_date(con, peak_server, tmp_path):
    later = datetime.fromtimestamp(2_000_000_030, tz=timezone.utc)
    peak_server.script(Reply(429, {"Retry-After": "7"}), Reply(429, {"Retry-After": format_datetime(later, usegmt=True)}))
    job = make_job(peak_server, in_flight=1)
    summary, recorder = run_push(con, peak_server, tmp_path, job=job, wall=lambda: 2_000_000_000.0)
    assert [(e.page, e.attempt, e.reason, e.delay) for e in recorder.retries] == [
        (1, 1, "HTTP 429", 7.0),
        (1, 2, "HTTP 429", 30.0),
    ]
    assert 7.0 in recorder.sleeps and 30.0 in recorder.sleeps
    assert summary.retries == 2
    assert peak_server.held_rows() == table_rows(con)


def test_5xx_resets_and_slow_answers_are_retried_with_growing_backoff(con, peak_server, tmp_path):
    # The slow answer takes 1.0s of the clock the client's deadline is measured on: no race.
    clock = peak_server.clock = FakeClock()
    peak_server.sleep = clock.sleep
    peak_server.script(Reply(503), Reply(502), Reset(), Reply(500), Delay(1.0), Reply(504))
    job = make_job(peak_server, in_flight=1, timeout=0.3, backoff_base=1.0, backoff_cap=4.0)
    summary, recorder = run_push(con, peak_server, tmp_path, job=job, random=lambda: 1.0, monotonic=clock)
    reasons = [(e.attempt, e.reason, e.delay) for e in recorder.retries]
    # A reset reads as ReadError or RemoteProtocolError depending on timing.
    assert reasons[2][1] in ("connection error (ReadError)", "connection error (RemoteProtocolError)")
    reasons[2] = (3, "connection error", 4.0)
    assert reasons == [
        (1, "HTTP 503", 1.0),
        (2, "HTTP 502", 2.0),
        (3, "connection error", 4.0),
        (4, "HTTP 500", 4.0),
        (5, "timeout (ReadTimeout)", 4.0),
        (6, "HTTP 504", 4.0),
    ]
    assert summary.retries == 6
    assert peak_server.violations == []
    assert peak_server.held_rows() == table_rows(con)


def test_an_answer_dripped_slower_than_the_timeout_in_total_is_a_timeout(con, peak_server, tmp_path):
    # Each byte arrives well within the read timeout, but the whole answer would not:
    # 0.05s per byte of the clock the client's deadline is measured on (no real waiting).
    clock = peak_server.clock = FakeClock()
    peak_server.sleep = clock.sleep
    peak_server.script(Drip(0.05))
    job = make_job(peak_server, in_flight=1, timeout=0.3)
    summary, recorder = run_push(con, peak_server, tmp_path, job=job, monotonic=clock)
    assert [(e.attempt, e.reason) for e in recorder.retries] == [(1, "timeout (ReadTimeout)")]
    assert peak_server.held_rows() == table_rows(con)


def test_jitter_keeps_backoff_between_half_and_full(con, peak_server, tmp_path):
    peak_server.script(Reply(503), Reply(503))
    job = make_job(peak_server, in_flight=1, backoff_base=2.0)
    _, recorder = run_push(con, peak_server, tmp_path, job=job, random=lambda: 0.0)
    assert [e.delay for e in recorder.retries] == [1.0, 2.0]


def test_exhausted_attempts_abort_naming_the_page(con, peak_server, tmp_path):
    peak_server.script(*[Reply(503)] * 3)
    job = make_job(peak_server, in_flight=1, max_attempts=3)
    with pytest.raises(DeliveryAborted) as caught:
        run_push(con, peak_server, tmp_path, job=job, monotonic=lambda: 100.0)
    assert str(caught.value) == (
        "gave up on page 1 after 3 attempts in 0.0s (last: HTTP 503); "
        "re-run the export later: re-sending acknowledged pages is harmless"
    )


@pytest.mark.parametrize("header, seconds", [("600", "600"), ("99999999999", "99,999,999,999"),
                                             ("Fri, 31 Dec 9999 23:59:59 GMT", None)])
def test_retry_time_budget_aborts_before_a_long_retry_after_and_says_why(con, peak_server, tmp_path, header,
                                                                          seconds):
    """Review finding 17: the abort said only "(last: HTTP 429)", not that Peak asked for a wait too long."""
    peak_server.script(Reply(429, {"Retry-After": header}))
    job = make_job(peak_server, in_flight=1, retry_seconds=60.0)
    with pytest.raises(DeliveryAborted) as caught:
        run_push(con, peak_server, tmp_path, job=job, monotonic=lambda: 100.0)
    message = str(caught.value)
    asked = re.search(r"\(last: HTTP 429, and Peak asked to wait ([0-9,]+)s \(Retry-After\), more than "
                      r"retry_seconds \(60s per page\) allows\)", message)
    assert message.startswith("gave up on page 1 after 1 attempts in 0.0s ") and asked, message
    assert seconds is None or asked.group(1) == seconds


@pytest.mark.parametrize("header", ["nan", "-5", "inf"])
def test_an_unreadable_retry_after_backs_off_as_any_retry(con, peak_server, tmp_path, header):
    peak_server.script(Reply(429, {"Retry-After": header}), Reply(429, {"Retry-After": header}))
    recorder = Recorder()
    run_push(con, peak_server, tmp_path, job=make_job(peak_server, in_flight=1, backoff_base=0.5),
             recorder=recorder, random=lambda: 0.0)
    assert [event.delay for event in recorder.retries] == [0.25, 0.5]  # half of 0.5 x 2^(attempt-1)


def test_401_aborts_at_once_without_showing_the_token(con, peak_server, tmp_path):
    with pytest.raises(DeliveryAborted) as caught:
        run_push(con, peak_server, tmp_path, token="wrong-secret-token-123")
    assert str(caught.value) == (
        f"Peak refused the access token (HTTP 401) at {peak_server.base_url}/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB: "
        "set PEAK_AUTH_TOKEN to a valid personal access token for this tenant"
    )
    assert "wrong-secret-token-123" not in str(caught.value)
    assert all(entry.status == 401 for entry in peak_server.log)
    assert len(peak_server.log) <= 4  # no retries: at most the pages already in flight
    assert peak_server.held_rows() == []


def test_403_aborts_too(con, peak_server, tmp_path):
    peak_server.script(Reply(403, body='{"message": "forbidden for test-token-7f3a9c"}'))
    with pytest.raises(DeliveryAborted) as caught:
        run_push(con, peak_server, tmp_path, job=make_job(peak_server, in_flight=1))
    assert "(HTTP 403)" in str(caught.value)


def test_unexpected_status_aborts_and_scrubs_an_echoed_token(con, peak_server, tmp_path):
    peak_server.script(Reply(404, body=f"no route; you sent Authorization: {peak_server.token}"))
    with pytest.raises(DeliveryAborted) as caught:
        run_push(con, peak_server, tmp_path, job=make_job(peak_server, in_flight=1))
    assert str(caught.value) == (
        f"unexpected HTTP 404 from POST {peak_server.base_url}/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB (page 1): "
        "'no route; you sent Authorization: ***'; check base_url and path in the export settings"
    )


def test_413_splits_pages_until_they_fit(con, peak_server, tmp_path):
    job = make_job(peak_server, page_rows=500)
    peak_server.max_body_bytes = 30_000
    summary, _ = run_push(con, peak_server, tmp_path, job=job)
    statuses = [entry.status for entry in peak_server.log]
    assert 413 in statuses
    assert all(entry.size <= 30_000 for entry in peak_server.log if entry.status == 200)
    assert summary.rejected == []
    assert peak_server.held_rows() == table_rows(con)


def test_422_bisection_isolates_the_bad_rows_and_delivers_the_rest(con, peak_server, tmp_path):
    expected = table_rows(con)
    bad = [expected[17], expected[18], expected[650]]
    peak_server.reject_keys = {peak_server.key_of(row) for row in bad}
    summary, _ = run_push(con, peak_server, tmp_path)
    rejected_keys = sorted(r.key for r in summary.rejected)
    assert rejected_keys == sorted(peak_server.key_of(row) for row in bad)
    assert {r.status for r in summary.rejected} == {422}
    assert peak_server.held_rows() == [row for row in expected if row not in bad]
    lines = [json.loads(line) for line in (tmp_path / "export" / "rejected.jsonl").read_text().splitlines()]
    assert [line["row"] for line in lines] == bad
    assert lines[0]["key"] == {k: bad[0][k] for k in ("product_id", "location_id", "product_variant", "stock_date_at")}
    assert lines[0]["response"] == json.loads(di_error("DI_E_10422", f"product_id {bad[0]['product_id']!r} does not exist in PRODUCT"))
    assert [line["page"] for line in lines] == [1, 1, 7]


def test_failed_array_in_a_200_marks_only_those_rows_rejected(con, peak_server, tmp_path):
    expected = table_rows(con)
    failed = [expected[3], expected[1111]]
    peak_server.fail_keys = {peak_server.key_of(row) for row in failed}
    summary, recorder = run_push(con, peak_server, tmp_path)
    assert sorted(r.key for r in summary.rejected) == sorted(peak_server.key_of(r) for r in failed)
    assert summary.acknowledged == len(expected) - 2
    first_page = recorder.pages[0]
    assert json.loads(first_page.rejected[0].row) == failed[0]
    assert failed[0] not in [json.loads(r) for r in first_page.acknowledged]
    assert len(first_page.acknowledged) == 99
    assert json.loads(first_page.rejected[0].response)["errorCode"] == "DI_E_10023"
    assert peak_server.held_rows() == [row for row in expected if row not in failed]
    # Matched by key: no extra requests were needed.
    assert summary.requests == summary.pages


def test_unmatchable_failed_array_is_bisected(con, peak_server, tmp_path):
    expected = table_rows(con)
    failed = [expected[250]]
    peak_server.fail_keys = {peak_server.key_of(row) for row in failed}
    peak_server.fail_unmatched = True
    summary, recorder = run_push(con, peak_server, tmp_path)
    assert [r.key for r in summary.rejected] == [peak_server.key_of(failed[0])]
    assert summary.acknowledged == len(expected) - 1
    assert summary.requests > summary.pages
    assert len(recorder.pages[2].acknowledged) == 99
    assert peak_server.held_rows() == [row for row in expected if row not in failed]


def test_rate_limited_server_sees_no_429_at_the_client_limit(con, peak_server, tmp_path):
    # The server's token bucket and the client's limiter read one clock, which moves only
    # when the client waits for its next slot: the rates decide, not the machine's speed.
    # One request in flight, so each is stamped when it goes (test_export_retry.py checks
    # the limiter's spacing across threads).
    clock = peak_server.clock = FakeClock()
    peak_server.rate_limit = 20.0
    peak_server.rate_burst = 2.0
    job = make_job(peak_server, page_rows=100, requests_per_second=20.0, in_flight=1)
    summary, _ = run_push(con, peak_server, tmp_path, job=job, monotonic=clock, sleep=clock.sleep)
    assert [entry.status for entry in peak_server.log] == [200] * summary.pages
    assert summary.pages == 13 and clock() == pytest.approx(1_000.0 + 12 / 20.0)  # 12 waits of 1/20 s


@pytest.mark.parametrize("value,seconds", [
    ("3", 3.0), (" 0 ", 0.0), ("1.5", 1.5),
    ("Wed, 18 May 2033 03:33:40 GMT", 20.0), ("Wed, 18 May 2033 03:33:00 GMT", 0.0),
    ("soon", None), ("", None), (None, None),
    # Review finding 17: float() read these, and nan and -4 became a retry at once.
    ("-4", None), ("nan", None), ("NaN", None), ("inf", None), ("1e3", None),
])
def test_retry_after_values(value, seconds):
    assert retry_after_seconds(value, now=2_000_000_000.0) == seconds


def test_an_abort_wakes_pages_waiting_to_retry(con, peak_server, tmp_path):
    # One of the first two pages is told to come back later, the other that the token is bad:
    # the waiting one must give up at once and the abort must be what is reported.
    peak_server.script(Reply(503), Reply(401))
    job = make_job(peak_server, in_flight=2, backoff_base=60.0, backoff_cap=60.0)
    with pytest.raises(DeliveryAborted) as caught:
        run_push(con, peak_server, tmp_path, job=job, sleep=None)
    assert "Peak refused the access token (HTTP 401)" in str(caught.value)
    assert sorted(entry.status for entry in peak_server.log)[:2] == [401, 503]


def test_a_single_row_too_large_for_the_server_is_rejected_not_retried(peak_server, tmp_path):
    connection = duckdb.connect()
    long_row = ("P-long", "LOC-1", "size:L", "2025-01-28", None, "x" * 2_000, 1, None)
    create_stock_extra(connection, 30, extra=[long_row])
    peak_server.max_body_bytes = 1_500
    summary, _ = run_push(connection, peak_server, tmp_path, job=make_job(peak_server, page_rows=4))
    assert [(r.key, r.status) for r in summary.rejected] == [(("P-long", "LOC-1", "size:L", "2025-01-28"), 413)]
    assert peak_server.held_rows() == [row for row in table_rows(connection) if row["product_id"] != "P-long"]
    connection.close()


def test_when_every_row_is_rejected_the_payload_is_blamed_and_delivery_stops(con, peak_server, tmp_path):
    peak_server.reject_keys = {peak_server.key_of(row) for row in table_rows(con)}
    with pytest.raises(DeliveryAborted) as caught:
        run_push(con, peak_server, tmp_path, job=make_job(peak_server, in_flight=1))
    assert str(caught.value).startswith(
        "Peak rejected the first 50 rows sent, one by one, and accepted none (last answer: HTTP 422 "
    )
    assert str(caught.value).endswith(
        "the payload is probably wrong for this tenant: check solution_name, object, prefix, suffix and path"
    )
    assert len(peak_server.log) < 200  # not two requests for each of the 1,205 rows


def test_rows_peak_names_in_a_2xx_failed_array_never_stop_delivery(con, peak_server, tmp_path):
    # A whole first page refused row by row in a 200 (a product Peak does not know yet):
    # Peak read the payload, so it is not to blame; the other rows are delivered.
    expected = table_rows(con)
    failed = expected[:100]
    peak_server.fail_keys = {peak_server.key_of(row) for row in failed}
    summary, _ = run_push(con, peak_server, tmp_path, job=make_job(peak_server, in_flight=1))
    assert [r.key for r in summary.rejected] == [peak_server.key_of(row) for row in failed]
    assert {r.status for r in summary.rejected} == {200}
    assert summary.acknowledged == len(expected) - 100
    assert summary.requests == summary.pages  # named by Peak: nothing bisected
    assert peak_server.held_rows() == expected[100:]


def test_an_asctime_retry_after_is_gmt_whatever_the_local_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "EST+05")  # five hours behind UTC, no tz database needed
    time.tzset()
    try:
        assert retry_after_seconds("Wed May 18 03:33:40 2033", now=2_000_000_000.0) == 20.0
    finally:
        monkeypatch.undo()
        time.tzset()


def test_an_unreadable_answer_is_retried_like_a_reset(con, peak_server, tmp_path):
    peak_server.script(Reply(200, {"Content-Encoding": "gzip"}, "not gzip at all"))
    summary, recorder = run_push(con, peak_server, tmp_path, job=make_job(peak_server, in_flight=1))
    assert [(e.page, e.attempt, e.reason) for e in recorder.retries] == [(1, 1, "unreadable answer (DecodingError)")]
    assert summary.retries == 1
    assert peak_server.held_rows() == table_rows(con)


def test_a_token_echoed_json_escaped_is_scrubbed_too(tmp_path):
    from peak_server import PeakServer

    token = "pat/with+slashes=="
    connection = duckdb.connect()
    create_stock_extra(connection, 3)
    with PeakServer(token=token) as server:
        echoed = json.dumps({"message": "rejected", "headers": {"Authorization": token}}).replace("/", "\\/")
        server.script(Reply(422, body=echoed))
        summary, _ = run_push(connection, server, tmp_path, job=make_job(server, page_rows=1, in_flight=1))
    assert [r.status for r in summary.rejected] == [422]
    assert json.loads(summary.rejected[0].response) == {"message": "rejected", "headers": {"Authorization": "***"}}
    written = (tmp_path / "export" / "rejected.jsonl").read_text()
    assert token not in written and json.loads(written)["response"]["headers"] == {"Authorization": "***"}
    connection.close()


def test_a_2xx_that_is_not_json_is_not_taken_for_acceptance(con, peak_server, tmp_path):
    # An HTML page from a proxy or a wrong host: its rows must not count as delivered.
    peak_server.script(Reply(200, body="<html><body>Welcome</body></html>"))
    recorder = Recorder()
    with pytest.raises(DeliveryAborted) as caught:
        run_push(con, peak_server, tmp_path, job=make_job(peak_server, in_flight=1), recorder=recorder)
    assert str(caught.value) == (
        f"HTTP 200 from POST {peak_server.base_url}/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB (page 1) is not a JSON "
        "answer: '<html><body>Welcome</body></html>'; its rows are not counted as sent: check base_url and path "
        "in the export settings"
    )
    assert recorder.pages == []


CAPPED = "\n[stockx: the answer was longer than 1,000,000 bytes; the rest was not read]"


def flooded(server):
    """Bytes the server wrote into each flood before the client hung up."""
    for _ in range(500):  # the handler notices the hang-up at its next write
        if server.flooded:
            return server.flooded
        time.sleep(0.01)
    raise AssertionError("the flood never ended")


def test_an_endless_rejection_is_read_up_to_the_cap_and_the_rest_left_unread(tmp_path):
    from peak_server import Flood, PeakServer

    connection = duckdb.connect()
    create_stock_extra(connection, 3)
    with PeakServer() as server:
        head = b'{"errorCode": "DI_E_10422", "message": "'
        server.script(Flood(422, body=head + b"x" * 65_000))
        summary, _ = run_push(connection, server, tmp_path,
                              job=make_job(server, page_rows=1, in_flight=1, timeout=5.0))
        sent = flooded(server)
        assert server.held_rows() == table_rows(connection)[1:]
    assert [r.status for r in summary.rejected] == [422] and summary.acknowledged == 2
    response = summary.rejected[0].response
    assert response.startswith(head.decode()) and response.endswith(CAPPED)
    assert len(response) <= 1_000_000 + len(CAPPED)
    assert sent[0] < 50_000_000  # the client hung up long before the server's own ceiling
    written = json.loads((tmp_path / "export" / "rejected.jsonl").read_text())
    assert written["response"] == response  # no longer JSON: kept as text, with the note
    connection.close()


def test_a_compressed_answer_is_inflated_only_up_to_the_cap(tmp_path):
    import gzip

    from peak_server import Flood, PeakServer

    connection = duckdb.connect()
    create_stock_extra(connection, 2)
    bomb = gzip.compress(b'{"errorCode": "DI_E_1", "message": "' + b"x" * 30_000_000 + b'"}')
    with PeakServer() as server:
        server.script(Flood(422, {"Content-Encoding": "gzip"}, bomb, endless=False))
        summary, _ = run_push(connection, server, tmp_path, job=make_job(server, page_rows=1, in_flight=1))
    response = summary.rejected[0].response
    assert len(bomb) < 100_000 and response.startswith('{"errorCode": "DI_E_1", "message": "xxx')
    assert response.endswith(CAPPED) and len(response) <= 1_000_000 + len(CAPPED)
    connection.close()


def test_a_2xx_answer_longer_than_the_cap_is_not_taken_for_acceptance(con, peak_server, tmp_path):
    from peak_server import Flood

    peak_server.script(Flood(200, body=b'{"status": "accepted", "pad": "' + b"x" * 65_000))
    recorder = Recorder()
    with pytest.raises(DeliveryAborted) as caught:
        run_push(con, peak_server, tmp_path, job=make_job(peak_server, in_flight=1, timeout=5.0), recorder=recorder)
    assert str(caught.value) == (
        f"HTTP 200 from POST {peak_server.base_url}/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB (page 1) is longer "
        "than response_bytes (1,000,000 bytes); its rows are not counted as sent: check base_url and path in the "
        "export settings, or raise response_bytes"
    )
    assert recorder.pages == []


def test_response_bytes_sets_the_cap(con, peak_server, tmp_path):
    peak_server.script(Reply(422, body="y" * 5_000))
    job = make_job(peak_server, page_rows=1, in_flight=1, response_bytes=2_000)
    summary, _ = run_push(con, peak_server, tmp_path, job=job)
    response = summary.rejected[0].response
    note = "\n[stockx: the answer was longer than 2,000 bytes; the rest was not read]"
    assert response.startswith("y" * 1_000) and response.endswith(note) and len(response) <= 2_000 + len(note)


@pytest.mark.parametrize("body", [
    {"success": False, "message": "solution QP_OOTB is locked"},
    {"status": "error", "message": "ingestion paused"},
    {"status": "FAILED"},
    {"state": "rejected"},
    {"errors": [{"errorCode": "DI_E_00500", "message": "schema mismatch"}]},
    {"error": "payload could not be parsed"},
    {"errorCode": "DI_E_00500", "message": "internal"},
    {"status": "accepted", "accepted": 0, "failed": []},
    {"status": "accepted", "accepted": 99, "failed": []},
    # Shapes found by the review of issues 11 and 18 (finding 1): each was taken for an acknowledgement.
    {"Success": False, "message": "ingestion failed"},
    {"success": "false"},
    {"result": {"success": False}},
    {"statusCode": 500, "message": "Internal Server Error"},
    [{"error": "db down"}],
    {"failedRows": [0, 1]},
    {"status": "PARTIAL_FAILURE"},
    {"data": {"errors": [{"message": "x"}]}},
    {"code": "DI_E_50000", "message": "internal error"},
    None,
    {"accepted": "99"},
    {"accepted": "all of them"},
    {"message": "ingestion failed: solution locked"},
])
def test_a_2xx_body_that_reports_failure_is_not_an_acknowledgement(con, peak_server, tmp_path, body):
    """The first page's 200 says it failed (Peak stored nothing): its rows are sent
    again, in halves, and only acknowledged when an answer says they were taken."""
    peak_server.script(Reply(200, body=json.dumps(body)))
    summary, recorder = run_push(con, peak_server, tmp_path, job=make_job(peak_server, in_flight=1))
    assert summary.rejected == [] and summary.acknowledged == len(table_rows(con))
    assert peak_server.held_rows() == table_rows(con)
    assert [entry.rows for entry in peak_server.log[:3]] == [0, 50, 50]  # page 1, then its halves
    assert recorder.pages[0].requests == 3


@pytest.mark.parametrize("body", [
    {"success": True}, {"status": "ok", "errors": []}, {"error": None, "status": "accepted"},
    {"status": "accepted", "accepted": 100, "failed": []}, {"accepted": True}, {},
    {"accepted": "100"}, {"message": "Data ingested"}, {"status": "OK", "message": "0 rows failed"},
    {"code": 200, "statusCode": "201"},
])
def test_a_2xx_body_that_reports_success_is_taken_at_once(con, peak_server, tmp_path, body):
    peak_server.script(Reply(200, body=json.dumps(body)))
    summary, _ = run_push(con, peak_server, tmp_path, job=make_job(peak_server, in_flight=1))
    assert summary.requests == summary.pages and summary.acknowledged == len(table_rows(con))


def test_a_single_row_a_2xx_body_calls_failed_is_rejected_with_that_body(peak_server, tmp_path):
    connection = duckdb.connect()
    create_stock_extra(connection, 3)
    peak_server.script(Reply(200, body='{"success": false, "message": "row refused"}'))
    summary, _ = run_push(connection, peak_server, tmp_path, job=make_job(peak_server, page_rows=1, in_flight=1))
    assert [(r.status, r.response) for r in summary.rejected] == [(200, '{"success": false, "message": "row refused"}')]
    assert summary.acknowledged == 2
    connection.close()
