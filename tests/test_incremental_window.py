"""The replace_window incremental strategy on real projects on disk, built through the CLI.

Each build replaces every row dated in its window (the newest built day, at most
tomorrow, minus lookback_days, and everything after it): inside the window the
table equals a full refresh, before it rows stay as they were.
"""

from __future__ import annotations

import datetime
import json

import pytest

from conftest import query
from stockx_export.adapters.duckdb import DuckDBAdapter
from stockx_export.core.config import TargetConfig
from stockx_export.core.window import Window, WindowConfig, plan_window
from stockx_export.db import Relation

DAILY = """
    {{ config(materialized='incremental', incremental_strategy='replace_window', window_column='day') }}
    select day, shop, sum(qty) as qty
    from {{ ref('events') }}
    where {{ in_window('day') }}
    group by day, shop
"""

PYPROJECT = """
    [tool.stockx]
    name = "shop"
    [tool.stockx.vars]
    lookback_days = 1
"""


def events(*rows: tuple[str, str, int]) -> str:
    return "day,shop,qty\n" + "".join(f"{day},{shop},{qty}\n" for day, shop, qty in rows)


FIRST = [
    ("2025-01-01", "a", 1), ("2025-01-01", "b", 2),
    ("2025-01-02", "a", 3), ("2025-01-02", "b", 4),
    ("2025-01-03", "a", 5), ("2025-01-03", "b", 6),
    ("2025-01-04", "a", 7), ("2025-01-04", "b", 8),
]


def table(db) -> list[tuple]:
    return query(db, "select day::varchar, shop, qty from main.daily order by all")


@pytest.fixture
def shop(make_project):
    root, stockx = make_project({"pyproject.toml": PYPROJECT, "seeds/events.csv": events(*FIRST), "models/daily.sql": DAILY})
    return root, stockx, root / "target/stockx.duckdb"


def test_keys_no_longer_produced_in_the_window_are_removed_and_older_rows_kept(shop):
    root, stockx, db = shop
    first = stockx("build")
    assert first.exit_code == 0, first.output
    assert "OK created incremental main.daily" in first.output
    # Shop b leaves on the 3rd and 4th, a correction reaches the 1st (before the window),
    # the 3rd of shop a changes and a new day arrives.
    (root / "seeds/events.csv").write_text(events(
        ("2025-01-01", "a", 100), ("2025-01-01", "b", 2),
        ("2025-01-02", "a", 3), ("2025-01-02", "b", 4),
        ("2025-01-03", "a", 50),
        ("2025-01-04", "a", 7),
        ("2025-01-05", "a", 9),
    ))
    second = stockx("build")
    assert second.exit_code == 0, second.output
    assert "OK replaced window main.daily" in second.output
    assert table(db) == [
        ("2025-01-01", "a", 1),  # before the window (newest built day 01-04, minus 1): kept as it was
        ("2025-01-01", "b", 2),
        ("2025-01-02", "a", 3),
        ("2025-01-02", "b", 4),
        ("2025-01-03", "a", 50),  # in the window: recomputed
        ("2025-01-04", "a", 7),  # shop b's rows of the 3rd and 4th are gone
        ("2025-01-05", "a", 9),
    ]
    full = root / "full.duckdb"
    assert stockx("build", "--database", str(full)).exit_code == 0
    in_window = "select day::varchar, shop, qty from main.daily where day >= date '2025-01-03' order by all"
    assert query(db, in_window) == query(full, in_window)


def test_the_model_filter_and_the_replaced_window_are_one_date(shop):
    root, stockx, db = shop
    assert stockx("build").exit_code == 0
    compiled = root / "target/compiled/models/daily.sql"
    assert "where true" in compiled.read_text()  # a first build reads every day
    assert query(db, "select window_start, anchor, lookback_days from main.stockx_incremental_windows") == [
        (None, None, 1)]
    assert stockx("build").exit_code == 0
    assert "where day >= date '2025-01-03'" in compiled.read_text()
    assert query(db, "select relation_name, window_column, window_start::varchar, anchor::varchar "
                     "from main.stockx_incremental_windows") == [("daily", "day", "2025-01-03", "2025-01-04")]
    compiled.unlink()
    assert stockx("compile", "-s", "daily").exit_code == 0  # compile reads the window from the database too
    assert "where day >= date '2025-01-03'" in compiled.read_text()
    # lookback_days: the var, or the model's own config
    (root / "models/daily.sql").write_text(DAILY.replace("window_column='day'", "window_column='day', lookback_days=0"))
    assert stockx("build").exit_code == 0
    assert "where day >= date '2025-01-04'" in compiled.read_text()
    assert stockx("build", "--full-refresh").exit_code == 0
    assert "where true" in compiled.read_text()
    assert query(db, "select window_start from main.stockx_incremental_windows") == [(None,)]


