"""Partial parse (issue 17): what parsing learnt is kept in target/partial_parse.json, and never stale.

Most tests here *poison* the cache after a first build: every kept model parse is
made to say ``materialized='table'`` where the files say view. A model served from
the cache is then built as a table; one parsed again is built as a view. So each
test shows both that the cache is read and exactly which models an input change
parses again: if the key left that input out, the changed model would be served
the poisoned entry and come out a table.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from conftest import query
from stockx_export.core import parse_cache
from stockx_export.core.jinja.render import Renderer

CACHE = Path("target") / "partial_parse.json"

PROJECT = {
    "pyproject.toml": """
        [tool.stockx]
        name = "shop"
        [tool.stockx.vars]
        region = "north"
    """,
    "seeds/items.csv": "id,name\n1,a\n2,b\n",
    "macros/pick.sql": "{% macro pick(col) %}{{ col }}{% endmacro %}\n",
    "models/a.sql": "select {{ pick('id') }} as id, '{{ var('region') }}' as region from {{ ref('items') }}\n",
    "models/b.sql": "select id from {{ ref('a') }}\n",
    "models/_models.yml": """
        version: 2
        models:
          - name: b
            description: the b model
    """,
}


def kinds(root: Path, database: str = "stockx.duckdb", names: tuple[str, ...] = ("a", "b")) -> dict[str, str]:
    """Each model's relation kind in the project's database: 'table' or 'view'."""
    rows = query(root / "target" / database, "select table_name, table_type from information_schema.tables")
    return {name: ("view" if kind == "VIEW" else "table") for name, kind in rows if name in names}


def poison(root: Path) -> None:
    """Make every kept model parse say materialized='table'."""
    path = root / CACHE
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["models"], "the first build kept no model parse"
    for entry in data["models"].values():
        entry["config"]["materialized"] = "table"
    path.write_text(json.dumps(data), encoding="utf-8")


def build(stockx, *args: str, env: dict[str, str] | None = None):
    result = stockx("build", *args, env=env)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def shop(make_project):
    def make(**changes: str):
        return make_project({**PROJECT, **changes})

    return make


def test_an_unchanged_project_is_served_from_the_cache(shop):
    root, stockx = shop()
    build(stockx)
    assert kinds(root) == {"a": "view", "b": "view"}
    poison(root)
    build(stockx)
    assert kinds(root) == {"a": "table", "b": "table"}


def test_a_second_run_gives_byte_identical_artifacts_compiled_sql_and_results(shop, tmp_path):
    root, stockx = shop()
    build(stockx)
    cold = snapshot(root)
    build(stockx)
    assert (root / CACHE).is_file()
    warm = snapshot(root)
    assert warm == cold
    (root / "target" / "stockx.duckdb").unlink()
    build(stockx, "--no-partial-parse")
    assert snapshot(root) == cold


def snapshot(root: Path) -> dict[str, object]:
    """manifest.json (without its time and invocation id), every compiled SQL file and the built rows."""
    target = root / "target"
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    manifest["metadata"].pop("generated_at")
    manifest["metadata"].pop("invocation_id")
    compiled = {p.relative_to(target).as_posix(): p.read_bytes() for p in sorted((target / "compiled").rglob("*.sql"))}
    rows = {name: query(target / "stockx.duckdb", f"select * from main.{name} order by all") for name in ("a", "b")}
    return {"manifest": manifest, "compiled": compiled, "rows": rows}


def test_a_model_edit_parses_that_model_again_and_no_other(shop):
    root, stockx = shop()
    build(stockx)
    poison(root)
    (root / "models" / "a.sql").write_text("select {{ pick('id') }} as id, 'edited' as region from {{ ref('items') }}\n")
    build(stockx)
    assert kinds(root) == {"a": "view", "b": "table"}


def test_a_macro_edit_parses_every_model_again(shop):
    root, stockx = shop()
    build(stockx)
    poison(root)
    (root / "macros" / "pick.sql").write_text("{% macro pick(col) %}{{ col }} + 0{% endmacro %}\n")
    build(stockx)
    assert kinds(root) == {"a": "view", "b": "view"}


def test_a_property_file_edit_parses_every_model_again(shop):
    root, stockx = shop()
    build(stockx)
    poison(root)
    (root / "models" / "_models.yml").write_text("version: 2\nmodels:\n  - name: b\n    description: changed\n")
    build(stockx)
    assert kinds(root) == {"a": "view", "b": "view"}


def test_a_var_change_parses_every_model_again(shop):
    root, stockx = shop()
    build(stockx)
    poison(root)
    build(stockx, "--vars", "{region: south}")
    assert kinds(root) == {"a": "view", "b": "view"}
    assert query(root / "target" / "stockx.duckdb", "select distinct region from main.a") == [("south",)]


def test_an_env_var_change_parses_the_models_that_read_it_and_no_other(shop, monkeypatch):
    root, stockx = shop(**{"models/a.sql": "select 1 as id, '{{ env_var('SHOP_REGION', 'none') }}' as region\n"})
    monkeypatch.setenv("SHOP_REGION", "north")
    build(stockx)
    poison(root)
    build(stockx)
    assert kinds(root) == {"a": "table", "b": "table"}  # the same value: served from the cache
    monkeypatch.setenv("SHOP_REGION", "south")
    build(stockx)
    assert kinds(root) == {"a": "view", "b": "table"}
    monkeypatch.delenv("SHOP_REGION")
    poison(root)
    build(stockx)
    assert kinds(root) == {"a": "view", "b": "table"}  # unset is a change too
    assert query(root / "target" / "stockx.duckdb", "select region from main.a") == [("none",)]


def test_the_cache_keeps_no_env_var_value(shop, monkeypatch):
    root, stockx = shop(**{"models/a.sql": "select 1 as id, '{{ env_var('SHOP_SECRET') }}' as s\n"})
    monkeypatch.setenv("SHOP_SECRET", "hunter2-secret-value")
    build(stockx)
    text = (root / CACHE).read_text(encoding="utf-8")
    assert "SHOP_SECRET" in text and "hunter2" not in text


def test_a_pyproject_setting_parses_every_model_again(shop):
    root, stockx = shop()
    build(stockx)
    pyproject = root / "pyproject.toml"
    for edit in ('region = "north"', 'region = "east"'), ("[tool.stockx.vars]", '[tool.stockx.models.b]\ntags = ["x"]\n[tool.stockx.vars]'):
        poison(root)
        pyproject.write_text(pyproject.read_text().replace(*edit))
        build(stockx)
        assert kinds(root) == {"a": "view", "b": "view"}, edit


def test_another_target_parses_every_model_again(shop):
    root, stockx = shop(**{"pyproject.toml": PROJECT["pyproject.toml"] + """
        [tool.stockx.targets.dev]
        type = "duckdb"
        database = "target/stockx.duckdb"
        [tool.stockx.targets.other]
        type = "duckdb"
        database = "target/stockx.duckdb"
        schema = "main"
        threads = 2
    """})
    build(stockx, "--target", "dev")
    poison(root)
    build(stockx, "--target", "other")
    assert kinds(root) == {"a": "view", "b": "view"}


def test_the_full_refresh_flag_parses_every_model_again(shop):
    root, stockx = shop()
    build(stockx)
    poison(root)
    build(stockx, "--full-refresh")
    assert kinds(root) == {"a": "view", "b": "view"}


def test_another_tool_version_drops_the_whole_cache(shop, monkeypatch):
    root, stockx = shop()
    build(stockx)
    poison(root)
    versions = {**parse_cache.tool_versions(), "sqlglot": "0.0.0"}
    monkeypatch.setattr(parse_cache, "tool_versions", lambda: versions)
    build(stockx)
    assert kinds(root) == {"a": "view", "b": "view"}


def test_a_model_that_reads_the_clock_is_parsed_every_run(shop):
    root, stockx = shop(**{
        "models/a.sql": "{{ config(alias='a_' ~ run_started_at.strftime('%H%M%S%f')) }}\nselect 1 as id\n",
        "models/b.sql": "select 1 as id\n",
    })
    build(stockx)
    first = alias_of(root, "a")
    build(stockx)
    assert alias_of(root, "a") != first
    assert re.fullmatch(r"a_\d{12}", alias_of(root, "a"))


def alias_of(root: Path, name: str) -> str:
    manifest = json.loads((root / "target" / "manifest.json").read_text(encoding="utf-8"))
    return manifest["nodes"][f"model.shop.{name}"]["alias"]


def test_a_renamed_ref_target_is_parsed_again_with_its_error(shop):
    root, stockx = shop()
    build(stockx)
    (root / "models" / "a.sql").rename(root / "models" / "a2.sql")
    result = stockx("build")
    assert result.exit_code != 0
    assert "models/b.sql:1: ref('a') not found; did you mean 'a2'?" in result.output


@pytest.mark.parametrize("damage", ["not json at all", '{"format": 1}', "[]", '{"format": 1, "versions": 7}', ""])
def test_a_damaged_cache_file_is_ignored_and_rewritten(shop, damage):
    root, stockx = shop()
    build(stockx)
    (root / CACHE).write_text(damage, encoding="utf-8")
    result = build(stockx)
    assert "Warning" not in result.output
    assert kinds(root) == {"a": "view", "b": "view"}
    assert json.loads((root / CACHE).read_text(encoding="utf-8"))["models"]


def test_a_damaged_entry_is_parsed_again(shop):
    root, stockx = shop()
    build(stockx)
    data = json.loads((root / CACHE).read_text(encoding="utf-8"))
    for entry in data["models"].values():
        entry["refs"] = 5
    (root / CACHE).write_text(json.dumps(data), encoding="utf-8")
    build(stockx)
    assert kinds(root) == {"a": "view", "b": "view"}


def test_no_partial_parse_neither_reads_nor_writes_the_cache(shop):
    root, stockx = shop()
    build(stockx)
    poison(root)
    poisoned = (root / CACHE).read_bytes()
    build(stockx, "--no-partial-parse")
    assert kinds(root) == {"a": "view", "b": "view"}
    assert (root / CACHE).read_bytes() == poisoned


@pytest.mark.parametrize("value", ["1", "true"])
def test_the_environment_variable_turns_it_off_too(shop, value):
    root, stockx = shop()
    build(stockx)
    poison(root)
    build(stockx, env={"STOCKX_NO_PARTIAL_PARSE": value})
    assert kinds(root) == {"a": "view", "b": "view"}
    build(stockx, env={"STOCKX_NO_PARTIAL_PARSE": "0"})
    assert kinds(root) == {"a": "table", "b": "table"}


def test_clean_removes_the_cache(shop):
    root, stockx = shop()
    build(stockx)
    assert (root / CACHE).is_file()
    assert stockx("clean").exit_code == 0
    assert not (root / CACHE).exists()


def test_a_model_whose_ref_now_names_another_relation_is_parsed_again(shop):
    root, stockx = shop()
    build(stockx)
    poison(root)
    (root / "models" / "a.sql").write_text("{{ config(alias='a_renamed') }}\nselect 1 as id\n")
    build(stockx)
    rows = query(root / "target" / "stockx.duckdb", "select table_name, table_type from information_schema.tables")
    assert ("a_renamed", "VIEW") in rows and ("b", "VIEW") in rows


DBT_PROJECT = {
    "pyproject.toml": "[project]\nname = 'not-stockx'\n",
    "dbt_project.yml": "name: shop\nprofile: shop\nconfig-version: 2\n",
    "profiles.yml": "shop: {target: dev, outputs: {dev: {type: duckdb, path: target/shop.duckdb}}}\n",
    "packages.yml": """
        packages:
          - git: https://github.com/acme/dbt-calendar.git
            revision: 1.0.0
    """,
    "dbt_packages/dbt_calendar/dbt_project.yml": "name: dbt_calendar\nversion: 1.0.0\nconfig-version: 2\n",
    "dbt_packages/dbt_calendar/macros/year.sql": "{% macro calendar_year() %}2026{% endmacro %}\n",
    "dbt_packages/dbt_calendar/models/cal.sql": "select 1 as c\n",
    "models/a.sql": "select {{ dbt_calendar.calendar_year() }} as y\n",
    "models/b.sql": "select 1 as id\n",
}


def test_a_package_file_edit_parses_again_what_could_see_it(make_project):
    root, stockx = make_project(DBT_PROJECT)
    build(stockx)
    names = ("a", "b", "cal")
    assert kinds(root, "shop.duckdb", names) == {"a": "view", "b": "view", "cal": "view"}
    poison(root)
    build(stockx)
    assert kinds(root, "shop.duckdb", names) == {"a": "table", "b": "table", "cal": "table"}
    poison(root)
    (root / "dbt_packages" / "dbt_calendar" / "models" / "cal.sql").write_text("select 2 as c\n")
    build(stockx)
    assert kinds(root, "shop.duckdb", names) == {"a": "table", "b": "table", "cal": "view"}
    poison(root)
    (root / "dbt_packages" / "dbt_calendar" / "macros" / "year.sql").write_text(
        "{% macro calendar_year() %}2027{% endmacro %}\n")
    build(stockx)
    assert kinds(root, "shop.duckdb", names) == {"a": "view", "b": "view", "cal": "view"}
    assert query(root / "target" / "shop.duckdb", "select y from main.a") == [(2027,)]


def test_a_model_that_asks_the_database_while_parsing_is_parsed_every_run(shop):
    root, stockx = shop(**{
        "models/a.sql": "{% set found = adapter.get_relation(schema='main', identifier='items') %}select 1 as id\n",
    })
    build(stockx)
    poison(root)
    build(stockx)
    assert kinds(root) == {"a": "view", "b": "table"}


def test_a_build_renders_each_model_once_per_context(shop, monkeypatch):
    root, stockx = shop()
    calls: Counter = Counter()
    original = Renderer.render

    def counting(self, source, frame, extra=None):
        calls[(frame.path, frame.mode)] += 1
        return original(self, source, frame, extra)

    monkeypatch.setattr(Renderer, "render", counting)
    build(stockx)
    models = {key: n for key, n in calls.items() if key[0].startswith("models/")}
    # Loading's render is the fingerprint's too; the checks' compile-mode render is the one the run builds.
    assert models == {("models/a.sql", "parse"): 1, ("models/a.sql", "compile"): 1,
                      ("models/b.sql", "parse"): 1, ("models/b.sql", "compile"): 1}
    calls.clear()
    build(stockx)
    models = {key: n for key, n in calls.items() if key[0].startswith("models/")}
    assert models == {("models/a.sql", "compile"): 1, ("models/b.sql", "compile"): 1}


def fingerprints_of(root: Path) -> dict[str, str]:
    manifest = json.loads((root / "target" / "manifest.json").read_text(encoding="utf-8"))
    return {uid: node["meta"]["stockx"]["fingerprint"] for uid, node in manifest["nodes"].items()}


def poison_analysis(root: Path) -> None:
    """Make every normalised-SQL hash kept in analysis_cache.json a wrong one."""
    path = root / "target" / "analysis_cache.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["entries"] = {key: "0" * 64 for key in data["entries"]}
    path.write_text(json.dumps(data), encoding="utf-8")


def test_the_sql_analysis_caches_are_dropped_with_another_tool_version_or_the_flag(shop, monkeypatch):
    root, stockx = shop()
    build(stockx)
    cold = fingerprints_of(root)
    poison_analysis(root)
    build(stockx)
    assert fingerprints_of(root) != cold  # the kept normalisations are read
    poison_analysis(root)
    build(stockx, "--no-partial-parse")
    assert fingerprints_of(root) == cold
    versions = {**parse_cache.tool_versions(), "sqlglot": "0.0.0"}
    monkeypatch.setattr(parse_cache, "tool_versions", lambda: versions)
    build(stockx)
    assert fingerprints_of(root) == cold
    checked = json.loads((root / "target" / "check_cache.json").read_text(encoding="utf-8"))
    assert checked["versions"] == versions and len(checked["clean"]) == 2


# -- the templates' bytecode (target/partial_parse.marshal) ----------------------------------------------------

BYTECODE = Path("target") / parse_cache.BYTECODE_FILE


def poison_bytecode(root: Path) -> None:
    """Make the kept bytecode of models/a.sql's template that of ``select 99 as id``."""
    import marshal

    from stockx_export.core.jinja.environment import make_environment

    path = root / BYTECODE
    data = path.read_bytes()
    size = len(parse_cache.MAGIC_NUMBER) + 32
    objects = marshal.loads(data[size:])
    key = next(k for k, code in objects.items() if code.co_filename.endswith("a.sql"))
    source = make_environment().compile("select 99 as id\n", name="a.sql", filename="a.sql", raw=True)
    objects[key] = compile(source, objects[key].co_filename, "exec")
    write_bytecode(path, data[:size], objects)


