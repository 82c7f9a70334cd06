"""Macros: ``{% macro %}`` and ``{% test %}`` blocks from ``macros/**/*.sql``.

Each top-level block is compiled as a template of its own, lazily on first
call, and reached through the shared render context. Going through the context
(rather than Jinja's same-file name binding) is what makes dbt's
``{{ return(value) }}`` land in the right macro, and lets a model, another
macro or a test call any macro by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockx_export.errors import ProjectError
from stockx_export.core.files import read_text
from stockx_export.core.jinja.environment import TemplateCodes, compile_template

_BLOCK_START = re.compile(r"\{%-?\s*(macro|test|materialization|docs|snapshot)\s+([A-Za-z_][\w]*)", re.S)
_BLOCK_END = {
    kind: re.compile(r"\{%-?\s*end" + kind + r"\s*-?%\}", re.S)
    for kind in ("macro", "test", "materialization", "docs", "snapshot")
}


@dataclass(frozen=True)
class Block:
    """One top-level block of a macro or docs file."""

    kind: str  # macro | test | materialization | docs | snapshot
    name: str
    path: str  # display path
    line: int  # 1-based line of the block's opening tag
    source: str  # the block's text, padded with newlines so line numbers match the file


class MacroReturn(Exception):
    """Raised by ``return(value)`` and caught by the macro being called."""

    def __init__(self, value: Any) -> None:
        self.value = value


_COMMENT = re.compile(r"\{#.*?#\}", re.S)


def _blank_comments(text: str) -> str:
    """``text`` with Jinja comments turned to spaces (newlines kept), so offsets still match."""
    return _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def extract_blocks(text: str, display: str) -> list[Block]:
    """Split a file into its top-level blocks (dbt's files hold nothing else of use).

    Block tags are looked for outside Jinja comments: a comment that shows a
    ``{% test ... %}`` example must not open a block.
    """
    blocks: list[Block] = []
    pos = 0
    scan = _blank_comments(text)
    while True:
        start = _BLOCK_START.search(scan, pos)
        if start is None:
            return blocks
        kind, name = start.group(1), start.group(2)
        end = _BLOCK_END[kind].search(scan, start.end())
        line = text.count("\n", 0, start.start()) + 1
        if end is None:
            raise ProjectError(f"{display}:{line}: '{{% {kind} {name} %}}' has no matching '{{% end{kind} %}}'")
        body = text[start.start() : end.end()]
        if kind == "test":
            # A generic test is a macro named test_<name> (dbt's convention).
            body = _BLOCK_START.sub(lambda m: m.group(0).replace("test", "macro", 1).replace(name, "test_" + name, 1), body, count=1)
            body = _BLOCK_END["test"].sub(lambda m: m.group(0).replace("endtest", "endmacro"), body)
        blocks.append(Block(kind, name, display, line, "\n" * (line - 1) + body))
        pos = end.end()


class MacroFunction:
    """A callable macro: compiles its block on first call, then calls it."""

    def __init__(self, library: "MacroLibrary", block: Block, name: str) -> None:
        self._library = library
        self.block = block
        self.name = name
        self._macro = None

    def _compiled(self):
        if self._macro is None:
            self._macro = self._library.compile_block(self.block, self.name)
        return self._macro

    @property
    def arguments(self) -> tuple[str, ...]:
        """The names of the macro's arguments, in order."""
        return tuple(self._compiled().arguments)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        macro = self._compiled()
        try:
            return macro(*args, **kwargs)
        except MacroReturn as returned:
            return returned.value

    def __repr__(self) -> str:
        return f"<macro {self.name} from {self.block.path}:{self.block.line}>"


class MacroLibrary:
    """Every macro of the project, of its packages and stockx's built-ins, by package and by name.

    Names resolve as in dbt: a node sees the macros of its own package first, then
    the root project's, then the built-ins (``dbt``); every package is also a
    namespace (``dbt_utils.star``, ``dbt.dateadd``). A package's macros are not
    reachable by bare name from another package's nodes.
    """

    def __init__(self, env, context: dict[str, Any], codes: TemplateCodes | None = None) -> None:
        self.env = env
        self.context = context
        self.codes = codes
        self.macros: dict[str, MacroFunction] = {}  # by bare name, as the root project's nodes see them
        self.docs: dict[str, Block] = {}
        self.unsupported: list[Block] = []
        self.namespaces: dict[str, dict[str, MacroFunction]] = {}
        self.root: str | None = None

    def add_file(self, path: Path, display: str, namespace: str) -> None:
        """Read one macro file into ``namespace`` (its package's name)."""
        text = read_text(path, display)
        for block in extract_blocks(text, display):
            if block.kind == "docs":
                self.docs[block.name] = block
                continue
            if block.kind in ("materialization", "snapshot"):
                self.unsupported.append(block)
                continue
            name = ("test_" + block.name) if block.kind == "test" else block.name
            functions = self.namespaces.setdefault(namespace, {})
            if name in functions:
                first = functions[name].block
                raise ProjectError(
                    f"macro '{name}' is defined twice: {first.path}:{first.line} and {display}:{block.line}"
                )
            functions[name] = MacroFunction(self, block, name)

    def compile_block(self, block: Block, name: str):
        template = compile_template(self.env, block.source, block.path, self.codes)
        # Run the file's top level in the shared context and take the macro from its variables:
        # a module exports no name starting with "_", and packages have such macros (dbt_utils._is_relation).
        context = template.new_context(self.context, shared=True)
        for _ in template.root_render_func(context):
            pass
        return context.vars[name]

    def install(self, root: str, builtin: str) -> None:
        """Put the macros the root project sees by bare name (``builtin``'s, then ``root``'s) and every
        namespace into the shared context."""
        self.root = root
        self.macros = {**self.namespaces.get(builtin, {}), **self.namespaces.get(root, {})}
        for name, function in self.macros.items():
            self.context[name] = function
        for namespace, functions in self.namespaces.items():
            self.context.setdefault(namespace, _Namespace(functions))

    def local(self, package: str | None) -> dict[str, MacroFunction]:
        """The macros a node of ``package`` sees by bare name before the root project's (none for the root)."""
        if package is None or package == self.root:
            return {}
        return dict(self.namespaces.get(package, {}))


class _Namespace:
    """``dbt.some_macro`` / ``my_project.some_macro``: macros reached through a package name."""

    def __init__(self, functions: dict[str, MacroFunction]) -> None:
        self._functions = functions

    def __getattr__(self, name: str) -> MacroFunction:
        try:
            return self._functions[name]
        except KeyError:
            raise AttributeError(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        return self._functions.get(name, default)
