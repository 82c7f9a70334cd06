"""Delivering pages to Peak's ingest endpoint: workers, page order, splitting, isolation.

The pieces it composes live elsewhere: one POST and what its answer means in
:mod:`.http`, when to retry and how fast to send in :mod:`.retry`. Here, each
answer's :class:`~.http.Verdict` decides what happens to the page:

    taken          rows in a non-empty ``failed`` array are rejected, the rest
                   acknowledged; a body that reports failure, or a ``failed`` array
                   that cannot be matched to rows (or an ``accepted`` count short of
                   the rest), acknowledges nothing, and the page is bisected
    rejected       (400, 422) bisect until single rows are isolated
    too large      (413) split in two and send both halves
    token refused  (401, 403) abort at once (no retry)
    transient      (429, 5xx, timeouts, connection errors, an unreadable answer)
                   retry with backoff and jitter, honouring Retry-After, within
                   ``max_attempts`` and ``retry_seconds`` per page
    anything else  abort (a wrong URL, a 2xx that is not Peak's JSON or too long to read)

Re-sending an UPSERT page is harmless, which is what makes retries and
bisection safe. With APPEND it is not: a page whose answer was lost (timeout,
reset) and is re-sent may be inserted twice, and Peak publishes no idempotency
key to prevent it; prefer UPSERT. Pages are sent from ``in_flight`` worker
threads. Each worker hands its page's outcome to ``on_answer`` as soon as it is
known, before it takes another page (so a crash loses the outcome of at most
``in_flight`` pages); results are also reported in page order, from the calling
thread, to ``on_page``.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from stockx_export.errors import (ExportError, PayloadRefused, RetriesExhausted, TokenRefused, UnexpectedAnswer,
                                  UnusableAcknowledgement)
from stockx_export.export import http
from stockx_export.export.contract import Resource
from stockx_export.export.pages import Envelope, Page
from stockx_export.export.retry import Clock, RateLimiter, RetryPolicy, retry_after
from stockx_export.export.serialize import row_key
from stockx_export.export.settings import ExportSettings
from stockx_export.export.urls import insecure_http_problem
from stockx_export.redact import Redactor

# Pages handed out per in-flight slot: keeps workers busy while the page that is
# next to be reported in order still retries. Queued pages are not sent yet, so
# this does not widen what a crash can lose (each worker records its own page).
QUEUE_PER_WORKER = 4
# Rows rejected, with none accepted yet, after which the payload itself (not the
# rows) is taken to be wrong: bisecting every page row by row would cost about
# two requests per row and reject the whole table. Not applied to rows Peak names
# in a 2xx ``failed`` array, nor to a destination that took rows before.
REJECTED_BEFORE_ANY_ACCEPTED = 50
QUOTED = 200  # characters of an answer quoted in an abort


@dataclass(frozen=True)
class Rejection:
    """One row Peak refused, with the answer that said so."""

    page: int
    key: tuple[Any, ...]
    row: str
    status: int
    response: str


@dataclass(frozen=True)
class PageResult:
    """The outcome of one page: which rows Peak acknowledged and which it rejected."""

    page: Page
    acknowledged: tuple[str, ...]
    rejected: tuple[Rejection, ...]
    requests: int
    retries: int


@dataclass(frozen=True)
class RetryEvent:
    """A request that will be repeated after ``delay`` seconds."""

    page: int
    attempt: int
    reason: str
    delay: float


@dataclass
class DeliverySummary:
    """Totals over a delivery, updated as page results arrive."""

    pages: int = 0
    rows: int = 0
    acknowledged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    elapsed: float = 0.0

    def add(self, result: PageResult) -> None:
        self.pages += 1
        self.rows += len(result.page.rows)
        self.acknowledged += len(result.acknowledged)
        self.rejected.extend(result.rejected)
        self.requests += result.requests
        self.retries += result.retries


@dataclass(frozen=True)
class Delivery:
    """What is delivered, where, and as whom.

    ``envelope`` must be the one the pages were packed with (halves are rebuilt
    with it). ``payload_proven``: this destination (URL and solution) took rows
    before (the sync state knows), so refused rows are taken for the rows' fault
    and never stop delivery, however many come first (a day whose only changes
    are a new product's rows, say)."""

    settings: ExportSettings
    resource: Resource
    envelope: Envelope
    token: str = field(repr=False)
    payload_proven: bool = False
    tenant_headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Listeners:
    """Who hears about pages: ``on_answer`` from the worker that sent the page, as
    soon as its outcome is known, one call at a time; ``on_page`` in page order from
    the calling thread; ``on_retry`` before each wait to send again."""

    on_page: Callable[[PageResult], None] | None = None
    on_answer: Callable[[PageResult], None] | None = None
    on_retry: Callable[[RetryEvent], None] | None = None


class _Stopped(Exception):
    """Another worker aborted the delivery; this one stops quietly."""


class _Tally:
    """Rows accepted and rows isolated as rejected so far, across workers: whether
    the payload rather than the rows is to blame."""

    def __init__(self, payload_proven: bool) -> None:
        self.payload_proven = payload_proven
        self.accepted = 0
        self.rejected = 0
        self._lock = threading.Lock()

    def accept(self, rows: int) -> None:
        with self._lock:
            self.accepted += rows

    def reject_isolated(self) -> bool:
        """Count one row refused on its own; True when the payload is now to blame."""
        if self.payload_proven:
            return False
        with self._lock:
            self.rejected += 1
            return self.accepted == 0 and self.rejected >= REJECTED_BEFORE_ANY_ACCEPTED


class _PageSender:
    """Sends one page to completion (retries, splits, bisection) from a worker thread."""

    def __init__(self, client: Any, delivery: Delivery, clock: Clock, limiter: RateLimiter,
                 stop: threading.Event, on_retry: Callable[[RetryEvent], None] | None) -> None:
        self.client = client
        self.delivery = delivery
        self.endpoint = http.Endpoint.of(delivery.settings, delivery.token, delivery.tenant_headers)
        self.policy = RetryPolicy.of(delivery.settings)
        self.clock = clock
        self.pause = clock.sleep or stop.wait  # an abort wakes workers out of their backoff
        self.limiter = limiter
        self.stop = stop
        self.on_retry = on_retry
        self.redactor = Redactor.of(delivery.token)
        self.tally = _Tally(delivery.payload_proven)

    def deliver(self, page: Page) -> PageResult:
        acknowledged: list[str] = []
        rejected: list[Rejection] = []
        counts = [0, 0]  # requests, retries
        self._send(page, acknowledged, rejected, counts)
        return PageResult(page, tuple(acknowledged), tuple(rejected), counts[0], counts[1])

    def _send(self, page: Page, acknowledged: list[str], rejected: list[Rejection], counts: list[int]) -> None:
        answer, verdict = self._answer(page, counts)
        if verdict is http.Verdict.TAKEN:
            refused = http.taken_rows(self.delivery.resource, page.rows, answer)
            if refused is not None:
                taken = [row for index, row in enumerate(page.rows) if index not in refused]
                acknowledged.extend(taken)
                self.tally.accept(len(taken))
                for index in sorted(refused):
                    entry = json.dumps(refused[index], ensure_ascii=False)
                    self._reject(page, page.rows[index], answer.status, entry, rejected, isolated=False)
                return
            # Peak said the payload failed, or that some rows failed without saying
            # which: none is acknowledged, and bisection finds the rows it refuses
            # (UPSERT makes the re-sends harmless).
        if len(page.rows) == 1:
            self._reject(page, page.rows[0], answer.status, answer.text, rejected)
            return
        for half in page.halves(self.delivery.envelope):
            self._send(half, acknowledged, rejected, counts)

    def _reject(self, page: Page, row: str, status: int, response: str, rejected: list[Rejection],
                isolated: bool = True) -> None:
        """Record a refused row. ``isolated``: found by bisection, the rows one by one;
        rows Peak named in a 2xx ``failed`` array are not: Peak read the payload, so
        they say nothing against it (a new product's rows are refused that way)."""
        text = self.redactor.scrub(response)
        rejected.append(Rejection(page.number, row_key(self.delivery.resource, row), row, status, text))
        if isolated and self.tally.reject_isolated():
            raise PayloadRefused(REJECTED_BEFORE_ANY_ACCEPTED, status, self._quoted(text))

    def _answer(self, page: Page, counts: list[int]) -> tuple[http.Answer, http.Verdict]:
        """POST until an answer that is not transient; abort on any answer that stops the delivery."""
        first = self.clock.monotonic()
        url = self.endpoint.url
        attempt = 0
        while True:
            if self.stop.is_set():
                raise _Stopped
            attempt += 1
            counts[0] += 1
            self.limiter.acquire()
            outcome = http.post(self.client, self.endpoint, page.body, self.clock.monotonic, self.redactor)
            delay = None
            if isinstance(outcome, http.NoAnswer):
                reason = outcome.reason
            else:
                verdict = http.classify(outcome)
                if verdict in (http.Verdict.TAKEN, http.Verdict.REJECTED, http.Verdict.TOO_LARGE):
                    return outcome, verdict
                if verdict is http.Verdict.TOKEN_REFUSED:
                    raise TokenRefused(outcome.status, self.redactor.scrub(url))
                if verdict is http.Verdict.TOO_LONG:
                    raise UnusableAcknowledgement(outcome.status, self.redactor.scrub(url), page.number,
                                                  limit=self.endpoint.response_bytes)
                if verdict is http.Verdict.NOT_JSON:
                    raise UnusableAcknowledgement(outcome.status, self.redactor.scrub(url), page.number,
                                                  text=self._quoted(outcome.text))
                if verdict is http.Verdict.UNEXPECTED:
                    raise UnexpectedAnswer(outcome.status, self.redactor.scrub(url), page.number,
                                           self._quoted(outcome.text))
                reason = f"HTTP {outcome.status}"
                delay = retry_after(outcome.retry_after, self.clock.wall())
                if delay is not None and outcome.status == 429:
                    self.limiter.defer(self.clock.monotonic() + delay)
            asked = delay is not None
            if delay is None:
                delay = self.policy.backoff(attempt, self.clock.random())
            elapsed = self.clock.monotonic() - first
            if self.policy.gives_up(attempt, elapsed, delay):
                if asked and elapsed + delay > self.policy.retry_seconds:
                    reason += (f", and Peak asked to wait {delay:,.0f}s (Retry-After), more than retry_seconds "
                               f"({self.policy.retry_seconds:,g}s per page) allows")
                raise RetriesExhausted(page.number, attempt, elapsed, reason)
            counts[1] += 1
            if self.on_retry is not None:
                self.on_retry(RetryEvent(page.number, attempt, reason, delay))
            self.pause(delay)

    def _quoted(self, text: str) -> str:
        """The start of an answer, as an abort quotes it (already scrubbed; scrubbed again
        after the cut, which cannot reveal anything but is cheap)."""
        return self.redactor.scrub(text.strip()[:QUOTED])


def deliver(pages: Iterable[Page], client: Any, delivery: Delivery, listeners: Listeners = Listeners(),
            clock: Clock = Clock()) -> DeliverySummary:
    """Send every page with ``client``; report each page's result to ``listeners``.

    Raises :class:`~stockx_export.errors.ExportError` before sending anything when
    the URL is plain http to another machine and ``allow_insecure_http`` is not set.
    Raises a :class:`~stockx_export.errors.DeliveryAborted` on a refused token, an
    unexpected answer or exhausted retries (or what ``on_answer`` raised), after the
    pages already acknowledged have been reported.
    """
    settings = delivery.settings
    problem = insecure_http_problem(settings.url, settings.allow_insecure_http)
    if problem is not None:  # the command checks first; this keeps library callers safe too
        raise ExportError(problem)
    stop = threading.Event()
    limiter = RateLimiter(settings.requests_per_second, clock.monotonic, clock.sleep or stop.wait)
    sender = _PageSender(client, delivery, clock, limiter, stop, listeners.on_retry)
    summary = DeliverySummary()
    started = clock.monotonic()
    answered = threading.Lock()  # one on_answer call at a time
    failures: list[BaseException] = []  # the first is the cause of the stop

    def work(page: Page) -> PageResult:
        try:
            result = sender.deliver(page)
            if listeners.on_answer is not None:
                with answered:
                    listeners.on_answer(result)
            return result
        except _Stopped:
            raise
        except BaseException as exc:
            # Stop every other worker now, not when the caller reaches this page.
            with answered:
                failures.append(exc)
            stop.set()
            raise

    def finish(future) -> None:
        try:
            result = future.result()
        except _Stopped:
            # An earlier page was still retrying when a later one aborted: report the abort.
            raise failures[0] from None
        summary.add(result)
        summary.elapsed = clock.monotonic() - started
        if listeners.on_page is not None:
            listeners.on_page(result)

    window = settings.in_flight * QUEUE_PER_WORKER
    with ThreadPoolExecutor(max_workers=settings.in_flight, thread_name_prefix="peak-push") as pool:
        pending: deque = deque()
        try:
            for page in pages:
                pending.append(pool.submit(work, page))
                while pending and (len(pending) >= window or pending[0].done()):
                    finish(pending.popleft())
            while pending:
                finish(pending.popleft())
        except BaseException:
            stop.set()
            for future in pending:
                future.cancel()
            raise
    summary.elapsed = clock.monotonic() - started
    return summary
