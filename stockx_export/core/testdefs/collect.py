"""Test nodes: generic tests from property files, singular tests from test paths, unit tests.

Loading (stockx_export.core.loading) calls :func:`collect_tests` once models,
seeds and sources are parsed. Each test becomes a frozen :class:`~stockx_export.core.nodes.Node` in the
project and the DAG:

* a data test depends on what it tests and on what its arguments ``ref``
  (``relationships: {to: ref('products')}``); ``extra["attached_node"]`` is the
  model, seed or source it sits on (None for a singular test);
* a unit test depends on its model in ``depends_on`` (so selecting the model
  selects it), but in the DAG the *model* waits for the unit test, which waits
  for the model's inputs: in ``build`` it runs right before the model.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from stockx_export.core.config import folder_config, merge_config
from stockx_export.core.files import read_text
from stockx_export.core.jinja.render import Frame
from stockx_export.core.nodes import Node
from stockx_export.core.testdefs.naming import generic_test_hash, generic_test_names
from stockx_export.core.testdefs.specs import GenericTestSpec, read_spec
from stockx_export.errors import CompilationError, ProjectError

GENERIC_TESTS_FOLDER = "generic"  # <test path>/generic/*.sql hold {% test %} blocks, not singular tests
# dbt's defaults for every data test.
TEST_DEFAULTS = {
    "materialized": "test",
    "severity": "ERROR",
    "warn_if": "!= 0",
    "error_if": "!= 0",
    "fail_calc": "count(*)",
}
GENERIC_TEST_SQL = "{{ __stockx_test(**__stockx_test_kwargs) }}"
# An argument that looks like a call is evaluated as an expression (dbt's rule), so
# `to: ref('products')` is a relation and a dependency, not a string.
LOOKS_LIKE_CALL = re.compile(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$", re.S)
ONE_EXPRESSION = re.compile(r"^\s*\{\{((?:(?!\}\}).)*)\}\}\s*$", re.S)
_REF = re.compile(r"""^\s*ref\(\s*(?:['"][^'"]+['"]\s*,\s*)?['"]([^'"]+)['"]\s*\)\s*$""")
_SOURCE = re.compile(r"""^\s*source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*$""")


def collect_tests(project) -> None:
    """Add every enabled data test and unit test of ``project`` to it."""
    for node in _generic_tests(project):
        _add(project, node)
    for node in _singular_tests(project):
        _add(project, node)
    for node in _unit_tests(project):
        _add_unit_test(project, node)


def _add(project, node: Node) -> None:
    if node.unique_id in project.nodes:
        raise ProjectError(
            f"{node.path}: test '{node.name}' is declared twice on the same node with the same arguments; "
            "give one of them a `name:`"
        )
    project.add_node(node)


# -- generic tests ------------------------------------------------------------------------


def _fqn_parts(path: str, roots: tuple[str, ...]) -> list[str]:
    """Folders of ``path`` under its model/seed/test root, as dbt puts them in an fqn."""
    parts = Path(path).parent.parts
    for root in roots:
        root_parts = Path(root).parts
        if tuple(parts[: len(root_parts)]) == root_parts:
            parts = parts[len(root_parts) :]
            break
    return list(parts)


def _roots(project, owner, folders: tuple[str, ...]) -> tuple[str, ...]:
    """``owner``'s resource folders as paths shown to users (a package's are under its folder)."""
    prefix = project.display_root(owner)
    return tuple(f"{prefix}/{folder}" if prefix else folder for folder in folders)


def _test_config(project, path: str, roots: tuple[str, ...], own: dict[str, Any]) -> dict[str, Any]:
    """A test's config: ``data_tests:`` blocks (a package's own, then the root project's), then its own."""
    owner = project.project_of(path)
    keys = project.layout.config_keys(owner, _fqn_parts(path, roots))
    config = merge_config(dict(TEST_DEFAULTS), folder_config(owner.data_tests, keys))
    if owner is not project.config:
        config = merge_config(config, folder_config(project.config.data_tests, keys))
    return merge_config(config, own)


@dataclass(frozen=True)
class Tested:
    """What a list of generic tests in YAML sits on: a model, seed or source, or one of its columns."""

    target: str  # the name in test names: the model, or <source>_<table>
    attached: str  # unique id of the model, seed or source
    expression: str  # how the test query reaches it: ref('x') or source('s', 't')
    path: str  # the property file
    column: str | None

    @property
    def where(self) -> str:
        return f"{self.path}: {self.target}" + (f".{self.column}" if self.column else "")


