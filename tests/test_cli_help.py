"""Every command's ``--help``, from the installed console script (``stockx`` next to
the Python running the tests), for every command in the CLI's command table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stockx_export.cli import COMMANDS, cli

STOCKX = Path(sys.executable).parent / "stockx"


def stockx(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(STOCKX), *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name):
    done = stockx(name, "--help")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith(f"Usage: stockx {name} [OPTIONS]")
    summary = cli.get_command(None, name).help.strip().splitlines()[0]
    assert summary and summary in " ".join(done.stdout.split())
    assert "--project-dir" in done.stdout


def test_the_group_lists_every_command_with_its_summary():
    done = stockx("--help")
    assert (done.returncode, done.stderr) == (0, "")
    listed = done.stdout.split("Commands:\n", 1)[1]
    assert sorted(line.split()[0] for line in listed.splitlines() if line.strip()) == sorted(COMMANDS)
