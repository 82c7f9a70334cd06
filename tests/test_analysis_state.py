"""Fingerprints in manifest.json and ``--select state:modified``."""

from __future__ import annotations

import shutil
import textwrap

from stockx_export.core.artifacts import read_manifest

FILES = {
    "seeds/orders.csv": "id,amount,status\n1,10,paid\n2,20,open\n",
    "models/staged.sql": "select id, amount, status from {{ ref('orders') }}\n",
    "models/paid.sql": "select id, amount from {{ ref('staged') }} where status = 'paid'\n",
    "models/other.sql": "select 1 as one\n",
}


def _names(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return result.stdout.split()  # the listing; warnings (e.g. nothing selected) go to stderr


def test_every_node_has_a_fingerprint_in_the_manifest(make_project):
    root, stockx = make_project(FILES)
    assert stockx("compile").exit_code == 0
    nodes = read_manifest(root / "target/manifest.json").nodes
    assert sorted(nodes) == ["model.demo.other", "model.demo.paid", "model.demo.staged", "seed.demo.orders"]
    assert all(len(node.fingerprint) == 64 for node in nodes.values())


def test_formatting_and_comments_do_not_count(make_project):
    root, stockx = make_project(FILES)
    stockx("compile")
    (root / "models/staged.sql").write_text(
        "-- the orders, as loaded\nSELECT id,\n       amount,\n       status\nFROM {{ ref('orders') }}  /* all of them */\n"
    )
    assert _names(stockx("ls", "-s", "state:modified", "--state", str(root / "target"), "--output", "name")) == []


def test_a_changed_model_selects_itself_and_what_is_built_from_it(make_project):
    root, stockx = make_project(FILES)
    stockx("compile")
    (root / "models/staged.sql").write_text("select id, amount * 100 as amount, status from {{ ref('orders') }}\n")
    assert _names(stockx("ls", "-s", "state:modified", "--state", str(root / "target"), "--output", "name")) == ["staged", "paid"]
    # + operators combine with the method: ancestors of what changed come too.
    assert _names(stockx("ls", "-s", "+state:modified", "--state", str(root / "target"), "--output", "name")) == ["orders", "staged", "paid"]


def test_config_vars_and_seed_changes_count(make_project):
    root, stockx = make_project({**FILES, "models/other.sql": "select {{ var('n', 1) }} as one\n"})
    stockx("compile")
    assert _names(stockx("ls", "-s", "state:modified", "--state", str(root / "target"), "--output", "name", "--vars", "{n: 2}")) == ["other"]
    (root / "models/paid.sql").write_text(
        "{{ config(materialized='table') }}\nselect id, amount from {{ ref('staged') }} where status = 'paid'\n"
    )
    assert _names(stockx("ls", "-s", "state:modified", "--state", str(root / "target"), "--output", "name")) == ["paid"]
    (root / "seeds/orders.csv").write_text("id,amount,status\n1,10,paid\n")
    assert _names(stockx("ls", "-s", "state:modified", "--state", str(root / "target"), "--output", "name")) == ["orders", "staged", "paid"]


def test_state_points_at_a_saved_manifest(make_project, tmp_path):
    root, stockx = make_project(FILES)
    stockx("compile")
    saved = tmp_path / "prod-state"
    saved.mkdir()
    shutil.copy(root / "target/manifest.json", saved / "manifest.json")
    (root / "models/other.sql").write_text("select 2 as one\n")
    stockx("compile")  # target/manifest.json now knows the change
    assert _names(stockx("ls", "-s", "state:modified", "--state", str(root / "target"), "--output", "name")) == []
    assert _names(stockx("ls", "-s", "state:modified", "--state", str(saved), "--output", "name")) == ["other"]
    result = stockx("ls", "-s", "state:modified", "--state", str(saved / "manifest.json"), "--output", "name")
    assert _names(result) == ["other"]


def test_state_without_a_previous_manifest_says_what_to_do(make_project, tmp_path):
    root, stockx = make_project(FILES)
    assert stockx("compile").exit_code == 0
    # As in dbt, a state selector needs --state: the build's own manifest is not compared with (issue 15).
    result = stockx("ls", "-s", "state:modified")
    assert result.exit_code == 2
    assert result.output == (
        "Error: state:modified needs a manifest to compare with, and --state was not given; "
        "pass --state PATH (the manifest.json of an earlier run, or the folder holding it)\n"
    )
    result = stockx("ls", "-s", "state:modified", "--state", str(tmp_path / "nowhere"))
    assert result.output == (
        f"Error: state:modified: --state {tmp_path / 'nowhere'}: {tmp_path / 'nowhere'} does not exist\n"
    )
    assert stockx("ls", "-s", "state:changed").output == "Error: state:changed is not a state; use state:modified or state:new\n"


def test_a_changed_test_argument_selects_the_test(make_project):
    properties = """
        version: 2
        models:
          - name: staged
            columns:
              - name: status
                data_tests:
                  - accepted_values:
                      values: {values}
    """
    root, stockx = make_project({**FILES, "models/schema.yml": properties.replace("{values}", "['paid', 'open']")})
    stockx("compile")
    assert _names(stockx("ls", "-s", "state:modified", "--state", str(root / "target"), "--output", "name")) == []
    (root / "models/schema.yml").write_text(
        textwrap.dedent(properties).replace("{values}", "['paid', 'open', 'void']")
    )
    modified = _names(stockx("ls", "-s", "state:modified", "--state", str(root / "target"), "--output", "name"))
    assert len(modified) == 1 and modified[0].startswith("accepted_values_staged_status")


def test_a_change_inside_the_incremental_branch_counts(make_project):
    # Fingerprints render without a database, where is_incremental() is false; the
    # filter a daily incremental run applies must count all the same.
    incremental = textwrap.dedent(
        """\
        {{ config(materialized='incremental', unique_key='id') }}
        select id, amount from {{ ref('staged') }}
        {% if is_incremental() %}
        where id > (select max(id) - {{ var('lookback', 1) }} from {{ this }})
        {% endif %}
        """
    )
    root, stockx = make_project({**FILES, "models/paid.sql": incremental})
    stockx("compile")
    assert _names(stockx("ls", "-s", "state:modified", "--state", str(root / "target"), "--output", "name")) == []
    assert _names(stockx("ls", "-s", "state:modified", "--state", str(root / "target"), "--output", "name", "--vars", "{lookback: 3}")) == ["paid"]
    (root / "models/paid.sql").write_text(incremental.replace("where id >", "where id >="))
    assert _names(stockx("ls", "-s", "state:modified", "--state", str(root / "target"), "--output", "name")) == ["paid"]
    # Formatting inside the branch still does not count.
    (root / "models/paid.sql").write_text(incremental.replace("where id >", "WHERE   id\n  >"))
    assert _names(stockx("ls", "-s", "state:modified", "--state", str(root / "target"), "--output", "name")) == []


def test_an_incremental_branch_that_needs_the_database_still_gets_a_fingerprint(make_project):
    # dbt projects read run_query() results in the branch without an `execute` guard:
    # parse mode has no results, so that model is fingerprinted by its full-refresh text.
    incremental = textwrap.dedent(
        """\
        {{ config(materialized='incremental', unique_key='id') }}
        select id, amount from {{ ref('staged') }}
        {% if is_incremental() %}
        where id > {{ run_query('select max(id) from ' ~ this).columns[0].values()[0] }}
        {% endif %}
        """
    )
    root, stockx = make_project({**FILES, "models/paid.sql": incremental})
    assert stockx("compile").exit_code == 0
    assert _names(stockx("ls", "-s", "state:modified", "--state", str(root / "target"), "--output", "name")) == []
    (root / "models/paid.sql").write_text(incremental.replace("select id, amount", "select id, amount, 1 as v"))
    assert _names(stockx("ls", "-s", "state:modified", "--state", str(root / "target"), "--output", "name")) == ["paid"]


def test_a_changed_contract_selects_the_model(make_project):
    # The contract is what the model promises downstream: a changed type or constraint
    # must be built and checked, as dbt's state:modified does. A description is not.
    properties = textwrap.dedent(
        """\
        version: 2
        models:
          - name: paid
            description: Paid orders.
            config:
              contract: {enforced: true}
            constraints: [{type: primary_key, columns: [id]}]
            columns:
              - {name: id, data_type: bigint, description: The order.}
              - {name: amount, data_type: bigint}
        """
    )
    root, stockx = make_project({**FILES, "models/schema.yml": properties})
    stockx("compile")
    schema = root / "models/schema.yml"
    for before, after, modified in (
        ("The order.", "The order number.", []),
        ("{name: amount, data_type: bigint}", "{name: amount, data_type: integer}", ["paid"]),
        ("{name: amount, data_type: bigint}", "{name: amount, data_type: bigint, constraints: [{type: not_null}]}", ["paid"]),
        ("columns: [id]", "columns: [id, amount]", ["paid"]),
    ):
        schema.write_text(properties.replace(before, after))
        assert _names(stockx("ls", "-s", "state:modified", "--state", str(root / "target"), "--output", "name")) == modified, after
