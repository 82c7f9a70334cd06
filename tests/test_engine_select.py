"""Selection (dbt's grammar), DAG order, and golden compiled SQL for the tricky renders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stockx_export.core.dag import DAG
from stockx_export.errors import CycleError

GOLDEN = Path(__file__).parent / "golden" / "compiled"

#   raw_a    raw_b
#     |        |
#   stg_a    stg_b
#      \     /
#      joined ---- tagged (tag:finance)
#        |
#      report
GRAPH = {
    "seeds/raw_a.csv": "id\n1\n",
    "seeds/raw_b.csv": "id\n1\n",
    "models/staging/stg_a.sql": "select * from {{ ref('raw_a') }}\n",
    "models/staging/stg_b.sql": "select * from {{ ref('raw_b') }}\n",
    "models/marts/joined.sql": "select a.id from {{ ref('stg_a') }} a join {{ ref('stg_b') }} b using (id)\n",
    "models/marts/tagged.sql": "{{ config(tags=['finance']) }}\nselect * from {{ ref('joined') }}\n",
    "models/marts/report.sql": "{{ config(tags=['finance', 'daily']) }}\nselect * from {{ ref('joined') }}\n",
}


@pytest.fixture
def ls(make_project):
    root, stockx = make_project(GRAPH)

    def run(*args: str) -> list[str]:
        result = stockx("ls", "--output", "name", *args)
        assert result.exit_code == 0, result.output
        return result.output.split()

    return run


@pytest.mark.parametrize(
    "args, expected",
    [
        ((), ["raw_a", "raw_b", "stg_a", "stg_b", "joined", "report", "tagged"]),
        (("-s", "joined"), ["joined"]),
        (("-s", "+joined"), ["raw_a", "raw_b", "stg_a", "stg_b", "joined"]),
        (("-s", "joined+"), ["joined", "report", "tagged"]),
        (("-s", "1+joined"), ["stg_a", "stg_b", "joined"]),
        (("-s", "2+report+1"), ["stg_a", "stg_b", "joined", "report"]),
        (("-s", "stg_a+1"), ["stg_a", "joined"]),
        (("-s", "tag:finance"), ["report", "tagged"]),
        (("-s", "tag:finance,tag:daily"), ["report"]),
        (("-s", "path:models/staging"), ["stg_a", "stg_b"]),
        (("-s", "models/marts/report.sql"), ["report"]),
        (("-s", "staging"), ["stg_a", "stg_b"]),
        (("-s", "stg_a report"), ["stg_a", "report"]),
        (("-s", "stg_a", "-s", "report"), ["stg_a", "report"]),
        (("-s", "stg_*"), ["stg_a", "stg_b"]),
        (("-s", "+report", "--exclude", "resource_type:seed"), ["stg_a", "stg_b", "joined", "report"]),
        (("-s", "joined+", "--exclude", "tag:daily"), ["joined", "tagged"]),
        (("-s", "@stg_a"), ["raw_a", "raw_b", "stg_a", "stg_b", "joined", "report", "tagged"]),
        (("-s", "config.materialized:view,tag:daily"), ["report"]),
        (("-s", "raw_a+", "--resource-type", "seed"), ["raw_a"]),
    ],
)
def test_selection(ls, args, expected):
    assert ls(*args) == expected


def test_ls_says_when_a_selection_matches_nothing(make_project):
    root, stockx = make_project(GRAPH)
    result = stockx("ls", "-s", "nonexistent")
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr == (
        "Warning: nothing selected by --select nonexistent: check names, tags and paths (stockx ls)\n"
    )


def test_bad_selector_method(make_project):
    root, stockx = make_project(GRAPH)
    result = stockx("ls", "-s", "colour:red")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: unknown selector method 'colour' in 'colour:red'; known: ")


def test_dag_order_is_topological_with_ties_by_name():
    dag: DAG[str] = DAG()
    for node, parents in {"d": [], "c": ["a"], "b": ["a"], "a": [], "e": ["b", "c"]}.items():
        dag.add(node, parents)
    assert dag.sorted() == ["a", "b", "c", "d", "e"]
    assert dag.sorted({"e", "b"}) == ["b", "e"]
    assert dag.ancestors("e") == {"a", "b", "c"}
    assert dag.descendants("a", depth=1) == {"b", "c"}


def test_dag_cycle_message_names_the_cycle_in_dependency_order():
    dag: DAG[str] = DAG()
    dag.add("b", ["a"])
    dag.add("c", ["b"])
    dag.add("a", ["c"])
    dag.add("z", ["a"])
    with pytest.raises(CycleError) as info:
        dag.sorted()
    assert str(info.value) == "dependency cycle: a -> b -> c -> a"


TRICKY = {
    "macros/variants.sql": """
        {% macro variant(dims) -%}
          {%- set parts = [] -%}
          {%- for d in dims -%}
            {%- do parts.append("case when " ~ d ~ " <> '' then '" ~ d ~ ":' || " ~ d ~ " end") -%}
          {%- endfor -%}
          concat_ws('|', {{ parts | join(', ') }})
        {%- endmacro %}

        {% macro first_or(values, fallback) %}
          {%- if values -%}{{ return(values[0]) }}{%- endif -%}
          {{ return(fallback) }}
        {% endmacro %}
    """,
    "seeds/raw.csv": "id,size,colour\n1,M,red\n2,,blue\n",
    "models/eph_base.sql": "{{ config(materialized='ephemeral') }}\nselect * from {{ ref('raw') }}\n",
    "models/eph_mid.sql": "{{ config(materialized='ephemeral') }}\nselect id, {{ variant(['size', 'colour']) }} as v from {{ ref('eph_base') }}\n",
    "models/with_ctes.sql": """
        -- a model that has its own CTEs
        with picked as (select * from {{ ref('eph_mid') }} where id = {{ first_or([], 1) }})
        select * from picked
    """,
    "models/incr.sql": """
        {{ config(materialized='incremental', unique_key='id') }}
        select id, v from {{ ref('eph_mid') }}
        {% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}
    """,
}


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("STOCKX_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"compiled SQL differs from {path}"


def test_golden_compiled_sql_for_macros_ephemerals_and_incremental(make_project):
    root, stockx = make_project(TRICKY)
    assert stockx("compile").exit_code == 0
    compiled = root / "target/compiled/models"
    _golden("with_ctes.sql", (compiled / "with_ctes.sql").read_text())
    _golden("incr_first_build.sql", (compiled / "incr.sql").read_text())
    result = stockx("build")
    assert result.exit_code == 0, result.output
    assert stockx("compile", "-s", "incr").exit_code == 0
    _golden("incr_incremental.sql", (compiled / "incr.sql").read_text())
    from conftest import query

    assert query(root / "target/stockx.duckdb", "select * from main.with_ctes") == [(1, "size:M|colour:red")]
    assert query(root / "target/stockx.duckdb", "select * from main.incr order by id") == [
        (1, "size:M|colour:red"),
        (2, "colour:blue"),
    ]


def test_each_term_that_matches_nothing_is_named(make_project):
    root, stockx = make_project(GRAPH)
    result = stockx("ls", "--output", "name", "-s", "joined stg_aa tag:finance,tag:daily", "--exclude", "tag:nope report")
    assert result.exit_code == 0
    assert result.stdout.split() == ["joined"]
    assert result.stderr == (
        "Warning: --select 'stg_aa' matches no node: check names, tags and paths (stockx ls)\n"
        "Warning: --exclude 'tag:nope' matches no node: check names, tags and paths (stockx ls)\n"
    )
    result = stockx("run", "-s", "staging,tag:finance", "--exclude", "raw_c")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == [
        "Warning: nothing selected by --select staging,tag:finance: check names, tags and paths (stockx ls)",
        "Warning: --exclude 'raw_c' matches no node: check names, tags and paths (stockx ls)",
    ]


def test_ls_compile_and_show_see_ephemeral_models_and_run_skips_them(make_project):
    files = {**GRAPH, "models/staging/eph.sql": "{{ config(materialized='ephemeral') }}\nselect id + 1 as id from {{ ref('raw_a') }}\n"}
    root, stockx = make_project(files)
    assert stockx("ls", "--output", "name", "-s", "eph").stdout.split() == ["eph"]
    result = stockx("compile", "-s", "eph")
    assert result.exit_code == 0, result.output
    assert result.stdout == "target/compiled/models/staging/eph.sql\n"
    assert (root / "target/compiled/models/staging/eph.sql").read_text() == "\nselect id + 1 as id from main.raw_a\n"
    assert stockx("seed").exit_code == 0
    result = stockx("show", "-s", "eph")
    assert result.exit_code == 0, result.output
    assert result.stdout == "| id |\n|----|\n| 2  |\n"
    result = stockx("run", "-s", "eph", "--log-format", "json")
    assert result.exit_code == 0
    assert '"event": "node_finished"' not in result.output
