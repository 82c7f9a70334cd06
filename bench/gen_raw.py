"""Deterministic raw WMS exports: the bundled sample seeds and benchmark-sized files.

    python bench/gen_raw.py seeds [DIR]            rewrite seeds/raw_*.csv (the sample)
    python bench/gen_raw.py bench N DIR [--parquet] N inventory lines + matching products/warehouses

The sample is small and hand-shaped: every kind of bad line is written out
explicitly below so a reader can find it; the good lines around them come from
a seeded generator. Benchmark files are made by DuckDB itself (hash-based, so
the same N gives the same bytes) because Python is too slow for 10M lines.
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from pathlib import Path

INVENTORY_COLUMNS = (
    "snapshot_id", "snapshot_at", "warehouse_code", "sku",
    "size", "colour", "pack", "bin_code", "qty_on_hand",
)
PRODUCT_COLUMNS = ("sku", "product_id", "product_name", "category")
WAREHOUSE_COLUMNS = ("warehouse_code", "location_id", "location_name", "country")

# warehouse code -> (how it writes timestamps, snapshot hours (local), bins)
# The formats cover every allowed form: T or space, Z, +HH:MM, -HH:MM, no offset (UTC),
# with and without seconds, with a fraction.
WAREHOUSE_STYLES = {
    "WH-LON": ("{d}T{t}Z", (6, 14, 22), ("A-01", "A-02", "B-07")),
    "WH-MAN": ("{d} {t}", (7, 19), ("R1-S1", "R1-S2")),
    "WH-AMS": ("{d}T{t}+01:00", (8, 13, 18), ("AMS-001", "AMS-002", "AMS-003")),
    "WH-PAR": ("{d} {t}.250+01:00", (9, 17), ("P-12", "P-13")),
    "WH-NYC": ("{d}T{hm}-05:00", (6, 21), ("NJ-A", "NJ-B")),
    "LON-2": ("{d}T{t}", (10,), ("ANNEX",)),
}

WAREHOUSES = [
    ("WH-LON", "LOC-GB-LON", "London Park Royal", "GB"),
    (" wh-man ", "LOC-GB-MAN", "Manchester  Trafford Park", "gb"),
    ("WH-AMS", "LOC-NL-AMS", "Amsterdam Westpoort", "NL"),
    ("WH-PAR", "LOC-FR-PAR", "Paris Gennevilliers", "FR"),
    ("Wh-Nyc", "LOC-US-NYC", "New York Secaucus", "US"),
    ("LON-2", "LOC-GB-LON", "London Park Royal (annex)", "GB"),  # two codes, one site
    ("WH-AMS", "LOC-NL-AMS", "Amsterdam Westpoort", "NL"),  # exact duplicate row
    ("WH-OLD", "", "Closed depot", "GB"),  # no location: maps nothing
]

PRODUCTS = [
    ("TEE-001", "P-1001", "Organic Tee", "Apparel"),
    ("tee-001-b ", "P-1001", "Organic Tee (B-grade)", "Apparel"),  # two SKUs, one product
    ("HOOD-002", "P-1002", "Crème Hoodie", "Apparel"),
    ("Shoe-003", "P-1003", "Trail Runner", "Footwear"),
    ("WTR-004", "P-1004", "Sparkling Water", "Beverages"),
    ("SOCK-005", "P-1005", "Wool Socks", "Apparel"),
    ("BAG-006", "P-1006", "Canvas Tote", "Accessories"),
    ("MUG-007", "P-1007", "抹茶 Latte Mug", "Homeware"),
    ("HOOD-002", "P-1002", "Crème Hoodie", "Apparel"),  # exact duplicate row
    (" hood-002", "P-1002", "Creme Hoodie", "Apparel"),  # same SKU spelled loosely
    ("CAP-008", "", "Cap (not yet listed)", "Accessories"),  # no product_id: maps nothing
    ("SCARF-009", "P-1009", "Silk Scarf", "Accessories"),  # never stocked
]

# sku -> the variants it is stocked in: (size, colour, pack); blank means absent.
# Unicode, odd spacing and case are part of the values on purpose.
VARIANTS = {
    "TEE-001": [("S", "navy blue", ""), ("M", "navy  blue", ""), ("L", "Navy Blue", ""), ("M", "écru", "")],
    "TEE-001-B": [("M", "navy blue", ""), (" XL ", "écru", "")],
    "HOOD-002": [("M", "crème", ""), ("L", "crème", ""), ("M", "bleu marine", "")],
    "SHOE-003": [("EU 42", "", ""), ("EU  43", "", ""), ("UK 9½", "", "")],
    "WTR-004": [("", "", "6"), ("", "", "12"), ("", "", " 24")],
    "SOCK-005": [("M", "gris chiné", "3"), ("L", "Ökogrün", "3")],
    "MUG-007": [("", "抹茶", ""), ("", "さくら pink", "")],
}

# the SKUs each warehouse stocks
ASSORTMENT = {
    "WH-LON": ("TEE-001", "HOOD-002", "WTR-004", "MUG-007"),
    "WH-MAN": ("TEE-001", "TEE-001-B", "SOCK-005"),
    "WH-AMS": ("HOOD-002", "SHOE-003", "WTR-004"),
    "WH-PAR": ("TEE-001", "SHOE-003", "MUG-007"),
    "WH-NYC": ("TEE-001", "SOCK-005"),
    "LON-2": ("WTR-004",),
}

FIRST_DAY = date(2026, 11, 20)
DAYS = 5


def _messy_code(rng: random.Random, code: str) -> str:
    """How a WMS operator might type a code: case and stray spaces vary line to line."""
    shape = rng.random()
    if shape < 0.70:
        return code
    if shape < 0.85:
        return code.lower()
    if shape < 0.93:
        return f" {code}"
    return f"{code.title()}  "


def _messy_quantity(rng: random.Random) -> str:
    qty = rng.choice((0, 1, 2, 3, 5, 8, 12, 17, 24, 40, 60, -1, -3))
    shape = rng.random()
    if shape < 0.85:
        return str(qty)
    if shape < 0.90 and qty >= 0:
        return f"+{qty}"
    if shape < 0.95:
        return f"{qty:03d}" if qty >= 0 else str(qty)
    return f" {qty} "


def _timestamp(code: str, day: date, hour: int, minute: int) -> str:
    form, _, _ = WAREHOUSE_STYLES[code]
    return form.format(d=day.isoformat(), t=f"{hour:02d}:{minute:02d}:00", hm=f"{hour:02d}:{minute:02d}")


def sample_inventory() -> list[tuple[str, ...]]:
    """The sample inventory export: good lines from a seeded generator, bad lines placed by hand."""
    rng = random.Random(20261127)
    lines: list[tuple[str, ...]] = []
    serial = 4100
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        for code, (_, hours, bins) in WAREHOUSE_STYLES.items():
            for hour in hours:
                serial += 1
                minute = rng.choice((0, 0, 5, 30))
                snapshot_id = f"SNP-{serial}"
                at = _timestamp(code, day, hour, minute)
                for sku in ASSORTMENT[code]:
                    # not every variant is counted in every snapshot
                    for size, colour, pack in rng.sample(VARIANTS[sku], k=min(2, len(VARIANTS[sku]))):
                        for bin_code in rng.sample(bins, k=rng.choice((1, 1, 2)) if len(bins) > 1 else 1):
                            lines.append((
                                snapshot_id, at, _messy_code(rng, code), _messy_code(rng, sku),
                                size, colour, pack, bin_code, _messy_quantity(rng),
                            ))
    return _with_bad_lines(lines)


def _with_bad_lines(good: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Insert one or more lines of every reject reason at fixed places in the export."""
    bad = {
        # bad_timestamp: an hour that does not exist, a day-first date, a date that does
        # not exist, a blank, a padded value, and one that is also an unknown warehouse
        # (the timestamp reason wins: first reason in order)
        17: ("SNP-4102", "2026-11-20T25:00:00Z", "WH-LON", "TEE-001", "M", "navy blue", "", "A-01", "4"),
        40: ("SNP-4105", "20/11/2026 13:00", "WH-AMS", "HOOD-002", "M", "crème", "", "AMS-001", "2"),
        95: ("SNP-4120", "2026-02-30T08:00:00Z", "WH-LON", "WTR-004", "", "", "6", "B-07", "11"),
        130: ("SNP-4131", "", "WH-MAN", "SOCK-005", "M", "gris chiné", "3", "R1-S1", "5"),
        161: ("SNP-4140", " 2026-11-23T06:00:00Z", "WH-LON", "MUG-007", "", "抹茶", "", "A-02", "1"),
        203: ("SNP-4150", "2026-11-24T08:00:00+1:00", "WH-XYZ", "TEE-001", "S", "navy blue", "", "X-1", "3"),
        # a timestamp whose UTC instant is in year 0 (the export writes years 1-9999 only)
        175: ("SNP-4143", "0001-01-01T00:30:00+01:00", "WH-AMS", "HOOD-002", "M", "crème", "", "AMS-002", "2"),
        # bad_quantity: one past stock_units' 32-bit range, text, a blank, digits with an inner space
        60: ("SNP-4110", "2026-11-21T06:00:00Z", "WH-LON", "HOOD-002", "L", "crème", "", "A-01", "2147483648"),
        120: ("SNP-4127", "2026-11-22 07:00:00", "WH-MAN", "TEE-001", "S", "navy blue", "", "R1-S2", "n/a"),
        188: ("SNP-4146", "2026-11-23T13:30:00+01:00", "wh-ams", "SHOE-003", "EU 42", "", "", "AMS-002", ""),
        240: ("SNP-4160", "2026-11-24 17:00:00.250+01:00", "WH-PAR", "MUG-007", "", "抹茶", "", "P-13", "1 2"),
        # unknown_warehouse: a code nobody maps, a closed depot without location, a blank
        75: ("SNP-4115", "2026-11-21T08:00:00+01:00", "WH-ROT", "HOOD-002", "M", "crème", "", "R-1", "9"),
        150: ("SNP-4136", "2026-11-22T14:00:00Z", "wh-old", "TEE-001", "M", "écru", "", "OLD-1", "2"),
        260: ("SNP-4166", "2026-11-25T06:00-05:00", "", "SOCK-005", "L", "Ökogrün", "3", "NJ-A", "6"),
        # unknown_sku: a SKU nobody maps, one whose product row has no product_id
        85: ("SNP-4118", "2026-11-21T14:00:00Z", "WH-LON", "TEE-999", "M", "black", "", "A-01", "3"),
        225: ("SNP-4156", "2026-11-24T10:00:00+00:00", "LON-2", "cap-008", "", "red", "", "ANNEX", "14"),
        # ambiguous_variant: a size holding the separator and ':' would read as size M, colour navy blue
        110: ("SNP-4124", "2026-11-22T06:00:00Z", "WH-LON", "TEE-001", "M|colour:navy blue", "", "", "A-02", "7"),
        # quantity_overflow: two bins of one key at its latest instant sum past 2,147,483,647
        250: ("SNP-4163", "2026-11-24T22:30:00Z", "WH-LON", "TEE-001", "XS", "navy blue", "", "A-01", "2000000000"),
        251: ("SNP-4163", "2026-11-24T22:30:00Z", "WH-LON", "TEE-001", "XS", "navy blue", "", "A-02", "2000000000"),
        # no_variant: every dimension blank or whitespace (stock for Peak's `stock` resource)
        100: ("SNP-4121", "2026-11-21T22:00:00Z", "WH-LON", "BAG-006", "", "", "", "B-07", "30"),
        280: ("SNP-4171", "2026-11-25 19:00:00", "WH-MAN", "bag-006", " ", "  ", "", "R1-S1", "12"),
    }
    lines = list(good)
    for position in sorted(bad):
        lines.insert(position, bad[position])
    # duplicate_line: exact re-sends of earlier valid lines, one re-typed with other case,
    # spaces and a zero-padded quantity (equal after normalisation, so still a duplicate).
    for source, target in ((30, 31), (141, 146), (304, 306)):
        lines.insert(target, lines[source])
    snapshot_id, at, code, sku, size, colour, pack, bin_code, qty = lines[212]
    lines.insert(214, (snapshot_id, at, f"  {code.lower()} ", sku.lower(), f" {size}", colour, pack, bin_code, f"00{qty.strip()}"))
    return lines


