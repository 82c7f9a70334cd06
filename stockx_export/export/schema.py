"""Peak's schema endpoints: read a solution's objects, compare them with what the models
send, and create the custom attributes a model declares.

::

    read = read_schema(client, settings, token, tenant_headers)      # GET {base}/api/v2/schema?solutionName=...
    check = compare(resource, settings, read)                         # differences, attributes to add
    add_attribute(client, settings, token, tenant_headers, attribute) # POST .../{object}/add-attribute

The schema answer's shape is not published: it is parsed defensively
(``columnName``/``dataType`` are aliases of ``name``/``type``; an object is
found by its full name, ``QP_STOCK_EXTRA_OOTB``, or its bare one,
``STOCK_EXTRA``; column names compare in any letter case, since Peak takes
custom attributes' names in upper case). An endpoint that answers 404 or 405 is
"not readable": the caller reports it and goes on. A 429, a 5xx or no answer at
all is retried as an ingest page is (:mod:`stockx_export.export.retry`).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from stockx_export.errors import ExportError, TokenRefused
from stockx_export.export import http
from stockx_export.export.contract import Resource
from stockx_export.export.retry import Clock, RetryPolicy, retry_after
from stockx_export.export.settings import Attribute, ExportSettings
from stockx_export.redact import Redactor
from stockx_export.tables import plural

NOT_READABLE = frozenset({404, 405})
ALREADY_THERE = 409  # adding an attribute that exists (unpublished; assumed)
# Type words that mean one of Peak's types to stockx: Peak's own datetime, and the SQL words a
# schema answer may give instead (its shape and words are not published). Words that could be
# either integer or float (number, numeric, decimal) are left as they are: they are listed as a
# difference for the user to judge, never guessed.
SAME_TYPE = {
    "datetime": "timestamp", "timestamp_ntz": "timestamp", "timestamp without time zone": "timestamp",
    "varchar": "string", "text": "string", "char": "string", "character varying": "string", "str": "string",
    "int": "integer", "bigint": "integer", "smallint": "integer", "long": "integer", "int64": "integer",
    "double": "float", "double precision": "float", "real": "float", "float64": "float",
    "bool": "boolean",
}
_TYPE_ARGUMENTS = re.compile(r"\s*\(.*\)\s*$")  # VARCHAR(255), TIMESTAMP(6)


@dataclass(frozen=True)
class PeakColumn:
    """A column of an object in Peak's schema."""

    name: str
    type: str
    nullable: bool | None  # None: the answer did not say


@dataclass(frozen=True)
class SchemaRead:
    """A solution's schema as read: ``objects`` by upper-case name, or why it could not be read."""

    url: str
    readable: bool
    objects: tuple[tuple[str, tuple[PeakColumn, ...]], ...] = ()
    note: str = ""

    def object(self, settings: ExportSettings) -> tuple[PeakColumn, ...] | None:
        found = dict(self.objects)
        for name in (settings.object_name, settings.object):
            if name.upper() in found:
                return found[name.upper()]
        return None


@dataclass(frozen=True)
class SchemaCheck:
    """One object compared: the differences (nothing may be sent while there are any), and
    the declared custom attributes Peak's schema lacks (to add before sending)."""

    object_name: str
    differences: tuple[str, ...] = ()
    missing_attributes: tuple[Attribute, ...] = ()


