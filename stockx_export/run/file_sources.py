"""Sources read from files: each file checked before a node reads it, and named when DuckDB refuses one.

The model and test executors check through :func:`checking_files` (see
stockx_export.run.executors); the runner holds the run's :class:`FileSourceChecks`. A source is read
from files when its ``external_location`` renders to ``read_csv(<path, glob or
list>, ...)`` or ``read_parquet(...)``, as the sample project's ``*_path`` vars
make it; a source whose table a seed of the project loads is read from that
seed's CSV file. Before a model or test that reads such a source runs (directly,
or through views and ephemeral models), every file is checked once per run:

- it exists (a glob matches at least one file);
- its header has every column the source declares (``union_by_name`` would fill
  a missing one with NULLs, and the lines would be accepted with a wrong value),
  and no column twice (DuckDB would rename one, and read the other);
- it holds at least one data row (a header alone is a truncated export).

A problem fails that node with a message naming the file, the line and what to
do; what depends on it is skipped. When a node reading such a source fails
anyway (DuckDB refused a malformed line), its CSV files are read again to name
the file and line (stockx_export.core.csv_files), instead of DuckDB's message.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockx_export.core import csv_files
from stockx_export.core.csv_files import CsvProblem, Dialect
from stockx_export.core.jinja.render import Frame
from stockx_export.core.nodes import Node, SourceTable
from stockx_export.db import first_line
from stockx_export.run.results import NodeResult, shorten

CSV_READERS = ("read_csv", "read_csv_auto")
PARQUET_READERS = ("read_parquet", "parquet_scan")
PASS_THROUGH = ("view", "ephemeral")  # models that read their inputs each time they are read
# DuckDB binding a column no input has (the second form when an output column has its name).
UNKNOWN_COLUMN = re.compile(r'Binder Error: (?:Referenced column "([^"]+)" not found'
                            r'|Column "([^"]+)" referenced that exists in the SELECT clause)')


@dataclass(frozen=True)
class FileRead:
    """How a source reads files: the reader, its path arguments, the CSV dialect and the call itself."""

    reader: str  # "csv" | "parquet"
    patterns: tuple[str, ...]
    dialect: Dialect | None  # None: not given, DuckDB sniffs it
    call: Any  # the sqlglot expression of the call, to read one file the same way


def file_read(expression: str) -> FileRead | None:
    """The files ``expression`` (a rendered ``external_location``) reads, or None if it is no file reader."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        table = sqlglot.parse_one(f"select * from {expression}", read="duckdb").find(exp.Table)
    except SqlglotError:
        return None
    call = table.this if table is not None else None
    if not isinstance(call, exp.Func):
        return None
    name = (call.name if isinstance(call, exp.Anonymous) else call.sql_name()).lower()
    reader = "csv" if name in CSV_READERS else "parquet" if name in PARQUET_READERS else None
    if reader is None:
        return None
    args = [a for a in [call.args.get("this"), *(call.args.get("expressions") or [])] if a is not None]
    if not args:
        return None
    first = args[0]
    values = first.expressions if isinstance(first, exp.Array) else [first]
    if not values or not all(isinstance(v, exp.Literal) and v.is_string for v in values):
        return None  # a path computed in SQL: nothing stockx can check
    options = {
        a.this.name.lower(): a.expression.name
        for a in args[1:]
        if isinstance(a, (exp.EQ, exp.PropertyEQ)) and isinstance(a.expression, exp.Literal)
    }
    dialect = None
    delimiter = options.get("delim", options.get("sep", options.get("delimiter")))
    if reader == "csv" and delimiter:
        quote = options.get("quote", '"')
        escape = options.get("escape") or None
        dialect = Dialect(delimiter=delimiter, quote=quote, escape=None if escape == quote else escape)
    return FileRead(reader, tuple(v.name for v in values), dialect, call)


def read_one(read: FileRead, file: str) -> str:
    """The SQL of ``read``'s call on ``file`` alone, with every other argument as written."""
    from sqlglot import exp

    call = read.call.copy()
    literal_file = exp.Literal.string(file)
    if call.args.get("this") is not None:
        call.set("this", literal_file)
    else:
        call.expressions[0].replace(literal_file)
    return call.sql("duckdb")


