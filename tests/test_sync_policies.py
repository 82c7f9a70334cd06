"""The volume guard across days of a daily job, and the gone-keys policy, through
``stockx export --push`` against the loopback Peak."""

from __future__ import annotations

import json

import duckdb
import pytest
from sync_support import (RecordingPeak, acknowledged_keys, change_table, expected_rows, invoke, make_project,
                          push_env, state_path, state_query)

KEYS = ("product_id", "location_id", "product_variant", "stock_date_at")


@pytest.fixture
def server():
    with RecordingPeak() as peak:
        yield peak


def push(root, server, *args):
    return invoke(root, "export", "--push", *args, env=push_env(server))


def plan(root, server):
    result = invoke(root, "export", "--plan", env=push_env(server))
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def key_of(row):
    return tuple(row[k] for k in KEYS)


def add_day(root, day: int, rows: int, location: str = "LOC-D") -> None:
    """A new day of stock: ``rows`` keys dated 2025-02-<day>."""
    change_table(root, f"""
        INSERT INTO stock_extra SELECT 'PROD-D' || lpad(i::VARCHAR, 4, '0'), '{location}', 'size:M',
                                       DATE '2025-02-01' + {day - 1}, NULL, 'S-{day}', i % 17, NULL
        FROM range({rows}) AS t(i)""")


def test_a_table_growing_by_a_day_every_day_is_never_stopped(tmp_path, server, monkeypatch):
    # Day 1 holds one day of stock; each later day adds a day of about the same size, so on
    # day 2 more than half the table is new (a fixed share of the table stopped it there).
    root = make_project(tmp_path / "proj", 0)
    monkeypatch.chdir(root)
    add_day(root, 1, 150)
    assert push(root, server).exit_code == 0
    for day, rows in ((2, 180), (3, 160), (4, 175), (5, 190), (6, 170)):
        add_day(root, day, rows)
        change_table(root, f"UPDATE stock_extra SET stock_units = stock_units + 1 WHERE stock_id = 'S-{day - 1}' "
                           "AND stock_units % 5 = 0")  # late corrections of the day before
        result = push(root, server)
        assert result.exit_code == 0, result.output
    assert server.held_rows() == expected_rows(root)
    # A join gone wrong: every row of the table again, under a second location.
    change_table(root, "INSERT INTO stock_extra SELECT product_id, 'LOC-X', product_variant, stock_date_at, "
                       "created_at, stock_id, stock_units, updated_at FROM stock_extra")
    result = push(root, server)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: volume guard: 1,025 rows would be sent (new, changed or zeroed; a key "
                                    "that moved counts once), above guard-tolerance 3 x ")


def test_zero_sends_each_gone_key_once_with_zero_units(tmp_path, server, monkeypatch):
    root = make_project(tmp_path / "proj", 300, sync='[tool.stockx.sync.gone-keys]\nSTOCK_EXTRA = "zero"')
    monkeypatch.chdir(root)
    assert push(root, server).exit_code == 0
    before = {key_of(r): r for r in expected_rows(root)}
    change_table(root, "DELETE FROM stock_extra WHERE stock_units % 100 = 7")  # a SKU left the feed, say
    gone = sorted(set(before) - {key_of(r) for r in expected_rows(root)})
    assert gone
    lines = plan(root, server)
    assert lines[5].split() == ["gone", str(len(gone)), "(acknowledged", "earlier,", "no", "longer", "in", "the",
                                "table;", "gone-keys", "zero:", str(len(gone)), "sent", "now", "with", "0", "units,",
                                "0", "sent", "so", "before,", "then", "never", "again)"]
    assert lines[6].split() == ["to", "send", str(len(gone)), "0", "of", str(300 - len(gone)), "rows", "(changes)",
                                "and", str(len(gone)), "gone", "keys", "at", "0"]
    start = len(server.stored)
    result = push(root, server)
    assert result.exit_code == 0, result.output
    assert sorted(server.stored_keys(start)) == gone
    zero_rows = {key: {**dict(zip(KEYS, key)), "created_at": None, "stock_id": None, "stock_units": 0,
                       "updated_at": None} for key in gone}
    assert server.held_rows() == sorted([*expected_rows(root), *zero_rows.values()],
                                        key=lambda r: tuple(str(r[k]).encode() for k in KEYS))
    assert f"{len(gone)} acknowledged keys are no longer in the table: {len(gone)} sent with 0 units now, 0 before " \
           "(gone-keys zero)" in result.stdout
    assert acknowledged_keys(root) == set(before)

    # Zeroed once: the next plan reports them and sends nothing.
    lines = plan(root, server)
    assert "gone-keys zero: 0 sent now with 0 units, " + str(len(gone)) + " sent so before" in lines[5]
    start = len(server.stored)
    assert push(root, server).exit_code == 0
    assert server.stored_keys(start) == []
    # A key that comes back is a changed row, sent as it is now.
    back = before[gone[0]]
    change_table(root, f"INSERT INTO stock_extra SELECT * FROM (VALUES ('{back['product_id']}', "
                       f"'{back['location_id']}', '{back['product_variant']}', DATE '{back['stock_date_at']}', "
                       "NULL::TIMESTAMP, 'S-BACK', 5, NULL::TIMESTAMP))")
    assert plan(root, server)[2].split()[:2] == ["changed", "1"]
    assert push(root, server).exit_code == 0
    assert server.stored_keys(start) == [gone[0]]
    assert server.rows[gone[0]]["stock_units"] == 5
    rows_sent = state_query(root, "SELECT rows_planned FROM runs ORDER BY run_id")
    assert rows_sent == [(300,), (len(gone),), (0,), (1,)]


