"""The package's structure, read from its source with ``ast`` (nothing is imported).

Layers import downward only. From the bottom:

    base      errors, db (DuckDB connections and quoting), tables, redact: used by every layer
    core      config, layout, nodes, DAG, properties, loading / resolution / compilation,
              selection, Jinja, test definitions: a project read from disk, no database opened
    adapters  one database per target (DuckDB first): every statement stockx runs
    analysis  static checks, lineage, fingerprints, state comparison: sqlglot over a parsed
              project, given an adapter; below run, which checks before it runs anything
    dbt       the dbt project layout and reader: plugs into the core from above, and only
              run.projects (the list of project kinds) imports it
    run       engine, runner, executors, hooks, artifacts, reporting, and test execution
              (run.testing: executors need the runner and an adapter, while test
              definitions are core, as loading a project collects them)
    export, sync   Peak payloads and the sync state, over built tables
    api       the Python API for sync jobs and orchestrators
    docs      the docs site: reads the project, the catalog, lineage, the artifacts and the sync state
    cli, commands  the command line: parse options, call one library function, print

"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "stockx_export"
ROOT = "stockx_export"

LAYERS = {  # module prefix -> layer rank (the longest prefix wins)
    ROOT: 0,
    f"{ROOT}.errors": 0,
    f"{ROOT}.db": 0,
    f"{ROOT}.tables": 0,
    f"{ROOT}.redact": 0,
    f"{ROOT}.core": 1,
    f"{ROOT}.adapters": 2,
    f"{ROOT}.analysis": 3,
    f"{ROOT}.dbt": 4,
    f"{ROOT}.run": 5,
    f"{ROOT}.export": 6,
    f"{ROOT}.sync": 6,
    f"{ROOT}.api": 7,
    f"{ROOT}.docs": 8,
    f"{ROOT}.cli": 9,
    f"{ROOT}.commands": 9,
}
HTTP_MODULE = f"{ROOT}.export.http"
DBT = f"{ROOT}.dbt"
PROJECT_KINDS = f"{ROOT}.run.projects"  # the one module that lists the kinds of project, dbt's included
# What only the dbt package may know: its files and environment variables.
DBT_NAMES = ("dbt_project.yml", "profiles.yml", "DBT_PROFILES_DIR", "DBT_TARGET", "dbt_test__audit", "packages.yml")
MAX_COMMAND_LINES = 85


def layer(module: str) -> int:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


@cache
def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


@cache
def tree(module: str) -> ast.Module:
    return ast.parse(modules()[module].read_text(encoding="utf-8"))


def _type_checking_blocks(module: str) -> set[int]:
    """ids of the nodes inside ``if TYPE_CHECKING:`` blocks (imports for annotations only)."""
    inside: set[int] = set()
    for node in ast.walk(tree(module)):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.body:
                inside |= {id(n) for n in ast.walk(child)}
    return inside


@cache
def imports(module: str) -> tuple[tuple[str, tuple[str, ...], int, bool], ...]:
    """(imported module, names, line, type-checking only) for every import in ``module``, nested ones too."""
    known = modules()
    package = module if modules()[module].name == "__init__.py" else module.rpartition(".")[0]
    typing_only = _type_checking_blocks(module)
    found = []
    for node in ast.walk(tree(module)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, (), node.lineno, id(node) in typing_only))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = tuple(a.name for a in node.names)
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in known]
            for sub in submodules:
                found.append((sub, (), node.lineno, id(node) in typing_only))
            rest = tuple(n for n in names if f"{target}.{n}" not in known)
            if rest or not submodules:
                found.append((target, rest, node.lineno, id(node) in typing_only))
    return tuple(found)


def edges(*, runtime_only: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for module in modules():
        for target, _, _, typing_only in imports(module):
            if target.startswith(ROOT) and target != module and not (runtime_only and typing_only):
                graph[module].add(target if target in modules() else target.rpartition(".")[0])
    return graph


def cycles() -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), each sorted, in sorted order."""
    graph = edges(runtime_only=True)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(modules()):
        if module not in index:
            visit(module)
    return sorted(found)


# -- the checks: each gives (module, description) per violation -----------------------------------


def cycle_violations() -> list[tuple[str, str]]:
    return [(component[0], "import cycle " + " <-> ".join(component)) for component in cycles()]


def private_name_violations() -> list[tuple[str, str]]:
    found = []
    for module in modules():
        for target, names, line, _ in imports(module):
            if target.startswith(ROOT) and target != module:
                for name in names:
                    if name.startswith("_") and not name.startswith("__"):
                        found.append((module, f"line {line} imports {target}.{name}"))
        aliases = {a.asname or a.name: a.name for n in ast.walk(tree(module)) if isinstance(n, ast.Import)
                   for a in n.names if a.name.startswith(ROOT)}
        aliases |= {a.asname or a.name: f"{n.module}.{a.name}" for n in ast.walk(tree(module))
                    if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith(ROOT)
                    for a in n.names if f"{n.module}.{a.name}" in modules()}
        for node in ast.walk(tree(module)):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                found.append((module, f"line {node.lineno} reads {aliases[node.value.id]}.{node.attr}"))
    return found


