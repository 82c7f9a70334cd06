"""A stand-in for Peak's ingestion API on 127.0.0.1, for tests and benchmarks.

It is a real threaded HTTP server on an ephemeral port. Every POST is checked
against the resource contract the way Peak would (path, token, envelope, each
row's keys in order, types, formats, nulls) and stored by primary key with
UPSERT semantics, so a test can compare what the server holds with the table.

A payload that breaks the contract is answered 400 with a ``DI_E_`` body *and*
recorded in ``server.violations``: a client bug, so tests assert the list is
empty. Everything else that can go wrong is scripted per test:

    server.script(Reply(429, {"Retry-After": "2"}), Reset(), Delay(0.2), Drip(0.05), Stall(), Flood(422))
        one action per coming request, in order (then normal service)
    server.reject_keys = {key, ...}   422 DI_E_ body for any payload holding one
    server.fail_keys = {key, ...}     200 with those rows in a ``failed`` array
    server.fail_unmatched = True      ... and ``failed`` entries without keys
    server.max_body_bytes = n         413 above n bytes
    server.rate_limit = 50.0          429 (Retry-After: 1) above 50 requests/s
    server.rate_burst = 2             ... allowing bursts of 2 (default: one second's worth)

Time on the server side (its rate limit, Delay, Drip) is ``server.clock`` and
``server.sleep``: real by default; a test gives the server and the client one
:class:`FakeClock`, so that a deadline, a rate or a slow answer is decided by
the clock, not by how fast the machine happens to be.

It is also Peak's whole inventory family: every object of
``stockx_export.export.contract.RESOURCES`` is served beside the main one, at
the main path with the object's name swapped in (``.../QP_STOCK_EXTRA_OOTB`` ->
``.../QP_PRODUCT_OOTB``), each keeping its own rows (``server.tables[object]``;
``server.rows`` is the main object's). Peak's foreign keys are enforced when
asked (stock and stock_extra -> product, location; product -> product_category):

    server.fk_mode = "failed"         rows whose parent is not held: 200 with them in ``failed``
    server.fk_mode = "422"            ... or a 422 DI_E_ body for the page holding one
    server.schema_mode = 404          GET /api/v2/schema answers 404 (or 405)
    server.schema_changes = {...}     object -> {column: type}: the schema says these columns differ
    server.script_get(Reply(503), ...) one reply per coming GET (schema read), in order

``GET /api/v2/schema?solutionName=`` lists every object with its columns, and
``POST /api/v2/schema/{object}/add-attribute`` (or the older form,
``/ingestion-api/api/v2/{object}/add-attribute`` with ``attributeName``) adds a custom attribute (409 when
it exists; ``server.attribute_requests`` keeps the bodies), which rows may then
carry after the standard columns. ``server.order`` lists the object of every
request that stored rows, in arrival order.

Usage: the ``peak_server`` fixture (import it into a test module), or
``with PeakServer(token=...) as server: ... server.base_url ...``.
Keys are tuples of the primary-key values as sent (dates as ``YYYY-MM-DD``).
"""

from __future__ import annotations

import json
import re
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from urllib.parse import parse_qs, urlsplit

from stockx_export.export.contract import ATTRIBUTE_TYPES, RESOURCES, STOCK_EXTRA, Column, Resource

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# child object -> (column, parent object, parent column), as Peak enforces them.
FOREIGN_KEYS = {
    "STOCK": (("product_id", "PRODUCT", "product_id"), ("location_id", "LOCATION", "location_id")),
    "STOCK_EXTRA": (("product_id", "PRODUCT", "product_id"), ("location_id", "LOCATION", "location_id")),
    "PRODUCT": (("lowest_product_category_id", "PRODUCT_CATEGORY", "product_category_id"),),
}
TIMESTAMP = {"iso": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"), "sql": re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")}


