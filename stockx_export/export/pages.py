"""Packing serialized rows into request bodies under a row and a byte limit.

A page's ``body`` is the exact request body; ``len(body)`` is what the byte
limit bounds. Bodies are assembled from a fixed prefix and suffix (the
envelope) around the comma-joined rows, so a page's size is known exactly
before it is built: prefix + suffix + every row + one comma between rows.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate
from operator import add
from typing import Iterable, Iterator, Sequence

from stockx_export.errors import RowTooLarge
from stockx_export.export.serialize import utf8_length


@dataclass(frozen=True)
class Envelope:
    """The payload around the rows: ``{"solutionName":..,"data":[ rows ],"operationType":..}``."""

    solution_name: str
    operation: str
    dry_run: bool = False

    @cached_property
    def prefix_text(self) -> str:
        return '{"solutionName":' + json.dumps(self.solution_name, ensure_ascii=False) + ',"data":['

    @cached_property
    def suffix_text(self) -> str:
        return '],"operationType":' + json.dumps(self.operation) + (',"dryRun":true' if self.dry_run else "") + "}"

    @cached_property
    def prefix(self) -> bytes:
        return self.prefix_text.encode("utf-8")

    @cached_property
    def suffix(self) -> bytes:
        return self.suffix_text.encode("utf-8")

    @cached_property
    def overhead(self) -> int:
        return len(self.prefix) + len(self.suffix)

    def body(self, rows: Sequence[str]) -> bytes:
        """The request body around ``rows``, built with one join and one encode
        (the rows are nearly all of it, so each extra copy would show)."""
        if not rows:
            return self.prefix + self.suffix
        parts = list(rows)
        parts[0] = self.prefix_text + parts[0]
        parts[-1] = parts[-1] + self.suffix_text
        return ",".join(parts).encode("utf-8")


@dataclass(frozen=True)
class Page:
    """One request: its rows (JSON texts, key order) and the exact body sent.

    ``number`` is the page's 1-based position in the export; a page split by
    delivery (413, bisection) keeps its parent's number.
    """

    number: int
    rows: tuple[str, ...]
    body: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.body)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def halves(self, envelope: Envelope) -> tuple["Page", "Page"]:
        """The page split in two by rows (each half at least one row)."""
        middle = len(self.rows) // 2
        first, second = self.rows[:middle], self.rows[middle:]
        return (
            Page(self.number, first, envelope.body(first)),
            Page(self.number, second, envelope.body(second)),
        )


def pack_pages(
    batches: Iterable[list[str]], envelope: Envelope, page_rows: int, page_bytes: int, relation: str | None = None
) -> Iterator[Page]:
    """Pages in row order, greedily filled: each holds at most ``page_rows`` rows
    and its whole body at most ``page_bytes`` bytes. A row that fits in no page
    raises :class:`~stockx_export.errors.RowTooLarge` (naming ``relation``, the rows' table).

    Cut points are found with running byte totals and ``bisect`` rather than a
    Python step per row, so packing costs little next to fetching the rows.
    """
    room = page_bytes - envelope.overhead + 1  # +1: n rows need n-1 commas, counted as n below
    number = 0
    carry: list[str] = []
    for batch in batches:
        rows = carry + batch if carry else batch
        # totals[i]: bytes of rows[0..i], each with one comma. All in C for ASCII
        # batches (the usual case: str length is then the UTF-8 byte count).
        sizes = map(len, rows) if all(map(str.isascii, rows)) else map(utf8_length, rows)
        totals = list(map(add, accumulate(sizes), range(1, len(rows) + 1)))
        start, base = 0, 0
        while start < len(rows):
            end = bisect_right(totals, base + room, start, min(start + page_rows, len(rows)))
            if end == start:
                row = rows[start]
                raise RowTooLarge(row, envelope.overhead + utf8_length(row), page_bytes, relation)
            if end == len(rows) and end - start < page_rows:
                break  # the page may still take rows from the next batch
            number += 1
            chunk = rows[start:end]
            yield Page(number, tuple(chunk), envelope.body(chunk))
            base = totals[end - 1]
            start = end
        carry = rows[start:]
    if carry:
        number += 1
        yield Page(number, tuple(carry), envelope.body(carry))