def test_a_future_dated_row_does_not_move_the_window(make_project):
    # The window's anchor is the newest built day, but at most tomorrow by the build's clock.
    today = datetime.date.today()
    days = [(today - datetime.timedelta(days=n)).isoformat() for n in (3, 2, 1)]
    rows = [(day, "a", n) for n, day in enumerate(days, 1)] + [("2099-12-31", "a", 9)]
    root, stockx = make_project({"pyproject.toml": PYPROJECT, "seeds/events.csv": events(*rows),
                                 "models/daily.sql": DAILY})
    db = root / "target/stockx.duckdb"
    assert stockx("build").exit_code == 0
    # The typo is fixed and today's file arrives: today's row is built, the future row goes.
    fixed = [r for r in rows if r[0] != "2099-12-31"] + [(today.isoformat(), "a", 4), (today.isoformat(), "b", 5)]
    (root / "seeds/events.csv").write_text(events(*fixed))
    result = stockx("build")
    assert result.exit_code == 0, result.output
    assert table(db) == sorted(fixed)
    start = today  # tomorrow minus lookback_days 1
    assert query(db, "select window_start from main.stockx_incremental_windows") == [(start,)]


def test_an_empty_table_is_rebuilt_whole(shop):
    root, stockx, db = shop
    (root / "seeds/events.csv").write_text("day,shop,qty\n")
    (root / "seeds/seeds.yml").write_text(
        "version: 2\nseeds:\n  - name: events\n    config:\n      column_types: {day: date, shop: varchar, qty: integer}\n")
    assert stockx("build").exit_code == 0
    assert table(db) == []
    (root / "seeds/events.csv").write_text(events(*FIRST))
    result = stockx("build")
    assert result.exit_code == 0, result.output
    assert "OK created incremental main.daily" in result.output
    assert len(table(db)) == len(FIRST)


@pytest.mark.parametrize("value, shown", [
    ("'3 days'", "'3 days'"), ("-1", "-1"), ("2.5", "2.5"), ("true", "True"), ("'3; drop table x'", "'3; drop table x'"),
    # Review finding 8: past 2^31 the model failed (exit 1) with DuckDB's conversion error, not naming the var.
    ("3000000000", "3000000000"), ("3652059", "3652059"),
])
def test_a_bad_lookback_var_stops_before_anything_runs(shop, value, shown):
    root, stockx, db = shop
    result = stockx("build", "--vars", f"{{lookback_days: {value}}}")
    assert (result.exit_code, result.stderr) == (2, (
        f"Error: var('lookback_days') must be a whole number of days from 0 to 3,652,058, got {shown}: it is how many "
        "days before the newest built day every build of daily recomputes (set it in [tool.stockx.vars] or --vars)\n"))
    assert not db.exists()


def test_a_lookback_of_every_date_is_taken(shop):
    root, stockx, db = shop
    assert stockx("build").exit_code == 0
    result = stockx("build", "--vars", "{lookback_days: 3652058}")
    assert result.exit_code == 0, result.output


def test_a_bad_lookback_config_names_the_model_file(shop):
    root, stockx, db = shop
    (root / "models/daily.sql").write_text(DAILY.replace("window_column='day'", "window_column='day', lookback_days='2'"))
    result = stockx("ls")
    assert (result.exit_code, result.stderr) == (2, (
        "Error: models/daily.sql: config lookback_days must be a whole number of days from 0 to 3,652,058, got '2': it "
        "is how many days before the newest built day every build of daily recomputes (set it in [tool.stockx.vars] "
        "or --vars)\n"))


def test_a_missing_window_column_or_lookback_names_the_model(shop):
    root, stockx, db = shop
    (root / "models/daily.sql").write_text(DAILY.replace(", window_column='day'", ""))
    result = stockx("build")
    assert (result.exit_code, result.stderr) == (2, (
        "Error: models/daily.sql: model 'daily' uses incremental_strategy='replace_window' but its window_column is "
        "not set; add window_column='<the DATE or TIMESTAMP column whose days each build replaces>' to its config\n"))
    (root / "models/daily.sql").write_text(DAILY)
    (root / "pyproject.toml").write_text('[tool.stockx]\nname = "shop"\n')
    result = stockx("build")
    assert (result.exit_code, result.stderr) == (2, (
        "Error: models/daily.sql: model 'daily' uses incremental_strategy='replace_window' and needs lookback_days: "
        "set the var lookback_days in [tool.stockx.vars] (or --vars), or config(lookback_days=N) in the model\n"))


def _failure(result, name: str) -> str:
    return next(e for e in map(json.loads, result.output.splitlines()) if e.get("name") == name)["message"]