def importers_of(top: str) -> set[str]:
    return {m for m in modules() for target, *_ in imports(m) if target == top or target.startswith(top + ".")}


def click_violations() -> list[tuple[str, str]]:
    allowed = lambda m: m == f"{ROOT}.cli" or m.startswith(f"{ROOT}.commands.")  # noqa: E731
    return [(m, "imports click") for m in sorted(importers_of("click")) if not allowed(m)]


def httpx_violations() -> list[tuple[str, str]]:
    found = [(m, "imports httpx") for m in sorted(importers_of("httpx")) if m != HTTP_MODULE]
    if HTTP_MODULE not in modules():
        found.append((HTTP_MODULE, "does not exist: the one module that imports httpx"))
    return found


def layer_violations() -> list[tuple[str, str]]:
    found = []
    for module in modules():
        for target, _, line, _ in imports(module):
            if target.startswith(ROOT) and layer(target) > layer(module):
                found.append((module, f"line {line} imports {target}, a layer above it"))
    return found


def _help_strings(module: str) -> set[int]:
    """ids of string constants that are a docstring or a click ``help=`` text (words for users)."""
    skipped: set[int] = set()
    for node in ast.walk(tree(module)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skipped.add(id(first.value))
        if isinstance(node, ast.keyword) and node.arg == "help":
            skipped |= {id(n) for n in ast.walk(node.value)}
    return skipped


def dbt_violations() -> list[tuple[str, str]]:
    found = []
    for module in sorted(modules()):
        if module == DBT or module.startswith(DBT + "."):
            continue
        for target, _, line, _ in imports(module):
            if (target == DBT or target.startswith(DBT + ".")) and module != PROJECT_KINDS:
                found.append((module, f"line {line} imports {target}"))
        words = _help_strings(module)
        for node in ast.walk(tree(module)):
            if isinstance(node, ast.Name) and node.id == "flavour" or isinstance(node, ast.Attribute) and node.attr == "flavour":
                found.append((module, f"line {node.lineno} reads a project's flavour"))
            if isinstance(node, ast.Compare) and any(
                isinstance(c, ast.Constant) and c.value == "dbt" for c in [node.left, *node.comparators]
            ):
                found.append((module, f"line {node.lineno} compares with 'dbt'"))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in words:
                for name in DBT_NAMES:
                    if name in node.value:
                        found.append((module, f"line {node.lineno} names {name}"))
    return found


def command_modules() -> set[str]:
    """The modules the CLI's command table names (read from cli.py's COMMANDS, not imported)."""
    tree = ast.parse((PACKAGE / "cli.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and ast.unparse(target) == "COMMANDS":
            return {value.value.split(":")[0] for value in node.value.values if isinstance(value, ast.Constant)}
    raise AssertionError("cli.py has no COMMANDS table")


def command_length_violations() -> list[tuple[str, str]]:
    found = []
    for module, path in modules().items():
        if module in command_modules():
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_COMMAND_LINES:
                found.append((module, f"{lines} lines; a command parses options, calls one library function, prints"))
    return found


CHECKS = {
    "no import cycles": cycle_violations,
    "no private name imported across modules": private_name_violations,
    "only cli.py and commands/ import click": click_violations,
    "only export/http.py imports httpx": httpx_violations,
    "layers import downward only": layer_violations,
    "only dbt/ knows dbt projects": dbt_violations,
    "command modules stay small": command_length_violations,
}


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_structure_holds(check):
    assert CHECKS[check]() == []


# -- the checks themselves catch what they look for ------------------------------------------------


def test_the_layer_of_a_module_is_its_longest_prefix():
    assert layer(f"{ROOT}.core.loading") == 1
    assert layer(f"{ROOT}.run.testing.unit") == 5
    assert layer(f"{ROOT}.docs.site") == 8
    assert layer(f"{ROOT}.commands.build") == 9
    assert layer(ROOT) == 0


def test_the_import_reader_sees_nested_relative_and_type_only_imports(tmp_path, monkeypatch):
    package = tmp_path / ROOT
    (package / "core").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "core" / "__init__.py").write_text("")
    (package / "core" / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import b\n"
        "if TYPE_CHECKING:\n    from stockx_export.run import engine\n"
        "def f():\n    from stockx_export.cli import _private\n    import click\n"
    )
    (package / "core" / "b.py").write_text("from stockx_export.core.a import f\n")
    (package / "run").mkdir()
    (package / "run" / "__init__.py").write_text("")
    (package / "run" / "engine.py").write_text("")
    (package / "cli.py").write_text("_private = 1\n")
    monkeypatch.setattr(f"{__name__}.PACKAGE", package)
    for cached in (modules, tree, imports):
        cached.cache_clear()
    try:
        found = imports(f"{ROOT}.core.a")
        assert (f"{ROOT}.core.b", (), 2, False) in found
        assert (f"{ROOT}.run.engine", (), 4, True) in found
        assert cycles() == [[f"{ROOT}.core.a", f"{ROOT}.core.b"]]
        assert (f"{ROOT}.core.a", f"line 6 imports {ROOT}.cli._private") in private_name_violations()
        assert (f"{ROOT}.core.a", "imports click") in click_violations()
        assert (f"{ROOT}.core.a", f"line 4 imports {ROOT}.run.engine, a layer above it") in layer_violations()
    finally:
        for cached in (modules, tree, imports):
            cached.cache_clear()


# -- what a start costs ---------------------------------------------------------------------------


def _stockx_in_a_process(args: list[str], probe: str, timeout: int = 120):
    """Run ``stockx *args`` in a new Python process, then print ``probe`` (an expression over ``sys``)
    there: the finished process, and what the probe printed (the last line of its stderr)."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        f"sys.argv = ['stockx', *{args!r}]\n"
        "from stockx_export.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print({probe}, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout)
    return done, (done.stderr.strip().splitlines() or [""])[-1]


def _one_model(root: Path) -> Path:
    (root / "models").mkdir()
    (root / "models" / "one.sql").write_text("select 1 as x\n")
    (root / "pyproject.toml").write_text('[tool.stockx]\nname = "demo"\n')
    return root


def test_help_loads_no_database_driver_sql_parser_or_template_engine():
    """``stockx --help`` lists every command (importing each command module) and stays instant."""
    done, loaded = _stockx_in_a_process(
        ["--help"],
        "sorted(m for m in ('duckdb', 'sqlglot', 'jinja2', 'yaml', 'httpx', 'psycopg', 'pyspark', 'pyarrow') "
        "if m in sys.modules)",
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Commands:" in done.stdout
    assert loaded == "[]"


def test_a_duckdb_build_imports_neither_other_adapter(tmp_path):
    """The PostgreSQL and Spark adapters are imported when a target of their type is opened, not before."""
    done, loaded = _stockx_in_a_process(
        ["build", "--project-dir", str(_one_model(tmp_path))],
        "sorted(m for m in sys.modules if m.startswith('stockx_export.adapters.'))",
    )
    assert "PASS=1" in done.stdout, done.stdout + done.stderr
    assert "stockx_export.adapters.duckdb" in loaded
    assert "adapters.postgres'" not in loaded and "adapters.spark'" not in loaded


def test_a_duckdb_build_opens_the_engine_without_the_duckdb_package(tmp_path):
    """The build reaches DuckDB through its engine module (``_duckdb``): the ``duckdb`` package's
    Python layer (its relational API and importlib.metadata version lookup) costs every command
    about 0.1 s and is not used; an ``import duckdb`` creeping back in would bring it back."""
    done, loaded = _stockx_in_a_process(["build", "--project-dir", str(_one_model(tmp_path))],
                                        "sorted(m for m in ('_duckdb', 'duckdb') if m in sys.modules)")
    assert "PASS=1" in done.stdout, done.stdout + done.stderr
    assert loaded == "['_duckdb']"


def test_sqlglot_loads_on_a_first_build_and_not_on_a_rebuild_whose_checks_are_cached(tmp_path):
    """A first build parses every model, so sqlglot is loaded (ahead, while the database opens); a
    rebuild of unchanged models finds them in target/check_cache.json and never imports it."""
    root = _one_model(tmp_path)
    loaded = []
    for _ in range(2):
        done, found = _stockx_in_a_process(["build", "--project-dir", str(root)], "'sqlglot' in sys.modules")
        assert "PASS=1" in done.stdout, done.stdout + done.stderr
        loaded.append(found)
    assert loaded == ["True", "False"]
    assert (tmp_path / "target" / "check_cache.json").exists()


@pytest.mark.parametrize("command", ["seed", "test"])
def test_a_run_without_models_does_not_load_sqlglot_once_their_fingerprints_are_kept(tmp_path, command):
    """The checks parse models only: a seed or test run leaves no check cache behind, so loading sqlglot
    ahead "on a first build" would load it on every such run; the models' fingerprints (the one use a
    first run has for it) are kept from the first run."""
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "codes.csv").write_text("code,label\n1,one\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "one.sql").write_text("select * from {{ ref('codes') }}\n")
    (tmp_path / "tests" / "sql").mkdir(parents=True)
    (tmp_path / "tests" / "sql" / "no_rows.sql").write_text("select * from {{ ref('codes') }} where code > 1\n")
    (tmp_path / "pyproject.toml").write_text('[tool.stockx]\nname = "demo"\n')
    seeded, _ = _stockx_in_a_process(["seed", "--project-dir", str(tmp_path)], "'sqlglot' in sys.modules")
    assert "PASS=1" in seeded.stdout, seeded.stdout + seeded.stderr
    done, loaded = _stockx_in_a_process([command, "--project-dir", str(tmp_path)], "'sqlglot' in sys.modules")
    assert "PASS=1" in done.stdout, done.stdout + done.stderr
    assert loaded == "False"
