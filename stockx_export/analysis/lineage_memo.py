"""What column lineage learnt of each model's SQL, kept between runs in one JSON file.

Tracing a column means parsing the model's compiled SQL, qualifying it over the
columns of what it reads, and walking sqlglot's lineage: most of the time of
``stockx docs generate``, which traces every column of the project although few
models change between two runs. The answer for one model (its output columns, and
the table columns each one reads) depends only on its compiled SQL and on the
columns and types of what it reads (sqlglot's schema for it), with the stockx and
sqlglot versions: the key is a digest of all four, so an entry is never stale; any
change to the SQL or upstream makes a new key. Which project node a table is (a
model, seed or source) is decided afresh on every run, not kept.

The file holds digests, column names, and table names; never the SQL (a secret
read with ``env_var`` may be in it), and a table function (``read_csv('...')``) by
the digest of its text only.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 1  # bump when what an entry means changes


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Leaf:
    """A table column a model's column reads: ``schema.table`` (schema "" when unqualified), or a
    table function such as ``read_csv(...)`` by the digest of its text."""

    column: str
    schema: str = ""
    table: str = ""
    read_key: str | None = None


@dataclass(frozen=True)
class MemoEntry:
    """A model's output columns (None: they cannot be worked out) and each one's leaves."""

    columns: tuple[Any, ...] | None  # ColumnInfo
    leaves: dict[str, tuple[Leaf, ...]]


class LineageMemo:
    """The entries of ``path``, and the ones made in this run; ``save`` keeps those used in this run."""

    def __init__(self, path: Path, versions: str) -> None:
        """``versions`` names the code the entries were worked out with (stockx's and sqlglot's):
        a file written by other versions is ignored."""
        self.path = path
        self.versions = f"{versions}/{FORMAT}"
        self._stored = self._read()
        self._used: dict[str, MemoEntry] = {}
        self._offered: dict[str, MemoEntry] = {}  # worked out ahead (analysis.lineage_ahead), not used yet

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # none yet, or unreadable: everything is worked out again
        if not isinstance(data, dict) or data.get("versions") != self.versions:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def key(self, sql: str, schema: dict[str, Any]) -> str:
        """The key of a model whose compiled SQL is ``sql``, read over ``schema`` (sqlglot's mapping)."""
        # Not sort_keys: the order of a table's columns is part of what SQL reads (a SELECT * gives them in it).
        return digest(json.dumps([self.versions, sql, schema], ensure_ascii=True))

    def stored(self, key: str) -> bool:
        """Whether the file holds an entry for ``key`` (read or not)."""
        return key in self._stored or key in self._used

    def offer(self, key: str, entry: MemoEntry) -> None:
        """An entry worked out ahead of need: kept once ``take_offer`` takes it (``get`` never hands it out)."""
        self._offered.setdefault(key, entry)

    def is_offered(self, key: str) -> bool:
        return key in self._offered

    def take_offer(self, key: str) -> MemoEntry:
        """The entry offered for ``key``, from now on used."""
        entry = self._used[key] = self._offered.pop(key)
        return entry

    def get(self, key: str) -> MemoEntry | None:
        if key in self._used:
            return self._used[key]
        stored = self._stored.get(key)
        if stored is None:
            return None
        from stockx_export.analysis.schema import ColumnInfo

        try:
            columns = stored["columns"]
            entry = MemoEntry(
                None if columns is None else tuple(ColumnInfo(name, data_type) for name, data_type in columns),
                {column: tuple(Leaf(*leaf) for leaf in leaves) for column, leaves in stored["leaves"].items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None  # an entry of another shape: worked out again
        self._used[key] = entry
        return entry

    def put(self, key: str, entry: MemoEntry) -> None:
        self._used[key] = entry

    def save(self) -> None:
        """Write the entries used in this run (others are of models changed or gone), replacing the file whole."""
        entries = {
            key: {
                "columns": None if entry.columns is None else [[c.name, c.data_type] for c in entry.columns],
                "leaves": {column: [[leaf.column, leaf.schema, leaf.table, leaf.read_key] for leaf in leaves]
                           for column, leaves in entry.leaves.items()},
            }
            for key, entry in sorted(self._used.items())
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps({"versions": self.versions, "entries": entries}, separators=(",", ":")) + "\n",
                       encoding="utf-8")
        os.replace(tmp, self.path)