def test_a_window_column_the_model_lacks_or_that_holds_no_dates_is_a_model_error(shop):
    root, stockx, db = shop
    (root / "models/daily.sql").write_text(DAILY.replace("window_column='day'", "window_column='shop'"))
    result = stockx("build", "--log-format", "json")
    assert result.exit_code == 1
    assert _failure(result, "daily") == (
        "models/daily.sql: window_column 'shop' of the model's output is VARCHAR; the window needs a DATE or "
        "TIMESTAMP column")
    (root / "models/daily.sql").write_text(DAILY.replace("window_column='day'", "window_column='when'"))
    result = stockx("build", "--log-format", "json")
    assert _failure(result, "daily") == (
        "models/daily.sql: window_column 'when' is not a column of the model's output (its columns: day, shop, qty); "
        "fix the model's config")
    assert not query(db, "select * from duckdb_tables() where table_name = 'daily'")  # nothing half-built


def test_a_failed_build_leaves_the_table_and_its_window_as_they_were(shop):
    root, stockx, db = shop
    assert stockx("build").exit_code == 0
    assert stockx("build").exit_code == 0
    before = table(db), query(db, "select * from main.stockx_incremental_windows")
    (root / "seeds/events.csv").write_text(events(*FIRST, ("2025-01-05", "a", 1)))
    (root / "models/daily.sql").write_text(
        DAILY.replace("window_column='day'", "window_column='day', on_schema_change='fail'")
             .replace("sum(qty) as qty", "sum(qty)::varchar as qty"))
    result = stockx("build", "--log-format", "json")
    assert result.exit_code == 1
    assert _failure(result, "daily").startswith(
        "models/daily.sql: on_schema_change='fail': the model's columns differ from main.daily (qty changed from ")
    assert (table(db), query(db, "select * from main.stockx_incremental_windows")) == before


def test_in_window_outside_a_replace_window_model_is_an_error(shop):
    root, stockx, db = shop
    (root / "models/other.sql").write_text("select * from {{ ref('events') }} where {{ in_window('day') }}\n")
    result = stockx("build", "--log-format", "json", "-s", "events other")
    assert result.exit_code == 1, result.output
    assert _failure(result, "other") == (
        "models/other.sql:1: in_window() filters the input of a model with incremental_strategy='replace_window'; "
        "other has incremental_strategy=None")


def test_window_start_in_a_test_names_the_replaced_window(shop):
    root, stockx, db = shop
    (root / "tests/sql").mkdir(parents=True)
    # Rows before the window may disagree with the seed (kept by design); rows in it may not.
    (root / "tests/sql/daily_matches_events.sql").write_text("""
        select d.day, d.shop from {{ ref('daily') }} d
        left join (select day, shop, sum(qty) as qty from {{ ref('events') }} group by all) e using (day, shop)
        where d.day >= {{ window_start('daily') }} and e.qty is distinct from d.qty
    """)
    assert stockx("build").exit_code == 0
    rows = [("2025-01-01", "a", 100), *FIRST[1:]]
    (root / "seeds/events.csv").write_text(events(*rows))
    result = stockx("build")
    assert result.exit_code == 0, result.output
    assert "PASS daily_matches_events" in result.output
    compiled = (root / "target/compiled/tests/sql/daily_matches_events.sql").read_text()
    assert "d.day >= date '2025-01-03'" in compiled
    assert stockx("build", "--full-refresh").exit_code == 0
    assert "d.day >= cast('-infinity' as date)" in (root / "target/compiled/tests/sql/daily_matches_events.sql").read_text()


# -- the window rule itself, with the clock injected --------------------------------------


def _window(rows: list[str], today: str, lookback: int, rebuild: bool = False) -> Window:
    with DuckDBAdapter.connect(TargetConfig()) as adapter:
        adapter.execute("create table t (day date)")
        for day in rows:
            adapter.execute("insert into t values (?)", [day])
        newest = None if rebuild else adapter.newest_date(Relation("main", "t"), "day")
    return plan_window(WindowConfig("day", lookback), datetime.date.fromisoformat(today), newest)


def _start(window: Window) -> str | None:
    return window.start.isoformat() if window.start else None


def test_window_rule():
    assert _start(_window(["2026-11-20", "2026-11-24"], "2026-11-30", 3)) == "2026-11-21"
    assert _start(_window(["2026-11-20", "2026-11-24"], "2026-11-30", 0)) == "2026-11-24"
    # a future-dated row: the anchor is at most tomorrow
    assert _start(_window(["2026-11-24", "2099-01-01"], "2026-11-30", 3)) == "2026-11-28"
    # an empty table, a first build or full refresh, a lookback past the first date: every date
    assert _start(_window([], "2026-11-30", 3)) is None
    assert _start(_window(["2026-11-24"], "2026-11-30", 3, rebuild=True)) is None
    assert _start(_window(["0001-01-02"], "2026-11-30", 5)) is None
    assert _window(["2026-11-24"], "2026-11-30", 3).predicate('"day"') == "\"day\" >= date '2026-11-21'"
    assert Window("day", None).predicate("day") == "true"
