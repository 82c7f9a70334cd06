"""Compiling a node: its template rendered in *compile* mode, with ephemeral models inlined as CTEs."""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stockx_export.core.jinja.render import Frame
from stockx_export.core.nodes import Node
from stockx_export.core.resolution import CTE_PREFIX
from stockx_export.core.window import Window

if TYPE_CHECKING:
    from stockx_export.core.project import Project

_LEADING_WITH = re.compile(r"(\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*)with(\s+recursive)?\b", re.I | re.S)


def inject_ctes(sql: str, ctes: list[tuple[str, str]]) -> str:
    """Put ``ctes`` in front of ``sql``, merging with its own WITH clause if it has one."""
    if not ctes:
        return sql
    definitions = ",\n".join(f"{name} as (\n{body.strip().rstrip(';')}\n)" for name, body in ctes)
    lead = _LEADING_WITH.match(sql)
    if lead:
        return f"{sql[: lead.end()]} {definitions},\n{sql[lead.end():].lstrip()}"
    return f"with {definitions}\n{sql.lstrip()}"


# (node, its rendered SQL in DuckDB's dialect) -> the SQL its target runs; raises when it cannot say it
Translate = Callable[[Node, str], str]


class Compiler:
    """Compiles the nodes of one project; each ephemeral model is rendered once.

    Models are written in DuckDB's SQL. When the project builds in another
    target, the layer that opens it sets ``translate``, and compiled SQL comes
    out in the target's dialect (``for_target``).
    """

    def __init__(self, project: Project) -> None:
        self.project = project
        self._ephemeral: dict[str, tuple[str, tuple[str, ...]]] = {}
        # unique id -> (SQL, CTEs) of a node's plain render (no redirected inputs, no window), kept when
        # the render read nothing that can change while the command runs: the static checks render each
        # model before the run, and the run itself takes that render instead of making it again.
        self._rendered: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.translate: Translate | None = None
        # Nodes whose SQL asked the database while compiling (run_query, a relation's columns): what
        # they compile to depends on what is built when, so only compiling them as they run is right.
        self.introspective: set[str] = set()
        self._folders: set[Path] = set()  # folders of target/compiled this command has made ready

    def compile(self, node: Node, relations: dict[Any, Any] | None = None, window: Window | None = None, *,
                translated: bool = True) -> str:
        """The SQL that builds ``node``, with ephemeral models inlined as CTEs.

        ``relations`` redirects inputs (a ref name, a (source, table) pair or
        ``"this"``) to other relations: unit tests point them at fixture tables.
        ``window`` is the window a replace_window build replaces (``in_window()``
        renders it); without it, ``in_window()`` works it out from the database.
        In the target's dialect unless ``translated`` is false (DuckDB's, as written).
        """
        with self.project.renderer.lock:  # the ephemeral models' cache is filled here too
            body, ctes = self._render(node, relations, window)
            body = body.rstrip().rstrip(";").rstrip() + "\n"  # a trailing semicolon would end the wrapping DDL
            sql = inject_ctes(body, self.ctes(ctes, relations))
        return self.for_target(node, sql) if translated else sql

    def for_target(self, node: Node, sql: str) -> str:
        """``sql`` (DuckDB's dialect) as ``node``'s target runs it."""
        return self.translate(node, sql) if self.translate is not None else sql

    def ctes(self, names: tuple[str, ...] | list[str], relations: dict[Any, Any] | None = None) -> list[tuple[str, str]]:
        """(CTE name, body) of each ephemeral model named, in order, as ``inject_ctes`` takes them."""
        by_name = self.project.by_name
        return [(CTE_PREFIX + n, self._ephemeral_sql(by_name[n], relations)) for n in names]

    def _ephemeral_sql(self, node: Node, relations: dict[Any, Any] | None) -> str:
        """An inlined ephemeral model's body; redirected inputs reach through it (a unit test's fixtures)."""
        inputs = {k: v for k, v in (relations or {}).items() if k != "this"}  # `this` is the tested model's
        if not inputs:
            return self.ephemeral(node)[0]
        return self._render(node, inputs)[0]

    def ephemeral(self, node: Node) -> tuple[str, tuple[str, ...]]:
        """An ephemeral model's body and the ephemeral models it inlines in turn, rendered once."""
        if node.name not in self._ephemeral:
            self._ephemeral[node.name] = self._render(node)
        return self._ephemeral[node.name]

    def _render(self, node: Node, relations: dict[Any, Any] | None = None,
                window: Window | None = None) -> tuple[str, tuple[str, ...]]:
        plain = not relations and window is None and not self.project.renderer.overriding
        if plain and node.unique_id in self._rendered:
            return self._rendered[node.unique_id]
        extra: dict[str, Any] = {"node": node}
        if relations:
            extra["relations"] = relations
        if window is not None:
            extra["window"] = window
        frame = Frame(
            node.name,
            node.path,
            node.resource_type,
            dict(node.config),
            "compile",
            allowed_refs=frozenset(node.refs),
            extra=extra,
            package=node.package_name,
        )
        with self.project.renderer.recording() as seen:
            sql = self.project.renderer.render(node.raw_code, frame)
        if frame.extra.get("introspected"):
            self.introspective.add(node.unique_id)
        if plain and not seen.volatile:
            self._rendered[node.unique_id] = (sql, tuple(frame.ctes))
        return sql, tuple(frame.ctes)

    def compiled_path(self, node: Node) -> Path:
        """Where the compiled SQL of ``node`` is written: ``target/compiled/<its file>``."""
        base = self.project.config.target_dir / "compiled"
        # A test or snapshot declared in a property file: a folder per file, as dbt. A snapshot block
        # too: one file may hold several.
        if node.path.endswith((".yml", ".yaml")) or node.resource_type == "snapshot":
            return base / node.path / f"{node.extra.get('file_name', node.name)}.sql"
        return base / node.path

    def write(self, node: Node, sql: str) -> Path:
        """Write ``sql`` to ``node``'s compiled path (folders created); the path.

        A file that already holds exactly this SQL is left as it is: reading it costs a
        tenth of rewriting it, and a rebuild of an unchanged project writes nothing new.
        """
        path = self.compiled_path(node)
        text = sql if sql.endswith("\n") else sql + "\n"
        if path.parent not in self._folders:
            self._prepare_folder(path)
        if _holds(path, text.encode("utf-8")):
            return path
        _remove_special(path)
        try:
            path.write_text(text, encoding="utf-8")
        except IsADirectoryError:  # compiled SQL of an earlier layout (a snapshot file's folder) where a file goes now
            if path.is_symlink():
                path.unlink()
            else:
                shutil.rmtree(path)
            path.write_text(text, encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):  # the folder went since (target/ cleaned while this ran)
            self._prepare_folder(path)
            path.write_text(text, encoding="utf-8")
        return path

    def _prepare_folder(self, path: Path) -> None:
        """Create the folders of ``path`` under target/compiled, and remember them for the rest of the command."""
        base = self.project.config.target_dir / "compiled"
        for folder in reversed(path.relative_to(base).parents):
            if (base / folder).is_file():  # compiled SQL of an earlier layout (a snapshot file's) where a folder goes now
                (base / folder).unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._folders.add(path.parent)


def _holds(path: Path, data: bytes) -> bool:
    """Whether the file at ``path`` holds exactly ``data`` (False when it cannot be read).

    Read with os.open/os.read: a buffered file object costs ~0.1 ms more to open, which a
    300-model build paid 300 times (0.035 s, against 0.005 s).
    """
    try:
        # O_NONBLOCK: a named pipe opens at once rather than waiting for a writer that never comes
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode) and os.read(fd, len(data) + 1) == data
    except OSError:
        return False
    finally:
        os.close(fd)


def _remove_special(path: Path) -> None:
    """Remove what is at ``path`` when it is neither a file nor a folder (a named pipe, a socket, a device):
    writing to it would wait for a reader, or write nowhere, instead of leaving the compiled SQL."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        path.unlink()
