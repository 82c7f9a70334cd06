"""Rows of another engine's table into a local DuckDB table, streamed in batches through Arrow.

The export serializes payloads in DuckDB SQL (stockx_export.export.serialize).
A target that is not DuckDB hands it its table as a DuckDB table with the same
columns, types (DuckDB's names for them, see ``types``) and rows, so the pages
written from it are byte for byte those of a DuckDB build: the same code makes
them. Rows arrive in the order the target sends them (primary-key order) and
at most one batch is held in Python at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from stockx_export import db
from stockx_export.core.config import TargetConfig
from stockx_export.db import Relation, quote
from stockx_export.errors import DriverMissing

BATCH_ROWS = 50_000


def batches(rows: Iterable[Sequence[Any]], size: int = BATCH_ROWS) -> Iterable[list[Sequence[Any]]]:
    """``rows`` in lists of at most ``size``."""
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def local_copy(folder: Path, target: TargetConfig, relation: str, columns: Sequence[tuple[str, str]],
               rows: Callable[[], Iterable[list[Sequence[Any]]]]) -> str:
    """A new DuckDB file ``folder/<target>-export.duckdb`` holding ``relation`` with ``columns`` and the
    batches ``rows()`` yields; its path. A copy left by an earlier export is replaced."""
    try:
        import pyarrow  # noqa: F401  (the batches travel through Arrow)
    except ImportError:
        raise DriverMissing(target.label, "pyarrow", target.type) from None
    target_name = target.name
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{target_name}-export.duckdb"
    for stale in (path, Path(f"{path}.wal")):
        stale.unlink(missing_ok=True)
    local = Relation(*split(relation))
    duck = db.connect(str(path))
    try:
        create_local_table(duck, local, columns)
        append_batches(duck, local, [name for name, _ in columns], rows())
    except BaseException:
        duck.close()
        path.unlink(missing_ok=True)
        raise
    duck.close()
    return str(path)


def split(relation: str) -> tuple[str, str]:
    """(schema, name) of a relation written ``schema.name`` (quoted or not)."""
    parts = [p.strip('"`') for p in relation.split(".")]
    return (parts[-2] if len(parts) > 1 else "main"), parts[-1]


def create_local_table(duck, relation: Relation, columns: Sequence[tuple[str, str]]) -> None:
    """An empty table ``relation`` in the DuckDB connection ``duck``, with ``columns`` (name, DuckDB type)."""
    duck.execute(f"create schema if not exists {quote(relation.schema)}")
    listed = ", ".join(f"{quote(name)} {kind}" for name, kind in columns)
    duck.execute(f"create table {relation} ({listed})")


def append_batches(duck, relation: Relation, names: Sequence[str], row_batches: Iterable[list[Sequence[Any]]]) -> int:
    """Insert each batch of row tuples into ``relation`` (values cast to its column types); the row count."""
    import pyarrow

    db.enable_python_scans()
    total = 0
    listed = ", ".join(quote(name) for name in names)
    for batch in row_batches:
        columns = list(zip(*batch))
        arrow_batch = pyarrow.table({f"c{i}": pyarrow.array(list(values)) for i, values in enumerate(columns)})
        selected = ", ".join(f"c{i}" for i in range(len(names)))
        duck.register("stockx_transfer_batch", arrow_batch)
        try:
            duck.execute(f"insert into {relation} ({listed}) select {selected} from stockx_transfer_batch")
        finally:
            duck.unregister("stockx_transfer_batch")
        total += len(batch)
    return total
