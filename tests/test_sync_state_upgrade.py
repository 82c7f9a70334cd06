"""A sync state written before held rows existed (no ``held`` table, no ``runs.rows_held``)
keeps working: opened for writing it is given both, opened read-only it is read as it is."""

from __future__ import annotations

import pytest
from sync_support import RecordingPeak, invoke, make_project, push_env, state_path, state_query

ROWS = 120


@pytest.fixture
def server():
    with RecordingPeak() as peak:
        yield peak


def _downgrade(root) -> None:
    import duckdb

    con = duckdb.connect(str(state_path(root)))
    try:
        con.execute("DROP TABLE held")
        con.execute("ALTER TABLE runs DROP COLUMN rows_held")
    finally:
        con.close()


def test_a_state_of_the_previous_layout_is_given_the_held_table(tmp_path, server):
    root = make_project(tmp_path / "proj", ROWS)
    assert invoke(root, "export", "--push", env=push_env(server)).exit_code == 0
    _downgrade(root)
    assert state_query(root, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'held'") == [(0,)]
    pushed = invoke(root, "export", "--push", env=push_env(server))
    assert pushed.exit_code == 0, pushed.output
    assert state_query(root, "SELECT run_id, rows_held FROM runs ORDER BY run_id") == [(1, 0), (2, 0)]
    assert state_query(root, "SELECT count(*) FROM held") == [(0,)]


def test_a_state_of_the_previous_layout_opened_read_only_is_read_as_it_is(tmp_path, server):
    from stockx_export.db import connect
    from stockx_export.sync.state import attach_state, current_held, recent_runs

    root = make_project(tmp_path / "proj", ROWS)
    assert invoke(root, "export", "--push", env=push_env(server)).exit_code == 0
    _downgrade(root)
    con = connect(":memory:")
    try:
        attach_state(con, state_path(root), read_only=True)  # what runs and rejected fall back to
        runs = recent_runs(con, 5)
        held = current_held(con)
    finally:
        con.close()
    assert [(r.run_id, r.status, r.held) for r in runs] == [(1, "success", 0)] and held == []
    assert state_query(root, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'held'") == [(0,)]
