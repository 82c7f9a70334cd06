"""What is wrong with a CSV file, said so a user can fix it: the file, the line, a short excerpt.

DuckDB's CSV reader loads seeds and raw files; when it refuses one, its message
may name no line, the wrong line (a row it could not size), or quote a
multi-megabyte line whole. So stockx reads the file again here, streaming, in
the same dialect, and reports the first problem in its own words:

    /data/inventory-2.csv:3: 10 values where the header has 9 columns: `S1,2026-...`; quote ...

``header_problem`` looks only at the start of a file (cheap enough to run before
every build); ``row_problem`` reads the whole file (run once DuckDB has refused it).
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

# DuckDB's max_line_size default: it refuses a longer row, and so does stockx.
MAX_ROW_BYTES = 2_000_000
EXCERPT_CHARS = 60
BOM = b"\xef\xbb\xbf"
PARQUET_MAGIC = b"PAR1"  # the first bytes of every Parquet file


@dataclass(frozen=True)
class Dialect:
    """How a CSV file is written: one delimiter, one quote, and ``escape`` (None: a quote is doubled)."""

    delimiter: str = ","
    quote: str = '"'
    escape: str | None = None


@dataclass(frozen=True)
class CsvProblem:
    """The first problem found in a file: where (``line`` is 1-based, None for the whole file) and what."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


def excerpt(text: str) -> str:
    """A line as a short, printable quotation: its first characters, control characters escaped."""
    text = text.rstrip("\r\n")
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text[:EXCERPT_CHARS])
    return f"`{shown}…`" if len(text) > EXCERPT_CHARS else f"`{shown}`"


class _Found(Exception):
    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _ends_lines_with_cr(handle) -> bool:
    """Whether the file's lines end in CR alone (an old Mac export): a CR not followed by
    LF in its first line. DuckDB reads such a file as lines, and so must the checks."""
    first = handle.readline(MAX_ROW_BYTES + 1)
    handle.seek(0)
    return b"\r" in first.rstrip(b"\r\n").replace(b"\r\n", b"")


def _cr_lines(handle, limit: int) -> Iterator[bytes]:
    """The lines of a file whose lines end in CR, each with its CR, at most ``limit`` bytes each."""
    pending = b""
    while True:
        chunk = handle.read(1 << 16)
        if not chunk:
            break
        pending += chunk
        while True:
            end = pending.find(b"\r")
            if end < 0 or end >= limit:
                break
            yield pending[:end + 1]
            pending = pending[end + 1:]
        while len(pending) >= limit:
            yield pending[:limit]
            pending = pending[limit:]
    if pending:
        yield pending