@dataclass(frozen=True)
class Reply:
    """Answer the request with this status, headers and body; store nothing."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


@dataclass(frozen=True)
class Reset:
    """Read the request, then reset the connection without answering."""


@dataclass(frozen=True)
class Delay:
    """Wait this many seconds (``server.sleep``), then serve the request normally."""

    seconds: float


@dataclass(frozen=True)
class Drip:
    """Serve the request normally, but send the answer's body one byte every ``seconds`` (``server.sleep``)."""

    seconds: float


@dataclass(frozen=True)
class Stall:
    """Hold the request until the client hangs up (or the server stops), then serve it
    normally: Peak took the rows, the client never heard. No time decides it: the
    client has always gone (a timeout, a kill) before the answer is written."""


@dataclass(frozen=True)
class Flood:
    """Answer with this status, headers and ``body`` (bytes, sent as they are), repeated
    without end when ``endless`` (chunked), until the client hangs up; ``sent`` in
    the server's ``flooded`` list says how many bytes went out."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"x" * 65_536
    endless: bool = True
    ceiling: int = 50_000_000  # a client that never hangs up still ends the test


@dataclass(frozen=True)
class Logged:
    """One request as the server saw it."""

    path: str
    status: int  # 0 for a reset connection
    rows: int
    size: int
    dry_run: bool
    authorization: str | None = field(repr=False, default=None)
    tenant: tuple[str | None, str | None] = (None, None)  # x-auth-tenant, x-auth-tenantId as received


def di_error(code: str, message: str, category: str = "VALIDATION") -> str:
    """A validation error body in Peak's published shape (code, category, message)."""
    return json.dumps({"errorCode": code, "category": category, "message": message})


