"""``stockx docs generate`` keeps what column lineage learnt of each model (target/lineage_memo.json)
and reuses it for a model whose SQL and upstream columns are unchanged: a regenerated site is the
same site, a changed model (or one whose upstream changed) is traced again, and a memo of another
shape or version is ignored."""

from __future__ import annotations

import json
from pathlib import Path

from docs_support import generate, sample_copy, site_data

from conftest import write_project

MEMO = Path("target") / "lineage_memo.json"


def generated(root: Path, *args: str) -> dict:
    done = generate(root, *args)
    assert done.exit_code == 0, done.output
    return site_data(root)


def ancestors(edges: dict[str, list[str]], start: str) -> set[str]:
    seen, stack = set(), [start]
    while stack:
        for parent in edges.get(stack.pop(), []):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def test_a_regenerated_site_draws_product_variant_from_the_memo_back_to_size_colour_and_pack(tmp_path):
    root = sample_copy(tmp_path / "sample")
    first = generated(root)
    memo = json.loads((root / MEMO).read_text())
    assert len(memo["entries"]) == len([n for n in first["nodes"] if n["type"] in ("model", "snapshot")])
    second = generated(root)
    assert second["lineage"] == first["lineage"]
    assert [n.get("columns") for n in second["nodes"]] == [n.get("columns") for n in first["nodes"]]
    reached = ancestors(second["lineage"]["edges"], "model:stock_extra.product_variant")
    assert {"seed:raw_inventory.size", "seed:raw_inventory.colour", "seed:raw_inventory.pack"} <= reached


def test_the_memo_is_what_an_unchanged_model_is_traced_from(tmp_path):
    """The entry is read, not worked out again: an entry claiming another upstream column shows on the site."""
    root = write_project(tmp_path / "p", {
        "models/a.sql": "select 1 as x, 2 as y\n",
        "models/b.sql": "select x from {{ ref('a') }}\n",
    })
    assert generated(root)["lineage"]["edges"]["model:b.x"] == ["model:a.x"]
    memo = json.loads((root / MEMO).read_text())
    [b_entry] = [e for e in memo["entries"].values() if e["leaves"].get("x") and e["leaves"]["x"][0][2] == "a"]
    b_entry["leaves"]["x"][0][0] = "y"
    (root / MEMO).write_text(json.dumps(memo))
    assert generated(root)["lineage"]["edges"]["model:b.x"] == ["model:a.y"]


def test_a_changed_model_and_what_reads_it_are_traced_again(tmp_path):
    root = write_project(tmp_path / "p", {
        "models/a.sql": "select 1 as x, 2 as y\n",
        "models/b.sql": "select * from {{ ref('a') }}\n",
        "models/c.sql": "select {{ var('picked', 'x') }} as picked from {{ ref('a') }}\n",
    })
    edges = generated(root)["lineage"]["edges"]
    assert (edges["model:b.y"], edges["model:c.picked"]) == (["model:a.y"], ["model:a.x"])
    # b's SQL is the same, but what it reads is not: its star now gives z.
    (root / "models" / "a.sql").write_text("select 1 as x, 2 as z\n")
    data = generated(root, "--vars", "{picked: z}")
    edges = data["lineage"]["edges"]
    b = next(n for n in data["nodes"] if n["name"] == "b")
    assert [c["name"] for c in b["columns"]] == ["x", "z"]
    assert "model:b.y" not in edges and edges["model:b.z"] == ["model:a.z"]
    assert edges["model:c.picked"] == ["model:a.z"]
    # Entries of models no longer there (a's and b's old ones) are not kept.
    assert len(json.loads((root / MEMO).read_text())["entries"]) == 3


def test_a_memo_of_another_version_or_damaged_is_ignored(tmp_path):
    root = write_project(tmp_path / "p", {
        "models/a.sql": "select 1 as x\n",
        "models/b.sql": "select x from {{ ref('a') }}\n",
    })
    expected = generated(root)["lineage"]
    memo = json.loads((root / MEMO).read_text())
    for entry in memo["entries"].values():
        entry["leaves"] = {column: [["elsewhere", "", "a", None]] for column in entry["leaves"]}
    (root / MEMO).write_text(json.dumps({**memo, "versions": "stockx 0.0.1, sqlglot 1.0/1"}))
    assert generated(root)["lineage"] == expected
    (root / MEMO).write_text('{"versions": ')
    assert generated(root)["lineage"] == expected
    memo["entries"] = {key: {"columns": "x"} for key in memo["entries"]}
    (root / MEMO).write_text(json.dumps(memo))
    assert generated(root)["lineage"] == expected


def test_the_memo_holds_no_sql_and_no_secret_the_sql_reads(tmp_path):
    password = "hunter2-wh-9f3e71"
    root = write_project(tmp_path / "p", {
        "models/items.sql": "select 1 as item_id, '{{ env_var(\"WAREHOUSE_DB_PASSWORD\") }}' as dsn_password\n"})
    done = generate(root, env={"WAREHOUSE_DB_PASSWORD": password})
    assert done.exit_code == 0, done.output
    text = (root / MEMO).read_text()
    assert password not in text and "select" not in text.lower()


def test_a_star_over_reordered_columns_is_traced_again_in_the_new_order(tmp_path):
    """The order of what a model reads is part of its memo key: a SELECT * gives the columns in it."""
    root = write_project(tmp_path / "p", {
        "models/a.sql": "select 1 as x, 2 as y\n",
        "models/b.sql": "select * from {{ ref('a') }}\n",
    })
    first = generated(root)
    assert [c["name"] for c in next(n for n in first["nodes"] if n["name"] == "b")["columns"]] == ["x", "y"]
    (root / "models" / "a.sql").write_text("select 2 as y, 1 as x\n")
    again = generated(root)
    assert [c["name"] for c in next(n for n in again["nodes"] if n["name"] == "b")["columns"]] == ["y", "x"]
    assert again["lineage"]["edges"]["model:b.y"] == ["model:a.y"]
