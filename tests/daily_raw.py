"""Five days of a WMS's raw exports, as a daily job finds them in its input folder.

Each day adds an inventory file for its date (two snapshots, two bins per
variant, warehouse codes spelled loosely, a few bad and duplicate lines) and
may change what is already there:

    day 1  the first files
    day 2  a normal day
    day 3  a later snapshot of day 2 arrives (within the window)
    day 4  SKU-07 leaves the product feed (the WMS still exports its stock: its lines
           become unknown_sku); SKU-90, a new product, arrives in the feed and the
           inventory; day 3's file is replaced by a corrected one (within the window)
    day 5  a late file for day 1 arrives, older than the window

With lookback_days 1 the window of day N's build starts on day N - 2: day 4's
build keeps day 1's rows of SKU-07 as they were, and day 5's keeps day 1 whole.

The generator knows every line it wrote and why it is bad, so a test can check
that each raw line is accounted for without trusting the models: ``expected_rejects``.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

HEADER = ("snapshot_id", "snapshot_at", "warehouse_code", "sku", "size", "colour", "pack", "bin_code", "qty_on_hand")
# warehouse code -> location; each code is written in several spellings
WAREHOUSES = {"WH-A": "LOC-A", "WH-B": "LOC-B", "WH-C": "LOC-C"}
SPELLINGS = {"WH-A": ("WH-A", " wh-a ", "Wh-A"), "WH-B": ("WH-B", "wh-b", "WH-B "), "WH-C": ("WH-C", " Wh-c", "WH-C")}
SKUS = tuple(f"SKU-{n:02d}" for n in range(30))
LEAVING, LEAVES_ON = "SKU-07", 4
ARRIVING, ARRIVES_ON = "SKU-90", 4
VARIANTS = (("S", "navy"), ("M", "navy"))
BINS = ("B1", "B2")
HOURS = (6, 18)
DAYS = 5


@dataclass
class Feed:
    """The input folder of the job and what was written to it."""

    folder: Path
    first_day: date
    seed: int = 20261130
    # file name -> its lines (each a tuple of HEADER's fields), and the reason of each bad line
    files: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    bad: dict[str, list[str | None]] = field(default_factory=dict)

    @property
    def inventory(self) -> Path:
        return self.folder / "inventory"

    def vars(self) -> dict[str, str]:
        return {"inventory_path": str(self.inventory / "*.csv"), "products_path": str(self.folder / "products.csv"),
                "warehouses_path": str(self.folder / "warehouses.csv")}

    def date_of(self, day: int) -> date:
        return self.first_day + timedelta(days=day - 1)

    def deliver(self, day: int) -> None:
        """Write what the WMS exported by the morning of ``day``."""
        self.inventory.mkdir(parents=True, exist_ok=True)
        self._write_mappings(day)
        rng = random.Random(self.seed * 10 + day)
        self._write(f"inventory-{self.date_of(day).isoformat()}.csv", *self._day_lines(day, rng))
        if day == 3:  # a later snapshot of day 2, for a third of the keys
            late = [line for line in self._good_lines(2, rng, hours=(21,)) if int(line[3][4:6]) % 3 == 0]
            self._write(f"inventory-{self.date_of(2).isoformat()}-late.csv", late, [None] * len(late))
        if day == 4:  # day 3's file replaced by a corrected one: every count one more, same lines
            name = f"inventory-{self.date_of(3).isoformat()}.csv"
            corrected = [(*line[:8], str(int(line[8]) + 1)) if line[8].isdigit() else line
                         for line in self.files[name]]
            self._write(name, corrected, self.bad[name])
        if day == 5:  # a late file for day 1: older than the window
            late = [line for line in self._good_lines(1, rng, hours=(23,)) if line[3] in ("SKU-01", "SKU-02")]
            self._write(f"inventory-{self.date_of(1).isoformat()}-late.csv", late, [None] * len(late))

    def expected_rejects(self, day: int) -> Counter:
        """Reject reasons of every line in the folder once ``day`` was delivered."""
        reasons: Counter = Counter()
        gone = day >= LEAVES_ON
        for name, lines in self.files.items():
            for line, reason in zip(lines, self.bad[name]):
                if reason is None and gone and line[3] == LEAVING:
                    reason = "unknown_sku"
                if reason is not None:
                    reasons[reason] += 1
        return reasons

    def raw_lines(self) -> int:
        """Lines in the inventory files as a CSV reader sees them (headers excluded)."""
        total = 0
        for path in sorted(self.inventory.glob("*.csv")):
            with path.open(newline="", encoding="utf-8") as handle:
                total += sum(1 for _ in csv.reader(handle)) - 1
        return total

    # -- writing -------------------------------------------------------------------------

    def _write_mappings(self, day: int) -> None:
        skus = [s for s in SKUS if not (s == LEAVING and day >= LEAVES_ON)]
        if day >= ARRIVES_ON:
            skus.append(ARRIVING)
        products = [(sku.lower() if n % 4 == 0 else sku, "P-" + sku[4:], f"Product {sku}", "Apparel")
                    for n, sku in enumerate(skus)]
        warehouses = [(code, location, f"Site {code[-1]}", "GB") for code, location in WAREHOUSES.items()]
        _write_csv(self.folder / "products.csv", ("sku", "product_id", "product_name", "category"), products)
        _write_csv(self.folder / "warehouses.csv", ("warehouse_code", "location_id", "location_name", "country"),
                   warehouses)

    def _write(self, name: str, lines: list[tuple[str, ...]], bad: list[str | None]) -> None:
        self.files[name], self.bad[name] = lines, bad
        _write_csv(self.inventory / name, HEADER, lines)

    def _good_lines(self, day: int, rng: random.Random, hours=HOURS) -> list[tuple[str, ...]]:
        skus = list(SKUS) + ([ARRIVING] if day >= ARRIVES_ON else [])
        on = self.date_of(day).isoformat()
        lines = []
        for hour in hours:
            snapshot = f"S-{on}-{hour:02d}"
            for code in WAREHOUSES:
                for sku in skus:
                    for size, colour in VARIANTS:
                        for bin_code in BINS:
                            spelled = rng.choice(SPELLINGS[code])
                            at = f"{on}T{hour:02d}:00:00Z" if code != "WH-B" else f"{on} {hour:02d}:30:00+01:00"
                            lines.append((snapshot, at, spelled, sku, size, colour, "", bin_code,
                                          str(rng.randint(0, 40))))
        return lines

    def _day_lines(self, day: int, rng: random.Random) -> tuple[list[tuple[str, ...]], list[str | None]]:
        lines = self._good_lines(day, rng)
        bad: list[str | None] = [None] * len(lines)
        on = self.date_of(day).isoformat()
        extra = [
            (("X-1", f"{on}T25:00:00Z", "WH-A", "SKU-01", "S", "navy", "", "B1", "1"), "bad_timestamp"),
            (("X-2", f"{on}T08:00:00Z", "WH-A", "SKU-01", "S", "navy", "", "B1", "n/a"), "bad_quantity"),
            (lines[5], "duplicate_line"),
            (lines[40], "duplicate_line"),
        ]
        for line, reason in extra:
            lines.append(line)
            bad.append(reason)
        return lines, bad


def _write_csv(path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