class FakeClock:
    """Time that passes only when someone sleeps: ``clock()`` reads it, ``clock.sleep(s)``
    moves it ``s`` seconds on at once. Shared by threads (and by a server and a client)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += max(0.0, seconds)


class PeakServer:
    """The fake ingestion API. Not thread-safe to reconfigure while requests are in flight."""

    def __init__(
        self,
        token: str = "test-token-7f3a9c",
        resource: Resource = STOCK_EXTRA,
        solution_name: str = "QP_OOTB",
        path: str = "/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB",
        timestamp_format: str = "iso",
        prefix: str = "QP_",
        suffix: str = "_OOTB",
    ) -> None:
        self.token = token
        self.resource = resource
        self.solution_name = solution_name
        self.path = path
        self.timestamp_format = timestamp_format
        self.prefix, self.suffix = prefix, suffix
        self.objects: dict[str, Resource] = {**RESOURCES, resource.object_name: resource}
        self.tables: dict[str, dict[tuple, dict[str, Any]]] = {name: {} for name in self.objects}
        self.rows: dict[tuple, dict[str, Any]] = self.tables[resource.object_name]
        self.attributes: dict[str, list[Column]] = {name: [] for name in self.objects}
        self.attribute_requests: list[dict[str, Any]] = []
        self.schema_reads = 0
        self.fk_mode: str | None = None
        self.schema_mode: int | None = None
        self.schema_changes: dict[str, dict[str, str]] = {}
        self.order: list[str] = []
        self.log: list[Logged] = []
        self.violations: list[str] = []
        self.flooded: list[int] = []  # bytes each Flood action wrote before the client hung up
        self.reject_keys: set[tuple] = set()
        self.fail_keys: set[tuple] = set()
        self.fail_unmatched = False
        self.max_body_bytes: int | None = None
        self.rate_limit: float | None = None
        self.rate_burst: float | None = None
        self.clock = time.monotonic
        self.sleep = time.sleep
        self._actions: list[Any] = []
        self._get_replies: list[Reply] = []
        self._lock = threading.Lock()
        self._bucket: tuple[float, float] | None = None  # tokens, last refill time
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None  # written to once, on stop

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> "PeakServer":
        server = self

        class Handler(_Handler):
            peak = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._wake = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name="peak-server", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        # Not serve_forever: it polls for shutdown every 0.5 s, which every test paid at
        # teardown. This loop sleeps until a connection or the stop signal arrives.
        assert self._httpd is not None and self._wake is not None
        while True:
            readable, _, _ = select.select([self._httpd.socket, self._wake[0]], [], [])
            if self._wake[0] in readable:
                return
            self._httpd.handle_request()

    def stop(self) -> None:
        if self._httpd is not None:
            assert self._wake is not None and self._thread is not None
            self._wake[1].send(b"x")  # ends the serving loop and every Stall
            self._thread.join()
            self._httpd.server_close()
            self._httpd = None

    def stopping(self) -> socket.socket:
        """A socket that becomes readable when the server stops."""
        assert self._wake is not None
        return self._wake[0]

    def __enter__(self) -> "PeakServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # -- scripting -----------------------------------------------------------------
    def script(self, *actions: Any) -> None:
        """Queue actions; each coming request takes the next one."""
        with self._lock:
            self._actions.extend(actions)

    def key_of(self, row: dict[str, Any], resource: Resource | None = None) -> tuple:
        return tuple(row[name] for name in (resource or self.resource).key_names)

    def held_rows(self, object_name: str | None = None) -> list[dict[str, Any]]:
        """Every stored row of the main object (or ``object_name``), in key order."""
        with self._lock:
            table = self.tables[object_name or self.resource.object_name]
            return [table[key] for key in sorted(table)]

    def object_path(self, object_name: str) -> str:
        """Where ``object_name`` is served: the main path with its name swapped in."""
        main = f"{self.prefix}{self.resource.object_name}{self.suffix}"
        return self.path.replace(main, f"{self.prefix}{object_name}{self.suffix}")

    def full_resource(self, object_name: str) -> Resource:
        """The object with the custom attributes added to it so far."""
        return self.objects[object_name].with_attributes(tuple(self.attributes[object_name]))

    def _object_at(self, path: str) -> str | None:
        wanted = _same_path(path)
        if wanted == _same_path(self.path):
            return self.resource.object_name
        return next((name for name in sorted(self.objects) if _same_path(self.object_path(name)) == wanted), None)

    def _orphans(self, object_name: str, rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
        """Rows whose parent this server does not hold, with the message Peak would give."""
        found = []
        with self._lock:
            for row in rows:
                for column, parent, field_name in FOREIGN_KEYS.get(object_name, ()):
                    if row.get(column) is not None and (row[column],) not in self.tables[parent]:
                        found.append((row, f"{column} {row[column]!r} does not exist in {parent}"))
                        break
        return found

    def schema(self) -> dict[str, Any]:
        """The solution's schema, in the shape stockx assumes (see shared/peak-api/README.md)."""
        objects = []
        for name in sorted(self.objects):
            resource = self.full_resource(name)
            changes = self.schema_changes.get(name, {})
            columns = [{"name": c.name.upper() if c.attribute else c.name,
                        "type": changes.get(c.name, "datetime" if c.peak_type == "timestamp" and c.attribute else c.peak_type),
                        "nullable": c.nullable, "primaryKey": c.primary_key} for c in resource.columns]
            objects.append({"name": f"{self.prefix}{name}{self.suffix}", "primaryKeys": list(resource.key_names),
                            "columns": columns})
        return {"solutionName": self.solution_name, "objects": objects}

    def script_get(self, *replies: "Reply") -> None:
        """Queue replies for the coming GETs (schema reads), one each, in order."""
        with self._lock:
            self._get_replies.extend(replies)

    def handle_get(self, path: str, headers: Any) -> tuple[int, dict[str, str], str]:
        with self._lock:
            reply = self._get_replies.pop(0) if self._get_replies else None
        if reply is not None:
            return reply.status, reply.headers, reply.body
        parts = urlsplit(path)
        if _same_path(parts.path) != "/api/v2/schema":
            return 404, {}, json.dumps({"message": f"no such path {parts.path}"})
        if headers.get("Authorization") != self.token:
            return 401, {}, json.dumps({"message": "invalid or missing personal access token"})
        with self._lock:
            self.schema_reads += 1
        if self.schema_mode is not None:
            return self.schema_mode, {}, json.dumps({"message": "not found"})
        if parse_qs(parts.query).get("solutionName") != [self.solution_name]:
            return 400, {}, di_error("DI_E_00400", "unknown solutionName")
        return 200, {}, json.dumps(self.schema())

    def add_attribute(self, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], str] | None:
        """An add-attribute POST, or None when ``path`` is not one."""
        # The newer form (/api/v2/schema/{object}, columnName) or the older one
        # (/ingestion-api/api/v2/{object}, attributeName).
        match = re.fullmatch(r"/api/v2/schema/([^/]+)/add-attribute", _same_path(path))
        older = match is None
        if older:
            match = re.fullmatch(r"/ingestion-api/api/v2/([^/]+)/add-attribute", _same_path(path))
        if match is None:
            return None
        if headers.get("Authorization") != self.token:
            return 401, {}, json.dumps({"message": "invalid or missing personal access token"})
        request = json.loads(body)
        name = match.group(1)
        if not (name.startswith(self.prefix) and name.endswith(self.suffix)):
            return 404, {}, json.dumps({"message": f"no object {name}"})
        object_name = name[len(self.prefix):len(name) - len(self.suffix) if self.suffix else None]
        if object_name not in self.objects or request.get("solutionName") != self.solution_name:
            return 404, {}, json.dumps({"message": f"no object {name} in {request.get('solutionName')}"})
        field_name = "attributeName" if older else "columnName"
        column_name = request.get(field_name)
        if not isinstance(column_name, str) or column_name != column_name.upper():
            with self._lock:
                self.violations.append(f"add-attribute {field_name} {column_name!r} is not upper case")
            return 400, {}, di_error("DI_E_00400", f"{field_name} must be upper case")
        if request.get("dataType") not in ATTRIBUTE_TYPES:
            return 400, {}, di_error("DI_E_00400", f"unknown dataType {request.get('dataType')!r}")
        with self._lock:
            self.attribute_requests.append(request)
            known = {c.name.lower() for c in self.full_resource(object_name).columns}
            if column_name.lower() in known:
                return 409, {}, json.dumps({"message": f"attribute {column_name} exists"})
            peak_type, duckdb_types = ATTRIBUTE_TYPES[request["dataType"]]
            self.attributes[object_name].append(
                Column(column_name.lower(), peak_type, True, False, duckdb_types, attribute=True))
        return 200, {}, json.dumps({"status": "ok"})

    # -- serving -------------------------------------------------------------------
    def _next_action(self) -> Any:
        with self._lock:
            return self._actions.pop(0) if self._actions else None

    def _rate_limited(self) -> bool:
        if self.rate_limit is None:
            return False
        with self._lock:
            now = self.clock()
            burst = self.rate_burst or self.rate_limit
            if self._bucket is None:
                tokens = burst
            else:
                tokens, last = self._bucket
                tokens = min(burst, tokens + (now - last) * self.rate_limit)
            if tokens < 1:
                self._bucket = (tokens, now)
                return True
            self._bucket = (tokens - 1, now)
            return False

    def handle(self, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], str, int, bool]:
        """Answer one POST: (status, headers, body, rows in payload, dry run)."""
        added = self.add_attribute(path, headers, body)
        if added is not None:
            return (*added, 0, False)
        object_name = self._object_at(path)
        if object_name is None:
            return 404, {}, json.dumps({"message": f"no such object path {path}"}), 0, False
        resource = self.full_resource(object_name)
        if headers.get("Authorization") != self.token:
            return 401, {}, json.dumps({"message": "invalid or missing personal access token"}), 0, False
        if self._rate_limited():
            return 429, {"Retry-After": "1"}, json.dumps({"message": "rate limit exceeded"}), 0, False
        if self.max_body_bytes is not None and len(body) > self.max_body_bytes:
            return 413, {}, json.dumps({"message": "payload too large"}), 0, False
        try:
            payload, rows = self._validate(headers, body, resource)
        except ValueError as exc:
            with self._lock:
                self.violations.append(str(exc))
            return 400, {}, di_error("DI_E_00400", str(exc)), 0, False
        dry_run = payload.get("dryRun") is True
        bad = [row for row in rows if self.key_of(row, resource) in self.reject_keys]
        if bad:
            message = f"product_id {bad[0]['product_id']!r} does not exist in PRODUCT"
            return 422, {}, di_error("DI_E_10422", message), len(rows), dry_run
        orphans = self._orphans(object_name, rows) if self.fk_mode else []
        if orphans and self.fk_mode == "422":
            return 422, {}, di_error("DI_E_10422", orphans[0][1]), len(rows), dry_run
        orphan_keys = {self.key_of(row, resource) for row, _ in orphans}
        refused = self.fail_keys | orphan_keys
        failed = [row for row in rows if self.key_of(row, resource) in refused]
        taken = [row for row in rows if self.key_of(row, resource) not in refused]
        if not dry_run:
            with self._lock:
                table = self.tables[object_name]
                for row in taken:
                    table[self.key_of(row, resource)] = row
                if taken:
                    self.order.append(object_name)
        if self.fail_unmatched:
            entries = [{"errorCode": "DI_E_10023", "message": "foreign key violation"} for _ in failed]
        else:
            entries = [
                {**{n: row[n] for n in resource.key_names}, "errorCode": "DI_E_10023", "message": "foreign key violation"}
                for row in failed
            ]
        answer = {"status": "accepted", "accepted": len(taken), "failed": entries}
        if dry_run:
            answer["dryRun"] = True
        return 200, {}, json.dumps(answer), len(rows), dry_run

    def _validate(self, headers: Any, body: bytes, resource: Resource) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The payload and its rows, or ValueError naming the first contract breach."""
        if headers.get("Content-Type") != "application/json":
            raise ValueError(f"Content-Type must be application/json, got {headers.get('Content-Type')!r}")
        try:
            text = body.decode("utf-8")
            payload = json.loads(text, object_pairs_hook=_ordered_pairs)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"body is not UTF-8 JSON: {exc}") from None
        if _non_ascii(text) != sum(_non_ascii(v) for v in _strings(payload)):
            raise ValueError("body escapes non-ASCII characters as \\uXXXX; Peak expects UTF-8 text")
        keys = list(payload)
        if keys not in (["solutionName", "data", "operationType"], ["solutionName", "data", "operationType", "dryRun"]):
            raise ValueError(f"payload keys {keys} are not solutionName, data, operationType[, dryRun]")
        if payload["solutionName"] != self.solution_name:
            raise ValueError(f"solutionName {payload['solutionName']!r}, expected {self.solution_name!r}")
        if payload["operationType"] not in ("UPSERT", "APPEND"):
            raise ValueError(f"operationType {payload['operationType']!r}")
        if "dryRun" in payload and payload["dryRun"] is not True:
            raise ValueError("dryRun must be true when present")
        data = payload["data"]
        if not isinstance(data, list) or not data:
            raise ValueError("data must be a non-empty array")
        for index, row in enumerate(data):
            self._validate_row(index, row, resource)
        return payload, data

    def _validate_row(self, index: int, row: Any, resource: Resource) -> None:
        where = f"data[{index}]"
        if not isinstance(row, dict) or [k.lower() for k in row] != list(resource.names):
            raise ValueError(f"{where}: keys {list(row) if isinstance(row, dict) else row!r} are not the contract's, in order")
        row = {k.lower(): v for k, v in row.items()}
        for column in resource.columns:
            value = row[column.name]
            if value is None:
                if not column.nullable:
                    raise ValueError(f"{where}.{column.name}: null in a non-nullable column")
                continue
            if column.peak_type == "integer":
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif column.peak_type == "float":
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            elif column.peak_type == "boolean":
                ok = isinstance(value, bool)
            elif column.peak_type == "date":
                ok = isinstance(value, str) and DATE.fullmatch(value) is not None
            elif column.peak_type == "timestamp":
                ok = isinstance(value, str) and TIMESTAMP[self.timestamp_format].fullmatch(value) is not None
            else:
                ok = isinstance(value, str)
            if not ok:
                raise ValueError(f"{where}.{column.name}: {value!r} is not a valid {column.peak_type}")


def _same_path(path: str) -> str:
    """A path as a web server compares it: unreserved characters percent-decoded,
    no trailing slash (httpx itself removes dot segments)."""
    def decode(match: re.Match) -> str:
        char = chr(int(match.group(1), 16))
        return char if char.isascii() and (char.isalnum() or char in "-._~") else match.group(0).upper()

    return re.sub(r"%([0-9A-Fa-f]{2})", decode, path).rstrip("/")


def _non_ascii(text: str) -> int:
    return sum(1 for ch in text if ord(ch) > 127) if not text.isascii() else 0


def _strings(value: Any):
    """Every string inside a parsed JSON value (keys included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _ordered_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate keys in an object: {names}")
    return dict(pairs)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Peak's load balancers do
    disable_nagle_algorithm = True  # headers and body are two writes: without it each answer waits for a delayed ACK (~40 ms)
    peak: PeakServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read server.log
        pass

    def do_GET(self) -> None:
        status, headers, text = self.peak.handle_get(self.path, self.headers)
        self._log(status, 0, 0, False, self.headers.get("Authorization"))
        encoded = text.encode("utf-8")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(encoded)))
        self.end_headers()
        self.wfile.write(encoded)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        action = self.peak._next_action()
        authorization = self.headers.get("Authorization")
        if isinstance(action, Reset):
            self._log(0, 0, len(body), False, authorization)
            # SO_LINGER 0 turns close() into a TCP reset.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if isinstance(action, Flood):
            self._log(action.status, 0, len(body), False, authorization)
            self._flood(action)
            return
        if isinstance(action, Stall):
            self._wait_for_hang_up()
        if isinstance(action, Delay):
            self.peak.sleep(action.seconds)
        if isinstance(action, Reply):
            status, headers, text, rows, dry_run = action.status, action.headers, action.body, 0, False
        else:
            status, headers, text, rows, dry_run = self.peak.handle(self.path, self.headers, body)
        self._log(status, rows, len(body), dry_run, authorization)
        encoded = text.encode("utf-8")
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            if isinstance(action, Drip):
                for index in range(len(encoded)):
                    self.wfile.write(encoded[index : index + 1])
                    self.wfile.flush()
                    self.peak.sleep(action.seconds)
            else:
                self.wfile.write(encoded)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first (a slow-answer scenario): nothing to answer.
            self.close_connection = True

    def _wait_for_hang_up(self) -> None:
        """Until the client closes the connection (it sends nothing else while it waits
        for this answer) or the server stops."""
        select.select([self.connection, self.peak.stopping()], [], [])

    def _flood(self, action: Flood) -> None:
        sent = 0
        try:
            self.send_response(action.status)
            for name, value in {"Content-Type": "application/json", **action.headers}.items():
                self.send_header(name, value)
            if action.endless:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(action.body)))
            self.end_headers()
            if not action.endless:
                self.wfile.write(action.body)
                sent = len(action.body)
            while action.endless and sent < action.ceiling:
                self.wfile.write(f"{len(action.body):x}\r\n".encode() + action.body + b"\r\n")
                sent += len(action.body)
            if action.endless:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True
        with self.peak._lock:
            self.peak.flooded.append(sent)

    def _log(self, status: int, rows: int, size: int, dry_run: bool, authorization: str | None) -> None:
        tenant = (self.headers.get("x-auth-tenant"), self.headers.get("x-auth-tenantId"))
        with self.peak._lock:
            self.peak.log.append(Logged(self.path, status, rows, size, dry_run, authorization, tenant))


