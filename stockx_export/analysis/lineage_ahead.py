"""Column lineage worked out ahead, in a forked helper process, while the tracer works.

Tracing a model needs the columns of what it reads, so a project's models are traced
one after another, in DAG order: most of a cold ``stockx docs generate`` on one core.
The columns of an upstream model can be guessed, though (the database's catalog has
them once it is built, a property file lists them): with those guesses every model
can be traced at once, on the other core. The helper traces models from the end of
the order backwards, each over the guessed columns of what it reads, and hands each
answer to the memo (analysis.lineage_memo) under the key of its SQL and the columns
it was traced over. The tracer, going forwards, takes an answer only where its own
key (the same SQL over the columns worked out) is the same: where the guess was
right. A wrong guess costs the helper's work on it, never a different answer, and
where the helper has not got to a model (a busy machine) the tracer works it out as
ever; the two meet in the middle.

The helper only parses and qualifies with sqlglot: it never touches the database
connection it inherits (the parent checks the SQL's syntax with the database before
taking an answer), renders nothing (only SQL rendered before the fork is traced),
writes nothing but its answers, and ends with ``os._exit``, running nothing of the
parent's. Where ``os.fork`` does not exist, everything is traced in the one process.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct

from stockx_export.analysis.lineage_memo import MemoEntry
from stockx_export.analysis.parse import parse_sql

_LENGTH = struct.Struct(">I")
_READ = 1 << 16


class TracingAhead:
    """A helper process tracing models ahead, and what it has answered so far."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd
        self._buffer = b""
        self._open = True

    @classmethod
    def start(cls, tracer, nodes: list, guessed: dict) -> TracingAhead | None:
        """Fork a helper tracing ``nodes`` (in DAG order; it starts from the last) over ``guessed``
        (model or snapshot id -> columns), or None when there is nothing to gain or no fork."""
        if not hasattr(os, "fork") or tracer.memo is None or len(nodes) < 2 or not guessed:
            return None
        # What the helper must not work out itself (the database would be asked): seeds' and
        # sources' columns, each model's SQL.
        schemas = tracer.analyzer.schemas
        project = tracer.project
        for node in project.nodes.values():
            if node.resource_type == "seed":
                schemas.columns(node)
        for source in project.sources.values():
            schemas.source_columns(source)
        todo = [node for node in nodes if tracer.analyzer.compiled_known(node)]
        if len(todo) < 2:
            return None
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return None
        if pid == 0:  # the helper: never returns
            os.close(read)
            try:
                _answer(tracer, list(reversed(todo)), guessed, write)
            finally:
                os._exit(0)
        os.close(write)
        os.set_blocking(read, False)
        return cls(pid, read)

    def drain(self, memo) -> None:
        """Offer ``memo`` every answer the helper has written so far (without waiting for more)."""
        while self._open:
            try:
                chunk = os.read(self.fd, _READ)
            except BlockingIOError:
                break
            if not chunk:
                self._open = False
                break
            self._buffer += chunk
        while len(self._buffer) >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(self._buffer)
            if len(self._buffer) < _LENGTH.size + size:
                break
            key, entry = pickle.loads(self._buffer[_LENGTH.size:_LENGTH.size + size])
            self._buffer = self._buffer[_LENGTH.size + size:]
            memo.offer(key, entry)

    def stop(self) -> None:
        """End the helper (its remaining work is not needed) and reap it."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        os.close(self.fd)


def _answer(tracer, nodes: list, guessed: dict, fd: int) -> None:
    """In the helper: trace each of ``nodes`` over the guessed columns of what it reads; write each answer."""
    analyzer = tracer.analyzer
    schemas = analyzer.schemas
    memo = tracer.memo
    for node in nodes:
        mapping = schemas.mapping(node, guessed)
        if mapping is None:
            continue
        sql = analyzer.compiled_known(node)
        key = memo.key(sql, mapping)
        if memo.stored(key):
            continue  # the tracer reads it from the memo file
        # The syntax is the database's to judge: the tracer checks it before taking this answer.
        parsed = parse_sql(sql, path=node.path, raw=node.raw_code, compiled_path=analyzer.compiled_path(node),
                           check_syntax=lambda _sql: None)
        try:
            columns = schemas.infer_over(node, parsed.expression, mapping)
            leaves = {} if columns is None else {c.name: tracer.leaves(node, c.name) for c in columns}
        except Exception:  # noqa: BLE001  (whatever it is, the tracer meets it itself and says so)
            continue
        data = pickle.dumps((key, MemoEntry(columns, leaves)), protocol=pickle.HIGHEST_PROTOCOL)
        message = memoryview(_LENGTH.pack(len(data)) + data)
        while message:
            message = message[os.write(fd, message):]
