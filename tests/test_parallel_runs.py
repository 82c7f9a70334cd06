"""`--threads N`: independent nodes built at once, with the verdicts, tables and log of a run on one thread."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import duckdb
import pytest

from conftest import Invoker, node_results, write_project
from test_stock_extra import copy_project

TIME = re.compile(r"^\d\d:\d\d:\d\d  |\[[^\]]*\]$|in \d+\.\d\ds\.$")


def log_lines(output: str) -> list[str]:
    """The run's lines without clock times and durations."""
    return [TIME.sub("", line).rstrip(". ") for line in output.splitlines()]


def tables(database: Path) -> dict[str, list[tuple]]:
    """Every table's and view's rows, sorted, with its column types."""
    with duckdb.connect(str(database), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables order by all").fetchall()
        found = {}
        for schema, name in names:
            relation = f'"{schema}"."{name}"'
            types = con.execute(f"describe {relation}").fetchall()
            # stockx's record of incremental windows says when each was built: not part of the result.
            columns = ", ".join(f'"{c[0]}"' for c in types if c[0] != "built_at")
            found[f"{schema}.{name}"] = [tuple(types)] + sorted(
                con.execute(f"select {columns} from {relation}").fetchall(), key=repr)
        return found


def verdicts(root: Path) -> list[tuple[str, str, str]]:
    """(name, status, message) of every node of the last run, in the run's order."""
    return [(r["name"], r["status"], r["message"] or "") for r in node_results(root)]


def test_the_sample_builds_the_same_on_four_threads_as_on_one(tmp_path):
    """Tables (rows and types), every node's verdict and message, and the log lines, in the same order."""
    runs = {}
    for threads in ("1", "4"):
        root = copy_project(tmp_path / f"threads_{threads}")
        result = Invoker(root)("build", "--threads", threads)
        assert result.exit_code == 0, result.output
        runs[threads] = (log_lines(result.output), verdicts(root), tables(root / "target" / "stockx.duckdb"), root)
    one, four = runs["1"], runs["4"]
    assert four[0] == one[0]
    assert four[1] == one[1]
    assert four[2] == one[2]
    assert any(name.endswith(".stock_extra") for name in four[2])
    threads_used = {r["thread_id"] for r in json.loads((four[3] / "target" / "run_results.json").read_text())["results"]}
    assert len(threads_used) > 1 and threads_used <= {f"Thread-{i}" for i in range(1, 5)}
    args = json.loads((four[3] / "target" / "run_results.json").read_text())["args"]
    assert args["threads"] == 4


FAILING = {
    "seeds/items.csv": "id,qty\n1,5\n2,-1\n3,7\n",
    "models/broken.sql": "select id, no_such_column from {{ ref('items') }}\n",
    "models/after_broken.sql": "select * from {{ ref('broken') }}\n",
    "models/after_after_broken.sql": "select * from {{ ref('after_broken') }}\n",
    "models/positive.sql": "{{ config(materialized='table') }}\nselect id, qty from {{ ref('items') }}\n",
    "models/positive_child.sql": "select * from {{ ref('positive') }}\n",
    "models/independent.sql": "{{ config(materialized='table') }}\nselect 1 as one\n",
    "models/schema.yml": """
        models:
          - name: positive
            columns:
              - name: qty
                data_tests:
                  - not_null
                  - accepted_values:
                      values: [5, 7]
                      quote: false
          - name: independent
            columns:
              - name: one
                data_tests: [unique]
    """,
}


@pytest.mark.parametrize("threads", ["2", "8"])
def test_failures_skip_the_same_nodes_whatever_the_threads(tmp_path, threads):
    """A failed model skips what reads it; a failed test skips its model's children, not its sibling tests."""
    one = write_project(tmp_path / "one", FAILING)
    many = write_project(tmp_path / "many", FAILING)
    first = Invoker(one)("build", "--threads", "1")
    second = Invoker(many)("build", "--threads", threads)
    assert first.exit_code == second.exit_code == 1
    assert verdicts(many) == verdicts(one)
    assert log_lines(second.output) == log_lines(first.output)
    status = {name: (s, m) for name, s, m in verdicts(many)}
    assert status["after_broken"] == ("skipped", "skipped: upstream broken failed")
    assert status["after_after_broken"] == ("skipped", "skipped: upstream broken failed")
    assert status["positive_child"][0] == "skipped"
    assert status["independent"][0] == "success"
    assert status["not_null_positive_qty"][0] == "pass"


SLOW = "{{ config(materialized='table') }}\nselect sum(i) as total from range(150000000) t(i)\n"


def test_independent_nodes_run_at_the_same_time_on_their_own_connections(tmp_path):
    root = write_project(tmp_path / "p", {"models/slow_a.sql": SLOW, "models/slow_b.sql": SLOW,
                                          "models/after.sql": "select * from {{ ref('slow_a') }}, {{ ref('slow_b') }}\n"})
    result = Invoker(root)("run", "--threads", "2")
    assert result.exit_code == 0, result.output
    results = {r["unique_id"].split(".")[-1]: r for r in json.loads(
        (root / "target" / "run_results.json").read_text())["results"]}
    a, b, after = (results[n]["timing"][0] for n in ("slow_a", "slow_b", "after"))
    assert results["slow_a"]["thread_id"] != results["slow_b"]["thread_id"]
    assert a["started_at"] < b["completed_at"] and b["started_at"] < a["completed_at"]  # they overlapped
    assert after["started_at"] >= max(a["completed_at"], b["completed_at"])  # and what reads both waited


def test_a_node_waits_for_an_unselected_view_between_it_and_its_selected_parent(tmp_path):
    """`-s first+ -s last` without the middle view: last still starts only once first is built."""
    root = write_project(tmp_path / "p", {
        "models/first.sql": SLOW,
        "models/middle.sql": "select * from {{ ref('first') }}\n",
        "models/last.sql": "{{ config(materialized='table') }}\nselect * from {{ ref('middle') }}\n",
    })
    assert Invoker(root)("run", "--threads", "1").exit_code == 0
    result = Invoker(root)("run", "--threads", "4", "-s", "first", "last")
    assert result.exit_code == 0, result.output
    results = {r["unique_id"].split(".")[-1]: r["timing"][0] for r in json.loads(
        (root / "target" / "run_results.json").read_text())["results"]}
    assert set(results) == {"first", "last"}
    assert results["last"]["started_at"] >= results["first"]["completed_at"]


def test_tests_run_once_their_model_is_built_and_a_test_run_fails_nothing_else(tmp_path):
    root = write_project(tmp_path / "p", FAILING)
    Invoker(root)("build", "--threads", "1")
    one = verdicts(root)
    result = Invoker(root)("test", "--threads", "4")
    assert result.exit_code == 1
    tested = {name: s for name, s, _ in verdicts(root)}
    assert tested["accepted_values_positive_qty__False__5__7"] == "fail"
    assert tested["not_null_positive_qty"] == tested["unique_independent_one"] == "pass"
    built_tests = [v for v in one if v[0] in tested]
    assert verdicts(root) == built_tests


def unit_test_project(extra_pyproject: str = "") -> dict[str, str]:
    """Eight unit tests of one model, each overriding the var the model multiplies by."""
    files = {"models/scaled.sql": "select {{ var('factor') }} * x as y from {{ ref('base') }}\n",
             "models/base.sql": "select 1 as x\n",
             "pyproject.toml": '[tool.stockx]\nname = "demo"\n[tool.stockx.vars]\nfactor = 1\n' + extra_pyproject}
    tests = []
    for factor in range(1, 9):
        tests += [f"  - name: scaled_by_{factor}", "    model: scaled", f"    overrides: {{vars: {{factor: {factor}}}}}",
                  "    given: [{input: ref('base'), rows: [{x: 3}]}]", f"    expect: {{rows: [{{y: {3 * factor}}}]}}"]
    files["models/unit.yml"] = "unit_tests:\n" + "\n".join(tests) + "\n"
    return files


def test_unit_tests_in_parallel_see_their_own_overrides(tmp_path):
    """Unit tests override vars and macros in the one Jinja context: run at once, none sees another's."""
    root = write_project(tmp_path / "p", unit_test_project())
    result = Invoker(root)("test", "--threads", "4")
    assert result.exit_code == 0, result.output
    assert [s for _, s, _ in verdicts(root)] == ["pass"] * 8


def _other_engine_run(tmp_path, target_table: str, builds: int = 2) -> set[str]:
    """Unit tests and windowed models at once on another engine: each worker its own connection or
    the shared session, one schema created once, fixture views that do not collide."""
    files = unit_test_project(target_table)
    portable = WINDOWED.split("select")[0] + "select id, day from {{ ref('days') }}\n"
    files.update({f"models/windowed_{i}.sql": portable for i in range(3)})
    files["seeds/days.csv"] = "id,day\n" + "".join(f"{i},2026-11-{1 + i % 20:02d}\n" for i in range(200))
    root = write_project(tmp_path / "p", files)
    stockx = Invoker(root)
    for _ in range(builds):  # a first build, then the windows replaced at once
        result = stockx("build", "--target", "other", "--threads", "4")
        assert result.exit_code == 0, result.output
    statuses = {name: status for name, status, _ in verdicts(root)}
    assert [statuses[f"scaled_by_{f}"] for f in range(1, 9)] == ["pass"] * 8
    assert {statuses[f"windowed_{i}"] for i in range(3)} == {"success"}
    return {r["thread_id"] for r in json.loads((root / "target" / "run_results.json").read_text())["results"]}


def test_a_parallel_build_on_postgres(tmp_path, postgres_dsn):
    from conftest import dsn_settings

    settings = dsn_settings(postgres_dsn)
    schema = f"par_{uuid.uuid4().hex[:8]}"
    used = _other_engine_run(tmp_path, f'[tool.stockx.targets.other]\ntype = "postgres"\nhost = "{settings["host"]}"\n'
                                f'port = {settings["port"]}\nuser = "{settings["user"]}"\ndbname = "postgres"\n'
                                f'schema = "{schema}"\n')
    assert len(used) > 1


def test_spark_builds_one_node_at_a_time_whatever_the_threads(tmp_path, spark_session):
    """No transactions on Spark: a relation mid-swap is missing to a reader, so nodes take turns."""
    schema = f"par_{uuid.uuid4().hex[:8]}"
    used = _other_engine_run(tmp_path, f'[tool.stockx.targets.other]\ntype = "spark"\nschema = "{schema}"\n', builds=1)
    assert used == {"Thread-1"}
    assert spark_session.sql("show tables in global_temp").collect() == []


def test_threads_come_from_the_flag_then_the_target_then_the_cores(tmp_path):
    root = write_project(tmp_path / "p", {
        "pyproject.toml": '[tool.stockx]\nname = "demo"\n[tool.stockx.targets.dev]\ntype = "duckdb"\nthreads = 3\n',
        **{f"models/m{i}.sql": "select 1 as x\n" for i in range(8)},
    })
    assert Invoker(root)("run", "--target", "dev").exit_code == 0
    used = {r["thread_id"] for r in json.loads((root / "target" / "run_results.json").read_text())["results"]}
    assert used <= {"Thread-1", "Thread-2", "Thread-3"}
    assert Invoker(root)("run", "--target", "dev", "--threads", "1").exit_code == 0
    used = {r["thread_id"] for r in json.loads((root / "target" / "run_results.json").read_text())["results"]}
    assert used == {"Thread-1"}


@pytest.mark.parametrize("value", ['"many"', "0", "true"])
def test_a_bad_threads_setting_is_named(tmp_path, value):
    root = write_project(tmp_path / "p", {
        "pyproject.toml": f'[tool.stockx]\nname = "demo"\n[tool.stockx.targets.dev]\ntype = "duckdb"\nthreads = {value}\n',
        "models/m.sql": "select 1 as x\n",
    })
    result = Invoker(root)("run", "--target", "dev")
    assert result.exit_code == 2
    assert "threads must be a whole number of at least 1" in result.output
    assert "Traceback" not in result.output


WINDOWED = """
{{ config(materialized='incremental', incremental_strategy='replace_window', window_column='day',
          unique_key=['id', 'day'], lookback_days=3) }}
select i as id, date '2026-11-01' + cast(i % 20 as integer) as day from range(20000) t(i)
"""


def test_windowed_and_new_schema_models_built_at_once_do_not_conflict(tmp_path):
    """Six windowed models share stockx's record of windows, and six models one new schema: built at
    once, on a new database, each would create them in its own transaction and all but one would fail."""
    files = {f"models/windowed_{i}.sql": WINDOWED for i in range(6)}
    files.update({f"models/elsewhere_{i}.sql": "{{ config(schema='elsewhere', materialized='table') }}\n"
                  "select i from range(20000) t(i)\n" for i in range(6)})
    for attempt in range(3):  # each attempt on a new database
        root = write_project(tmp_path / f"p{attempt}", files)
        result = Invoker(root)("run", "--threads", "12")
        assert result.exit_code == 0, result.output
        assert "conflict" not in result.output
        again = Invoker(root)("run", "--threads", "12")  # and the windows replaced at once
        assert again.exit_code == 0, again.output


def test_postgres_rebuilds_tables_under_one_view_at_once(tmp_path, postgres_dsn):
    """Replacing a table drops and recreates the views over it: four tables under one view, rebuilt at once,
    took turns with the view (else: deadlock detected, or a view bound to a table already dropped)."""
    from conftest import dsn_settings

    settings = dsn_settings(postgres_dsn)
    schema = f"par_{uuid.uuid4().hex[:8]}"
    files = {"pyproject.toml": f'[tool.stockx]\nname = "demo"\n[tool.stockx.targets.pg]\ntype = "postgres"\n'
                               f'host = "{settings["host"]}"\nport = {settings["port"]}\nuser = "{settings["user"]}"\n'
                               f'dbname = "postgres"\nschema = "{schema}"\n'}
    for i in range(1, 5):
        files[f"models/t{i}.sql"] = (f"{{{{ config(materialized='table') }}}}\n"
                                     f"select g as id, g * {i} as v from generate_series(1, 20000) g\n")
    files["models/v.sql"] = ("select t1.id, t1.v + t2.v + t3.v + t4.v as total from {{ ref('t1') }} t1 "
                             "join {{ ref('t2') }} t2 using (id) join {{ ref('t3') }} t3 using (id) "
                             "join {{ ref('t4') }} t4 using (id)\n")
    root = write_project(tmp_path / "p", files)
    stockx = Invoker(root)
    for _ in range(4):
        result = stockx("run", "--target", "pg", "--threads", "4")
        assert result.exit_code == 0, result.output
    assert {s for _, s, _ in verdicts(root)} == {"success"}


def dbt_project_with_hooks(tmp_path: Path, hooks: str) -> Path:
    files = {
        "pyproject.toml": '[project]\nname = "not-stockx"\n',
        "profiles.yml": "shop:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: target/shop.duckdb}\n",
        "dbt_project.yml": f"name: shop\nprofile: shop\nconfig-version: 2\n{hooks}models:\n  shop:\n    +materialized: table\n",
        **{f"models/tz{i}.sql": f"select current_setting('TimeZone') as tz, {i} as i\n" for i in range(1, 5)},
    }
    return write_project(tmp_path / "shop", files)


def test_on_run_start_hooks_keep_a_default_run_on_one_connection(tmp_path):
    """A hook may set the connection's state (each worker has its own): by default, nodes then run one at a
    time on the hook's connection, and the log says so."""
    root = dbt_project_with_hooks(tmp_path, "on-run-start: [\"set TimeZone = 'Asia/Tokyo'\"]\n")
    result = Invoker(root)("build")
    assert result.exit_code == 0, result.output
    assert "the project has on-run-start hooks: nodes run one at a time" in result.output
    with duckdb.connect(str(root / "target" / "shop.duckdb"), read_only=True) as con:
        zones = {con.execute(f"select tz from main.tz{i}").fetchone()[0] for i in range(1, 5)}
    assert zones == {"Asia/Tokyo"}


def test_on_run_end_sees_the_thread_each_node_ran_on(tmp_path):
    hook = ("on-run-end: [\"create or replace table main.tids as select * from (values {% for r in results %}"
            "('{{ r.node.name }}', '{{ r.thread_id }}'){{ ',' if not loop.last }}{% endfor %}) t(n, tid)\"]\n")
    root = dbt_project_with_hooks(tmp_path, hook)
    result = Invoker(root)("build", "--threads", "4")
    assert result.exit_code == 0, result.output
    recorded = {r["unique_id"].split(".")[-1]: r["thread_id"]
                for r in json.loads((root / "target" / "run_results.json").read_text())["results"]}
    with duckdb.connect(str(root / "target" / "shop.duckdb"), read_only=True) as con:
        seen = dict(con.execute("select n, tid from main.tids").fetchall())
    assert seen == recorded
    assert len(set(seen.values())) > 1


@pytest.mark.parametrize("threads", ["1", "3"])
def test_ctrl_c_stops_the_running_statements_at_once(tmp_path, threads):
    """Ctrl-C while a long statement runs: `Aborted!`, exit 1, the same on one thread and several."""
    import os
    import signal
    import subprocess
    import sys
    import time

    slow = "{{ config(materialized='table') }}\nselect sum(i) as s from range(100000000000) t(i)\n"
    root = write_project(tmp_path / "p", {"models/slow_1.sql": slow, "models/slow_2.sql": slow})
    process = subprocess.Popen([sys.executable, "-m", "stockx_export.cli", "run", "--project-dir", str(root),
                                "--threads", threads], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    compiled = root / "target" / "compiled" / "models" / "slow_1.sql"
    deadline = time.monotonic() + 60
    while not compiled.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)  # the node's SQL is written just before it runs
    assert compiled.exists()
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)  # a statement of 10^11 rows would run for many minutes
    assert process.returncode == 1, output
    assert "Aborted!" in output and "Internal error" not in output
    assert os.path.exists(root / "target" / "stockx.duckdb")
