"""Rendering SQL templates: the context a node sees, in two modes.

*parse* renders a node to learn what it depends on and how it configures
itself: ``ref`` and ``source`` are recorded, ``config()`` is captured, nothing
touches the database. *compile* renders it again, just before it runs, with
every ``ref`` resolved to a relation (or an ephemeral CTE), ``is_incremental()``
answered from the database and ``run_query`` live.
"""

from __future__ import annotations

import contextlib
import datetime
import difflib
import os
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from stockx_export.core.config import merge_config, should_full_refresh
from stockx_export.core.jinja import context as ctx
from stockx_export.core.jinja.environment import TemplateCodes, compile_template, make_environment, template_lines
from stockx_export.core.jinja.adapter import TemplateAdapter
from stockx_export.core.jinja.macros import MacroLibrary, MacroReturn
from stockx_export.core.jinja.relations import Api, RelationFactory, column_class
from stockx_export.core.window import EVERY_DATE, STRATEGY, date_literal
from stockx_export.db import Relation
from stockx_export.errors import CompilationError, StockxError


@dataclass
class Frame:
    """The node being rendered, and what rendering it has found so far."""

    name: str
    path: str
    resource_type: str
    config: dict[str, Any]
    mode: str  # "parse" | "compile"
    refs: list[str] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)
    ctes: list[str] = field(default_factory=list)
    allowed_refs: frozenset[str] | None = None  # compile mode: what parsing found
    extra: dict[str, Any] = field(default_factory=dict)
    package: str | None = None  # the package the node belongs to; None for the root project


@dataclass(eq=False)  # one recording is not another that saw the same
class Seen:
    """What the renders inside :meth:`Renderer.recording` read besides their text and config."""

    env_vars: dict[str, str | None] = field(default_factory=dict)  # env_var() names -> values (None: unset)
    volatile: list[str] = field(default_factory=list)  # why they may differ in another run (the clock, the database)


class Resolver(Protocol):
    """What the renderer asks the project."""

    def ref_names(self) -> list[str]: ...
    def knows_ref(self, name: str) -> bool: ...
    def resolve_ref(self, name: str, frame: Frame) -> Any: ...
    def resolve_source(self, source: str, table: str, frame: Frame) -> Any: ...
    def source_names(self) -> list[tuple[str, str]]: ...
    def this(self, frame: Frame) -> Relation: ...
    def relation_exists(self, relation: Relation) -> str | None: ...
    def incremental_window(self, frame: Frame) -> Any: ...
    def window_start(self, model: Any) -> Any: ...
    def run_query(self, sql: str) -> ctx.QueryResult: ...
    def columns(self, relation: Any) -> list[tuple[str, str]]: ...
    def generate_schema_name(self, custom: str | None, frame: Frame) -> str: ...
    def present(self, relation: Any) -> Any: ...
    def execute(self, sql: str, fetch: bool) -> tuple[Any, ctx.QueryResult]: ...
    def drop(self, relation: Relation) -> None: ...


class _Config:
    """``config(...)`` captures settings while parsing; ``config.get`` reads them."""

    def __init__(self, renderer: "Renderer") -> None:
        self._renderer = renderer

    def __call__(self, *args: dict[str, Any], **kwargs: Any) -> str:
        frame = self._renderer.frame
        if frame.mode == "parse":
            for arg in args:
                frame.config = merge_config(frame.config, dict(arg))
            frame.config = merge_config(frame.config, kwargs)
        return ""

    def get(self, key: str, default: Any = None) -> Any:
        return self._renderer.frame.config.get(key, default)

    def require(self, key: str) -> Any:
        config = self._renderer.frame.config
        if key not in config:
            raise CompilationError(f"config '{key}' is required for {self._renderer.frame.name}")
        return config[key]