def _csv_field(value: str) -> str:
    # Quote anything a CSV reader might otherwise trim or split.
    if value != value.strip() or any(ch in value for ch in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_csv(path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    text = "".join(",".join(_csv_field(v) for v in row) + "\n" for row in [header, *rows])
    path.write_text(text, encoding="utf-8")


def write_seeds(directory: Path) -> None:
    write_csv(directory / "raw_inventory.csv", INVENTORY_COLUMNS, sample_inventory())
    write_csv(directory / "raw_products.csv", PRODUCT_COLUMNS, PRODUCTS)
    write_csv(directory / "raw_warehouses.csv", WAREHOUSE_COLUMNS, WAREHOUSES)


# --- benchmark-sized files -------------------------------------------------------------

# Per line i, choices come from hash(i, salt) so the files do not depend on threads or seeds.
# roll (0-99) picks the messy lines, each kind about 1% of them:
#   0 bad timestamp (a month 13, 30 February, a leading space), or a valid one
#   1 unknown warehouse        2 warehouse code lower-case and padded (valid)
#   3 unknown SKU              4 SKU lower-case (valid)
#   5 no dimension (unless a pack)                 6 a fraction as quantity
#   7 ambiguous size           8 a quantity past 32 bits
#   9 an exact copy of the line before (a duplicate_line when that one is valid)
#  10 the line before's key and instant in another bin (stock in two bins); one in 50
#     of these holds 2,147,483,647 units (a quantity_overflow when the line before is
#     valid and counts more than 0)
#  11 no-break and ideographic spaces around and inside values (valid, same variant)
#  12 a quantity padded with spaces and a sign, or blank
#  13 the line before re-typed: codes in other case and spacing, quantity zero-padded
# A copy (9, 10, 13) takes its fields from line i - 1 as that line's own roll makes them.
BENCH_INVENTORY_SQL = """
with numbered as (
    select
        i,
        hash(i, 4) % 100 as roll,
        case when hash(i, 4) % 100 in (9, 10, 13) and i > 0 then i - 1 else i end as s
    from range({n}) t(i)
),
spec as (
    select
        i,
        roll,
        s,
        s // 40 as snapshot_no,                      -- 40 lines per snapshot, one warehouse each
        hash(s // 40, 1) % 200 as warehouse_no,
        hash(s // 40, 2) % 5 as form,
        hash(s, 3) % 5000 as sku_no,
        hash(s, 4) % 100 as sroll,                   -- the roll of the line the fields come from
        -- 2,000 snapshots (80k lines) a day, at a random minute of it
        date '2026-01-01' + cast((s // 40) // 2000 as integer) + to_minutes(cast(hash(s // 40, 5) % 1440 as bigint)) as local_at
    from numbered
),
fields as (
    select
        i,
        roll,
        'SNP-' || snapshot_no as snapshot_id,
        case
            when sroll = 0 and hash(s, 9) % 4 = 0 then '2026-13-01T00:00:00Z'
            when sroll = 0 and hash(s, 9) % 4 = 1 then '2026-02-30T08:00:00Z'
            when sroll = 0 and hash(s, 9) % 4 = 2 then ' ' || strftime(local_at, '%Y-%m-%dT%H:%M:%SZ')
            else case form
                when 0 then strftime(local_at, '%Y-%m-%dT%H:%M:%SZ')
                when 1 then strftime(local_at, '%Y-%m-%d %H:%M:%S')
                when 2 then strftime(local_at, '%Y-%m-%dT%H:%M:%S+01:00')
                when 3 then strftime(local_at, '%Y-%m-%dT%H:%M-05:00')
                else strftime(local_at, '%Y-%m-%d %H:%M:%S') || '.250+02:00'
            end
        end as snapshot_at,
        case when sroll = 1 then 'WH-NOPE' when sroll = 2 then ' wh-' || warehouse_no || ' ' else 'WH-' || warehouse_no end as warehouse_code,
        case when sroll = 3 then 'SKU-MISSING' when sroll = 4 then lower('SKU-' || sku_no) else 'SKU-' || sku_no end as sku,
        case
            when sroll = 5 then ''
            when sroll = 7 then 'M|colour:red'
            when sroll = 11 then '\u00a0' || ['XS', 'S', 'M', 'L', 'XL', 'EU 42'][cast(hash(s, 6) % 6 as integer) + 1] || '\u3000'
            else ['XS', 'S', 'M', 'L', 'XL', 'EU 42'][cast(hash(s, 6) % 6 as integer) + 1]
        end as size,
        case
            when sroll = 5 then ''
            when sroll = 11 then replace(['navy blue', 'écru', 'crème', 'Ökogrün', '抹茶', ''][cast(hash(s, 7) % 6 as integer) + 1], ' ', '\u00a0 \t')
            else ['navy blue', 'écru', 'crème', 'Ökogrün', '抹茶', ''][cast(hash(s, 7) % 6 as integer) + 1]
        end as colour,
        case when hash(s, 8) % 3 = 0 then '6' else '' end as pack,
        'BIN-' || (hash(s, 10) % 50) as bin_code,
        case
            when sroll = 6 then '12.5'
            when sroll = 8 then '3000000000'
            when sroll = 12 and hash(s, 12) % 2 = 0 then ''
            when sroll = 12 then ' +' || cast(cast(hash(s, 11) % 60 as integer) as varchar) || ' '
            else cast(cast(hash(s, 11) % 60 as integer) - 5 as varchar)
        end as qty_on_hand
    from spec
)
select
    snapshot_id,
    snapshot_at,
    case when roll = 13 then lower(warehouse_code) || ' ' else warehouse_code end as warehouse_code,
    case when roll = 13 then ' ' || lower(sku) else sku end as sku,
    size,
    colour,
    pack,
    case when roll = 10 then bin_code || '-B' else bin_code end as bin_code,
    case
        when roll = 10 and hash(i, 14) % 50 = 0 then '2147483647'
        when roll = 13 and regexp_full_match(qty_on_hand, '[0-9]+') then '00' || qty_on_hand
        else qty_on_hand
    end as qty_on_hand
from fields
order by i
"""

BENCH_PRODUCTS_SQL = """
select 'SKU-' || i as sku, 'P-' || (i // 3) as product_id, 'Product ' || (i // 3) as product_name, 'Cat ' || (i % 17) as category
from range(5000) t(i) order by i
"""

BENCH_WAREHOUSES_SQL = """
select 'WH-' || i as warehouse_code, 'LOC-' || i as location_id, 'Site ' || i as location_name, 'GB' as country
from range(200) t(i) order by i
"""


def write_bench(con, n: int, directory: Path, parquet: bool = False) -> dict[str, Path]:
    """Write N inventory lines plus products and warehouses; return the path per source."""
    directory.mkdir(parents=True, exist_ok=True)
    suffix, options = (".parquet", "(format parquet)") if parquet else (".csv", "(header, delimiter ',')")
    paths = {
        # v2: the lines of BENCH_INVENTORY_SQL as they are now (files of older versions are not reused)
        "inventory_path": directory / f"raw_inventory_v2_{n}{suffix}",
        "products_path": directory / f"raw_products{suffix}",
        "warehouses_path": directory / f"raw_warehouses{suffix}",
    }
    for key, sql in (
        ("inventory_path", BENCH_INVENTORY_SQL.format(n=int(n))),
        ("products_path", BENCH_PRODUCTS_SQL),
        ("warehouses_path", BENCH_WAREHOUSES_SQL),
    ):
        if not paths[key].exists():
            con.execute(f"copy ({sql}) to '{paths[key]}' {options}")
    return paths


def main(argv: list[str]) -> int:
    if argv[:1] == ["seeds"]:
        directory = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "seeds"
        write_seeds(directory)
        return 0
    if argv[:1] == ["bench"] and len(argv) >= 3:
        import duckdb

        paths = write_bench(duckdb.connect(), int(argv[1]), Path(argv[2]), parquet="--parquet" in argv)
        for key, path in paths.items():
            print(f"{key}={path}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
