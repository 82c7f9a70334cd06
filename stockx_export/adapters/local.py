"""An in-memory DuckDB beside another engine's connection: DuckDB's CSV reader and parser, for what
PostgreSQL and Spark read as DuckDB does (seeds, file sources, syntax checks)."""

from __future__ import annotations

from stockx_export.adapters.duckdb import DuckDBAdapter


class LocalDuckDB:
    """Gives an adapter ``local()``; the adapter's ``close`` closes what it opened."""

    _local: DuckDBAdapter | None = None

    def local(self) -> DuckDBAdapter:
        """An in-memory DuckDB adapter, opened on first use."""
        if self._local is None:
            self._local = DuckDBAdapter.in_memory()
        return self._local