def _tested(project):
    """(what is tested, its test entries) for every test list in the property files."""
    props = project.properties
    for kind, patches in (("model", props.models), ("seed", props.seeds), ("snapshot", props.snapshots)):
        for name, patch in sorted(patches.items()):
            node = project.by_name.get(name)
            if node is None or node.resource_type != kind or node.unique_id not in project.nodes:
                continue  # described but disabled or missing: Project already warned
            expression = f"ref('{name}')"
            yield Tested(name, node.unique_id, expression, patch.path, None), patch.tests
            for column in patch.columns:
                yield Tested(name, node.unique_id, expression, patch.path, column.name), column.tests
    for (source_name, table), source in sorted(project.sources.items()):
        target = f"{source_name}_{table}"
        expression = f"source('{source_name}', '{table}')"
        yield Tested(target, source.unique_id, expression, source.path, None), source.tests
        for column in source.columns:
            yield Tested(target, source.unique_id, expression, source.path, column.name), column.tests


def _generic_tests(project) -> list[Node]:
    nodes = []
    for tested, entries in _tested(project):
        owner = project.project_of(tested.path)
        roots = _roots(project, owner, owner.model_paths + owner.seed_paths + owner.snapshot_paths)
        for entry in entries:
            node = _generic_node(project, read_spec(entry, tested.where), tested, roots)
            if node is not None:
                nodes.append(node)
    return nodes


