"""A damaged sync state: every command that opens it stops with exit code 2 and
one message naming the file and the way out, sends nothing, and leaves the file
as it was. Then the way out works."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from sync_support import RecordingPeak, expected_rows, invoke, make_project, push_env, state_path

COMMANDS = {
    "push": ("export", "--push"),
    "plan": ("export", "--plan"),
    "runs": ("runs",),
    "rejected": ("rejected",),
}
BLOCK = 262144  # DuckDB's block size; blocks follow three 4 KiB headers
HEADERS = 3 * 4096


@pytest.fixture(scope="module")
def pushed(tmp_path_factory):
    """A project whose state holds one push, with acknowledged and rejected rows."""
    root = make_project(tmp_path_factory.mktemp("template") / "proj", 600)
    with RecordingPeak() as server:
        server.fail_keys = {("P0003", "L0", "size:S", "2025-01-28")}
        result = invoke(root, "export", "--push", env=push_env(server))
    assert result.exit_code in (0, 1), result.output
    return root


@pytest.fixture
def server():
    with RecordingPeak() as peak:
        yield peak


@pytest.fixture
def project(pushed, tmp_path, monkeypatch):
    root = tmp_path / "proj"
    shutil.copytree(pushed, root)
    monkeypatch.chdir(root)
    return root


def truncate(state: Path) -> None:
    data = state.read_bytes()
    state.write_bytes(data[: len(data) // 3])


def overwrite(state: Path, offset: int) -> None:
    data = bytearray(state.read_bytes())
    data[offset:offset + 64] = bytes(range(64))
    state.write_bytes(bytes(data))


def overwrite_middle(state: Path) -> None:
    con = duckdb.connect(str(state), read_only=True)
    (free,) = con.execute("SELECT free_blocks FROM pragma_database_size()").fetchone()
    con.close()
    assert free == 0  # so the middle of the file is a block in use
    overwrite(state, state.stat().st_size // 2)


def overwrite_acknowledged(state: Path) -> None:
    con = duckdb.connect(str(state), read_only=True)
    (block,) = con.execute(
        "SELECT min(block_id) FROM pragma_storage_info('acknowledged') WHERE block_id >= 0").fetchone()
    con.close()
    overwrite(state, HEADERS + block * BLOCK + BLOCK // 2)


def alter(sql: str):
    def damage(state: Path) -> None:
        con = duckdb.connect(str(state))
        con.execute(sql)
        con.close()

    return damage


CORRUPT = {
    "truncated": (truncate, "Could not read enough bytes"),
    "overwritten in the middle": (overwrite_middle, "Corrupt database file"),
    "overwritten in a data block": (overwrite_acknowledged, "Corrupt database file"),
}


def way_out(state: Path) -> str:
    return (f"move it aside (mv {state} {state}.damaged), then run `stockx export --push --full`, which sends "
            "every row again and starts a new state")


def run_on_damaged(project: Path, server, command: str):
    state = state_path(project)
    before = state.read_bytes()
    result = invoke(project, *COMMANDS[command], env=push_env(server))
    assert state.read_bytes() == before  # nothing written to it
    assert server.log == []  # nothing sent
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Traceback" not in result.output
    return state, result.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("damage", sorted(CORRUPT))
def test_a_corrupt_state_is_named_with_the_way_out(project, server, damage, command):
    corrupt, detail = CORRUPT[damage]
    corrupt(state_path(project))
    state, stderr = run_on_damaged(project, server, command)
    match = re.fullmatch(rf"Error: sync state (.+) cannot be read, it is damaged: (.+); (.+)\n", stderr)
    assert match, stderr
    assert match.group(1) == str(state)
    assert detail in match.group(2)
    assert match.group(3) == way_out(state)


SCHEMA = {
    "another schema version": (
        "UPDATE meta SET value = '2' WHERE name = 'schema_version'",
        "{state} has schema version 2; this stockx reads version 1: use the stockx that wrote it, or {way_out}"),
    "a missing table": (
        "DROP TABLE rejected",
        "{state} does not hold the tables this stockx keeps (no table rejected): it was changed by hand or by "
        "another program; {way_out}"),
    "a missing column": (
        "ALTER TABLE runs DROP COLUMN merged",
        "{state} does not hold the tables this stockx keeps (runs has no column merged): it was changed by hand "
        "or by another program; {way_out}"),
    "an extra column": (
        "ALTER TABLE acknowledged ADD COLUMN note VARCHAR",
        "{state} does not hold the tables this stockx keeps (acknowledged has columns (destination VARCHAR, "
        "key VARCHAR, fingerprint VARCHAR, acknowledged_at TIMESTAMP, run_id BIGINT, note VARCHAR), not "
        "(destination VARCHAR, key VARCHAR, fingerprint VARCHAR, acknowledged_at TIMESTAMP, run_id BIGINT)): "
        "it was changed by hand or by another program; {way_out}"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("change", sorted(SCHEMA))
def test_a_state_of_another_schema_is_named_with_the_way_out(project, server, change, command):
    sql, message = SCHEMA[change]
    alter(sql)(state_path(project))
    state, stderr = run_on_damaged(project, server, command)
    assert stderr == "Error: sync state " + message.format(state=state, way_out=way_out(state)) + "\n"


def test_the_way_out_names_a_leftover_wal_too(project, server):
    state = state_path(project)
    truncate(state)
    Path(f"{state}.wal").write_bytes(b"left by a crash")
    result = invoke(project, "runs")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        f"; move it aside (mv {state} {state}.damaged && mv {state}.wal {state}.damaged.wal), then run "
        "`stockx export --push --full`, which sends every row again and starts a new state\n")


def test_after_moving_the_damaged_state_aside_a_full_push_starts_over(project, server):
    state = state_path(project)
    overwrite_middle(state)
    failed = invoke(project, "export", "--push", env=push_env(server))
    assert failed.exit_code == 2
    os.rename(state, f"{state}.damaged")
    result = invoke(project, "export", "--push", "--full", env=push_env(server))
    assert result.exit_code == 0, result.output
    assert server.held_rows() == expected_rows(project)
    assert invoke(project, "runs").exit_code == 0


# -- a state that is not damaged, but cannot be written or is not a file (review findings 11, 19) --
@pytest.fixture
def read_only(project):
    """The state file made unwritable as the system sees it: immutable for root (whom
    file modes do not stop), mode 0444 for anyone else."""
    import subprocess

    state = state_path(project)
    if os.geteuid() == 0:
        made = subprocess.run(["chattr", "+i", str(state)], capture_output=True)
        if made.returncode != 0:
            pytest.skip(f"chattr +i is not available here: {made.stderr.decode().strip()}")
        yield state
        subprocess.run(["chattr", "-i", str(state)], check=True)
    else:
        state.chmod(0o444)
        yield state
        state.chmod(0o644)


def test_a_state_that_cannot_be_written_is_not_called_damaged(project, server, read_only):
    """Review finding 11: the intact file was called damaged, with advice (move it aside,
    --full) that throws away its history and, under zero, the gone keys not yet zeroed."""
    before = read_only.read_bytes()
    for command in ("push", "plan"):
        result = invoke(project, *COMMANDS[command], env=push_env(server))
        assert result.exit_code == 2
        match = re.fullmatch(r"Error: cannot open sync state (.+) for writing \((.+)\); the file is not damaged: fix "
                             r"its permissions \(or those of its folder\), then run the command again\n", result.stderr)
        assert match, result.stderr
        assert match.group(1) == str(read_only)
        assert "it is damaged" not in result.stderr and "--full" not in result.stderr
    assert server.log == [] and read_only.read_bytes() == before
    # Reading it needs no writing: `runs` and `rejected` show what a writable copy shows.
    copy = project / "copy.duckdb"
    copy.write_bytes(before)
    for args in (("runs",), ("rejected",), ("rejected", "--format", "jsonl")):
        shown, expected = invoke(project, *args), invoke(project, *args, "--state-db", str(copy))
        assert (shown.exit_code, shown.stdout) == (0, expected.stdout), shown.output
    assert invoke(project, "runs").stdout.splitlines()[1].split()[0] == "1"


def test_a_state_db_that_is_a_folder_stops_every_command(project, server):
    """Review finding 19: `runs` and `rejected` said "no sync state yet" and exited 0, while
    --plan and --push called the folder a state that "cannot be read"."""
    folder = project / "a-folder"
    folder.mkdir()
    for command in sorted(COMMANDS):
        result = invoke(project, *COMMANDS[command], "--state-db", str(folder), env=push_env(server))
        assert (result.exit_code, result.stderr) == (2, (
            f"Error: sync state {folder} is a folder, not a DuckDB file: give --state-db (or [tool.stockx.sync] "
            "state) the path of a file, e.g. .stockx/state.duckdb\n")), command
    assert server.log == [] and list(folder.iterdir()) == []