class FileSourceChecks:
    """The checks of one run: every source checked at most once, every diagnosis made at most once."""

    def __init__(self, project, adapter: Callable[[], Any]) -> None:
        self.project = project
        self._adapter = adapter  # the asking thread's connection (a parallel run has one per worker)
        self._lock = threading.RLock()  # workers check one at a time: a source is checked once
        self.by_id = {s.unique_id: s for s in self.project.sources.values()}
        self.seeds = {n.relation: n for n in self.project.nodes.values() if n.resource_type == "seed"}
        self._checked: dict[str, str | None] = {}
        self._diagnosed: dict[str, str | None] = {}
        self._reads: dict[str, list[SourceTable]] = {}  # view / ephemeral model -> the sources read through it

    @property
    def adapter(self):
        return self._adapter()

    # -- which sources a node reads --------------------------------------------------------

    def sources_read(self, node: Node) -> list[SourceTable]:
        """Sources ``node`` reads when it runs: directly, or through views and ephemeral models."""
        if not self.by_id:
            return []
        found: dict[str, SourceTable] = {}
        seen: set[str] = set()
        pending = list(node.depends_on)
        while pending:
            uid = pending.pop()
            if uid in seen:
                continue
            seen.add(uid)
            if uid in self.by_id:
                found.setdefault(uid, self.by_id[uid])
                continue
            if uid in self._reads:  # a view or ephemeral model walked before: what it reads, at once
                found.update((s.unique_id, s) for s in self._reads[uid])
                continue
            upstream = self.project.nodes.get(uid)
            if upstream is not None and upstream.resource_type == "model" and upstream.materialized in PASS_THROUGH:
                pending.extend(upstream.depends_on)
        reads = [found[uid] for uid in sorted(found)]
        if node.resource_type == "model" and node.materialized in PASS_THROUGH:
            self._reads[node.unique_id] = reads  # what its own readers then read through it
        return reads

    def _resolved(self, source: SourceTable) -> Any:
        """What ``source('...')`` renders to: a relation, or the text of its ``external_location``."""
        frame = Frame("", source.path, "source", {}, "parse")
        return self.project.resolver.resolve_source(source.source_name, source.name, frame)

    def _read_of(self, source: SourceTable) -> FileRead | None:
        expression = self._resolved(source)
        return file_read(expression) if isinstance(expression, str) else None

    def _label(self, source: SourceTable) -> str:
        return f"source {source.source_name}.{source.name}"

    # -- before a node runs ----------------------------------------------------------------

    def problem(self, node: Node) -> str | None:
        """The first problem with the files of a source ``node`` reads, or None."""
        with self._lock:
            return self._problem(node)

    def _problem(self, node: Node) -> str | None:
        for source in self.sources_read(node):
            if source.unique_id not in self._checked:
                self._checked[source.unique_id] = self._check(source)
            if self._checked[source.unique_id]:
                return self._checked[source.unique_id]
        return None

    def _check(self, source: SourceTable) -> str | None:
        required = [c.name for c in source.columns]
        what = f"{self._label(source)} ({source.path})"
        resolved = self._resolved(source)
        if isinstance(resolved, str):
            read = file_read(resolved)
            return self._check_files(source, read, required, what) if read is not None else None
        seed = self.seeds.get(resolved)
        if seed is None or seed.config.get("header") is False or not (self.project.config.root / seed.path).is_file():
            return None
        path = self.project.config.root / seed.path
        problem = csv_files.header_problem(path, seed.path, self.adapter.seed_dialect(seed.config), required, True, what)
        return str(problem) if problem else None

    def _check_files(self, source: SourceTable, read: FileRead, required: list[str], what: str) -> str | None:
        files = self._files(read)
        if not files:
            shown = ", ".join(f"'{p}'" for p in read.patterns)
            return (
                f"{self._label(source)} reads {shown} ({source.path}), and no file matches: "
                "check the path (relative paths are read from the directory stockx runs in)"
            )
        for file in files:
            problem = None
            if read.reader == "csv":
                problem = csv_files.header_problem(Path(file), file, self._dialect(read, file), required, True, what)
            problem = problem or self._duckdb_header(read, file, required, what)
            if problem is not None:
                return str(problem)
        return None

    def _files(self, read: FileRead) -> list[str]:
        files: set[str] = set()
        for pattern in read.patterns:
            files.update(self.adapter.files_matching(pattern))
        return sorted(files)

    def _dialect(self, read: FileRead, file: str) -> Dialect:
        """The CSV dialect ``read`` gives, or the one DuckDB's sniffer finds in ``file`` when it gives none."""
        if read.dialect is not None:
            return read.dialect
        found = self.adapter.sniff_csv(file)
        if found is None:
            return Dialect()
        delimiter, quote = found
        return Dialect(delimiter=delimiter or ",", quote=quote if quote and len(quote) == 1 else '"')

    def _duckdb_header(self, read: FileRead, file: str, required: list[str], what: str) -> CsvProblem | None:
        """The columns and first row as DuckDB reads them (a Parquet file, or a CSV file Python read fine)."""
        try:
            first = self.adapter.sample(f"select * from {read_one(read, file)}", 1)
            names = {name.lower() for name in first.names}
            has_rows = bool(first.rows)
        except self.adapter.error_types as exc:
            if read.reader == "csv":
                found = csv_files.row_problem(Path(file), file, self._dialect(read, file))
                if found is not None:
                    return found
            return CsvProblem(file, None, f"cannot be read: {shorten(first_line(str(exc)))}")
        missing = [c for c in required if c.lower() not in names]
        if missing:
            columns = ", ".join(f"'{c}'" for c in missing)
            return CsvProblem(file, None, f"has no column {columns}, which {what} needs; add it, or export the file again")
        if read.reader == "parquet":
            repeated = csv_files.repeated_name(self._parquet_columns(file))
            if repeated is not None:
                return CsvProblem(file, None, csv_files.repeated_message(repeated, "the file"))
        if not has_rows:
            return CsvProblem(
                file, None, "has no rows: a truncated or failed export? Export it again, or remove it from the files read"
            )
        return None

    def _parquet_columns(self, file: str) -> list[str]:
        """The top-level column names of a Parquet file as written (DuckDB renames a repeated one)."""
        rows = self.adapter.query(f"select name, num_children from parquet_schema({self.adapter.literal(file)})").rows
        names: list[str] = []
        position = 1  # the first row is the schema's root; its children are the columns

        def skip(at: int) -> int:
            # Past one field and, depth first, every field nested in it.
            children = rows[at][1] or 0
            at += 1
            for _ in range(children):
                at = skip(at)
            return at

        for _ in range((rows[0][1] or 0) if rows else 0):
            names.append(rows[position][0])
            position = skip(position)
        return names

    # -- after a node failed -------------------------------------------------------------

    def diagnosis(self, node: Node, error: str) -> str | None:
        """What made ``node`` fail, said about the files it reads: the first malformed line of
        a CSV file DuckDB's ``error`` names, or a column it reads that the source does not
        declare (a var or macro naming a column no file is checked for); else None."""
        with self._lock:
            return self._malformed_line(node, error) or self._undeclared_column(node, error)

    def _undeclared_column(self, node: Node, error: str) -> str | None:
        found = UNKNOWN_COLUMN.search(error)
        if found is None:
            return None
        column = found.group(1) or found.group(2)
        for source in self.sources_read(node):
            declared = [c.name for c in source.columns]
            if not declared or column.lower() in {name.lower() for name in declared}:
                continue
            return (
                f"{node.path}: reads column '{column}', which {self._label(source)} ({source.path}) does not declare "
                f"(it declares {', '.join(declared)}): add it under the source's columns, so that every file is "
                "checked for it, or fix the var or macro that names it"
            )
        return None

    def _malformed_line(self, node: Node, error: str) -> str | None:
        for source in self.sources_read(node):
            read = self._read_of(source)
            if read is None or read.reader != "csv":
                continue
            for file in self._files(read):
                if file not in error:
                    continue  # DuckDB names the file it refused; an error elsewhere needs no re-reading
                if file not in self._diagnosed:
                    found = csv_files.row_problem(Path(file), file, self._dialect(read, file))
                    self._diagnosed[file] = str(found) if found else None
                if self._diagnosed[file]:
                    return self._diagnosed[file]
        return None


def checking_files(build):
    """An executor that checks the files a node reads before ``build`` runs it, and names the bad line if it fails."""

    def executor(runner, node: Node) -> NodeResult:
        checks = runner.file_checks
        problem = checks.problem(node)
        if problem is not None:
            return NodeResult(node, "error", problem)
        result = build(runner, node)
        if result.status == "error":
            found = checks.diagnosis(node, f"{result.message}\n{result.detail}")
            if found is not None:
                result.message, result.detail = found, ""
        return result

    return executor
