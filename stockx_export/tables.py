"""Small text tables for the terminal: query previews and failing rows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

MAX_CELL = 40
# A newline would break the row, a tab its alignment, an escape sequence would drive the terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _cell(value: Any) -> str:
    text = "null" if value is None else str(value)
    text = _CONTROL.sub(lambda m: _NAMED.get(m.group(0), f"\\x{ord(m.group(0)):02x}"), text)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def format_table(names: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "") -> str:
    """Rows under a header, columns aligned: the way `stockx show` prints."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]
    line = lambda values: indent + "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"  # noqa: E731
    rule = indent + "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(list(names)), rule, *(line(r) for r in cells)])