def write_bytecode(path: Path, header: bytes, objects) -> None:
    """Write ``objects`` as a bytecode file the cache reads: header, marshal, and the hash of both."""
    import hashlib
    import marshal

    body = header + marshal.dumps(objects)
    path.write_bytes(body + hashlib.sha256(body).digest())


def rows_of_a(root: Path) -> list[tuple]:
    return query(root / "target" / "stockx.duckdb", "select id from a order by id")


def test_the_templates_bytecode_is_served_from_the_cache_and_never_stale(shop):
    root, stockx = shop()
    build(stockx)
    poison_bytecode(root)
    build(stockx)
    assert rows_of_a(root) == [(99,)]  # the kept bytecode was used
    (root / "models" / "a.sql").write_text(PROJECT["models/a.sql"] + "-- edited\n")
    build(stockx)
    assert rows_of_a(root) == [(1,), (2,)]  # another text, another key: compiled again


@pytest.mark.parametrize("change", ["python", "tools"])
def test_bytecode_of_another_python_or_tool_version_is_ignored(shop, monkeypatch, change):
    root, stockx = shop()
    build(stockx)
    poison_bytecode(root)
    if change == "python":
        monkeypatch.setattr(parse_cache, "MAGIC_NUMBER", b"\x00\x00\r\n")
    else:
        versions = {**parse_cache.tool_versions(), "jinja2": "0.0.0"}
        monkeypatch.setattr(parse_cache, "tool_versions", lambda: versions)
    build(stockx)
    assert rows_of_a(root) == [(1,), (2,)]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "a list", "not code"])
