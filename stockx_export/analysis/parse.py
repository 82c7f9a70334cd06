"""Rendered model SQL -> a sqlglot expression (DuckDB dialect), with syntax errors
mapped back to the line of the model's ``.sql`` file where that line survived
rendering.

The database's own parser (the adapter's ``syntax_error``) decides whether the
SQL is valid: sqlglot does not know all of DuckDB's syntax, and a model DuckDB
accepts must never be refused. When only
sqlglot fails, the model is valid but cannot be analysed, which is a warning.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stockx_export.analysis.problems import Problem

_DUCKDB_LINE = re.compile(r"^LINE (\d+):", re.M)


@dataclass(frozen=True)
class Parsed:
    """A model's compiled SQL and, when sqlglot could read it, its expression."""

    sql: str
    expression: Any  # sqlglot.exp.Expression | None
    problem: Problem | None = None


class SqlParses:
    """sqlglot's parse of each SQL text, once per text for as long as the object lives.

    One serves a run: its static checks and the fingerprints of its manifest read
    the same SQL. Callers must not modify the expressions: copy first.
    """

    def __init__(self) -> None:
        self._parsed: dict[str, list] = {}

    def parse(self, sql: str) -> list:
        """``sqlglot.parse(sql, read="duckdb")``."""
        if sql not in self._parsed:
            import sqlglot

            self._parsed[sql] = sqlglot.parse(sql, read="duckdb")
        return self._parsed[sql]


def load_parser_ahead() -> Callable[[], None]:
    """Start importing sqlglot and its DuckDB dialect in a thread; the function returned waits for it.

    For a run with nothing checked before, whose checks will parse every model: the import
    (~0.05 s) then overlaps the database's opening, during which DuckDB releases the GIL.
    The thread imports sqlglot alone, which imports nothing of stockx, so it and the caller
    never wait on each other's import locks. A failed import is left for the caller's own
    ``import sqlglot`` to report.
    """

    def load() -> None:
        try:
            import sqlglot.dialects.duckdb  # noqa: F401
            import sqlglot.optimizer.scope  # noqa: F401
        except Exception:  # noqa: BLE001  (reported where sqlglot is used)
            pass

    thread = threading.Thread(target=load, name="stockx-sqlglot", daemon=True)
    thread.start()
    return thread.join


def source_line(raw: str, compiled: str, compiled_line: int) -> int | None:
    """The line of ``raw`` (the model file) that rendered as ``compiled_line`` of ``compiled``.

    Jinja keeps literal SQL lines as they are, so the n-th occurrence of the same
    text in the compiled SQL is the n-th occurrence in the file; lines made by a
    macro or a loop have no counterpart and give None.
    """
    lines = compiled.splitlines()
    if not 1 <= compiled_line <= len(lines):
        return None
    text = lines[compiled_line - 1].strip()
    if not text:
        return None
    nth = sum(1 for line in lines[: compiled_line - 1] if line.strip() == text)
    seen = 0
    for number, line in enumerate(raw.splitlines(), 1):
        if line.strip() == text:
            if seen == nth:
                return number
            seen += 1
    return None


def parse_sql(sql: str, *, path: str, raw: str, compiled_path: str, check_syntax,
              parses: SqlParses | None = None) -> Parsed:
    """Parse ``sql`` (rendered from the model file ``path`` whose text is ``raw``).

    ``check_syntax(sql)`` returns the database parser's message, or None when it
    accepts the SQL; ``parses`` keeps sqlglot's parse for others to reuse.
    """
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    invalid = check_syntax(sql)
    if invalid is not None:
        match = _DUCKDB_LINE.search(invalid)
        compiled_line = int(match.group(1)) if match else None
        description = invalid.strip().splitlines()[0]
        if compiled_line is None:
            try:
                sqlglot.parse_one(sql, read="duckdb")
            except ParseError as exc:
                compiled_line = (exc.errors[0].get("line") if exc.errors else None) or None
            except TokenError:
                pass
        line = source_line(raw, sql, compiled_line) if compiled_line else None
        where = f"{compiled_path}:{compiled_line}" if compiled_line else compiled_path
        return Parsed(sql, None, Problem(path, f"{description} (compiled SQL: {where})", line))
    try:
        expressions = (parses or SqlParses()).parse(sql)
    except (ParseError, TokenError) as exc:
        reason = str(exc).splitlines()[0]
        return Parsed(
            sql,
            None,
            Problem(path, f"stockx cannot analyse this SQL (sqlglot: {reason}); column checks and lineage skip it", level="warn"),
        )
    statements = [e for e in expressions if e is not None]
    if len(statements) != 1:
        return Parsed(
            sql,
            None,
            Problem(path, f"a model must be one SELECT statement; found {len(statements)} statements (compiled SQL: {compiled_path})"),
        )
    return Parsed(sql, statements[0])