def read_schema(client: Any, settings: ExportSettings, token: str, tenant_headers: tuple[tuple[str, str], ...] = (),
                clock: Clock = Clock()) -> SchemaRead:
    """``GET {base_url}/api/v2/schema?solutionName=...``: the solution's objects, or a
    :class:`SchemaRead` that is not ``readable`` (404 or 405). A 429, 5xx or no answer is
    retried as an ingest page is (backoff, ``Retry-After``, ``max_attempts``,
    ``retry_seconds``). A refused token raises :class:`TokenRefused`; anything else
    unexpected (retries exhausted included) an :class:`ExportError` naming the endpoint."""
    url = settings.schema_url
    endpoint = http.Endpoint.of(settings, token, tenant_headers, url=url)
    redactor = Redactor.of(token)
    answer = _retried(lambda: http.get(client, endpoint, {"solutionName": settings.solution_name}, clock.monotonic,
                                       redactor), settings, clock, f"could not read Peak's schema (GET {url})")
    if answer.status in NOT_READABLE:
        return SchemaRead(url, False, note=f"schema not readable (HTTP {answer.status} from GET {url})")
    if answer.status in http.AUTH_STATUSES:
        raise TokenRefused(answer.status, url)
    if not 200 <= answer.status < 300:
        raise ExportError(f"reading Peak's schema at {url} answered HTTP {answer.status}: {answer.text[:200]!r}; "
                          "nothing was sent")
    if answer.truncated:
        raise ExportError(f"Peak's schema at {url} is longer than response_bytes ({settings.response_bytes:,} bytes), "
                          "so it was not read whole; nothing was sent: raise response_bytes under "
                          "[tool.stockx.export] if the solution's schema is that large")
    try:
        body = answer.json()
    except ValueError:
        raise ExportError(f"Peak's schema at {url} is not JSON: {answer.text[:200]!r}; nothing was sent") from None
    if not isinstance(body, list) and not (isinstance(body, dict) and isinstance(body.get("objects"), list)):
        raise ExportError(f"Peak's schema at {url} is not a list of objects (expected {{\"objects\": [{{\"name\": ..., "
                          f"\"columns\": [...]}}]}}): {answer.text[:200]!r}; nothing was sent")
    return SchemaRead(url, True, _objects(body))


def _retried(call: Callable[[], http.Answer | http.NoAnswer], settings: ExportSettings, clock: Clock,
             failing: str) -> http.Answer:
    """``call``'s first answer that is not 429 or 5xx, after retries as an ingest page gets
    them; an :class:`ExportError` starting with ``failing`` once they run out."""
    policy = RetryPolicy.of(settings)
    pause = clock.sleep or time.sleep
    first = clock.monotonic()
    attempt = 0
    while True:
        attempt += 1
        answer = call()
        delay = None
        if isinstance(answer, http.NoAnswer):
            reason = answer.reason
        elif answer.status in http.RETRY_STATUSES:
            reason = f"HTTP {answer.status}"
            delay = retry_after(answer.retry_after, clock.wall())
        else:
            return answer
        asked = delay is not None
        if delay is None:
            delay = policy.backoff(attempt, clock.random())
        elapsed = clock.monotonic() - first
        if policy.gives_up(attempt, elapsed, delay):
            if asked and elapsed + delay > policy.retry_seconds:
                reason += (f", and Peak asked to wait {delay:,.0f}s (Retry-After), more than retry_seconds "
                           f"({policy.retry_seconds:,g}s) allows")
            raise ExportError(f"{failing}: gave up after {plural(attempt, 'attempt')} in {elapsed:.1f}s (last: "
                              f"{reason}); nothing was sent: run the push again later")
        pause(delay)


def _objects(body: Any) -> tuple[tuple[str, tuple[PeakColumn, ...]], ...]:
    objects = body.get("objects") if isinstance(body, dict) else body
    found = []
    for entry in objects if isinstance(objects, list) else []:
        if not isinstance(entry, dict):
            continue
        name = entry.get("name") or entry.get("objectName") or entry.get("tableName")
        if not isinstance(name, str):
            continue
        keys = {k.lower() for k in _list(entry.get("primaryKeys")) if isinstance(k, str)}
        columns = []
        for column in _list(entry.get("columns")):
            if not isinstance(column, dict):
                continue
            column_name = column.get("name") or column.get("columnName")
            column_type = column.get("type") or column.get("dataType")
            if not isinstance(column_name, str) or not isinstance(column_type, str):
                continue
            nullable = column.get("nullable")
            if column.get("primaryKey") is True or column_name.lower() in keys:
                nullable = False
            known = nullable if isinstance(nullable, bool) else None
            columns.append(PeakColumn(column_name, column_type.strip().lower(), known))
        found.append((name.upper(), tuple(columns)))
    return tuple(sorted(found))