def test_a_damaged_bytecode_file_is_ignored_and_rewritten(shop, damage):
    import marshal

    root, stockx = shop()
    build(stockx)
    path = root / BYTECODE
    data = path.read_bytes()
    size = len(parse_cache.MAGIC_NUMBER) + 32
    if damage in ("a list", "not code"):  # whole files, hash and all, holding the wrong things
        write_bytecode(path, data[:size], [1, 2] if damage == "a list" else
                       {key: "print('x')" for key in marshal.loads(data[size:])})
    else:
        path.write_bytes({"garbage": b"\x00not marshal at all" * 10, "truncated": data[: len(data) // 2],
                          "empty": b""}[damage])
    (root / "models" / "b.sql").write_text(PROJECT["models/b.sql"] + "-- edited: the cache is written again\n")
    result = build(stockx)
    assert "Warning" not in result.output
    assert rows_of_a(root) == [(1,), (2,)]
    assert path.read_bytes()[:size] == data[:size] and len(marshal.loads(path.read_bytes()[size:])) > 1


def test_a_bytecode_file_damaged_inside_is_ignored_not_run(shop):
    # Damage that leaves the header and the marshal format whole (a changed byte in a string the
    # template writes) must not reach the SQL: the file is ignored, the template compiled again.
    root, stockx = shop()
    build(stockx)
    path = root / BYTECODE
    data = path.read_bytes()
    assert data.count(b"' as region from ") == 1
    path.write_bytes(data.replace(b"' as region from ", b"' as damage from "))
    build(stockx)
    compiled = (root / "target" / "compiled" / "models" / "a.sql").read_text(encoding="utf-8")
    assert "as region from" in compiled and "damage" not in compiled
    assert query(root / "target" / "stockx.duckdb", "select distinct region from a") == [("north",)]
    assert path.read_bytes().count(b"' as region from ") == 1  # written anew


def test_no_secret_reaches_the_cache_files_through_a_hook_or_a_var(make_project, monkeypatch):
    # A hook written from env_var()'s value is a template holding the secret, and a var rendered from
    # env_var() in dbt_project.yml puts it in a model's config and SQL with no env_var() call there:
    # neither the templates' Python and bytecode nor the models' entries may keep it.
    monkeypatch.setenv("SHOP_SECRET", "hunter2-secret-value")
    monkeypatch.setenv("SHOP_PASSWORD", "pa55-word-value")
    root, stockx = make_project({
        "pyproject.toml": "[project]\nname = 'not-stockx'\n",
        "dbt_project.yml": ("name: shop\nprofile: shop\nconfig-version: 2\n"
                            "vars:\n  pw: \"{{ env_var('SHOP_PASSWORD') }}\"\n"),
        "profiles.yml": "shop:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: target/shop.duckdb}\n",
        "models/a.sql": ("{{ config(materialized='table', pre_hook=\"select '\" ~ env_var('SHOP_SECRET') ~ \"' as s, "
                         "{{ 1 }} as n\") }}\nselect 1 as id\n"),
        "models/b.sql": "{{ config(post_hook=\"select '\" ~ var('pw') ~ \"' as p\") }}\nselect '{{ var('pw') }}' as p\n",
    })
    for _ in range(2):  # cold, then served from the cache
        result = stockx("build", "--profiles-dir", str(root))
        assert result.exit_code == 0, result.output
        assert query(root / "target" / "shop.duckdb", "select p from b") == [("pa55-word-value",)]
        for name in (parse_cache.FILE, parse_cache.BYTECODE_FILE):
            data = (root / "target" / name).read_bytes()
            assert b"hunter2" not in data and b"pa55" not in data, name


def test_no_database_password_reaches_the_cache_files_whatever_its_variable_is_named(make_project, postgres_dsn,
                                                                                      monkeypatch):
    # The variable profiles.yml reads the password from holds a secret whatever its name, from loading on:
    # a model's config and a hook written from it are not kept either.
    import uuid

    from conftest import dsn_settings

    settings = dsn_settings(postgres_dsn)
    monkeypatch.setenv("SHOP_PW", "pa55-word-value")
    root, stockx = make_project({
        "pyproject.toml": "[project]\nname = 'not-stockx'\n",
        "dbt_project.yml": "name: shop\nprofile: shop\nconfig-version: 2\n",
        "profiles.yml": (f"shop:\n  target: pg\n  outputs:\n    pg: {{type: postgres, host: '{settings['host']}', "
                         f"port: {settings['port']}, user: {settings['user']}, dbname: postgres, "
                         f"schema: pp_{uuid.uuid4().hex[:8]}, password: \"{{{{ env_var('SHOP_PW') }}}}\"}}\n"),
        "models/a.sql": ("{{ config(materialized='table', pre_hook=\"select '\" ~ env_var('SHOP_PW') ~ \"' as p, "
                         "{{ 1 }} as n\") }}\nselect 1 as id\n"),
    })
    for _ in range(2):  # cold, then served from the cache
        result = stockx("build", "--profiles-dir", str(root))
        assert result.exit_code == 0, result.output
        for name in (parse_cache.FILE, parse_cache.BYTECODE_FILE):
            assert b"pa55" not in (root / "target" / name).read_bytes(), name


def test_a_cache_written_before_secrets_were_left_out_is_not_carried_over(make_project, monkeypatch):
    # A cache of format 1 may hold a hook's template written from a secret: it is dropped whole, so neither
    # it nor its bytecode is kept on.
    from stockx_export.core.jinja.environment import TemplateCodes, make_environment

    monkeypatch.setenv("SHOP_SECRET", "hunter2-secret-value")
    hook = "select 'hunter2-secret-value' as s, {{ 1 }} as n"
    root, stockx = make_project({
        "pyproject.toml": "[project]\nname = 'not-stockx'\n",
        "dbt_project.yml": "name: shop\nprofile: shop\nconfig-version: 2\n",
        "profiles.yml": "shop:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: target/shop.duckdb}\n",
        "models/a.sql": ("{{ config(materialized='table', pre_hook=\"select '\" ~ env_var('SHOP_SECRET') ~ \"' as s, "
                         "{{ 1 }} as n\") }}\nselect 1 as id\n"),
    })
    assert stockx("build", "--profiles-dir", str(root)).exit_code == 0
    data = json.loads((root / CACHE).read_text(encoding="utf-8"))
    path = "models/a.sql#pre-hook-0"
    data["templates"][TemplateCodes.key(hook, path)] = make_environment().compile(hook, name=path, filename=path,
                                                                                   raw=True)
    data["format"] = 1
    (root / CACHE).write_text(json.dumps(data), encoding="utf-8")
    (root / BYTECODE).unlink()  # that version's bytecode file has no hash at its end: it is not read either
    assert stockx("build", "--profiles-dir", str(root)).exit_code == 0
    for name in (parse_cache.FILE, parse_cache.BYTECODE_FILE):
        assert b"hunter2" not in (root / "target" / name).read_bytes(), name