# -- fixture tables -----------------------------------------------------------------
STOCK_EXTRA_DDL = """
CREATE TABLE {relation} (
    product_id VARCHAR, location_id VARCHAR, product_variant VARCHAR, stock_date_at DATE,
    created_at TIMESTAMP, stock_id VARCHAR, stock_units {units_type}, updated_at TIMESTAMP
)"""

# Rows that exercise JSON escaping and UTF-8: quotes, backslashes, control characters,
# accents, CJK, emoji, a line separator, the largest BIGINT and a negative count.
AWKWARD_ROWS = [
    ("P-\"quoted\"", "LOC-1", "size:L", "2025-01-28", "2025-01-28 00:00:00", "STK\\1", 120, "2025-01-28 10:00:00"),
    ("P-café", "LOC-Zürich", "colour:rouge é", "2025-01-28", None, None, 0, None),
    ("P-日本", "LOC-1", "size:特大", "2025-01-29", "2024-02-29 23:59:59.999999", "tab\there\nnew", -5, None),
    ("P-emoji-😀", "LOC-1", "pack:6", "0001-01-01", "1970-01-01 00:00:00", "ls\u2028ps\u2029", 9223372036854775807, "9999-12-31 23:59:59"),
    ("P-ctl\x01\x1f", "LOC-1", "size:S", "2025-01-28", None, "", 1, None),
]


