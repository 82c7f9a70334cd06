"""Delivering pages to Peak's ingest endpoint: concurrency, rate limit, retries, isolation.

What each answer means (see shared/peak-api/README.md):

    2xx            read the body: one that reports failure (``"success": false``,
                   ``"status": "error"``, a non-empty ``errors``, ...) is a rejected
                   payload, like a 422; rows in a non-empty ``failed`` array are
                   rejected, the rest acknowledged; a ``failed`` array that cannot be
                   matched to rows (or an ``accepted`` count short of the rest) makes
                   the page unacknowledged, and it is bisected; a body that is not
                   JSON (not Peak's answer), or too long to read, aborts
    400, 422       the payload was rejected: bisect until single rows are isolated
    413            too large: split in two and send both halves
    401, 403       the token is wrong: abort at once (no retry)
    429, 5xx, timeouts, connection errors
                   retry with exponential backoff and jitter, honouring Retry-After,
                   within ``max_attempts`` and ``retry_seconds`` per page
    anything else  abort (wrong URL, method, ...)

Every answer is read up to ``response_bytes`` (the rest is not read) and
scrubbed of the token before anything else looks at it.

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
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterable

from stockx_export.errors import ExportError
from stockx_export.export.answers import (Answer, CappedBody, UnreadableAnswer, accepted_count, answer_text,
                                          failed_entries, failure_report, match_failed)
from stockx_export.export.contract import Resource
from stockx_export.export.pages import Envelope, Page
from stockx_export.export.redact import Redactor
from stockx_export.export.serialize import row_key
from stockx_export.export.settings import ExportSettings
from stockx_export.export.urls import insecure_http_problem

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REJECT_STATUSES = frozenset({400, 422})
AUTH_STATUSES = frozenset({401, 403})
TOO_LARGE = 413
# Pages handed out per in-flight slot: keeps workers busy while the page that is
# next to be reported in order still retries. Queued pages are not sent yet, so
# this does not widen what a crash can lose (each worker records its own page).
QUEUE_PER_WORKER = 4
# Rows rejected, with none accepted yet, after which the payload itself (not the
# rows) is taken to be wrong: bisecting every page row by row would cost about
# two requests per row and reject the whole table. Not applied to rows Peak names
# in a 2xx ``failed`` array, nor to a destination that took rows before.
REJECTED_BEFORE_ANY_ACCEPTED = 50


class DeliveryAborted(ExportError):
    """Delivery stopped: a refused token, an unexpected answer, or retries exhausted."""


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


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date
    (``now`` is the wall clock, seconds since the epoch). None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        # asctime dates (``Sun Nov  6 08:49:37 1994``) carry no zone; HTTP dates are
        # always GMT, and a naive datetime's timestamp() would read it as local time.
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


class RateLimiter:
    """At most ``per_second`` acquisitions per second across threads, evenly spaced."""

    def __init__(self, per_second: float, clock: Callable[[], float], sleep: Callable[[float], Any]) -> None:
        self._interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = clock()

    def acquire(self) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            self._sleep(slot - now)

    def defer(self, until: float) -> None:
        """No slot before ``until``: a 429 slows every worker, not just the one that saw it."""
        with self._lock:
            self._next = max(self._next, until)


class _Stopped(Exception):
    """Another worker aborted the delivery; this one stops quietly."""


class _Sender:
    """Sends one page to completion (retries, splits, bisection) from a worker thread."""

    def __init__(self, client, settings: ExportSettings, token: str, envelope: Envelope, resource: Resource,
                 limiter: RateLimiter, stop: threading.Event, sleep, clock, wall, rng, on_retry,
                 payload_proven: bool = False) -> None:
        self.client = client
        self.settings = settings
        self.token = token
        self.envelope = envelope
        self.resource = resource
        self.limiter = limiter
        self.stop = stop
        self.sleep = sleep
        self.clock = clock
        self.wall = wall
        self.rng = rng
        self.on_retry = on_retry
        self.url = settings.url
        self.redactor = Redactor.of(token)
        self._tally = threading.Lock()
        self.accepted_rows = 0
        self.rejected_rows = 0
        self.payload_proven = payload_proven

    def abort(self, message: str) -> DeliveryAborted:
        """An abort whose message is scrubbed of the token, whatever it quotes."""
        return DeliveryAborted(self.redactor.scrub(message))

    def deliver(self, page: Page) -> PageResult:
        acknowledged: list[str] = []
        rejected: list[Rejection] = []
        counts = [0, 0]  # requests, retries
        self._send(page, acknowledged, rejected, counts)
        return PageResult(page, tuple(acknowledged), tuple(rejected), counts[0], counts[1])

    def _accept(self, rows: Iterable[str], acknowledged: list[str]) -> None:
        before = len(acknowledged)
        acknowledged.extend(rows)
        with self._tally:
            self.accepted_rows += len(acknowledged) - before

    def _reject(self, page: Page, row: str, status: int, response: str, rejected: list[Rejection],
                isolated: bool = True) -> None:
        """Record a refused row. ``isolated``: found by bisection, the rows one by one;
        rows Peak named in a 2xx ``failed`` array are not: Peak read the payload, so
        they say nothing against it (a new product's rows are refused that way)."""
        text = self.redactor.scrub(response)
        rejected.append(Rejection(page.number, row_key(self.resource, row), row, status, text))
        if not isolated or self.payload_proven:
            return
        with self._tally:
            self.rejected_rows += 1
            hopeless = self.accepted_rows == 0 and self.rejected_rows >= REJECTED_BEFORE_ANY_ACCEPTED
        if hopeless:
            raise self.abort(
                f"Peak rejected the first {REJECTED_BEFORE_ANY_ACCEPTED} rows sent, one by one, and accepted none "
                f"(last answer: HTTP {status} {text.strip()[:200]!r}); the payload is probably wrong for this "
                "tenant: check solution_name, object, prefix, suffix and path"
            )

    def _send(self, page: Page, acknowledged: list[str], rejected: list[Rejection], counts: list[int]) -> None:
        answer = self._post(page, counts)
        status = answer.status
        if 200 <= status < 300:
            body = answer.json() if answer.text.strip() else {}  # _post let only JSON or empty through
            if failure_report(body) is None:
                failed = failed_entries(body)
                matched = match_failed(self.resource, page.rows, failed) if failed else ({} if failed == [] else None)
                accepted = accepted_count(body)
                if matched is not None and (accepted is None or accepted >= len(page.rows) - len(matched)):
                    self._accept((row for index, row in enumerate(page.rows) if index not in matched), acknowledged)
                    for index in sorted(matched):
                        entry = json.dumps(matched[index], ensure_ascii=False)
                        self._reject(page, page.rows[index], status, entry, rejected, isolated=False)
                    return
            # Peak said the payload failed, or that some rows failed without saying
            # which: none is acknowledged, and bisection finds the rows it refuses
            # (UPSERT makes the re-sends harmless).
        if len(page.rows) == 1:
            self._reject(page, page.rows[0], status, answer.text, rejected)
            return
        for half in page.halves(self.envelope):
            self._send(half, acknowledged, rejected, counts)

    def _request(self, body: bytes, headers: dict[str, str]) -> Answer:
        """One POST whose whole answer must arrive within the timeout, read up to
        ``response_bytes`` (decompressed), the rest left unread.

        httpx's timeout bounds each read, so a server dripping its answer a byte at a
        time could otherwise hold a page, and a scheduled sync, without limit.
        """
        import httpx

        deadline = self.clock() + self.settings.timeout
        limit = self.settings.response_bytes
        with self.client.stream("POST", self.url, content=body, headers=headers, timeout=self.settings.timeout) as response:
            try:
                if response.is_stream_consumed:
                    # An answer built in memory (httpx.MockTransport): httpx has decoded it already.
                    reader = CappedBody(None, limit)
                    reader.feed(response.content)
                    chunks: Iterable[bytes] = ()
                else:
                    reader = CappedBody(response.headers.get("Content-Encoding"), limit)
                    chunks = response.iter_raw()
                for chunk in chunks:
                    if not reader.feed(chunk):
                        break  # leaving the block closes the connection with the rest unread
                    if self.clock() > deadline:
                        raise httpx.ReadTimeout(
                            f"the answer took more than {self.settings.timeout:g}s in all", request=response.request
                        )
                data = reader.finish()
            except UnreadableAnswer as exc:
                raise httpx.DecodingError(str(exc), request=response.request) from None
        text = answer_text(data, response.headers.get("Content-Type"), reader.truncated, limit, self.redactor)
        return Answer(response.status_code, text, response.headers.get("Retry-After"), reader.truncated)

    def _post(self, page: Page, counts: list[int]) -> Answer:
        """POST until an answer that is not transient; abort on auth and unknown answers."""
        import httpx

        first = self.clock()
        # Only the encodings CappedBody decodes under its cap.
        headers = {"Authorization": self.token, "Content-Type": "application/json", "Accept-Encoding": "gzip, deflate"}
        attempt = 0
        while True:
            if self.stop.is_set():
                raise _Stopped
            attempt += 1
            counts[0] += 1
            self.limiter.acquire()
            delay = None
            try:
                answer = self._request(page.body, headers)
            except httpx.TimeoutException as exc:
                reason = f"timeout ({type(exc).__name__})"
            except httpx.TransportError as exc:
                reason = f"connection error ({type(exc).__name__})"
            except httpx.RequestError as exc:
                # An answer that could not be read (a garbled Content-Encoding): whether
                # Peak took the rows is unknown, so the page is sent again like after a reset.
                reason = f"unreadable answer ({type(exc).__name__})"
            else:
                status = answer.status
                if status in AUTH_STATUSES:
                    raise self.abort(
                        f"Peak refused the access token (HTTP {status}) at {self.url}: "
                        "set PEAK_AUTH_TOKEN to a valid personal access token for this tenant"
                    )
                if 200 <= status < 300 and answer.truncated:
                    # Which rows Peak took (its ``failed`` array) cannot be read.
                    raise self.abort(
                        f"HTTP {status} from POST {self.url} (page {page.number}) is longer than response_bytes "
                        f"({self.settings.response_bytes:,} bytes); its rows are not counted as sent: "
                        "check base_url and path in the export settings, or raise response_bytes"
                    )
                if 200 <= status < 300 and not answer.is_json_or_empty():
                    # Not Peak's answer (an HTML page from a proxy or a wrong host): taking it
                    # as "every row accepted" would mark rows sent that Peak never saw.
                    text = answer.text.strip()[:200]
                    raise self.abort(
                        f"HTTP {status} from POST {self.url} (page {page.number}) is not a JSON answer: {text!r}; "
                        "its rows are not counted as sent: check base_url and path in the export settings"
                    )
                if 200 <= status < 300 or status in REJECT_STATUSES or status == TOO_LARGE:
                    return answer
                if status not in RETRY_STATUSES:
                    text = answer.text.strip()[:200]
                    raise self.abort(
                        f"unexpected HTTP {status} from POST {self.url} (page {page.number}): {text!r}; "
                        "check base_url and path in the export settings"
                    )
                reason = f"HTTP {status}"
                delay = retry_after_seconds(answer.retry_after, self.wall())
                if delay is not None and status == 429:
                    self.limiter.defer(self.clock() + delay)
            if delay is None:
                ceiling = min(self.settings.backoff_cap, self.settings.backoff_base * 2 ** (attempt - 1))
                delay = ceiling / 2 + self.rng() * ceiling / 2  # equal jitter: spread, never zero
            elapsed = self.clock() - first
            if attempt >= self.settings.max_attempts or elapsed + delay > self.settings.retry_seconds:
                raise self.abort(
                    f"gave up on page {page.number} after {attempt} attempts in {elapsed:.1f}s "
                    f"(last: {reason}); re-run the export later: re-sending acknowledged pages is harmless"
                )
            counts[1] += 1
            if self.on_retry is not None:
                self.on_retry(RetryEvent(page.number, attempt, reason, delay))
            self.sleep(delay)


def deliver(
    pages: Iterable[Page],
    client: Any,
    settings: ExportSettings,
    token: str,
    resource: Resource,
    envelope: Envelope,
    on_page: Callable[[PageResult], None] | None = None,
    on_retry: Callable[[RetryEvent], None] | None = None,
    sleep: Callable[[float], Any] | None = None,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], float] = time.time,
    rng: Callable[[], float] = random.random,
    payload_proven: bool = False,
    on_answer: Callable[[PageResult], None] | None = None,
) -> DeliverySummary:
    """Send every page; report each page's result twice:

    - to ``on_answer`` as soon as the page's outcome is known, from the worker
      thread that sent it, before that worker takes another page, one call at a
      time (a state store records acknowledgements there: a crash then loses the
      outcome of at most ``in_flight`` pages, whatever order they finish in);
    - to ``on_page`` in page order, from this thread (progress, files).

    ``payload_proven``: this destination (URL and solution) took rows before
    (the sync state knows), so refused rows are taken for the rows' fault and
    never stop delivery, however many come first (a day whose only changes are a
    new product's rows, say).

    ``envelope`` must be the one the pages were packed with (halves are rebuilt
    with it). Raises :class:`ExportError` before sending anything when the URL is
    plain http to another machine and ``allow_insecure_http`` is not set.
    Raises :class:`DeliveryAborted` on a refused token, an unexpected answer or
    exhausted retries (or what ``on_answer`` raised), after the pages already
    acknowledged have been reported.
    """
    from concurrent.futures import ThreadPoolExecutor

    problem = insecure_http_problem(settings.url, settings.allow_insecure_http)
    if problem is not None:  # the command checks first; this keeps library callers safe too
        raise ExportError(problem)
    stop = threading.Event()
    pause = sleep or stop.wait  # an abort wakes workers out of their backoff
    limiter = RateLimiter(settings.requests_per_second, clock, pause)
    sender = _Sender(client, settings, token, envelope, resource, limiter, stop, pause, clock, wall, rng, on_retry,
                     payload_proven)
    summary = DeliverySummary()
    started = clock()
    answered = threading.Lock()  # one on_answer call at a time
    failures: list[BaseException] = []  # the first is the cause of the stop

    def work(page: Page) -> PageResult:
        try:
            result = sender.deliver(page)
            if on_answer is not None:
                with answered:
                    on_answer(result)
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
        summary.elapsed = clock() - started
        if on_page is not None:
            on_page(result)

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
    summary.elapsed = clock() - started
    return summary
