"""Small text tables for the terminal: query previews and failing rows."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 page``, ``1,204 pages``; ``many`` spells the plural when it is not ``noun + "s"``
    (``plural(2, "retry", "retries")``)."""
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"


MAX_CELL = 40  # terminal columns a cell takes at most
# Characters that would break the table are written as escapes: "|" would split a
# cell; a newline (and Unicode's line and paragraph separators) the row; a tab the
# alignment; C0 and C1 controls (ESC, CSI) would drive the terminal; bidirectional
# overrides would reorder what is shown.
_BREAKING = re.compile(r"[|\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "|": "\\|"}


def _escape(text: str) -> str:
    def escape(match: re.Match) -> str:
        char = match.group(0)
        if char in _NAMED:
            return _NAMED[char]
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    return _BREAKING.sub(escape, text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def width(text: str) -> int:
    """Terminal columns ``text`` takes: wide (CJK) characters two, combining marks none."""
    return sum(_char_width(c) for c in text)


def _cell(value: Any) -> str:
    text = _escape("null" if value is None else str(value))
    if width(text) <= MAX_CELL:
        return text
    kept, used = [], 0
    for char in text:
        used += _char_width(char)
        if used > MAX_CELL - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"


def format_table(names: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "") -> str:
    """Rows under a header, columns aligned: the way `stockx show` prints.

    Every value and name is one line of one cell whatever it holds (see ``_BREAKING``)."""
    header = [_escape(str(n)) for n in names]
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([width(n)] + [width(r[i]) for r in cells]) for i, n in enumerate(header)]

    def line(values: Sequence[str]) -> str:
        return indent + "| " + " | ".join(v + " " * (w - width(v)) for v, w in zip(values, widths)) + " |"

    rule = indent + "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in cells)])