class _Lines:
    """The physical lines of a binary file, decoded; counts lines and the bytes of the current row.

    Lines end in LF or CRLF, or, as DuckDB also reads them, in CR alone."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self._cr = _cr_lines(handle, MAX_ROW_BYTES + 1) if _ends_lines_with_cr(handle) else None
        self.number = 0  # physical lines read so far
        self.row_bytes = 0
        self.row_start = 1
        self.row_text = ""

    def start_row(self) -> None:
        self.row_bytes = 0
        self.row_start = self.number + 1
        self.row_text = ""

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        raw = self.handle.readline(MAX_ROW_BYTES + 1) if self._cr is None else next(self._cr, b"")
        if not raw:
            raise StopIteration
        self.number += 1
        if self.number == 1:
            raw = raw.removeprefix(BOM)
        self.row_bytes += len(raw)
        if self.row_bytes > MAX_ROW_BYTES:
            shown = self.row_text or raw[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
            raise _Found(
                self.row_start,
                f"the row starting on this line is longer than {MAX_ROW_BYTES:,} bytes, DuckDB's limit: "
                f"{excerpt(shown + '…')}; a quote never closed makes the rest of the file one value: "
                "check the quotes, or export the file again",
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Found(
                self.number,
                f"byte 0x{raw[exc.start]:02x} is not UTF-8: "
                f"{excerpt(raw.decode('utf-8', errors='backslashreplace'))}; save the file as UTF-8",
            ) from None
        if not self.row_text:
            self.row_text = text
        return text


@contextlib.contextmanager
def _field_limit(limit: int) -> Iterator[None]:
    # The csv module caps a field at 128 KiB; DuckDB takes any value that fits a row.
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _reader(lines: _Lines, dialect: Dialect):
    if dialect.escape and dialect.escape != dialect.quote:
        return csv.reader(lines, delimiter=dialect.delimiter, quotechar=dialect.quote, escapechar=dialect.escape,
                          doublequote=False, strict=True)
    return csv.reader(lines, delimiter=dialect.delimiter, quotechar=dialect.quote, doublequote=True, strict=True)


def _rows(lines: _Lines, dialect: Dialect) -> Iterator[tuple[int, list[str], str]]:
    """(first line, values, text of the first line) of each non-blank row; raises _Found."""
    reader = _reader(lines, dialect)
    while True:
        lines.start_row()
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if lines.number > lines.row_start or "end of data" in str(exc):
                raise _Found(
                    lines.row_start,
                    f"a quoted value starting on this line is never closed: {excerpt(lines.row_text)}; check the quotes",
                ) from None
            raise _Found(lines.row_start, f"{exc}: {excerpt(lines.row_text)}; check the quotes on this line") from None
        if row:  # a blank line is no row, for DuckDB too
            yield lines.row_start, row, lines.row_text


def _open(path: Path):
    try:
        return path.open("rb")
    except OSError as exc:
        raise _Found(None, f"cannot be read: {exc.strerror or exc}") from None


def _check_not_parquet(handle) -> None:
    """A Parquet file read as CSV would be reported as a header without the columns."""
    if handle.read(4) == PARQUET_MAGIC:
        raise _Found(None, "is a Parquet file, but it is read as CSV (a path or glob is read as Parquet only "
                           "when it ends in .parquet): end the path or glob with .parquet, or give the file "
                           "its .parquet name")
    handle.seek(0)


def header_problem(
    path: Path,
    display: str,
    dialect: Dialect = Dialect(),
    required: Sequence[str] = (),
    require_rows: bool = False,
    what: str = "",
) -> CsvProblem | None:
    """A problem with the start of the file: empty, a Parquet file, not UTF-8, a header
    without a ``required`` column or naming a column twice (names matched
    case-insensitively, as DuckDB binds them), or (``require_rows``) no data row.

    ``what`` names who requires the columns, for the message (e.g. "source warehouse.inventory").
    """
    try:
        with _open(path) as handle, _field_limit(MAX_ROW_BYTES):
            _check_not_parquet(handle)
            lines = _Lines(handle)
            rows = _rows(lines, dialect)
            first = next(rows, None)
            if first is None:
                raise _Found(None, "the file is empty; it needs a header line naming its columns, then the data")
            _, header, text = first
            names = {name.strip().lower() for name in header}  # DuckDB trims header names
            missing = [c for c in required if c.lower() not in names]
            if missing:
                raise _Found(1, _missing_message(missing, header, text, dialect, what))
            repeated = repeated_name(header)
            if repeated is not None:
                raise _Found(1, repeated_message(repeated, shown=excerpt(text)))
            if require_rows and next(rows, None) is None:
                raise _Found(
                    1,
                    "the file has a header line and no data: a truncated or failed export? "
                    "Export it again, or remove it from the files read",
                )
    except _Found as found:
        return CsvProblem(display, found.line, found.message)
    return None


def _missing_message(missing: list[str], header: list[str], text: str, dialect: Dialect, what: str) -> str:
    names = ", ".join(f"'{c}'" for c in missing)
    needs = f", which {what} needs" if what else ""
    message = f"the header has no column {names}{needs}: {excerpt(text)}"
    if len(header) == 1 and any(sep in header[0] for sep in (";", "\t", "|")) and dialect.delimiter not in ";\t|":
        kind = _delimiter_name(dialect.delimiter)
        return message + f"; the file does not look {kind}-separated: save it with '{dialect.delimiter}' between values"
    return message + (
        "; the first line must name the columns: add the missing ones (values may be empty), or export the file again"
    )


def repeated_name(names: Sequence[str]) -> str | None:
    """The first column name given twice (trimmed, in any letter case, as DuckDB binds
    them; blank names aside), or None."""
    seen: set[str] = set()
    for name in names:
        key = name.strip().lower()
        if key and key in seen:
            return name.strip()
        seen.add(key)
    return None


def repeated_message(name: str, where: str = "the header", shown: str = "") -> str:
    """What to say about a column ``where`` names twice (``shown``: the header, quoted)."""
    quoted = f": {shown}" if shown else ""
    return (f"{where} names column '{name}' twice{quoted}; DuckDB would read one and rename the other, so "
            "which value is used would depend on the column order: remove or rename one of them, or export the "
            "file again")


def _delimiter_name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(delimiter, repr(delimiter))


def row_problem(
    path: Path, display: str, dialect: Dialect = Dialect(), fix: str = "export the file again"
) -> CsvProblem | None:
    """The first malformed line of the whole file, or None: not UTF-8, a quote never closed,
    a row longer than DuckDB takes, or a row whose values do not match the header's columns
    (``fix`` is the other remedy than quoting, e.g. "set the seed's delimiter")."""
    try:
        with _open(path) as handle, _field_limit(MAX_ROW_BYTES):
            lines = _Lines(handle)
            width = None
            for line, row, text in _rows(lines, dialect):
                if width is None:
                    width = len(row)
                elif len(row) != width:
                    raise _Found(
                        line,
                        f"row has {len(row)} values but the header has {width} columns: {excerpt(text)}; "
                        f"quote values that contain {dialect.delimiter!r}, or {fix}",
                    )
    except _Found as found:
        return CsvProblem(display, found.line, found.message)
    return None


def is_empty(path: Path) -> bool:
    """True for a file with no header line (only a byte order mark and whitespace, or nothing)."""
    with open(path, "rb") as handle:
        head = handle.read(64)
    return not head.removeprefix(BOM).strip()