def test_a_zero_row_peak_refuses_is_sent_again(tmp_path, server, monkeypatch):
    root = make_project(tmp_path / "proj", 100, sync='[tool.stockx.sync.gone-keys]\nSTOCK_EXTRA = "zero"')
    monkeypatch.chdir(root)
    assert push(root, server).exit_code == 0
    first = next(r for r in expected_rows(root) if r["stock_units"])
    change_table(root, f"DELETE FROM stock_extra WHERE product_id = '{first['product_id']}' "
                       f"AND location_id = '{first['location_id']}' AND product_variant = '{first['product_variant']}'")
    gone = {key_of(first)}
    server.reject_keys = set(gone)
    result = push(root, server)
    assert result.exit_code == 1
    refused = state_query(root, "SELECT key, row FROM rejected")
    assert [tuple(json.loads(key)) for key, _ in refused] == [key_of(first)]
    assert json.loads(refused[0][1])["stock_units"] == 0
    server.reject_keys = set()
    start = len(server.stored)
    assert push(root, server).exit_code == 0
    assert set(server.stored_keys(start)) == gone
    assert server.rows[key_of(first)]["stock_units"] == 0


def test_zero_for_an_object_without_units_is_refused(tmp_path, server, monkeypatch):
    root = make_project(tmp_path / "proj", 10, sync='[tool.stockx.sync.gone-keys]\nSTOCK_EXTRA = "zero"')
    monkeypatch.setattr("stockx_export.sync.plan.ZERO_COLUMNS", {})
    result = push(root, server)
    assert (result.exit_code, result.stderr) == (2, (
        "Error: gone-keys \"zero\" needs a units column to set to 0, and Peak object STOCK_EXTRA has none stockx "
        "knows; set its gone-keys policy to \"keep\"\n"))


# -- the volume guard on the days the review of issues 11 and 18 found it stopping -----------------
SITES = ("LOC-A", "LOC-B", "LOC-C")


def add_site_day(root, day: int, per_site: int = 4) -> None:
    """A day of stock in three locations: ``per_site`` keys each, dated 2025-02-<day>."""
    change_table(root, f"""
        INSERT INTO stock_extra SELECT 'PROD-' || (i % {per_site}), site, 'size:M', DATE '2025-02-01' + {day - 1},
                                       NULL, 'S-{day}', i + {day}, NULL
        FROM range({per_site}) AS t(i), unnest({list(SITES)}) AS s(site)""")


def stop_line(result) -> str:
    assert result.exit_code == 2, result.output
    return result.stderr


