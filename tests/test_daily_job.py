"""Five days of the daily job, as cron runs it: ``stockx build``, then ``stockx export --push``.

The sample project reads generated raw files (tests/daily_raw.py: late
corrections within the window, a replaced file, a late file beyond the window,
duplicates, loosely spelled warehouse codes, a product leaving and one
arriving) and pushes to the loopback Peak, which fails some requests; day 3's
push is killed with SIGKILL and run again. After every day:

- every test passes, with no --full-refresh and no --force (day 5 warns about its late file);
- every raw line is accounted for: accepted, or rejected for the reason the generator gave it;
- inside the build's window the table equals a full refresh over the same files,
  and before it the rows are yesterday's;
- Peak holds exactly the table, plus the gone keys: as last sent under ``keep``,
  with 0 units under ``zero``.

Each push ships the whole inventory family (categories, then products and
locations, then stock and stock_extra) to a Peak that refuses rows whose
product or location it does not hold; nothing may be refused or held.

Both gone-keys policies ride on the same builds: every day is pushed to two
Peaks, one with ``keep`` and one with ``zero`` (the policy set just before
each push; the state tells the two destinations apart by URL).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

import duckdb
import pytest
from daily_raw import DAYS, LEAVING, Feed
from peak_server import Reply, Reset, table_rows
from sync_support import RecordingPeak, invoke, push_env, state_query
from test_stock_extra import copy_project
from test_sync_crash import killed_at
from conftest import node_results

KEYS = ("product_id", "location_id", "product_variant", "stock_date_at")
FAMILY = ["locations", "product_categories", "products", "stock", "stock_extra"]  # the push order


def key_of(row: dict) -> tuple:
    return tuple(row[k] for k in KEYS)


def rows_of(database, where: str = "true") -> dict[tuple, dict]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        con.execute(f"create temp view windowed as select * from main.stock_extra where {where}")
        return {key_of(r): r for r in table_rows(con, relation="windowed")}
    finally:
        con.close()


def query(database, sql: str) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def zero_row(key: tuple) -> dict:
    return {**dict(zip(KEYS, key)), "created_at": None, "stock_id": None, "stock_units": 0, "updated_at": None}


@pytest.fixture
def servers():
    with RecordingPeak() as keep, RecordingPeak() as zero:
        for peak in (keep, zero):
            peak.fk_mode = "failed"  # Peak refuses a row whose product or location it does not hold
        yield {"keep": keep, "zero": zero}


def set_policy(project, policy: str) -> None:
    path = project / "pyproject.toml"
    text = path.read_text()
    path.write_text(text[:text.index("[tool.stockx.sync.gone-keys]")]
                    + f'[tool.stockx.sync.gone-keys]\nSTOCK_EXTRA = "{policy}"\n')


def setup_project(tmp_path, feed: Feed):
    project = copy_project(tmp_path / "project")
    pyproject = (project / "pyproject.toml").read_text()
    assert "lookback_days = 3" in pyproject
    paths = "".join(f'{name} = "{path}"\n' for name, path in feed.vars().items())
    pyproject = pyproject.replace("lookback_days = 3", "lookback_days = 1")
    for name in feed.vars():
        pyproject = pyproject.replace(f'{name} = ""\n', "")
    pyproject = pyproject.replace("[tool.stockx.vars]\n", "[tool.stockx.vars]\n" + paths)
    pyproject = pyproject.replace('name = "stockx"\n', 'name = "stockx"\ndatabase = "target/stockx.duckdb"\n', 1)
    pyproject += ("\n[tool.stockx.export]\npage_rows = 50\nrequests_per_second = 1000\nbackoff_base = 0.01\n"
                  '\n[tool.stockx.sync.gone-keys]\nSTOCK_EXTRA = "keep"\n')
    (project / "pyproject.toml").write_text(pyproject)
    return project


def statuses(project) -> dict[str, str]:
    results = node_results(project)
    return {r["name"]: r["status"] for r in results}


def test_five_days_unattended(tmp_path, servers, monkeypatch):
    feed = Feed(tmp_path / "wms", first_day=date.today() - timedelta(days=12))
    project = setup_project(tmp_path, feed)
    monkeypatch.chdir(project)
    database = project / "target" / "stockx.duckdb"
    env = push_env(servers["keep"])
    # what each Peak should hold: the last row sent for each key
    on_peak: dict[str, dict[tuple, dict]] = {"keep": {}, "zero": {}}
    yesterday: dict[tuple, dict] = {}
    for day in range(1, DAYS + 1):
        feed.deliver(day)

        # A full refresh over the same files, to compare with (models only: the last build
        # of stock_extra and its tests, which the export judges, stays the daily one).
        full = tmp_path / f"full-{day}.duckdb"
        assert invoke(project, "run", "-s", "+stock_extra", "--database", str(full), env=env).exit_code == 0

        # -- build: every test passes, nothing forced --------------------------------
        built = invoke(project, "build", env=env)
        assert built.exit_code == 0, built.output
        verdicts = statuses(project)
        late = {"warn_lines_older_than_the_window": "warn"} if day == 5 else {}
        assert {name: s for name, s in verdicts.items() if s not in ("pass", "success")} == late, day
        assert verdicts["assert_stock_extra_covers_accepted_lines"] == "pass"
        [(start,)] = query(database, "select window_start from stockx_incremental_windows "
                                     "where relation_name like '%stock_extra'")
        # lookback_days 1: each build replaces from the day before its newest built day
        assert start == (None if day == 1 else feed.date_of(day - 2)), day
        since = f"stock_date_at >= date '{start}'" if start else "true"
        before = f"stock_date_at < date '{start}'" if start else "false"
        table = rows_of(database)

        # -- every raw line accounted for ---------------------------------------------
        assert query(database, "select count(*) from int_inventory_lines") == [(feed.raw_lines(),)]
        rejected = Counter(dict(query(database, "select reject_reason, count(*) from stock_extra_rejects group by 1")))
        assert rejected == feed.expected_rejects(day), day
        accepted_keys = {tuple(str(v) for v in k) for k in query(database, f"""
            select distinct product_id, location_id, product_variant, stock_date_at from int_inventory_lines
            where reject_reason is null and {since}""")}
        assert accepted_keys == set(rows_of(database, since)), day
        if day >= 4:  # SKU-07's rows before the window are kept as they were
            assert {k[3] for k in table if k[0] == "P-" + LEAVING[4:]} == {feed.date_of(1).isoformat()}

        # -- inside the window a full refresh, before it yesterday's rows ------------------
        assert rows_of(database, since) == rows_of(full, since), day
        kept = rows_of(database, before)
        assert kept == {k: yesterday.get(k) for k in kept} and (day < 5 or len(kept) > 0), day

        # -- push to each Peak, through faults and a kill -9 --------------------------------
        for policy, server in servers.items():
            set_policy(project, policy)
            env = push_env(server)
            gone = sorted(set(on_peak[policy]) - set(table))
            planned = invoke(project, "export", "--plan", env=env)
            assert planned.exit_code == 0, planned.output
            stock_extra_plan = planned.stdout[planned.stdout.index("plan for stock_extra "):]
            gone_line = next(line for line in stock_extra_plan.splitlines() if line.startswith("  gone "))
            assert int(gone_line.split()[1]) == len(gone), (day, policy)
            assert f"gone-keys {policy}:" in gone_line
            if day == 3 and policy == "keep":  # killed_at's pause file serves one kill per test
                killed_at(project, server, tmp_path, "before-record", 2)
                acknowledged = {tuple(json.loads(k)) for (k,) in state_query(
                    project, "select distinct key from acknowledged join destinations using (destination) "
                             "where base_url = ?", [server.base_url])}
                assert acknowledged <= set(server.stored_keys())  # never marked sent but not sent
            if day in (2, 4):
                server.script(Reply(503), Reset(), None, Reply(429, {"Retry-After": "0"}))
            pushed = invoke(project, "export", "--push", env=env)
            assert pushed.exit_code == 0, pushed.output
            # The killed push may leave one request torn mid-body (in flight: 1); nothing else may break the contract.
            torn = [v for v in server.violations if v.startswith("body is not UTF-8 JSON")]
            assert server.violations == torn and len(torn) <= (1 if day >= 3 else 0), server.violations
            on_peak[policy].update(table)
            if policy == "zero":
                on_peak[policy].update({key: zero_row(key) for key in gone})
            assert {key_of(r): r for r in server.held_rows()} == on_peak[policy], (day, policy)
            assert bool(gone) == (day >= 4), (day, policy)  # SKU-07's keys in the window
        yesterday = table

    # Five objects per push, parents first. The killed push (closed by the next one) is one object's; the
    # objects before it in that push finished.
    state = project / ".stockx" / "state.duckdb"
    [(killed,)] = query(state, "select model from runs where status = 'aborted'")
    before = FAMILY.index(killed)
    runs = query(state, "select status, count(*) from runs group by 1 order by 1")
    assert runs == [("aborted", 1), ("success", 2 * DAYS * len(FAMILY) + before)]
    for model in FAMILY:  # every object of the family went to each Peak every day
        assert query(state, f"select count(*) from runs where model = '{model}' and status = 'success'") == [
            (2 * DAYS + (1 if FAMILY.index(model) < before else 0),)]
