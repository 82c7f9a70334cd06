"""The database seam: one :class:`Adapter` per target, and every statement stockx runs goes through it.

The runner, the test executors, the contract check, the Jinja context
(``adapter.dispatch``, ``target.type``, ``run_query``) and the file checks ask
an adapter; none of them writes SQL that depends on the database or holds a
connection of its own. An adapter owns:

- its connection: opening (``connect``, ``for_reading``), an empty scratch
  database for unit tests (``scratch``), the target's extensions and settings;
- the catalog: which relations exist (cached, kept current by its own builds),
  their columns, a type's canonical name, whether SQL parses;
- every materialization: a view, a table built under a temporary name and
  swapped in after its check, each incremental strategy (``merge``,
  ``delete+insert``, ``append``, ``replace_window``) with ``on_schema_change``,
  a snapshot (dbt's SCD type 2 history), a seed load; each in one transaction,
  so a failure leaves the old relation;
- the queries of data tests, unit tests and contracts, the read of files
  behind file sources, and the connection the export reads tables through.

A new engine is one module with one subclass, named in
``stockx_export.adapters.ADAPTERS`` by its ``type`` (the ``type`` of a target).
"""

from __future__ import annotations

import datetime
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from stockx_export.core.window import STRATEGY as WINDOW_STRATEGY
from stockx_export.db import Relation

if TYPE_CHECKING:
    from stockx_export.core.config import TargetConfig
    from stockx_export.core.csv_files import Dialect
    from stockx_export.core.snapshots import SnapshotSpec
    from stockx_export.core.window import Window

# Called with the adapter and the relation (as SQL text) to inspect before it replaces the old one.
Check = Callable[["Adapter", str], None]
# dbt's strategies whose result stockx gives (None: delete+insert with a unique_key, else append),
# and stockx's own replace_window (see stockx_export.core.window).
INCREMENTAL_STRATEGIES = (None, "append", "delete+insert", "merge", WINDOW_STRATEGY)
SCHEMA_CHANGE_MODES = ("ignore", "fail", "append_new_columns", "sync_all_columns")


@dataclass(frozen=True)
class Outcome:
    """What a build did, for the log line."""

    verb: str  # "created table", "created view", "merged incremental", "loaded seed"
    rows: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Rows:
    """A query's column names and rows."""

    names: list[str]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class RelationColumns:
    """What the database's catalog says of one relation: its kind and its columns."""

    kind: str  # 'table' | 'view'
    columns: tuple[tuple[str, str], ...]  # (name, the database's type name), in column order