class Renderer:
    """Renders models, tests and YAML strings against one shared Jinja context."""

    def __init__(
        self,
        *,
        vars: dict[str, Any],
        target: dict[str, Any],
        resolver: Resolver,
        full_refresh: bool = False,
        warn=None,
        log=None,
        root: str = "",
        package_vars: dict[str, dict[str, Any]] | None = None,
        dispatch: dict[str, tuple[str, ...]] | None = None,
        quote_relations: bool = False,
        cte_prefix: str = "",
        strict: bool = True,
    ) -> None:
        self.env = make_environment(strict, watch=lambda name: self._saw_volatile(f"reads {name}"))
        # The context is one, and each render sets its frame (this, model, config) in it: in a parallel
        # run one thread at a time renders (and holds the lock through a unit test's overrides).
        self.lock = threading.RLock()
        self.codes = TemplateCodes()  # Python generated for each template (kept between runs by the parse cache)
        self._recordings: list[Seen] = []
        self.overriding = 0  # how many overridden() blocks are open: renders in them are not the node's own
        self.resolver = resolver
        self.full_refresh = full_refresh
        self.root = root
        self.package_vars = dict(package_vars or {})  # each package's vars, as its nodes see them
        self.dispatch_orders = dict(dispatch or {})
        self.frame = Frame("", "", "", {}, "parse")
        self._warn = warn or (lambda message: print(f"Warning: {message}", file=sys.stderr))
        self._log = log or (lambda message: print(message, file=sys.stderr))
        self._templates: dict[tuple[str, str], Any] = {}
        self._expressions: dict[str, Any] = {}  # expression text -> compiled (two tests of a model share theirs)
        self._results: dict[str, Any] = {}  # statement results by name, for load_result
        self._package: str | None = None  # the package whose macros are laid over the root's
        self._shadowed: dict[str, Any] = {}  # what that overlay replaced
        self.context: dict[str, Any] = {}
        self.macros = MacroLibrary(self.env, self.context, self.codes)
        self.invocation_id = str(uuid.uuid4())
        self.api = Api(RelationFactory(quote_relations, cte_prefix), column_class(str(target.get("type", "duckdb"))))
        # Jinja's own globals (range, dict, namespace ...): macros render in this context alone.
        self.context.update(self.env.globals)
        self.context.update(
            ref=self._ref,
            source=self._source,
            config=_Config(self),
            var=ctx.Var(vars, lambda: self.frame.path or self.frame.name),
            env_var=self._env_var,
            is_incremental=self._is_incremental,
            in_window=self._in_window,
            window_start=self._window_start,
            target=ctx.Target(target),
            log=self._log_call,
            print=self._log_call,
            exceptions=ctx.Exceptions(self._warned),
            adapter=TemplateAdapter(self, str(target.get("type", "duckdb"))),
            api=self.api,
            run_query=self._run_query,
            statement=self._statement,
            load_result=self._load_result,
            store_result=self._store_result,
            store_raw_result=self._store_raw_result,
            load_relation=self._load_relation,
            modules=ctx.Modules,
            doc=self._doc,
            tojson=ctx.tojson,
            fromjson=ctx.fromjson,
            toyaml=ctx.toyaml,
            fromyaml=ctx.fromyaml,
            zip=zip,
            set=set,
            invocation_id=self.invocation_id,
            run_started_at=datetime.datetime.now(datetime.timezone.utc),
            flags=ctx.Target(FULL_REFRESH=full_refresh, STORE_FAILURES=False, WHICH="run"),
            builtins=ctx.Target(ref=self._ref, source=self._source, config=self.context.get("config")),
        )
        self.context["return"] = _return
        self.context["builtins"]["config"] = self.context["config"]
        self._set_frame(self.frame)

    def introspected(self) -> None:
        """Note that the node being rendered asked the database (its SQL depends on the database's state)."""
        self.frame.extra["introspected"] = True
        self._saw_volatile("asks the database")

    @contextlib.contextmanager
    def recording(self) -> Iterator[Seen]:
        """Note what the renders inside the block read that their text and config do not say: the
        environment variables (names and values) and whether they read the clock or the database."""
        seen = Seen()
        self._recordings.append(seen)
        try:
            yield seen
        finally:
            self._recordings.remove(seen)

    def _saw_volatile(self, why: str) -> None:
        for seen in self._recordings:
            seen.volatile.append(why)

    def _env_var(self, name: str, default: Any = ctx.MISSING) -> Any:
        for seen in self._recordings:
            seen.env_vars[str(name)] = os.environ.get(str(name))
        return ctx.env_var(name, default)

    def _warned(self, message: str) -> None:
        # A warning is said while rendering: a render served from a cache would not say it again.
        self._saw_volatile("warns")
        self._warn(message)

    # -- packages ------------------------------------------------------------------------------

    def search_packages(self, namespace: str | None) -> list[str | None]:
        """Where ``adapter.dispatch`` looks for a macro of ``namespace``, in order (None: by bare name)."""
        if namespace is None:
            return [None]
        if namespace in self.dispatch_orders:
            return list(self.dispatch_orders[namespace])
        if namespace in self.package_vars:
            return [self.root, namespace]
        return [None]

    def macro_from(self, package: str | None, name: str) -> Any:
        """The macro ``name`` of ``package`` (None: as the current node sees bare names), or None."""
        if package is None:
            found = self.context.get(name)
            return found if callable(found) else None
        return self.macros.namespaces.get(package, {}).get(name)

    def _use_package(self, package: str | None) -> None:
        """Lay ``package``'s macros and vars over the root project's (None: the root project's alone)."""
        package = None if package == self.root else package
        if package == self._package:
            return
        for name, value in self._shadowed.items():
            if value is _ABSENT:
                self.context.pop(name, None)
            else:
                self.context[name] = value
        self._shadowed = {}
        self._package = package
        if package is None:
            return
        overlay: dict[str, Any] = dict(self.macros.local(package))
        if package in self.package_vars:
            overlay["var"] = ctx.Var(self.package_vars[package], lambda: self.frame.path or self.frame.name)
        for name, value in overlay.items():
            self._shadowed[name] = self.context.get(name, _ABSENT)
            self.context[name] = value

    # -- context functions -------------------------------------------------------------------

    def _ref(self, *args: str, **kwargs: Any) -> Any:
        if not args or len(args) > 2:
            raise CompilationError(f"ref() takes a model name (and optionally a package first), got {args!r}")
        name = args[-1]
        frame = self.frame
        if not self.resolver.knows_ref(name):
            names = self.resolver.ref_names()
            close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else "; no model or seed has that name"
            raise CompilationError(f"ref('{name}') not found{hint}")
        if name not in frame.refs:
            frame.refs.append(name)
        if frame.mode == "compile" and frame.allowed_refs is not None and name not in frame.allowed_refs:
            raise CompilationError(
                f"ref('{name}') was reached only while compiling, so stockx could not order it: "
                f"add `-- depends_on: {{{{ ref('{name}') }}}}` at the top of {frame.path}"
            )
        return self._present(self.resolver.resolve_ref(name, frame), frame)

    def _source(self, source_name: str, table_name: str) -> Any:
        frame = self.frame
        known = self.resolver.source_names()
        if (source_name, table_name) not in known:
            candidates = [f"{s}.{t}" for s, t in known]
            close = difflib.get_close_matches(f"{source_name}.{table_name}", candidates, n=3, cutoff=0.6)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else "; declare it under 'sources:' in a property file"
            raise CompilationError(f"source('{source_name}', '{table_name}') not found{hint}")
        if (source_name, table_name) not in frame.sources:
            frame.sources.append((source_name, table_name))
        return self._present(self.resolver.resolve_source(source_name, table_name, frame), frame)

    def _present(self, relation: Any, frame: Frame) -> Any:
        """A relation as templates see it (the layout may qualify it); a unit test's fixtures stay as they are."""
        return relation if frame.extra.get("relations") else self.resolver.present(relation)

    def _doc(self, *args: str) -> str:
        """``doc('name')`` (or ``doc('package', 'name')``): the text of a ``{% docs %}`` block."""
        name = args[-1] if args else ""
        block = self.macros.docs.get(name)
        if block is None:
            close = difflib.get_close_matches(name, list(self.macros.docs), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else "; define it in a {% docs %} block in a .md file"
            raise CompilationError(f"doc('{name}') not found{hint}")
        opening = block.source.index("%}") + 2
        return block.source[opening : block.source.rindex("{%")].strip()

    def _is_incremental(self) -> bool:
        frame = self.frame
        if frame.mode != "compile" or should_full_refresh(frame.config, self.full_refresh):
            return False
        if frame.config.get("materialized") != "incremental":
            return False
        self._saw_volatile("asks the database")
        return self.resolver.relation_exists(self.resolver.this(frame)) == "table"

    def _in_window(self, expression: str) -> str:
        """SQL true for rows a replace_window build replaces: ``expression >= date '...'`` on an
        incremental build, ``true`` on a first build or a full refresh (see stockx_export.core.window)."""
        frame = self.frame
        if frame.mode != "compile":
            return "true"
        if frame.config.get("incremental_strategy") != STRATEGY:
            raise CompilationError(
                f"in_window() filters the input of a model with incremental_strategy='{STRATEGY}'; "
                f"{frame.name} has incremental_strategy={frame.config.get('incremental_strategy')!r}"
            )
        if not self.context["is_incremental"]():  # read through the context: unit tests override it
            return "true"
        window = frame.extra.get("window")
        if window is None:
            self._saw_volatile("asks the database")
            window = self.resolver.incremental_window(frame)
        return window.predicate(str(expression))

    def _window_start(self, model: Any) -> str:
        """A SQL date: the first day the last build of ``model`` replaced, or minus infinity when it
        rebuilt every day. Rows dated before it were kept as they were, by design."""
        self._saw_volatile("asks the database")
        start = self.resolver.window_start(model)
        return EVERY_DATE if start is None else date_literal(start)

    def _run_query(self, sql: str) -> Any:
        if self.frame.mode != "compile":
            return None
        self.introspected()
        return self.resolver.run_query(str(sql))

    def _statement(self, name: str | None = None, fetch_result: bool = False, auto_begin: bool = True,
                   language: str = "sql", caller=None) -> str:
        """dbt's ``{% call statement(name, fetch_result=True) %}SQL{% endcall %}``: runs when compiling."""
        if self.frame.mode != "compile" or caller is None:
            return ""
        if language != "sql":
            raise CompilationError(f"statement(language='{language}'): stockx runs SQL statements only")
        self.introspected()
        response, table = self.resolver.execute(str(caller()), bool(fetch_result))
        if name is not None:
            self._store_result(name, response, table)
        return ""

    def _store_result(self, name: str, response: Any = None, agate_table: Any = None) -> str:
        table = agate_table if agate_table is not None else ctx.QueryResult([], [])
        self._results[name] = ctx.Target(response=response, data=[list(r) for r in table.rows], table=table)
        return ""

    def _store_raw_result(self, name: str, message: Any = None, code: Any = None, rows_affected: Any = None,
                          agate_table: Any = None) -> str:
        response = ctx.Target(message=message, code=code, rows_affected=rows_affected)
        return self._store_result(name, response, agate_table)

    def _load_result(self, name: str) -> Any:
        """What ``statement(name)`` stored; each result is read once, as in dbt (``main`` as often as asked)."""
        if name == "main":
            return self._results.get(name)
        return self._results.pop(name, None)

    def _load_relation(self, relation: Any) -> Any:
        return self.context["adapter"].load_relation(relation)

    def _log_call(self, message: Any, info: bool = False) -> str:
        if self.frame.mode == "compile" and info:
            self._saw_volatile("logs")  # said while rendering: a render reused would not say it again
            self._log(str(message))
        return ""

    # -- rendering -----------------------------------------------------------------------------

    def _set_frame(self, frame: Frame) -> None:
        self.frame = frame
        node = frame.extra.get("node")
        if frame.package is None and node is not None:
            frame.package = node.package_name
        self._use_package(frame.package)
        self.context["this"] = self._present(self.resolver.this(frame), frame) if frame.name else None
        self.context["execute"] = frame.mode == "compile"
        self.context["model"] = ctx.Target(
            name=frame.name,
            config=frame.config,
            original_file_path=frame.path,
            resource_type=frame.resource_type,
            package_name=frame.package or self.root,
            unique_id=getattr(node, "unique_id", f"{frame.resource_type}.{frame.package or self.root}.{frame.name}"),
        )

    def template(self, source: str, path: str):
        # Keyed by the text too: one file may hold several templates (snapshot blocks, YAML snapshots).
        template = self._templates.get((path, source))
        if template is None:
            template = self._templates[(path, source)] = compile_template(self.env, source, path, self.codes)
        return template

    def render(self, source: str, frame: Frame, extra: dict[str, Any] | None = None) -> str:
        """Render ``source`` (the text of ``frame.path``) for ``frame``; errors name file and line."""
        with self.lock:
            template = self.template(source, frame.path)
            previous = self.frame
            self._set_frame(frame)
            try:
                return template.render({**self.context, **(extra or {})})
            except Exception as exc:
                raise located(exc, frame.path) from None
            finally:
                self._set_frame(previous)

    def evaluate(self, expression: str, frame: Frame, values: dict[str, Any] | None = None) -> Any:
        """The native value of one Jinja expression (``ref('x')``, ``var('y')``) for ``frame``,
        with ``values`` as names it may use besides the context's.

        Generic test arguments are evaluated this way, as dbt does, so a list from
        ``var()`` stays a list and ``ref()`` both resolves and records a dependency.
        Each distinct text is compiled once (about a millisecond each): an expression
        that differs only by a name is better written once with the name in ``values``.
        """
        with self.lock:
            return self._evaluate(expression, frame, values)

    def _evaluate(self, expression: str, frame: Frame, values: dict[str, Any] | None = None) -> Any:
        previous = self.frame
        self._set_frame(frame)
        try:
            compiled = self._expressions.get(expression)
            if compiled is None:
                compiled = self._expressions[expression] = self.env.compile_expression(expression,
                                                                                        undefined_to_none=False)
            return compiled(**self.context, **values) if values else compiled(**self.context)
        except Exception as exc:
            raise located(exc, frame.path) from None
        finally:
            self._set_frame(previous)

    @contextlib.contextmanager
    def overridden(self, vars: dict[str, Any] | None = None, macros: dict[str, Any] | None = None) -> Iterator[None]:
        """Render with some vars and macros replaced (unit tests' ``overrides:``), then restore.

        A macro override is a value the macro returns, e.g. ``is_incremental: true``.
        Macros reach names through the shared context, so they see the overrides too.
        """
        with self.lock:
            with self._overrides(vars, macros):
                yield

    @contextlib.contextmanager
    def _overrides(self, vars: dict[str, Any] | None, macros: dict[str, Any] | None) -> Iterator[None]:
        saved = dict(self.context)
        self.overriding += 1
        if vars:
            current = self.context["var"]
            self.context["var"] = ctx.Var({**current.values, **vars}, current.current)
        for name, value in (macros or {}).items():
            self.context[name] = _constant(value)
        try:
            yield
        finally:
            self.overriding -= 1
            self.context.clear()
            self.context.update(saved)

    def render_string(self, text: str, where: str) -> str:
        """Render a short string from YAML (``external_location``, descriptions)."""
        if "{" not in text:
            return text
        frame = Frame(name="", path=where, resource_type="property", config={}, mode="parse")
        with self.lock:
            try:
                template = compile_template(self.env, text, where)
                previous = self.frame
                self.frame = frame
                try:
                    return template.render(self.context)
                finally:
                    self.frame = previous
            except Exception as exc:
                raise located(exc, where) from None


_ABSENT = object()


def _constant(value: Any):
    def macro(*args: Any, **kwargs: Any) -> Any:
        return value

    return macro


def _return(value: Any) -> None:
    raise MacroReturn(value)


def located(exc: BaseException, path: str) -> StockxError:
    """Turn an error raised while rendering ``path`` into a CompilationError naming file:line."""
    message = str(exc) if isinstance(exc, StockxError) else _describe(exc)
    if isinstance(exc, StockxError) and message.startswith(path + ":"):
        return exc
    frames = template_lines(exc)
    own = [line for file, line in frames if file == path]
    where = f"{path}:{own[0]}" if own else path
    inner = frames[-1] if frames else None
    if inner and inner[0] != path:
        message += f" (in {inner[0]}:{inner[1]})"
    if isinstance(exc, StockxError) and not isinstance(exc, CompilationError):
        exc.args = (f"{where}: {message}",)
        return exc
    return CompilationError(f"{where}: {message}")


def _describe(exc: BaseException) -> str:
    import jinja2

    if isinstance(exc, jinja2.UndefinedError):
        return f"{exc.message}"
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"Jinja syntax error: {exc.message}"
    return f"{type(exc).__name__}: {exc}"