def generic_test_macro(project, spec: GenericTestSpec, where: str, package: str | None = None):
    """The ``test_<name>`` macro a spec calls: in its namespace when it names one, else as a node of
    ``package`` sees the name (its package's macros, the root project's, then the built-ins)."""
    macros = project.renderer.macros
    name = f"test_{spec.test_type}"
    if spec.namespace and name in macros.namespaces.get(spec.namespace, {}):
        return macros.namespaces[spec.namespace][name]
    local = macros.local(package)
    if name in local:
        return local[name]
    if name in macros.macros:  # dbt_utils.* and friends fall back to the built-in of that name
        return macros.macros[name]
    known = sorted(m[len("test_") :] for m in macros.macros if m.startswith("test_"))
    close = difflib.get_close_matches(spec.test_type, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; known tests: {', '.join(known)}"
    raise ProjectError(
        f"{where}: '{spec.qualified}' is not a generic test{hint} "
        f"(define one with {{% test {spec.test_type}(model, column_name) %}} in macros/)"
    )


def _generic_node(project, spec: GenericTestSpec, tested: Tested, roots: tuple[str, ...]) -> Node | None:
    args = dict(spec.args)
    if tested.column is not None:
        args.setdefault("column_name", tested.column)
    prefix = f"{spec.namespace}_{spec.test_type}" if spec.namespace else spec.test_type
    if tested.attached.startswith("source."):
        prefix = "source_" + prefix
    short, full = generic_test_names(prefix, tested.target, args)
    if spec.name:
        short = full = spec.name
    config = _test_config(project, tested.path, roots, spec.config)
    if config.get("enabled") is False:
        return None
    owner = project.project_of(tested.path)
    macro = generic_test_macro(project, spec, tested.where, owner.name)
    model_kwarg = f"{{{{ get_where_subquery({tested.expression}) }}}}"
    metadata = {"name": spec.test_type, "kwargs": {**args, "model": model_kwarg}, "namespace": spec.namespace}
    node = Node(
        unique_id=f"test.{owner.name}.{full}.{generic_test_hash(full, metadata)}",
        name=full,
        resource_type="test",
        path=tested.path,
        raw_code=f"{{{{ {macro.name}(**_dbt_generic_test_kwargs) }}}}",
        config=config,
        relation=None,
        description=spec.description,
        fqn=(owner.name, *_fqn_parts(tested.path, roots), full),
        extra={
            "attached_node": tested.attached,
            "test_kind": "generic",
            "test_name": spec.test_type,
            "file_name": short,
            "column_name": tested.column,
            "model_expression": tested.expression,
            "test_metadata": {"name": spec.test_type, "namespace": spec.namespace, "kwargs": args},
        },
    )
    frame = Frame(full, tested.path, "test", dict(config), "parse", extra={"node": node}, package=owner.name)
    render_generic(project, node, frame)
    if frame.config.get("enabled") is False:  # a test macro's config() may disable it
        return None
    depends = [tested.attached, *(project.ref_id(r) for r in frame.refs)]
    depends += [project.sources[s].unique_id for s in frame.sources]
    depends += _seeds_behind(project, depends)
    # The test macro's config() calls (dbt_utils' equality sets fail_calc) are part of its config;
    # its `where` stays as written, rendered anew each time the test runs (window_start() reads the database).
    parsed = {**frame.config, **({"where": config["where"]} if "where" in config else {})}
    return replace(node, config=parsed, depends_on=tuple(dict.fromkeys(depends)), refs=tuple(frame.refs),
                   sources=tuple(frame.sources))


def _seeds_behind(project, depends: list[str]) -> list[str]:
    """Seeds that load the relation a depended-on source reads (its default location).

    A source is not built, so nothing orders a test of it; when a seed of the
    project provides that table, the test must wait for the seed.
    """
    found = []
    by_relation = {n.relation: n.unique_id for n in project.nodes.values() if n.resource_type == "seed"}
    for source in project.sources.values():
        if source.unique_id in depends and source.relation in by_relation:
            found.append(by_relation[source.relation])
    return found


def _argument(project, value: Any, frame: Frame, key: tuple) -> Any:
    if isinstance(value, dict):
        return {k: _argument(project, v, frame, (*key, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_argument(project, v, frame, (*key, i)) for i, v in enumerate(value)]
    if not isinstance(value, str) or key == ("column_name",):
        return value
    if LOOKS_LIKE_CALL.match(value):
        return project.renderer.evaluate(value.strip(), frame)
    whole = ONE_EXPRESSION.match(value)
    if whole:  # "{{ var('statuses') }}" keeps its native value (a list stays a list), as in dbt
        return project.renderer.evaluate(whole.group(1).strip(), frame)
    if "{{" in value or "{%" in value:
        return project.renderer.render_string(value, frame.path)
    return value


# The tested model as _tested writes it: ref('name') or source('source', 'table').
_MODEL_CALL = re.compile(r"(ref|source)\('([^'\\{}]*)'(?:, '([^'\\{}]*)')?\)")


def _tested_model(project, expression: str, frame: Frame):
    """``get_where_subquery(<expression>)``: the names passed as values, so that one compiled
    expression serves the tests of every model (Jinja compiling one text per model was a
    third of loading a project of a few hundred tested models)."""
    call = _MODEL_CALL.fullmatch(expression)
    if call is None:
        return project.renderer.evaluate(f"get_where_subquery({expression})", frame)
    function, first, second = call.groups()
    if second is None:
        return project.renderer.evaluate(f"get_where_subquery({function}(__stockx_name_0))", frame,
                                         {"__stockx_name_0": first})
    return project.renderer.evaluate(f"get_where_subquery({function}(__stockx_name_0, __stockx_name_1))", frame,
                                     {"__stockx_name_0": first, "__stockx_name_1": second})


def render_generic(project, node: Node, frame: Frame) -> str:
    """Render a generic test's query for ``frame`` (parse or compile mode)."""
    spec_args = node.extra["test_metadata"]["kwargs"]
    config = frame.config
    if isinstance(config.get("where"), str) and "{" in config["where"]:
        config["where"] = project.renderer.render_string(config["where"], frame.path)
    kwargs = {k: _argument(project, v, frame, (k,)) for k, v in spec_args.items()}
    kwargs["model"] = _tested_model(project, node.extra["model_expression"], frame)
    name = node.extra["test_name"]
    namespace = node.extra["test_metadata"]["namespace"]
    macro = generic_test_macro(project, GenericTestSpec(name, namespace), node.path, node.package_name)
    try:
        return project.renderer.render(
            GENERIC_TEST_SQL, frame, {"__stockx_test": macro, "__stockx_test_kwargs": kwargs}
        )
    except CompilationError as exc:
        raise _test_error(exc, node, macro) from None


def _test_error(exc: CompilationError, node: Node, macro) -> CompilationError:
    """Name the test, not line 1 of the one-line template that calls its macro; spell out a wrong argument."""
    detail = re.sub(rf"^{re.escape(node.path)}:\d+: ", "", str(exc))
    unknown = re.search(r"takes no keyword argument '(\w+)'", detail)
    if unknown:
        argument = unknown.group(1)
        accepted = [a for a in macro.arguments if a not in ("model", "column_name")]
        close = difflib.get_close_matches(argument, accepted, n=1)
        detail = f"'{argument}' is not an argument of {node.extra['test_name']}" + (
            f"; did you mean '{close[0]}'?" if close else ""
        ) + f" (its arguments: {', '.join(accepted) or 'none'})"
    return CompilationError(f"{node.path}: test {node.name}: {detail}")


# -- singular tests -------------------------------------------------------------------------


def _singular_tests(project) -> list[Node]:
    nodes = []
    seen: dict[str, str] = {}
    for owner in project.projects:
        roots = _roots(project, owner, owner.test_paths)
        files = []
        for folder in owner.test_paths:
            base = owner.path(folder)
            generic = base / GENERIC_TESTS_FOLDER
            if base.is_dir():
                files.extend(p for p in base.rglob("*.sql") if p.is_file() and generic not in p.parents)
        shown = sorted((Path(os.path.relpath(p, project.config.root)).as_posix(), p) for p in files)
        for display, path in shown:
            name = path.stem
            if name in seen:
                raise ProjectError(f"two singular tests are named '{name}': {seen[name]} and {display}; rename one of them")
            seen[name] = display
            node = _singular_node(project, owner, path, display, roots)
            if node is not None:
                nodes.append(node)
    return nodes


def _singular_node(project, owner, path: Path, display: str, roots: tuple[str, ...]) -> Node | None:
    name = path.stem
    raw = read_text(path, display)
    config = _test_config(project, display, roots, {})
    frame = Frame(name, display, "test", config, "parse", package=owner.name)
    project.renderer.render(raw, frame)
    if frame.config.get("enabled") is False:
        return None
    depends = [project.ref_id(r) for r in frame.refs]
    depends += [project.sources[s].unique_id for s in frame.sources]
    depends += _seeds_behind(project, depends)
    return Node(
        unique_id=f"test.{owner.name}.{name}",
        name=name,
        resource_type="test",
        path=display,
        raw_code=raw,
        config=frame.config,
        relation=None,
        depends_on=tuple(dict.fromkeys(depends)),
        fqn=(owner.name, *_fqn_parts(display, roots), name),
        refs=tuple(frame.refs),
        sources=tuple(frame.sources),
        extra={"attached_node": None, "test_kind": "singular", "test_name": name},
    )


# -- unit tests ---------------------------------------------------------------------------


def parse_input(text: Any, where: str) -> Any:
    """``ref('x')`` -> 'x', ``source('s', 't')`` -> ('s', 't'), ``this`` -> 'this'."""
    text = str(text)
    if text.strip() == "this":
        return "this"
    ref = _REF.match(text)
    if ref:
        return ref.group(1)
    source = _SOURCE.match(text)
    if source:
        return (source.group(1), source.group(2))
    raise ProjectError(f"{where}: input {text!r} is not ref('name'), source('source', 'table') or this")


def _unit_tests(project) -> list[Node]:
    roots = project.config.model_paths
    nodes = []
    for path, raw in project.properties.unit_tests:
        if not isinstance(raw, dict) or not raw.get("name"):
            raise ProjectError(f"{path}: every unit test needs a name")
        name = str(raw["name"])
        where = f"{path}: unit test '{name}'"
        model_name = raw.get("model")
        model = project.by_name.get(str(model_name)) if model_name else None
        if model is None or model.resource_type != "model":
            models = [n for n, v in project.by_name.items() if v.resource_type == "model"]
            close = difflib.get_close_matches(str(model_name), models, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ProjectError(f"{where}: model {model_name!r} not found{hint}")
        config = merge_config({"materialized": "unit"}, raw.get("config") or {})
        if config.get("enabled") is False:
            continue
        given = raw.get("given") or []
        if not isinstance(given, list):
            raise ProjectError(f"{where}: 'given' must be a list of inputs, each `- input: ref('name')` with rows")
        for item in given:
            if not isinstance(item, dict) or "input" not in item:
                raise ProjectError(f"{where}: every item of 'given' needs `input: ref('name')` or `input: source('s', 't')`")
            _check_input(project, parse_input(item["input"], where), where)
        expect = raw.get("expect")
        if not isinstance(expect, dict) or not ("rows" in expect or "fixture" in expect):
            raise ProjectError(f"{where}: 'expect' needs rows (a YAML list, or CSV text with `format: csv`) or a fixture")
        nodes.append(
            Node(
                unique_id=f"unit_test.{project.config.name}.{model.name}.{name}",
                name=name,
                resource_type="unit_test",
                path=path,
                raw_code="",
                config=config,
                relation=None,
                depends_on=(model.unique_id,),
                description=str(raw.get("description") or ""),
                fqn=(project.config.name, *_fqn_parts(path, roots), model.name, name),
                extra={
                    "model_id": model.unique_id,
                    "model": model.name,
                    "test_kind": "unit",
                    "given": given,
                    "expect": expect,
                    "overrides": raw.get("overrides") or {},
                },
            )
        )
    return nodes


def _check_input(project, key: Any, where: str) -> None:
    if key == "this":
        return
    if isinstance(key, tuple):
        if key not in project.sources:
            raise ProjectError(f"{where}: source('{key[0]}', '{key[1]}') is not declared under 'sources:'")
        return
    if key not in project.by_name:
        close = difflib.get_close_matches(key, list(project.by_name), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ProjectError(f"{where}: ref('{key}') is not a model or seed{hint}")


def _add_unit_test(project, node: Node) -> None:
    if node.unique_id in project.nodes:
        raise ProjectError(f"{node.path}: unit test '{node.name}' of {node.extra['model']} is declared twice")
    model = project.nodes[node.extra["model_id"]]
    project.nodes[node.unique_id] = node
    # Not project.add_node: the edge runs unit test -> model, the reverse of depends_on.
    project.dag.add(node.unique_id, model.depends_on)
    project.dag.add(model.unique_id, [node.unique_id])
