"""HTTP to Peak's ingest endpoint: the only module of stockx that imports httpx.

    new_client(settings)          the pooled client a push sends with
    Endpoint                      where and as whom a page is POSTed, and how much of an answer is read
    post(client, endpoint, ...)   one POST and its whole answer, under a deadline and a size cap
    classify(answer)              what an answer means for the page (see :class:`Verdict`)
    taken_rows(...)               which rows of a page a 2xx body says Peak took

A body is read chunk by chunk and decompressed here (gzip or deflate) with a
bound on the output, so neither a huge answer nor a small compressed one that
inflates (a "zip bomb") can exhaust memory: reading stops at the cap and the
rest is never read. The text kept is scrubbed of the token before anything
else sees it (see :mod:`stockx_export.redact`).
"""

from __future__ import annotations

import enum
import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import httpx

from stockx_export.export.contract import Resource
from stockx_export.export.serialize import row_key
from stockx_export.export.settings import ExportSettings
from stockx_export.redact import Redactor

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REJECT_STATUSES = frozenset({400, 422})
AUTH_STATUSES = frozenset({401, 403})
TOO_LARGE = 413


def new_client(settings: ExportSettings) -> httpx.Client:
    """The httpx client for a push: a pooled connection per page in flight."""
    limits = httpx.Limits(max_connections=settings.in_flight, max_keepalive_connections=settings.in_flight)
    return httpx.Client(timeout=settings.timeout, limits=limits, follow_redirects=False)


@dataclass(frozen=True)
class Endpoint:
    """Where pages go and as whom: the URL, the token, the per-answer deadline and cap."""

    url: str
    token: str = field(repr=False)
    timeout: float
    response_bytes: int
    tenant_headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @classmethod
    def of(cls, settings: ExportSettings, token: str, tenant_headers: tuple[tuple[str, str], ...] = (),
           url: str | None = None) -> "Endpoint":
        """The settings' ingest URL (or ``url``: the schema endpoints) as ``token``."""
        return cls(url or settings.url, token, settings.timeout, settings.response_bytes, tenant_headers)

    @property
    def headers(self) -> dict[str, str]:
        # Only the encodings CappedBody decodes under its cap.
        return {"Authorization": self.token, "Content-Type": "application/json", "Accept-Encoding": "gzip, deflate",
                **dict(self.tenant_headers)}


@dataclass(frozen=True)
class Answer:
    """One answer as kept: status, Retry-After, and the body as text (token scrubbed).

    ``truncated``: the body was longer than the cap; ``text`` ends with a note
    saying so, and the rest was never read.
    """

    status: int
    text: str
    retry_after: str | None = None
    truncated: bool = False

    def json(self) -> Any:
        """The body parsed as JSON; ValueError when it is not (a truncated body never is)."""
        if self.truncated:
            raise ValueError("truncated answer")
        return json.loads(self.text)

    def is_json_or_empty(self) -> bool:
        if self.truncated:
            return False
        if not self.text.strip():
            return True
        try:
            self.json()
        except ValueError:
            return False
        return True


@dataclass(frozen=True)
class NoAnswer:
    """A request that got no usable answer: whether Peak took the rows is unknown, so
    the page is sent again (``reason``: ``timeout (ReadTimeout)``, ``connection error
    (ReadError)``, ``unreadable answer (DecodingError)``...)."""

    reason: str


class _Undecodable(ValueError):
    """The body could not be decoded (a corrupt or unknown Content-Encoding)."""


class CappedBody:
    """Collects a body's decoded bytes, at most ``limit`` of them."""

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0
        self.truncated = False
        self._first = True
        encoding = (content_encoding or "identity").strip().lower()
        if encoding in ("", "identity"):
            self._inflate: Any = None
        elif encoding in ("gzip", "x-gzip"):
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._inflate = zlib.decompressobj()  # zlib-wrapped, as the standard says; raw deflate below
        else:
            raise _Undecodable(f"Content-Encoding {encoding!r} is not one stockx reads")
        self._encoding = encoding

    def feed(self, raw: bytes) -> bool:
        """Add a chunk as read from the network; False once the cap is reached (stop reading)."""
        if self._inflate is None:
            self._keep(raw)
            return not self.truncated
        data = raw
        while data and not self.truncated:
            try:
                out = self._inflate.decompress(data, self.limit - self.size + 1)
            except zlib.error as exc:
                if self._first and self._encoding == "deflate":
                    # Some servers send raw deflate without the zlib wrapper.
                    self._inflate, self._first = zlib.decompressobj(-zlib.MAX_WBITS), False
                    continue
                raise _Undecodable(f"Content-Encoding {self._encoding} could not be decoded: {exc}") from None
            self._first = False
            self._keep(out)
            data = self._inflate.unconsumed_tail
        return not self.truncated

    def finish(self) -> bytes:
        """The body, cut at the cap."""
        if self._inflate is not None and not self.truncated:
            try:
                self._keep(self._inflate.flush())
            except zlib.error as exc:
                raise _Undecodable(f"Content-Encoding {self._encoding} could not be decoded: {exc}") from None
            if not self._inflate.eof and self.size:
                raise _Undecodable(f"Content-Encoding {self._encoding}: the compressed body ends early")
        return b"".join(self.parts)[:self.limit]

    def _keep(self, data: bytes) -> None:
        if not data:
            return
        self.parts.append(data)
        self.size += len(data)
        if self.size > self.limit:
            self.truncated = True


