"""Golden files for the sample project: lineage, and the SQL transpiled to other warehouses.

The Postgres files are also executed and compared with DuckDB (test_analysis_postgres).
Regenerate after an intended change with ``STOCKX_UPDATE_GOLDEN=1 pytest tests/test_analysis_golden.py``
and review the diff.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from analysis_sample import GOLDEN, copy_sample
from conftest import Invoker, write_project

UPDATE = os.environ.get("STOCKX_UPDATE_GOLDEN") == "1"


def _golden(path: Path, actual: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with STOCKX_UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = copy_sample(tmp_path_factory.mktemp("golden") / "sample")
    return root, Invoker(root)


def test_product_variant_derives_from_raw_size_colour_and_pack(sample):
    _, stockx = sample
    result = stockx("lineage", "stock_extra", "product_variant", "--output", "json")
    assert result.exit_code == 0, result.output
    tree = json.loads(result.output)["columns"][0]
    leaves = set()

    def walk(item, path):
        path = path + [(item["kind"], item["name"], item["column"])]
        if not item["upstream"]:
            leaves.add(tuple(path))
        for child in item["upstream"]:
            walk(child, path)

    walk(tree, [])
    chain = [("model", "stock_extra", "product_variant"), ("model", "int_inventory_lines", "product_variant"),
             ("model", "stg_warehouse__inventory", "product_variant")]
    assert leaves == {
        tuple(chain + [("source", "warehouse.inventory", dim), ("seed", "raw_inventory", dim)])
        for dim in ("size", "colour", "pack")
    }
    _golden(GOLDEN / "lineage" / "stock_extra.product_variant.json", result.output)


def test_lineage_of_every_stock_extra_column(sample):
    _, stockx = sample
    result = stockx("lineage", "stock_extra")
    assert result.exit_code == 0, result.output
    _golden(GOLDEN / "lineage" / "stock_extra.txt", result.output)


def test_lineage_follows_sources_pointed_at_files(tmp_path):
    # A user reads the raw export through the *_path vars: the tree still ends at the
    # source's raw columns, and not at the bundled seed, which is no longer read.
    root = copy_sample(tmp_path / "sample")
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(root / "seeds" / "raw_inventory.csv", raw / "inventory.csv")
    vars_ = json.dumps({"inventory_path": str(raw / "inventory.csv")})
    result = Invoker(root)("lineage", "stock_extra", "product_variant", "--vars", vars_)
    assert result.exit_code == 0, result.output
    assert result.output == (
        "stock_extra.product_variant\n"
        "└── int_inventory_lines.product_variant\n"
        "    └── stg_warehouse__inventory.product_variant\n"
        "        ├── source warehouse.inventory.colour\n"
        "        ├── source warehouse.inventory.pack\n"
        "        └── source warehouse.inventory.size\n"
    )


def test_lineage_goes_through_a_snapshot_and_starts_at_the_columns_it_adds(tmp_path):
    root = write_project(tmp_path / "p", {
        "seeds/raw_items.csv": "item_id,colour\n1,red\n",
        "models/items.sql": "select item_id, upper(colour) as colour from {{ ref('raw_items') }}",
        "snapshots/items_history.sql": """
            {% snapshot items_history %}
            {{ config(unique_key='item_id', strategy='check', check_cols='all') }}
            select item_id, colour from {{ ref('items') }}
            {% endsnapshot %}
            """,
        "models/colour_since.sql": "select colour, dbt_valid_from as since from {{ ref('items_history') }}",
    })
    result = Invoker(root)("lineage", "colour_since")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "colour_since.colour\n"
        "└── snapshot items_history.colour\n"
        "    └── items.colour\n"
        "        └── seed raw_items.colour\n"
        "\n"
        "colour_since.since\n"
        "└── snapshot items_history.dbt_valid_from\n"
    )


def test_lineage_errors_name_what_exists(sample):
    _, stockx = sample
    assert stockx("lineage", "stock_xtra").output == "Error: lineage: no model named 'stock_xtra'; did you mean 'stock_extra'?\n"
    assert stockx("lineage", "locations", "city").output == (
        "Error: lineage: locations has no column 'city'; its columns: location_id, country, created_at, currency, name, region, updated_at\n"
    )


def _transpiled(root: Path, dialect: str) -> dict[str, str]:
    out = root / "target" / "compiled" / dialect
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.sql"))}


def test_postgres_output_of_the_sample_project(sample):
    root, stockx = sample
    result = stockx("compile", "--dialect", "postgres")
    assert result.exit_code == 0, result.output
    files = _transpiled(root, "postgres")
    assert len(files) == 11  # ten models and the support functions
    for relative, text in files.items():
        _golden(GOLDEN / "transpiled" / "postgres" / relative, text)
    assert "stockx.main.raw_inventory" in files["models/staging/warehouse/stg_warehouse__inventory.sql"]


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery", "spark"])
def test_every_model_of_the_sample_translates(sample, dialect):
    # The models are DuckDB SQL written in forms sqlglot translates with their meaning
    # (no struct-returning regexp_extract, no to_minutes, no arg_max_null); the few that
    # need another engine's own SQL are adapter.dispatch macros (see the README).
    root, stockx = sample
    result = stockx("compile", "--dialect", dialect)
    assert result.exit_code == 0, result.output
    assert result.output.endswith(f"Transpiled 10 models to {dialect}.\n")
    files = _transpiled(root, dialect)
    assert len(files) == 10
    # These dialects' 4th REGEXP_REPLACE argument is a start position (or none): DuckDB's 'g' must not land there.
    assert not any("'g')" in text for text in files.values())
    for relative, text in files.items():
        _golden(GOLDEN / "transpiled" / dialect / relative, text)