def _list(value: Any) -> list:
    """``value`` when the answer gave a list there, else nothing (the shape is not published)."""
    return value if isinstance(value, list) else []


def _type(word: str) -> str:
    word = _TYPE_ARGUMENTS.sub("", word.strip().lower())
    return SAME_TYPE.get(word, word)


def compare(resource: Resource, settings: ExportSettings, read: SchemaRead) -> SchemaCheck:
    """What differs between the object in Peak's schema and what the model sends
    (columns, Peak types, nullability), and which declared attributes are missing."""
    name = settings.object_name
    columns = read.object(settings)
    if columns is None:
        return SchemaCheck(name, (f"{name}: no such object in solution {settings.solution_name}'s schema",))
    peak = {c.name.lower(): c for c in columns}
    differences = []
    missing = []
    attributes = {a.name.lower(): a for a in settings.attributes}
    for column in resource.columns:
        found = peak.get(column.name.lower())
        if found is None:
            if column.attribute:
                missing.append(attributes[column.name.lower()])
            else:
                differences.append(f"{name}.{column.name}: not in Peak's schema")
            continue
        if _type(found.type) != _type(column.peak_type):
            differences.append(f"{name}.{column.name}: Peak's type is {found.type}, the model sends {column.peak_type}")
        if found.nullable is not None and not column.attribute and found.nullable != column.nullable:
            peak_side = "nullable" if found.nullable else "not null"
            model_side = "nullable" if column.nullable else "not null"
            differences.append(f"{name}.{column.name}: {peak_side} in Peak's schema, {model_side} in the contract")
    sent = {c.name.lower() for c in resource.columns}
    for column in columns:
        if column.name.lower() not in sent:
            differences.append(f"{name}.{column.name}: in Peak's schema ({column.type}) but not sent by the model "
                               "(every row must carry every key): add it to the model, declared in "
                               "meta.peak.attributes if it is a custom attribute")
    return SchemaCheck(name, tuple(differences), tuple(missing))


def add_attribute(client: Any, settings: ExportSettings, token: str, attribute: Attribute,
                  tenant_headers: tuple[tuple[str, str], ...] = (), clock: Clock = Clock()) -> bool:
    """``POST`` to the add-attribute endpoint of ``settings.attribute_form``; True when Peak
    added it, False when it answered that the attribute exists (409). Retried as
    :func:`read_schema` is; a 2xx whose body says it failed is an :class:`ExportError`."""
    url = settings.add_attribute_url
    endpoint = http.Endpoint.of(settings, token, tenant_headers, url=url)
    body = json.dumps(attribute.request(settings.solution_name, settings.attribute_form),
                      ensure_ascii=False).encode("utf-8")
    redactor = Redactor.of(token)
    failing = f"could not add attribute {attribute.name.upper()} to {settings.object_name} (POST {url})"
    answer = _retried(lambda: http.post(client, endpoint, body, clock.monotonic, redactor), settings, clock, failing)
    if answer.status in http.AUTH_STATUSES:
        raise TokenRefused(answer.status, url)
    if answer.status == ALREADY_THERE:
        return False
    if not 200 <= answer.status < 300:
        raise ExportError(f"Peak refused to add attribute {attribute.name.upper()} to {settings.object_name} "
                          f"(HTTP {answer.status} from POST {url}): {answer.text[:200]!r}; nothing was sent")
    problem = "its body is longer than response_bytes" if answer.truncated else None
    if problem is None:
        try:
            problem = http.failure_report(answer.json() if answer.text.strip() else {})
        except ValueError:
            problem = "its body is not JSON"
    if problem is not None:
        raise ExportError(f"{failing} answered HTTP {answer.status}, but {problem}: {answer.text[:200]!r}; "
                          "nothing was sent: check the attribute in Peak and push again")
    return True