def create_stock_extra(con: Any, rows: int = 0, relation: str = "main.stock_extra",
                       units_type: str = "BIGINT", extra: list[tuple] | None = None) -> None:
    """Create a stock_extra table with ``rows`` generated rows (varied nulls, several
    keys per product) plus ``extra`` literal rows, inserted in no particular order."""
    con.execute(STOCK_EXTRA_DDL.format(relation=relation, units_type=units_type))
    if rows:
        con.execute(f"""
            INSERT INTO {relation}
            SELECT 'PROD-' || lpad((i % 997)::VARCHAR, 4, '0'),
                   'LOC-' || lpad(((i // 997) % 13)::VARCHAR, 3, '0'),
                   (['size:S', 'size:M', 'colour:red'])[(i // 12961) % 3 + 1],
                   DATE '2025-01-01' + (i // 38883)::INTEGER,
                   CASE WHEN i % 7 = 0 THEN NULL ELSE TIMESTAMP '2025-01-28 00:00:00' + to_seconds(i % 86400) END,
                   CASE WHEN i % 5 = 0 THEN NULL ELSE 'STK-' || i END,
                   (i * 37) % 1000,
                   CASE WHEN i % 3 = 0 THEN NULL ELSE TIMESTAMP '2025-01-28 10:00:00' END
            FROM range({rows}) AS t(i)
            ORDER BY hash(i)""")
    for row in extra or []:
        con.execute(f"INSERT INTO {relation} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", list(row))


def table_rows(con: Any, resource: Resource = STOCK_EXTRA, relation: str = "main.stock_extra",
               timestamp_format: str = "iso") -> list[dict[str, Any]]:
    """The table as Peak rows, formatted in Python (an oracle independent of the
    exporter's SQL), in key order."""
    separator, zone = {"iso": ("T", "Z"), "sql": (" ", "")}[timestamp_format]
    names = ", ".join(f'"{n}"' for n in resource.names)
    out = []
    for values in con.execute(f"SELECT {names} FROM {relation}").fetchall():
        row = {}
        for column, value in zip(resource.columns, values):
            if value is not None and column.peak_type in ("date", "timestamp"):
                text = f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
                if column.peak_type == "timestamp":
                    text += f"{separator}{value.hour:02d}:{value.minute:02d}:{value.second:02d}{zone}"
                value = text
            row[column.name] = value
        out.append(row)
    # Key order as UTF-8 bytes, the order DuckDB sorts VARCHAR in.
    return sorted(out, key=lambda r: tuple(str(r[n]).encode() for n in resource.key_names))


@pytest.fixture
def peak_server():
    """A started :class:`PeakServer` on an ephemeral port, stopped after the test."""
    with PeakServer() as server:
        yield server
