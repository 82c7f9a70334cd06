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


def command_paths() -> list[tuple[str, ...]]:
    """Every command as typed: ``("build",)``, and each sub-command of a group (``("docs", "generate")``)."""
    import click

    found = []
    for name in sorted(COMMANDS):
        command = cli.get_command(None, name)
        if isinstance(command, click.Group):
            found += [(name, sub) for sub in sorted(command.commands)]
        else:
            found.append((name,))
    return found


@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_every_command_has_help(path):
    done = stockx(*path, "--help")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith(f"Usage: stockx {' '.join(path)} [OPTIONS]")
    command = cli.get_command(None, path[0])
    for name in path[1:]:
        command = command.commands[name]
    summary = command.help.strip().splitlines()[0]
    assert summary and summary in " ".join(done.stdout.split())
    assert "--project-dir" in done.stdout


def test_a_group_of_commands_lists_its_commands_with_their_summaries():
    done = stockx("docs", "--help")
    assert (done.returncode, done.stderr) == (0, "")
    listed = done.stdout.split("Commands:\n", 1)[1]
    assert sorted(line.split()[0] for line in listed.splitlines() if line.strip()) == ["generate", "serve"]


def test_the_group_lists_every_command_with_its_summary():
    done = stockx("--help")
    assert (done.returncode, done.stderr) == (0, "")
    listed = done.stdout.split("Commands:\n", 1)[1]
    assert sorted(line.split()[0] for line in listed.splitlines() if line.strip()) == sorted(COMMANDS)
