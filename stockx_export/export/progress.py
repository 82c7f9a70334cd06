"""Progress while pushing, and the summary after: a bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import time
from typing import Any, Callable

import click

from stockx_export.export.deliver import DeliverySummary, PageResult, RetryEvent

SHOWN_REJECTIONS = 10  # rejected rows named in the summary; all are in rejected.jsonl


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
                f"{self.verb} {self.rows:,}/{_plural(self.total_rows, 'row')} in {_plural(self.pages, 'page')}, "
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


def _plural(count: int, noun: str) -> str:
    """``1 page``, ``1,204 pages``, ``2 retries``."""
    if count == 1:
        return f"1 {noun}"
    return f"{count:,} {noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'}"


def summary_text(summary: DeliverySummary, url: str, rejected_file: str, dry_run: bool) -> str:
    """What a push did, for stdout; names the first rejected rows."""
    rate = summary.rows / summary.elapsed if summary.elapsed > 0 else 0.0
    verb = "validated" if dry_run else "pushed"
    text = (
        f"{verb} {_plural(summary.pages, 'page')} to {url}: {_plural(summary.acknowledged, 'row')} acknowledged, "
        f"{len(summary.rejected):,} rejected; {_plural(summary.requests, 'request')}, {_plural(summary.retries, 'retry')}, "
        f"{summary.elapsed:.1f}s ({rate:,.0f} rows/s)"
    )
    if summary.rejected:
        lines = [
            f"  page {r.page}: ({', '.join(str(v) for v in r.key)}): HTTP {r.status} {r.response[:200]}"
            for r in summary.rejected[:SHOWN_REJECTIONS]
        ]
        more = len(summary.rejected) - SHOWN_REJECTIONS
        if more > 0:
            lines.append(f"  ... and {more:,} more")
        text += f"\n{_plural(len(summary.rejected), 'row')} rejected (all listed in {rejected_file}):\n" + "\n".join(lines)
    return text