def test_quiet_days_then_normal_days_never_stop_and_abnormal_pushes_still_do(tmp_path, server, monkeypatch):
    """Review finding 6: a job started before a quiet weekend (one corrected count a day)
    stopped on its first normal day, and every day after it."""
    root = make_project(tmp_path / "proj", 0)
    monkeypatch.chdir(root)
    add_site_day(root, 1)
    assert push(root, server).exit_code == 0  # Friday: the first push
    for units in (6, 8):  # Saturday and Sunday: no new file, one corrected count
        change_table(root, f"UPDATE stock_extra SET stock_units = {units} WHERE product_id = 'PROD-0' "
                           "AND location_id = 'LOC-A'")
        assert push(root, server).exit_code == 0
    for day in range(2, 8):  # a week of normal days
        add_site_day(root, day)
        result = push(root, server)
        assert result.exit_code == 0, result.output
    assert server.held_rows() == expected_rows(root)
    assert plan(root, server)[-1] == ("volume guard: sends up to 36 rows (3 x 12, one day of the table: 84 rows Peak "
                                      "holds over 7 dates)")
    held = expected_rows(root)

    # A join gone wrong: every row again under another location (the new rows do not raise the day).
    change_table(root, "INSERT INTO stock_extra SELECT product_id, location_id || '-X', product_variant, "
                       "stock_date_at, created_at, stock_id, stock_units, updated_at FROM stock_extra")
    assert stop_line(push(root, server)).startswith(
        "Error: volume guard: 84 rows would be sent (new, changed or zeroed; a key that moved counts once), above "
        "guard-tolerance 3 x 12, one day of the table: 84 rows Peak holds over 7 dates; nothing was sent")
    change_table(root, "DELETE FROM stock_extra WHERE location_id LIKE '%-X'")
    # A format change that rewrites every row.
    change_table(root, "UPDATE stock_extra SET stock_id = stock_id || '-v2'")
    assert stop_line(push(root, server)).startswith("Error: volume guard: 84 rows would be sent")
    change_table(root, "UPDATE stock_extra SET stock_id = replace(stock_id, '-v2', '')")
    # A shrunken table: two days of files missing.
    change_table(root, "CREATE TABLE kept AS SELECT * FROM stock_extra WHERE stock_date_at < DATE '2025-02-03'; "
                       "DELETE FROM stock_extra WHERE stock_date_at < DATE '2025-02-03'")
    assert stop_line(push(root, server)).startswith("Error: volume guard: the table shrank from 84 to 60 rows")
    change_table(root, "INSERT INTO stock_extra SELECT * FROM kept; DROP TABLE kept")
    # A state that lost its acknowledged rows.
    with duckdb.connect(str(state_path(root))) as con:
        con.execute("DELETE FROM acknowledged")
    assert stop_line(push(root, server)).startswith("Error: volume guard: 84 rows would be sent")
    assert server.held_rows() == held


def test_a_remapped_location_under_zero_is_a_normal_day(tmp_path, server, monkeypatch):
    """Review finding 7: under gone-keys zero, a warehouse moved to another location counted
    twice (its new keys, and its old ones sent at 0), and the push stopped every day."""
    root = make_project(tmp_path / "proj", 0, sync='[tool.stockx.sync.gone-keys]\nSTOCK_EXTRA = "zero"')
    monkeypatch.chdir(root)
    for day in range(1, 7):
        add_site_day(root, day)
        assert push(root, server).exit_code == 0
    # LOC-B becomes LOC-B2 from the build's window on (its last four days), and a new day arrives.
    change_table(root, "UPDATE stock_extra SET location_id = 'LOC-B2' WHERE location_id = 'LOC-B' "
                       "AND stock_date_at >= DATE '2025-02-03'")
    add_site_day(root, 7)
    change_table(root, "UPDATE stock_extra SET location_id = 'LOC-B2' WHERE location_id = 'LOC-B' "
                       "AND stock_date_at = DATE '2025-02-07'")
    lines = plan(root, server)
    assert [line.split()[:2] for line in lines[1:3]] == [["new", "28"], ["changed", "0"]]
    assert "gone-keys zero: 16 sent now with 0 units" in lines[5]
    result = push(root, server)
    assert result.exit_code == 0, result.output
    moved = {r["product_id"] for r in server.held_rows() if r["location_id"] == "LOC-B" and r["stock_units"] == 0}
    assert moved == {"PROD-0", "PROD-1", "PROD-2", "PROD-3"}
    add_site_day(root, 8)
    change_table(root, "UPDATE stock_extra SET location_id = 'LOC-B2' WHERE location_id = 'LOC-B'")
    assert push(root, server).exit_code == 0


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_tolerance_toml_reads_as_nan_or_inf_is_refused(tmp_path, server, monkeypatch, value):
    """Review finding 16: nan switched the guard off, and --plan crashed (exit 3)."""
    root = make_project(tmp_path / "proj", 10, sync=f"guard-tolerance = {value}")
    monkeypatch.chdir(root)
    for args in (("--plan",), ("--push",)):
        result = invoke(root, "export", *args, env=push_env(server))
        assert (result.exit_code, result.stderr) == (2, (
            "Error: [tool.stockx.sync] in pyproject.toml: guard-tolerance must be a number from 1 to 1,000 (3 = up to "
            f"three times a normal day), got {float(value)!r}\n"))
    assert server.log == []
