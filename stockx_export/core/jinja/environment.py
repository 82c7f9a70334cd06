"""The Jinja environment stockx renders SQL with, and how its errors are located."""

from __future__ import annotations

import traceback

from stockx_export.errors import CompilationError


def make_environment(strict: bool = True):
    """The environment templates render in. ``strict``: an undefined name is an error wherever it is
    used; else only when it is called or looked into, and it renders as nothing (dbt's rule)."""
    import jinja2

    return jinja2.Environment(
        undefined=jinja2.StrictUndefined if strict else jinja2.Undefined,
        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
        autoescape=False,
        keep_trailing_newline=True,
    )


def compile_template(env, source: str, path: str):
    """Compile ``source`` as a template whose errors name ``path`` and its line."""
    import jinja2

    try:
        code = env.compile(source, name=path, filename=path)
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