# Byte order marks, longest first, and the JSON encodings they announce.
BOMS = ((b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xfe\xff", "utf-16"), (b"\xff\xfe", "utf-16"))


def sniff_charset(body: bytes) -> str:
    """The encoding of a body whose Content-Type names none: by its byte order mark,
    else by where the NULs fall in its first four bytes (RFC 4627: JSON starts with
    an ASCII character), else UTF-8. A UTF-16 answer read as UTF-8 would put a NUL
    between the characters of everything it says, an echoed token included."""
    for mark, charset in BOMS:
        if body.startswith(mark):
            return charset
    head = body[:4]
    if len(head) == 4:
        nul = tuple(byte == 0 for byte in head)
        if nul == (True, True, True, False):
            return "utf-32-be"
        if nul == (False, True, True, True):
            return "utf-32-le"
        if nul == (True, False, True, False):
            return "utf-16-be"
        if nul == (False, True, False, True):
            return "utf-16-le"
    return "utf-8"


def answer_text(body: bytes, content_type: str | None, truncated: bool, limit: int, redactor: Redactor) -> str:
    """The body as text with the token scrubbed; a truncated body loses its last
    characters (they may hold the start of a token cut in two) and gets a note."""
    found = re.search(r"charset=\"?([\w.:-]+)", content_type or "", re.IGNORECASE)
    charset = found.group(1) if found else sniff_charset(body)
    try:
        text = body.decode(charset, errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    if not truncated:
        return redactor.scrub(text)
    text = text[:max(0, len(text) - redactor.tail)]
    return redactor.scrub(text) + f"\n[stockx: the answer was longer than {limit:,} bytes; the rest was not read]"


def get(client: httpx.Client, endpoint: Endpoint, params: dict[str, str], clock: Callable[[], float],
        redactor: Redactor) -> Answer | NoAnswer:
    """One GET of ``endpoint.url`` with ``params``, read as :func:`post` reads its answer."""
    return post(client, endpoint, None, clock, redactor, method="GET", params=params)


def post(client: httpx.Client, endpoint: Endpoint, body: bytes | None, clock: Callable[[], float],
         redactor: Redactor, method: str = "POST", params: dict[str, str] | None = None) -> Answer | NoAnswer:
    """One POST whose whole answer must arrive within ``endpoint.timeout`` seconds by
    ``clock``, read up to ``endpoint.response_bytes`` (decompressed), the rest left unread.

    httpx's timeout bounds each read, so a server dripping its answer a byte at a
    time could otherwise hold a page, and a scheduled sync, without limit. Timeouts,
    connection errors and undecodable bodies are a :class:`NoAnswer`.
    """
    try:
        return _whole_answer(client, endpoint, body, clock, redactor, method, params)
    except httpx.TimeoutException as exc:
        return NoAnswer(f"timeout ({type(exc).__name__})")
    except httpx.TransportError as exc:
        return NoAnswer(f"connection error ({type(exc).__name__})")
    except httpx.RequestError as exc:
        # An answer that could not be read (a garbled Content-Encoding): whether
        # Peak took the rows is unknown, so the page is sent again like after a reset.
        return NoAnswer(f"unreadable answer ({type(exc).__name__})")


def _whole_answer(client: httpx.Client, endpoint: Endpoint, body: bytes | None, clock: Callable[[], float],
                  redactor: Redactor, method: str = "POST", params: dict[str, str] | None = None) -> Answer:
    deadline = clock() + endpoint.timeout
    limit = endpoint.response_bytes
    with client.stream(method, endpoint.url, content=body, headers=endpoint.headers, params=params,
                       timeout=endpoint.timeout) as response:
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
                if clock() > deadline:
                    raise httpx.ReadTimeout(
                        f"the answer took more than {endpoint.timeout:g}s in all", request=response.request)
            data = reader.finish()
        except _Undecodable as exc:
            raise httpx.DecodingError(str(exc), request=response.request) from None
    text = answer_text(data, response.headers.get("Content-Type"), reader.truncated, limit, redactor)
    return Answer(response.status_code, text, response.headers.get("Retry-After"), reader.truncated)


class Verdict(enum.Enum):
    """What an answer means for the page it answers (see shared/peak-api/README.md)."""

    TAKEN = "taken"              # 2xx JSON (or empty): its body says which rows Peak took
    REJECTED = "rejected"        # 400, 422: the payload was refused; bisect to the rows
    TOO_LARGE = "too large"      # 413: split in two and send both halves
    TOKEN_REFUSED = "token"      # 401, 403: abort at once
    TRANSIENT = "transient"      # 429, 5xx: retry with backoff, honouring Retry-After
    TOO_LONG = "too long"        # 2xx longer than the cap: which rows Peak took cannot be read
    NOT_JSON = "not json"        # 2xx that is not Peak's answer (a proxy's HTML page)
    UNEXPECTED = "unexpected"    # anything else (a wrong URL or method): abort


def classify(answer: Answer) -> Verdict:
    """The :class:`Verdict` on ``answer``."""
    status = answer.status
    if status in AUTH_STATUSES:
        return Verdict.TOKEN_REFUSED
    if 200 <= status < 300:
        if answer.truncated:
            return Verdict.TOO_LONG
        return Verdict.TAKEN if answer.is_json_or_empty() else Verdict.NOT_JSON
    if status in REJECT_STATUSES:
        return Verdict.REJECTED
    if status == TOO_LARGE:
        return Verdict.TOO_LARGE
    return Verdict.TRANSIENT if status in RETRY_STATUSES else Verdict.UNEXPECTED


def taken_rows(resource: Resource, rows: tuple[str, ...], answer: Answer) -> dict[int, Any] | None:
    """For a :data:`Verdict.TAKEN` answer to ``rows``: the rows Peak refused (index ->
    its ``failed`` entry), every other row being taken; or None when the body is not
    an acknowledgement (see :func:`failure_report`), or says that some rows failed
    without saying which (then no row is acknowledged, and the page is bisected)."""
    body = answer.json() if answer.text.strip() else {}
    if failure_report(body) is not None:
        return None
    failed = failed_entries(body)
    matched = match_failed(resource, rows, failed) if failed else ({} if failed == [] else None)
    accepted = accepted_count(body)
    if matched is not None and (accepted is None or accepted >= len(rows) - len(matched)):
        return matched
    return None


# A 2xx body is an acknowledgement only when nothing in it reports a failure. Peak
# publishes neither its success body nor every shape of its errors (a ``DI_E_*``
# code, a category and a message, under names that vary), so every key at every
# depth is looked at, in any letter case: a page wrongly taken for acknowledged is
# never sent again, while one wrongly refused is only bisected and sent again.
_SUCCESS_KEYS = frozenset({"success", "ok", "succeeded", "successful"})
_STATUS_KEYS = frozenset({"status", "state", "result", "outcome"})
_CODE_KEYS = frozenset({"status", "statuscode", "status_code", "httpstatus", "http_status", "code", "errorcode"})
_FAILURE_WORD = re.compile(r"fail|error|reject|invalid|denied|forbidden|unauthori[sz]ed|abort|exception|partial",
                           re.IGNORECASE)
_FAILURE_KEY = re.compile(r"error|fail|exception", re.IGNORECASE)
_ERROR_CODE = re.compile(r"[A-Za-z]+_E_\d+")  # Peak's DI_E_XXXXX
_SUCCESS_WORDS = frozenset({"ok", "success", "succeeded", "successful", "accepted", "done", "completed", "created"})
_FALSE_WORDS = frozenset({"false", "no", "0"})
_TRUE_WORDS = frozenset({"true", "yes", "1"})


def failure_report(body: Any) -> str | None:
    """Why a 2xx body (parsed JSON; ``{}`` for an empty one) is not an acknowledgement,
    or None when it is one (whose ``failed`` array may still refuse some rows).

    Not one: anything but a JSON object (an array, ``null``, a string); at any
    depth and in any letter case, a ``success``/``ok`` that is false, a
    ``status``/``state``/``result`` holding a failure word (``failed``,
    ``PARTIAL_FAILURE``...), a non-empty value under a key naming an error or a
    failure (``errors``, ``errorCode``, ``failedRows``; the top-level ``failed``
    array is Peak's own and lists refused rows, see :func:`failed_entries`), a
    ``statusCode``/``code`` of 400-599 or an error code such as ``DI_E_50000``;
    an ``accepted`` that is false or not a count (:func:`taken_rows` checks a
    count against the rows); and a body with none of Peak's signs of success (``failed``, ``accepted``, a true
    ``success``, an ``ok``/``accepted`` status) whose text holds a failure word.
    """
    if not isinstance(body, dict):
        return f"the body is {_json_kind(body)}, not an object"
    for path, key, value in _walk(body):
        problem = _failure_in(path, key, value)
        if problem is not None:
            return problem
    if "accepted" in body:
        accepted = body["accepted"]
        count = _count(accepted)
        if accepted is False or (count is None and accepted is not True):
            return f'"accepted": {json.dumps(accepted)[:40]} is not a count of rows taken'
    if not _says_success(body):
        for path, key, value in _walk(body):
            if isinstance(value, str) and _FAILURE_WORD.search(value):
                return f'"{path}" says {json.dumps(value[:60])} and nothing says the rows were taken'
    return None


def _walk(value: Any, path: str = "") -> Iterable[tuple[str, str, Any]]:
    """(path, key, value) of every member of every object in ``value``, depth first;
    not inside the top-level ``failed`` array, whose entries are refused rows with
    Peak's reasons (their errors are the rows', not the payload's)."""
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            inner = f"{path}.{key}" if path else str(key)
            yield inner, str(key), value[key]
            if inner != "failed":
                yield from _walk(value[key], inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def _failure_in(path: str, key: str, value: Any) -> str | None:
    """The failure one member reports, or None."""
    name = key.lower()
    if name in _SUCCESS_KEYS and (value is False or (isinstance(value, str) and value.strip().lower() in _FALSE_WORDS)):
        return f'"{path}": {json.dumps(value)}'
    if name in _STATUS_KEYS and isinstance(value, str) and _FAILURE_WORD.search(value):
        return f'"{path}": {json.dumps(value[:60])}'
    if name in _CODE_KEYS:
        number = _count(value)
        if number is not None and 400 <= number <= 599:
            return f'"{path}": {json.dumps(value)}'
        if isinstance(value, str) and _ERROR_CODE.search(value):
            return f'"{path}": {json.dumps(value[:60])}'
    if path != "failed" and _FAILURE_KEY.search(name) and value not in (None, False, 0, "", [], {}):
        return f'"{path}" is not empty'
    return None


def _says_success(body: dict) -> bool:
    """Whether the body shows one of Peak's signs that rows were taken."""
    for path, key, value in _walk(body):
        name = key.lower()
        if path in ("failed", "accepted"):
            return True
        if name in _SUCCESS_KEYS and (value is True or (isinstance(value, str) and value.strip().lower() in _TRUE_WORDS)):
            return True
        if name in _STATUS_KEYS and isinstance(value, str) and value.strip().lower() in _SUCCESS_WORDS:
            return True
    return False


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return json.dumps(value)
    return "a string" if isinstance(value, str) else "a number"


def _count(value: Any) -> int | None:
    """A whole non-negative number given as a JSON number or a string of digits, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def failed_entries(body: Any) -> list[Any] | None:
    """The non-empty ``failed`` array of a 2xx body; [] when every row was taken
    (an empty body included); None when ``failed`` is present but not an array."""
    failed = body.get("failed") if isinstance(body, dict) else None
    if not failed:
        return []
    return failed if isinstance(failed, list) else None


def accepted_count(body: Any) -> int | None:
    """The ``accepted`` row count of a 2xx body (a number or a string of digits), when it gives one."""
    return _count(body.get("accepted")) if isinstance(body, dict) else None


def match_failed(resource: Resource, rows: tuple[str, ...], failed: list[Any]) -> dict[int, Any] | None:
    """Map each ``failed`` entry to the index of its row in ``rows``, or None if any
    entry cannot be matched. Entries match by primary-key values (at the top level
    or under ``row``/``record``/``data``), else by a 0-based position in ``data``
    (an integer entry, or ``index``/``position``/``row_index``)."""
    keys = {row_key(resource, row): index for index, row in enumerate(rows)}
    matched: dict[int, Any] = {}
    for entry in failed:
        index = None
        if isinstance(entry, dict):
            for candidate in (entry, entry.get("row"), entry.get("record"), entry.get("data")):
                if isinstance(candidate, dict) and all(n in candidate for n in resource.key_names):
                    index = keys.get(tuple(candidate[n] for n in resource.key_names))
                    break
            else:
                for name in ("index", "position", "row_index"):
                    value = entry.get(name)
                    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(rows):
                        index = value
                        break
        elif isinstance(entry, int) and not isinstance(entry, bool) and 0 <= entry < len(rows):
            index = entry
        if index is None:
            return None
        matched[index] = entry
    return matched
