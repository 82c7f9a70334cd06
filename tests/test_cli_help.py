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


def test_the_readme_names_every_export_setting_and_only_the_flags_export_takes():
    """Review finding 20: the README listed backoff_base, backoff_cap and memory_limit among
    the settings the command line takes; `--memory-limit` is "No such option"."""
    import re
    from dataclasses import fields

    from stockx_export.export.settings import ExportSettings

    text = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8").split())
    paragraph = text[text.index("Settings come from `[tool.stockx.export]`"):]
    paragraph = paragraph[:paragraph.index("The last build")]
    every, flags = paragraph.split("The command line takes", 1)
    named = set(re.findall(r"`([a-z_]+)`", every))
    assert {f.name for f in fields(ExportSettings)} <= named
    command = cli.get_command(None, "export")
    options = {opt for param in command.params for opt in param.opts if opt.startswith("--")}
    listed, without = flags.split("have no flag", 1)[0].rsplit(";", 1)
    assert set(re.findall(r"`(--[a-z-]+)`", listed)) <= options
    for setting in re.findall(r"`([a-z_]+)`", without):
        assert "--" + setting.replace("_", "-") not in options


def test_the_readmes_selection_examples_select_nodes_of_the_sample_project():
    """Review taste T5: `-s tag:daily` selected nothing in the sample project."""
    import re

    text = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8").split())
    sentence = text[text.index("Selection works like dbt's:"):]
    sentence = sentence[:sentence.index("--exclude")]
    examples = re.findall(r"`-s ([^`]+)`", sentence)
    assert len(examples) >= 5
    for example in examples:
        if "<" in example:  # a placeholder, said to be one
            continue
        done = stockx("ls", "-s", example, "--project-dir", str(Path(__file__).resolve().parents[1]))
        assert done.returncode == 0 and done.stdout.strip(), (example, done.stderr)
        assert "nothing selected" not in done.stderr and "matches no node" not in done.stderr, example
