"""Progress while pushing: a bar on a terminal, plain lines otherwise; and the line an abort ends with."""

from __future__ import annotations

import sys
import time
from typing import Any, Callable

import click

from stockx_export.export.deliver import Listeners, PageResult, RetryEvent
from stockx_export.export.service import Sending
from stockx_export.paths import shown
from stockx_export.tables import plural


class Progress:
    """Follows page results on stderr. On a terminal a ``click.progressbar`` over
    rows; elsewhere (CI logs, pipes) one line every ``every`` seconds and one
    per retry, so logs show a delivery that is stuck."""

    def __init__(self, total_rows: int, tty: bool, every: float = 5.0,
                 clock: Callable[[], float] = time.monotonic, verb: str = "pushed") -> None:
        self.total_rows = total_rows
        self.tty = tty
        self.every = every
        self.verb = verb  # "pushed", or "validated" for a dry run
        self.clock = clock
        self.rows = self.pages = self.rejected = 0
        self.started = self.last = clock()
        self.bar: Any = None
        if tty:
            self.bar = click.progressbar(length=total_rows, label=f"{verb} rows", file=click.get_text_stream("stderr"))
            self.bar.__enter__()

    @property
    def listeners(self) -> Listeners:
        return Listeners(on_page=self.page, on_retry=self.retry)

    def page(self, result: PageResult) -> None:
        self.pages += 1
        self.rows += len(result.page.rows)
        self.rejected += len(result.rejected)
        if self.bar is not None:
            self.bar.update(len(result.page.rows))
            return
        now = self.clock()
        if now - self.last >= self.every or self.rows == self.total_rows:
            self.last = now
            click.echo(
                f"{self.verb} {self.rows:,}/{plural(self.total_rows, 'row')} in {plural(self.pages, 'page')}, "
                f"{self.rejected:,} rejected, {now - self.started:.1f}s",
                err=True,
            )

    def retry(self, event: RetryEvent) -> None:
        if self.bar is None:
            click.echo(f"page {event.page}: {event.reason}, retry {event.attempt} in {event.delay:.1f}s", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


class Watch:
    """The ``progress`` callback of a push or a validation: a :class:`Progress` once the
    rows to send are known, and the line an abort ends with."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self.state = None

    def __call__(self, sending: Sending) -> Listeners:
        self.close()  # a family push calls it once per model
        self.state = sending.state
        verb = "validated" if sending.dry_run else "pushed"
        self.progress = Progress(sending.rows, tty=sys.stderr.isatty(), verb=verb)
        return self.progress.listeners

    def close(self) -> None:
        if self.progress is not None:
            self.progress.close()

    def object_aborted(self, outcome: Any, started: bool) -> None:
        """A family push's object aborted: the abort line, named by the object, once its delivery had started."""
        if started:
            self.aborted(f"{outcome.object} ({outcome.model})")

    def aborted(self, label: str = "") -> None:
        """After an abort, on stderr: how far the delivery got (and, with a state, that it is
        recorded); ``label`` names the object in a family push."""
        self.close()
        done = self.progress
        if done is None:
            return
        self.progress = None  # said once: a later abort of another object has its own
        line = (f"{label}: " if label else "") + (
            f"aborted after {plural(done.pages, 'page')} ({plural(done.rows, 'row')}) were answered; "
            f"{plural(done.rejected, 'row')} rejected so far")
        if self.state is not None:
            line += f"\ntheir outcome is recorded in {shown(self.state)}: the next push sends only the rest"
        click.echo(line, err=True)
