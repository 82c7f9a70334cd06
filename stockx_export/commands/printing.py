"""What the export and sync commands print, shared by them: state contents scrubbed of the token."""

from __future__ import annotations

import os
from pathlib import Path

import click

from stockx_export.paths import shown
from stockx_export.redact import SECRET_ENV, Redactor


def echo_scrubbed(text: str) -> None:
    """Print ``text`` with the token (when PEAK_AUTH_TOKEN is set) removed in any encoding:
    it may quote Peak's answers, or a state written by an older version."""
    click.echo(Redactor.from_env(os.environ, SECRET_ENV).scrub(text))


def no_state(state: Path) -> None:
    click.echo(f"no sync state yet at {shown(state)} (`stockx export --push` creates it)")
