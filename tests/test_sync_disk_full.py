"""The disk of the sync state fills up halfway through a push: the push stops with
exit code 2 and says no space is left, the pages recorded before stay recorded,
and once space is freed the next push sends only the rows not acknowledged.

Two ways: a cursor that fails as DuckDB does on a full disk, passed through the
state's writer seam; and a real, small tmpfs in a private mount namespace (root
only; skipped, saying why, where it cannot be mounted)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from sync_support import (TOKEN, RecordingPeak, acknowledged_keys, change_table, expected_rows, invoke, make_project,
                          push_env, state_query)

from stockx_export.core.config import load_config
from stockx_export.errors import SyncStateError
from stockx_export.export import run
from stockx_export.export.http import new_client
from stockx_export.sync.push import Sync
from stockx_export.sync.settings import resolve_sync_settings

ROWS = 600
PAGE = 50
KEYS = ("product_id", "location_id", "product_variant", "stock_date_at")
NO_SPACE = "No space left on device"


def key_of(row):
    return tuple(row[k] for k in KEYS)


def kept_message(state: Path, detail: str) -> str:
    return (f"no space left on the device to write sync state {state} ({detail}); what was recorded before is "
            "kept: free space there, then run the command again (a push then sends only the rows not yet "
            "acknowledged)")


class FullDisk:
    """A state cursor that, once ``full`` is set, fails every write the way DuckDB
    does on a full disk: statements inside a transaction still succeed (in memory)
    but the COMMIT fails and ends the transaction; a write outside one fails.
    With ``pages_left`` set, the disk fills up once that many pages are recorded."""

    def __init__(self, cursor, state: Path, pages_left: int | None = None) -> None:
        self.cursor = cursor
        self.full = False
        self.in_transaction = False
        self.pages_left = pages_left
        self.records_page = False
        self.error = (f'TransactionContext Error: Failed to commit: Could not write file "{state}.wal": '
                      f"{NO_SPACE}")

    def execute(self, sql, params=None):
        verb = sql.split(None, 1)[0].upper()
        if verb == "BEGIN":
            self.in_transaction = True
            self.records_page = False
        elif verb in ("COMMIT", "ROLLBACK"):
            self.in_transaction = False
            if verb == "COMMIT" and self.full:
                self.cursor.execute("ROLLBACK")
                raise duckdb.TransactionException(self.error)
            if verb == "COMMIT" and self.records_page and self.pages_left is not None:
                self.pages_left -= 1
                if self.pages_left == 0:
                    result = self.cursor.execute(sql)
                    self.full = True  # the disk fills up right after this page is recorded
                    return result
        elif verb == "INSERT" and "acknowledged" in sql:
            self.records_page = True
        elif verb in ("INSERT", "UPDATE", "DELETE") and self.full and not self.in_transaction:
            raise duckdb.TransactionException(self.error)
        return self.cursor.execute(sql, params) if params is not None else self.cursor.execute(sql)

    def close(self):
        self.cursor.close()


@pytest.fixture
def server():
    with RecordingPeak() as peak:
        yield peak


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = make_project(tmp_path / "proj", ROWS, page_rows=PAGE)
    monkeypatch.chdir(root)
    return root


def test_a_full_disk_stops_the_push_and_the_rerun_sends_only_the_rest(project, server):
    env = push_env(server)
    config = load_config(str(project))
    job = run.prepare(config, "stock_extra", {}, env, dry_run=False)
    settings = resolve_sync_settings(config.root, config.settings.get("sync"))
    disks = []

    def writer(con):
        disks.append(FullDisk(con.cursor(), settings.state, pages_left=3))
        return disks[0]

    with Sync(job, settings, config.database, state_writer=writer) as sync:
        plan = sync.plan()
        with new_client(job.settings) as client, pytest.raises(SyncStateError) as caught:
            sync.push(plan, client, TOKEN, project / "target" / "export" / "rejected.jsonl")

    assert caught.value.exit_code == 2
    assert str(caught.value) == kept_message(settings.state, disks[0].error)
    rows = expected_rows(project)
    # Pages are recorded as their answers arrive (in any order): three whole pages of the table.
    recorded = acknowledged_keys(project)
    assert len(recorded) == 3 * PAGE and recorded <= {key_of(r) for r in rows}
    assert state_query(project, "SELECT run_id, status, rows_acknowledged FROM runs") == [(1, "running", 3 * PAGE)]

    before = len(server.stored)
    again = invoke(project, "export", "--push", env=env)
    assert again.exit_code == 0, again.output
    resent = server.stored_keys(before)
    assert len(resent) == len(set(resent))
    assert set(resent) == {key_of(r) for r in rows} - recorded
    assert server.held_rows() == rows
    runs = state_query(project, "SELECT run_id, status, rows_acknowledged FROM runs ORDER BY run_id")
    assert runs == [(1, "aborted", 3 * PAGE), (2, "success", ROWS - 3 * PAGE)]


# -- a real full filesystem ------------------------------------------------------------------
class MountNamespace:
    """A private mount namespace holding a small tmpfs at ``mount``: it and the tmpfs
    go away with the process that holds them, so the host sees no mount at all."""

    def __init__(self, mount: Path, size: str) -> None:
        self.mount = mount
        mount.mkdir(parents=True)
        script = f"mount -t tmpfs -o size={size} tmpfs {mount} && echo mounted && exec sleep 600"
        self.holder = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.holder.stdout.readline()
        if line != "mounted\n":
            self.holder.kill()
            reason = self.holder.communicate()[1].strip()
            pytest.skip(f"cannot mount a tmpfs in a private mount namespace here: {reason or 'no output'}")

    def run(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
        """``args`` inside the namespace (so it sees the tmpfs)."""
        return subprocess.run(["nsenter", f"--mount=/proc/{self.holder.pid}/ns/mnt", "--", *args],
                              env=env, cwd=cwd, capture_output=True, text=True, timeout=300)

    def close(self) -> None:
        self.holder.kill()
        self.holder.wait()


@pytest.fixture
def tmpfs(tmp_path):
    missing = [tool for tool in ("unshare", "nsenter") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (util-linux)")
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    namespace = MountNamespace(tmp_path / "mnt", "8m")
    yield namespace
    namespace.close()


def test_a_real_full_disk(tmp_path, server, tmpfs):
    root = make_project(tmp_path / "proj", 3000, page_rows=PAGE)
    state = tmpfs.mount / "state.duckdb"
    env = {**os.environ, **push_env(server)}

    def push(*args: str):
        return tmpfs.run(sys.executable, "-m", "stockx_export.cli", "export", "--push", "--state-db", str(state),
                         "--project-dir", str(root), *args, env=env, cwd=root)

    first = push()
    assert first.returncode == 0, first.stderr
    change_table(root, "UPDATE main.stock_extra SET stock_units = stock_units + 1")
    fill = textwrap.dedent(f"""
        import os
        st = os.statvfs({str(tmpfs.mount)!r})
        with open({str(tmpfs.mount / 'filler')!r}, 'wb') as f:
            f.write(bytes(st.f_bavail * st.f_frsize - 200_000))
    """)
    assert tmpfs.run(sys.executable, "-c", fill).returncode == 0

    before = len(server.stored)
    full = push("--force")
    assert full.returncode == 2, full.stderr
    assert "Traceback" not in full.stderr
    error = full.stderr.splitlines()[-1]
    detail = f'TransactionContext Error: Failed to commit: Could not write file "{state}.wal": {NO_SPACE}'
    assert error == "Error: " + kept_message(state, detail)
    sent_while_full = server.stored_keys(before)

    dump = textwrap.dedent(f"""
        import duckdb, json
        con = duckdb.connect({str(state)!r}, read_only=True)
        print(json.dumps(con.execute("SELECT key FROM acknowledged WHERE run_id = 2").fetchall()))
    """)
    assert tmpfs.run("rm", str(tmpfs.mount / "filler")).returncode == 0
    read = tmpfs.run(sys.executable, "-c", dump)
    assert read.returncode == 0, read.stderr
    recorded = {tuple(json.loads(key)) for (key,) in json.loads(read.stdout)}
    assert 0 < len(recorded) < 3000
    assert recorded <= set(sent_while_full)

    before = len(server.stored)
    again = push("--force")
    assert again.returncode == 0, again.stderr
    resent = server.stored_keys(before)
    assert len(resent) == len(set(resent))
    rows = expected_rows(root)
    assert set(resent) == {key_of(r) for r in rows} - recorded
    assert server.held_rows() == rows
