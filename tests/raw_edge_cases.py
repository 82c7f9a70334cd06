"""Hand-written raw files that exercise every stock_extra rule at its edges.

Used by test_reshape_equivalence (the rewritten models against the SQL they
replaced) and test_analysis_postgres (the models transpiled to Postgres).
"""

from __future__ import annotations

from pathlib import Path

INVENTORY_COLUMNS = ("snapshot_id", "snapshot_at", "warehouse_code", "sku", "size", "colour", "pack", "bin_code", "qty_on_hand")
PRODUCT_COLUMNS = ("sku", "product_id", "product_name", "category")
WAREHOUSE_COLUMNS = ("warehouse_code", "location_id", "location_name", "country")

WAREHOUSES = [("WH-A", "LOC-A", "Site A", "GB"), (" wh-b ", "LOC-B", "Site B", "NL"), ("WH-B2", "LOC-B", "Annex", "NL"),
              ("WH-X", None, "Closed", "GB")]
PRODUCTS = [("TEE-1", "P-1", "Tee", "Apparel"), ("tee-1b", "P-1", "Tee B", "Apparel"), ("MUG-2", "P-2", "Mug", "Home"),
            ("NOPROD", "", "Unlisted", "Home")]

# (snapshot_id, snapshot_at, warehouse_code, sku, size, colour, pack, bin_code, qty_on_hand); None is an empty field.
EDGE_LINES = [
    # timestamps: every form, the ends of the years the export writes, and what is not a timestamp
    ("T1", "2026-11-20T08:00:00Z", "WH-A", "TEE-1", "M", None, None, "B1", "1"),
    ("T2", "2026-11-20 08:00", "WH-A", "TEE-1", "S", None, None, "B1", "1"),
    ("T3", "2026-11-20T08:00:00.123456789+14:00", "WH-A", "TEE-1", "L", None, None, "B1", "1"),
    ("T4", "2026-11-20T08:00:00.1234567890Z", "WH-A", "TEE-1", "M", None, None, "B2", "1"),
    ("T5", "2026-11-20T23:59:59-23:59", "WH-A", "TEE-1", "XL", None, None, "B1", "1"),
    ("T6", "2026-11-20T08:00:00+24:00", "WH-A", "TEE-1", "M", None, None, "B3", "1"),
    ("T7", "2026-11-20t08:00:00z", "WH-A", "TEE-1", "M", None, None, "B4", "1"),
    ("T8", "2026-11-20T08:00:60Z", "WH-A", "TEE-1", "M", None, None, "B5", "1"),
    ("T9", "2026-11-20T08:00:00Z ", "WH-A", "TEE-1", "M", None, None, "B6", "1"),
    ("T10", "2026-11-20T08:00:00Z\n", "WH-A", "TEE-1", "M", None, None, "B7", "1"),
    ("T11", None, "WH-A", "TEE-1", "M", None, None, "B8", "1"),
    ("T12", "9999-12-31T23:30:00-01:00", "WH-A", "TEE-1", "M", None, None, "B1", "1"),
    ("T13", "0000-12-31T23:30:00-01:00", "WH-A", "TEE-1", "M", None, None, "B1", "1"),
    ("T14", "0001-01-01T00:00:00Z", "WH-A", "TEE-1", "M", None, None, "B1", "1"),
    ("T15", "9999-12-31T23:59:59.999999Z", "WH-A", "TEE-1", "M", None, None, "B1", "1"),
    ("T16", "2026-02-29T08:00:00Z", "WH-A", "TEE-1", "M", None, None, "B1", "1"),
    ("T17", "2024-02-29T08:00:00+01:00", "WH-A", "TEE-1", "M", None, None, "B1", "1"),
    # quantities: signs, padding, the ends of 32 bits, and what is not an integer
    ("Q1", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "1", "B1", "+0"),
    ("Q2", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "2", "B1", "-0"),
    ("Q3", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "3", "B1", " -2147483648 "),
    ("Q4", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "4", "B1", "2147483648"),
    ("Q5", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "5", "B1", "\u0663"),
    ("Q6", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "6", "B1", "1_000"),
    ("Q7", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "7", "B1", "0x10"),
    ("Q8", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "8", "B1", "\u00a05\u3000"),
    ("Q9", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "9", "B1", "12\n"),
    ("Q10", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "10", "B1", "--1"),
    ("Q11", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "11", "B1", " "),
    ("Q12", "2026-11-21T08:00:00Z", "WH-A", "TEE-1", "M", None, "12", "B1", None),
    # codes and dimension values: Unicode spaces, case, what makes a variant ambiguous or absent
    ("C1", "2026-11-22T08:00:00Z", "\u3000wh-a\u3000", "\ttee-1 ", "\u00a0M\u2003", "navy\u2003\u00a0blue", None, "B1", "2"),
    ("C2", "2026-11-22T08:00:00Z", "wh-b2", "MUG-2", None, " ", "\u205f6\u000b", "B1", "3"),
    ("C3", "2026-11-22T08:00:00Z", "WH-X", "MUG-2", "M", None, None, "B1", "3"),
    ("C4", "2026-11-22T08:00:00Z", None, "MUG-2", "M", None, None, "B1", "3"),
    ("C5", "2026-11-22T08:00:00Z", "WH-A", "NOPROD", "M", None, None, "B1", "3"),
    ("C6", "2026-11-22T08:00:00Z", "WH-A", None, "M", None, None, "B1", "3"),
    ("C7", "2026-11-22T08:00:00Z", "WH-A", "MUG-2", " ", "\u3000", "", "B1", "3"),
    ("C8", "2026-11-22T08:00:00Z", "WH-A", "MUG-2", "a:b", None, None, "B1", "3"),
    ("C9", "2026-11-22T08:00:00Z", "WH-A", "MUG-2", None, "x|y", None, "B1", "3"),
    ("C10", "2026-11-22T08:00:00Z", "WH-A", "MUG-2", None, None, "6 | 12", "B1", "3"),
    # variant-less lines: Peak's stock (a copy is a duplicate), unless the product, location and day have variant lines
    ("V1", "2026-11-26T08:00:00Z", "WH-A", "TEE-1", None, " ", None, "B1", "6"),
    ("V1", "2026-11-26T08:00:00Z", "WH-A", "TEE-1", None, " ", None, "B1", "6"),
    ("V2", "2026-11-26T08:00:00Z", "WH-A", "MUG-2", None, None, None, "B1", "2"),
    ("V3", "2026-11-26T08:00:00Z", "WH-A", "MUG-2", "M", None, None, "B1", "1"),
    # duplicates: exact, equal once normalised, three copies, a copy of an invalid line, a NULL bin
    ("D1", "2026-11-23T08:00:00Z", "WH-A", "TEE-1", "M", "red", None, "B1", "4"),
    ("D1", "2026-11-23T08:00:00Z", "WH-A", "TEE-1", "M", "red", None, "B1", "4"),
    ("D1", "2026-11-23T08:00:00Z", " wh-a", "tee-1", " M", "red ", "", "B1", "004"),
    ("D1", "2026-11-23T08:00:00Z", "WH-A", "TEE-1", "M", "red", None, "B1", "+4"),
    ("D2", "2026-11-23T08:00:00Z", "WH-A", "TEE-1", "M", "red", None, "B1", "x"),
    ("D2", "2026-11-23T08:00:00Z", "WH-A", "TEE-1", "M", "red", None, "B1", "x"),
    (None, "2026-11-23T09:00:00Z", "WH-A", "TEE-1", "M", "blue", None, None, "5"),
    (None, "2026-11-23T09:00:00Z", "WH-A", "TEE-1", "M", "blue", None, None, "5"),
    ("D3", "2026-11-23 08:00:00", "WH-A", "TEE-1", "M", "red", None, "B1", "4"),
    # per key: several instants and bins, a NULL id at the latest instant, sums past 32 bits
    ("K1", "2026-11-24T06:00:00Z", "WH-A", "MUG-2", "S", None, None, "B1", "7"),
    (" ", "2026-11-24T09:00:00+01:00", "WH-A", "MUG-2", "S", None, None, "B1", "2"),
    ("K0", "2026-11-24T08:00:00Z", "WH-A", "MUG-2", "S", None, None, "B2", "-9"),
    ("O1", "2026-11-25T06:00:00Z", "WH-A", "TEE-1", "S", None, None, "B1", "2147483647"),
    ("O1", "2026-11-25T06:00:00Z", "WH-A", "TEE-1", "S", None, None, "B2", "1"),
    ("O2", "2026-11-25T07:00:00Z", "WH-A", "TEE-1", "S", None, None, "B1", "5"),
    ("O3", "2026-11-25T06:00:00Z", " wh-b ", "TEE-1", "S", None, None, "B1", "2147483647"),
    ("O3", "2026-11-25T06:00:00Z", "WH-B2", "tee-1b", "S", None, None, "B2", "1"),
    ("O3", "2026-11-25T06:00:00Z", "WH-B2", "tee-1b", "S", None, None, "B2", "1"),
    ("O4", "2026-11-25T06:00:00Z", "WH-A", "MUG-2", "L", None, None, "B1", "-2147483648"),
    ("O4", "2026-11-25T06:00:00Z", "WH-A", "MUG-2", "L", None, None, "B2", "-1"),
    ("O5", "2026-11-25T06:00:00Z", "WH-A", "MUG-2", "XL", None, None, "B1", "2147483647"),
    ("O5", "2026-11-25T06:00:00Z", "WH-A", "MUG-2", "XL", None, None, "B2", "-2147483648"),
]


def _field(value: str | None) -> str:
    # An empty field (None) is NULL to DuckDB's reader; anything else is quoted, "" for ''.
    return "" if value is None else '"' + value.replace('"', '""') + '"'


def write_csv(path: Path, header: tuple[str, ...], rows: list[tuple]) -> Path:
    lines = [",".join(header)] + [",".join(_field(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_edge_files(directory: Path, names: dict[str, str] | None = None) -> dict[str, Path]:
    """Write the inventory, products and warehouses files under ``directory``; the path per ``*_path`` var.

    ``names`` renames the files (e.g. to the seeds' raw_inventory.csv).
    """
    names = names or {"inventory": "inventory.csv", "products": "products.csv", "warehouses": "warehouses.csv"}
    directory.mkdir(parents=True, exist_ok=True)
    return {
        "inventory_path": write_csv(directory / names["inventory"], INVENTORY_COLUMNS, EDGE_LINES),
        "products_path": write_csv(directory / names["products"], PRODUCT_COLUMNS, PRODUCTS),
        "warehouses_path": write_csv(directory / names["warehouses"], WAREHOUSE_COLUMNS, WAREHOUSES),
    }
