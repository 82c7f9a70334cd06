"""The Jinja environment stockx renders SQL with, and how its errors are located."""

from __future__ import annotations

import functools
import hashlib
import traceback
from collections.abc import Callable
from types import CodeType

from stockx_export.errors import CompilationError

# Names whose value differs from one run to the next (the clock, the run's id): a template that
# reads one cannot have what its rendering learnt kept for a later run (stockx_export.core.parse_cache).
CLOCK_NAMES = frozenset({"run_started_at", "modules", "invocation_id"})


def make_environment(strict: bool = True, watch: Callable[[str], None] | None = None):
    """The environment templates render in. ``strict``: an undefined name is an error wherever it is
    used; else only when it is called or looked into, and it renders as nothing (dbt's rule).
    ``watch(name)`` is called whenever a template (or a macro) looks up one of :data:`CLOCK_NAMES`."""
    import jinja2

    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined if strict else jinja2.Undefined,
        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
        autoescape=False,
        keep_trailing_newline=True,
    )
    if watch is not None:
        env.context_class = _watching_context()
        env.stockx_watch = watch
    return env


@functools.cache
def _watching_context():
    """A Jinja context class that reports each look-up of a name in :data:`CLOCK_NAMES` to its
    environment's ``stockx_watch``; otherwise Jinja's own look-up, unchanged."""
    from jinja2.runtime import Context, missing

    class WatchingContext(Context):
        def resolve_or_missing(self, key: str):
            if key in CLOCK_NAMES:
                self.environment.stockx_watch(key)
            if key in self.vars:
                return self.vars[key]
            if key in self.parent:
                return self.parent[key]
            return missing

    return WatchingContext


class TemplateCodes:
    """Python source Jinja generated for each template, and its bytecode, by a hash of (Jinja's version, path, text).

    Turning a template into Python is most of what compiling it costs, and compiling that Python
    most of the rest; both depend on nothing but the template's text, its path (it names the file
    in tracebacks), Jinja and Python, so they can be kept between runs
    (stockx_export.core.parse_cache stores ``entries`` and ``objects``).
    """

    def __init__(self) -> None:
        self.entries: dict[str, str] = {}
        self.objects: dict[str, CodeType] = {}  # bytecode of entries, by the same keys
        self.added = False
        self.objects_added = False
        # Whether a template's Python may be kept between runs: the parse cache keeps none whose text
        # holds a secret (a hook written from env_var()'s value); one it does not keep is compiled each run.
        self.keeps: Callable[[str], bool] = lambda source: True

    @staticmethod
    def key(source: str, path: str) -> str:
        import jinja2

        return hashlib.sha256("\0".join((jinja2.__version__, path, source)).encode("utf-8")).hexdigest()

    def generate(self, env, source: str, path: str) -> str:
        """The Python source of ``source`` (raises jinja2's TemplateSyntaxError)."""
        key = self.key(source, path)
        code = self.entries.get(key)
        if code is None:
            code = env.compile(source, name=path, filename=path, raw=True)
            if self.keeps(source):
                self.entries[key] = code
                self.added = True
        return code

    def code(self, env, source: str, path: str) -> CodeType:
        """The bytecode of ``source``'s Python (raises jinja2's TemplateSyntaxError)."""
        key = self.key(source, path)
        found = self.objects.get(key)
        if found is None:
            found = compile(self.generate(env, source, path), path, "exec")
            if key in self.entries:  # kept only beside its Python
                self.objects[key] = found
                self.objects_added = True
        return found


def compile_template(env, source: str, path: str, codes: TemplateCodes | None = None):
    """Compile ``source`` as a template whose errors name ``path`` and its line (``codes``: Python
    generated for templates before, reused when the text is the same)."""
    import jinja2

    try:
        code = env.compile(source, name=path, filename=path) if codes is None else codes.code(env, source, path)
    except jinja2.TemplateSyntaxError as exc:
        raise CompilationError(f"{path}:{exc.lineno}: Jinja syntax error: {exc.message}") from None
    return env.template_class.from_code(env, code, env.make_globals(None))


def template_lines(exc: BaseException) -> list[tuple[str, int]]:
    """(file, line) of every template frame in ``exc``'s traceback, outermost first.

    Jinja rewrites tracebacks so template frames carry the template's file name
    and the line in that file; Python frames are skipped.
    """
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith((".sql", ".yml", ".yaml", ".md")) and frame.lineno:
            frames.append((frame.filename, frame.lineno))
    return frames
