"""Peak's answers: one body read under a size cap and decoded, and what a 2xx body says.

A body is read chunk by chunk and decompressed here (gzip or deflate) with a
bound on the output, so neither a huge answer nor a small compressed one that
inflates (a "zip bomb") can exhaust memory: reading stops at the cap and the
rest is never read. The text kept is scrubbed of the token before anything
else sees it (see :mod:`.redact`).
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from typing import Any

from stockx_export.export.contract import Resource
from stockx_export.export.redact import Redactor
from stockx_export.export.serialize import row_key

# Words a 2xx body's ``status`` / ``state`` / ``result`` uses to say the payload failed.
FAILURE_WORDS = frozenset({"error", "errors", "fail", "failed", "failure", "rejected", "invalid"})


class UnreadableAnswer(ValueError):
    """The body could not be decoded (a corrupt or unknown Content-Encoding)."""


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
            raise UnreadableAnswer(f"Content-Encoding {encoding!r} is not one stockx reads")
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
                raise UnreadableAnswer(f"Content-Encoding {self._encoding} could not be decoded: {exc}") from None
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
                raise UnreadableAnswer(f"Content-Encoding {self._encoding} could not be decoded: {exc}") from None
            if not self._inflate.eof and self.size:
                raise UnreadableAnswer(f"Content-Encoding {self._encoding}: the compressed body ends early")
        return b"".join(self.parts)[:self.limit]

    def _keep(self, data: bytes) -> None:
        if not data:
            return
        self.parts.append(data)
        self.size += len(data)
        if self.size > self.limit:
            self.truncated = True


def answer_text(body: bytes, content_type: str | None, truncated: bool, limit: int, redactor: Redactor) -> str:
    """The body as text with the token scrubbed; a truncated body loses its last
    characters (they may hold the start of a token cut in two) and gets a note."""
    charset = "utf-8"
    found = re.search(r"charset=\"?([\w.:-]+)", content_type or "", re.IGNORECASE)
    if found:
        charset = found.group(1)
    try:
        text = body.decode(charset, errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    if not truncated:
        return redactor.scrub(text)
    text = text[:max(0, len(text) - redactor.tail)]
    return redactor.scrub(text) + f"\n[stockx: the answer was longer than {limit:,} bytes; the rest was not read]"


def failure_report(body: Any) -> str | None:
    """Why a 2xx JSON body says the payload failed (``"success": false``, a
    failure ``status``, a non-empty ``errors`` / ``error`` / ``errorCode``), or
    None when it does not."""
    if not isinstance(body, dict):
        return None
    for name in ("success", "ok"):
        if body.get(name) is False:
            return f'"{name}": false'
    for name in ("status", "state", "result"):
        value = body.get(name)
        if isinstance(value, str) and value.strip().lower() in FAILURE_WORDS:
            return f'"{name}": {json.dumps(value)}'
    for name in ("errors", "error", "errorCode"):
        value = body.get(name)
        if value not in (None, False, "", [], {}):
            return f'"{name}" is not empty'
    return None


def failed_entries(body: Any) -> list[Any] | None:
    """The non-empty ``failed`` array of a 2xx body; [] when every row was taken
    (an empty body included); None when ``failed`` is present but not an array."""
    failed = body.get("failed") if isinstance(body, dict) else None
    if not failed:
        return []
    return failed if isinstance(failed, list) else None


def accepted_count(body: Any) -> int | None:
    """The ``accepted`` row count of a 2xx body, when it gives one."""
    value = body.get("accepted") if isinstance(body, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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