class Adapter(ABC):
    """One open database of one target. Stateful (a connection, the catalog it has seen): a plain class."""

    type: ClassVar[str]  # a target's ``type``; ``adapter.dispatch`` looks for ``<type>__<macro>`` first
    dialect: ClassVar[str]  # sqlglot's name for this database's SQL
    # Whether nodes may build at once: each in its own transaction, so no reader ever sees a relation mid-swap.
    concurrent_nodes: ClassVar[bool] = True

    # -- opening and closing --------------------------------------------------------------------

    @classmethod
    @abstractmethod
    def connect(cls, target: TargetConfig, *, read_only: bool = False) -> Adapter:
        """Open the target's database (creating it when it does not exist, unless ``read_only``)."""

    @classmethod
    @abstractmethod
    def for_reading(cls, target: TargetConfig) -> Adapter:
        """The target's database read-only when it exists, else an empty one (compile and show work before a build)."""

    @classmethod
    @abstractmethod
    def export_database(cls, target: TargetConfig, relation: str, order_by: tuple[str, ...], folder: Path) -> str:
        """The DuckDB database file in which the export reads ``relation`` by name.

        The export builds its JSON pages in DuckDB SQL whatever the engine: for
        DuckDB this is the database itself; another engine streams the relation,
        in ``order_by`` order, into a table of a DuckDB file in ``folder`` (same
        name, columns and types), so the pages are made by the same code.
        """

    @abstractmethod
    def scratch(self) -> Adapter:
        """A new, empty database of this kind that nothing else sees (unit tests run in it)."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def worker(self) -> Adapter:
        """Another connection to the same database, for one worker thread of a parallel run.

        It has the target's settings, and shares this adapter's knowledge of the
        catalog (a relation one worker builds, the others see); each worker
        builds in transactions of its own. Closing it leaves this adapter open.
        """

    def interrupt(self) -> None:
        """Stop the statement running on this connection, from another thread (Ctrl-C in a parallel run)."""

    def interrupted(self, exc: BaseException) -> bool:
        """Whether ``exc`` is the database saying a statement was stopped by Ctrl-C (not a node's error)."""
        return False

    def create_schemas(self, schemas: Sequence[str]) -> None:
        """Create each of ``schemas`` that is missing, before a parallel run's workers build in them
        (two transactions creating one schema at once conflict). Nothing to do where schemas need no care."""

    def __enter__(self) -> Adapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def apply_target_settings(self) -> None:
        """Load the target's extensions and apply its settings; a ProjectError naming the target if refused."""

    # -- SQL text and errors ------------------------------------------------------------------------

    @property
    @abstractmethod
    def error_types(self) -> tuple[type[BaseException], ...]:
        """What the driver raises for a statement the database refuses."""

    @staticmethod
    @abstractmethod
    def quote(identifier: str) -> str: ...

    @staticmethod
    @abstractmethod
    def literal(value: str) -> str: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Any]:
        """COMMIT when the block ends, ROLLBACK when it raises."""

    @abstractmethod
    def rolled_back(self) -> AbstractContextManager[Any]:
        """A transaction that is rolled back when the block ends, however it ends (a unit test's fixtures)."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run a statement whose result nobody reads (a hook, a DDL)."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run a query; its column names and every row."""

    def user_query(self, sql: str) -> Rows:
        """A query a project's template wrote (run_query, statement() fetching rows): as :meth:`query`, but it
        may change the database too (a schema dropped), so what the adapter remembers of it is forgotten first."""
        return self.query(sql)

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first value of the first row of a query (None when it returns no row)."""
        rows = self.query(sql, params).rows
        return rows[0][0] if rows else None

    # -- the catalog ----------------------------------------------------------------------------------

    @abstractmethod
    def relation_kind(self, relation: Relation) -> str | None:
        """'table', 'view', or None when ``relation`` does not exist."""

    @abstractmethod
    def refresh(self) -> None:
        """Read the catalog again on next use (relations were made or dropped by statements it did not run)."""

    @abstractmethod
    def drop(self, relation: Relation) -> None:
        """Drop ``relation`` (a table or a view) if it exists."""

    @abstractmethod
    def columns(self, relation: str) -> list[tuple[str, str]]:
        """(name, type) of each column of a relation or a parenthesised query, in order."""

    def describe(self, query: str) -> list[tuple[str, str]] | None:
        """The columns of ``query`` (a relation, or a parenthesised query), or None when it cannot be read."""
        try:
            return self.columns(query)
        except self.error_types:
            return None

    def catalog(self, relations: Sequence[Relation]) -> dict[Relation, RelationColumns]:
        """The kind and columns of each of ``relations`` that exists (those that do not are left out).

        One question per relation here; an engine whose catalog answers for every
        relation at once overrides it (a project of hundreds of views asks it)."""
        found: dict[Relation, RelationColumns] = {}
        for relation in relations:
            kind = self.relation_kind(relation)
            if kind is not None:
                found[relation] = RelationColumns(kind, tuple(self.columns(str(relation))))
        return found

    @abstractmethod
    def canonical_type(self, declared: str) -> str:
        """The database's own name for a declared type ('int4' -> 'INTEGER'); ValueError when unknown."""

    @abstractmethod
    def syntax_error(self, sql: str) -> str | None:
        """The parser's message when ``sql`` is not valid for this database, else None (nothing runs)."""

    # -- materializations -----------------------------------------------------------------------------

    @abstractmethod
    def build_view(self, relation: Relation, sql: str, check: Check | None = None) -> Outcome: ...

    @abstractmethod
    def build_table(self, relation: Relation, sql: str, check: Check | None = None) -> Outcome:
        """Build under a temporary name, ``check`` it, swap it in; the old table stays on any failure."""

    @abstractmethod
    def build_incremental(
        self,
        relation: Relation,
        sql: str,
        *,
        unique_key: Any,
        full_refresh: bool,
        check: Check | None = None,
        on_schema_change: str | None = None,
        strategy: str | None = None,
        window: Window | None = None,
        clock: Callable[[], datetime.datetime] | None = None,
    ) -> Outcome:
        """The whole table on a first build or a full refresh; else merge by ``unique_key``, append,
        or (``replace_window``) replace ``window``'s dates, in one transaction."""

    @abstractmethod
    def build_snapshot(self, relation: Relation, sql: str, spec: SnapshotSpec, now: str) -> Outcome:
        """Record ``sql``'s rows in the snapshot table ``relation`` as dbt's snapshot materialization does:
        the table on a first build; later, close the current rows that changed or (``hard_deletes``) left,
        and insert the new versions, in one transaction. ``now`` is the SQL of the snapshot's time."""

    @abstractmethod
    def seed_select(self, csv_path: Path, config: dict[str, Any], column_types: dict[str, str] | None = None) -> str:
        """The query that reads a seed file: every column typed by ``column_types`` when given,
        else the database's reader with the seed's ``column_types`` config."""

    @abstractmethod
    def seed_dialect(self, config: dict[str, Any]) -> Dialect:
        """The CSV dialect ``seed_select`` reads a seed in, so stockx_export.core.csv_files reads it the same way."""

    def load_seed(
        self, relation: Relation, csv_path: Path, config: dict[str, Any], column_types: dict[str, str] | None = None
    ) -> Outcome:
        outcome = self.build_table(relation, self.seed_select(csv_path, config, column_types))
        return Outcome("loaded seed", outcome.rows)

    # -- incremental windows --------------------------------------------------------------------------

    @abstractmethod
    def check_date_column(self, relation: str, column: str, shown: str) -> None:
        """ExecutionError unless ``relation`` has ``column`` holding dates or timestamps."""

    @abstractmethod
    def newest_date(self, relation: Relation, column: str) -> datetime.date | None:
        """The newest date of ``column`` in ``relation`` (None for an empty table)."""

    @abstractmethod
    def recorded_window_start(self, relation: Relation) -> datetime.date | None:
        """The first day the last build of ``relation`` replaced; None for every day, or none recorded."""

    # -- tests ----------------------------------------------------------------------------------------

    @abstractmethod
    def test_verdict(self, sql: str, fail_calc: str, warn_if: str, error_if: str) -> tuple[Any, Any, Any]:
        """(failures, should_warn, should_error) of a data test's query, counted the way dbt does."""

    @abstractmethod
    def store_failures(self, relation: Relation, sql: str, as_view: bool) -> None:
        """Replace ``relation`` with the failing rows of ``sql`` (a table, or a view)."""

    @abstractmethod
    def sample(self, sql: str, limit: int) -> Rows:
        """At most ``limit`` rows of ``sql``."""

    @abstractmethod
    def create_table(self, name: str, columns: Sequence[tuple[str, str]]) -> None:
        """An empty table of ``columns`` (name, type)."""

    @abstractmethod
    def insert_cast(self, name: str, columns: Sequence[tuple[str, str]], values: Sequence[Any]) -> None:
        """One row into table ``name``, each value cast to its column's type (raises ``error_types``)."""

    def insert_rows(self, name: str, columns: Sequence[tuple[str, str]],
                    rows: Sequence[Sequence[Any]]) -> tuple[int, str] | None:
        """Every row into table ``name`` (values cast as ``insert_cast`` does). None when all went in,
        else the 1-based number of the first row that does not cast and the database's message. An
        engine where each statement is costly overrides it with one statement."""
        for number, values in enumerate(rows, 1):
            try:
                self.insert_cast(name, columns, values)
            except self.error_types as exc:
                return number, str(exc)
        return None

    @abstractmethod
    def create_table_as(self, name: str, sql: str) -> None: ...

    @abstractmethod
    def rows_missing(self, columns: Sequence[str], left: str, right: str) -> list[tuple[Any, ...]]:
        """Rows (of ``columns``) of table ``left`` that are not in table ``right``, as multisets."""

    # -- files read by file sources -----------------------------------------------------------------

    @abstractmethod
    def files_matching(self, pattern: str) -> list[str]:
        """The files a path or glob of a file source names, as the database would read them."""

    @abstractmethod
    def sniff_csv(self, file: str) -> tuple[str, str] | None:
        """(delimiter, quote) the database's CSV reader finds in ``file``; None when it cannot tell."""
