"""A synthetic stock_extra table of N rows, shared by bench/export.py and bench/sync.py.

Keys are unique and inserted in random order (so the export's key-order sort is
measured); nulls, timestamps and integers cover every column type of the contract.
"""

from __future__ import annotations

from pathlib import Path


def generate(path: Path, rows: int) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute(f"""
        CREATE TABLE stock_extra AS
        SELECT 'PROD-' || lpad((i % 5000)::VARCHAR, 6, '0') AS product_id,
               'LOC-UK-' || lpad(((i // 5000) % 100)::VARCHAR, 4, '0') AS location_id,
               'size:' || (['S', 'M', 'L', 'XL'])[(i // 500000) % 4 + 1] AS product_variant,
               DATE '2025-01-01' + (i // 2000000)::INTEGER AS stock_date_at,
               CASE WHEN i % 7 = 0 THEN NULL ELSE TIMESTAMP '2025-01-28 00:00:00' + to_seconds(i % 86400) END AS created_at,
               CASE WHEN i % 3 = 0 THEN NULL ELSE 'STK-' || i END AS stock_id,
               (i % 1000)::INTEGER AS stock_units,
               TIMESTAMP '2025-01-28 10:00:00' AS updated_at
        FROM range({rows}) AS t(i)
        ORDER BY hash(i)""")
    con.close()
