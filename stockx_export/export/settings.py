"""Export settings: one frozen value resolved from five layers.

Later layers win, key by key:

1. defaults (below, from the Peak API guides);
2. ``[tool.stockx.export]`` in pyproject.toml;
3. the model's ``meta: {peak: {...}}`` in its property file (read from
   ``target/manifest.json``), so each exported model can name its own object;
4. the environment: ``PEAK_BASE_URL`` overrides ``base_url``;
5. command-line options.

Keys are spelled as the fields below; dashes are accepted for underscores
(``page-rows``). ``path`` takes a published form by name (:data:`PATH_FORMS`)
or a template. ``attributes`` (in a model's ``meta.peak``) declares the model's
custom attributes: ``{column: {type, default, validations}}``, created through the
add-attribute form ``attribute_form`` names (:data:`ATTRIBUTE_FORMS`). The tenant
headers' values are read from the environment variables the settings
``tenant_env`` / ``tenant_id_env`` name, by the delivery code, not stored here. Numbers must be finite and within :data:`LIMITS`, whichever
layer they come from. The access token is not a setting: it is read from
``PEAK_AUTH_TOKEN`` by the delivery code and never stored here, and
``base_url`` may not carry credentials, so settings can be written to files
and printed freely.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Mapping

from stockx_export.errors import ExportError
from stockx_export.export.contract import ATTRIBUTE_TYPES, Column
from stockx_export.export.urls import check_base_url

META_KEY = "peak"  # the model meta key holding its export settings
TIMESTAMP_FORMATS = {"iso": "%Y-%m-%dT%H:%M:%SZ", "sql": "%Y-%m-%d %H:%M:%S"}
OPERATIONS = ("UPSERT", "APPEND")
# (lowest, highest, lowest excluded) per numeric setting: finite, and bounded so
# that a typo cannot stall a sync for ever or flood Peak (a timeout of a century,
# a page of a billion rows).
LIMITS: dict[str, tuple[float, float, bool]] = {
    "page_rows": (1, 100_000, False),
    "page_bytes": (1_000, 100_000_000, False),
    "requests_per_second": (0.01, 100_000, False),
    "in_flight": (1, 64, False),
    "max_attempts": (1, 100, False),
    "retry_seconds": (0, 86_400, True),
    "backoff_base": (0, 3_600, True),
    "backoff_cap": (0, 3_600, True),
    "timeout": (0, 3_600, True),
    "response_bytes": (1_000, 100_000_000, False),
}
SCHEMA_PATH = "/api/v2/schema"
# The two published add-attribute forms, by name: the newer guide's (the default) and the older one's
# (its own path, ``attributeName`` in place of ``columnName``). Peak's guides write {objectName} and
# PRODUCTS; which spelling either takes is not published: the full object name is sent.
ATTRIBUTE_FORMS = {
    "schema": ("/api/v2/schema/{object_name}/add-attribute", "columnName"),
    "ingestion-api": ("/ingestion-api/api/v2/{object_name}/add-attribute", "attributeName"),
}
# The two published path forms, by name: the resource page's (the default) and the getting-started guide's.
PATH_FORMS = {
    "ingest/object": "/api/v2/ingest/object/{prefix}{object}{suffix}",
    "objects": "/api/v2/objects/{prefix}{object}{suffix}",
}
# Validations add-attribute takes (published: nonNull, minLength, maxLength).
VALIDATIONS = {"nonNull": bool, "minLength": int, "maxLength": int}
_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MEMORY = re.compile(r"\d+(\.\d+)?\s*(%|B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


@dataclass(frozen=True)
class Attribute:
    """A custom attribute a model declares in ``meta.peak.attributes``: its column, Peak
    type (string, integer, float, boolean, datetime, date), default and validations."""

    name: str
    data_type: str
    default: Any = None
    validations: tuple[tuple[str, Any], ...] = ()

    def column(self) -> Column:
        """The attribute as a (nullable) column of the resource, after the standard ones."""
        peak_type, duckdb_types = ATTRIBUTE_TYPES[self.data_type]
        return Column(self.name, peak_type, nullable=True, primary_key=False, duckdb_types=duckdb_types,
                      attribute=True)

    def request(self, solution_name: str, form: str = "schema") -> dict[str, Any]:
        """The add-attribute body of ``form`` (:data:`ATTRIBUTE_FORMS`): column name in upper
        case, as Peak's guide asks, under ``columnName`` (or the older ``attributeName``)."""
        body: dict[str, Any] = {"solutionName": solution_name, ATTRIBUTE_FORMS[form][1]: self.name.upper(),
                                "dataType": self.data_type}
        if self.default is not None:
            body["defaultValue"] = self.default
        if self.validations:
            body["validations"] = dict(self.validations)
        return body


@dataclass(frozen=True)
class ExportSettings:
    """How one model is turned into Peak payloads and delivered."""

    object: str = "STOCK_EXTRA"
    solution_name: str = "QP_OOTB"
    prefix: str = "QP_"
    suffix: str = "_OOTB"
    base_url: str = "https://ingestion.peak.ai"
    path: str = "/api/v2/ingest/object/{prefix}{object}{suffix}"
    operation: str = "UPSERT"
    timestamp_format: str = "iso"
    page_rows: int = 500
    page_bytes: int = 1_000_000
    requests_per_second: float = 50.0
    in_flight: int = 4
    # Retry bounds: a page is given up (and the export aborted) after this many
    # attempts, or when its next wait would end later than this many seconds
    # after its first attempt.
    max_attempts: int = 8
    retry_seconds: float = 300.0
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    timeout: float = 30.0
    # Bytes of each answer read at most; the rest is not read (a huge or endless
    # answer cannot exhaust memory), and the recorded answer says so.
    response_bytes: int = 1_000_000
    # Plain http is refused for any host but this machine unless this is set:
    # it would send the token unencrypted.
    allow_insecure_http: bool = False
    # DuckDB spills its key-order sort to disk above this, so memory stays
    # flat whatever the table size (bench/export.py measures it).
    memory_limit: str = "256MB"
    # Names of the environment variables holding the tenant headers' values
    # (x-auth-tenant, x-auth-tenantId); a header is sent when its variable is set.
    tenant_env: str = "PEAK_TENANT"
    tenant_id_env: str = "PEAK_TENANT_ID"
    attributes: tuple[Attribute, ...] = ()
    # Which published add-attribute endpoint creates custom attributes (ATTRIBUTE_FORMS).
    attribute_form: str = "schema"

    @property
    def object_name(self) -> str:
        """The object's full name at Peak: ``QP_STOCK_EXTRA_OOTB``."""
        return f"{self.prefix}{self.object}{self.suffix}"

    @property
    def schema_url(self) -> str:
        """Where the solution's schema is read (``GET``, with ``solutionName``)."""
        return self.base_url.rstrip("/") + SCHEMA_PATH

    @property
    def add_attribute_url(self) -> str:
        """Where this object's custom attributes are created (``POST``)."""
        return self.base_url.rstrip("/") + ATTRIBUTE_FORMS[self.attribute_form][0].format(object_name=self.object_name)

    @property
    def url(self) -> str:
        """The full ingest URL for this object."""
        path = self.path.format(prefix=self.prefix, object=self.object, suffix=self.suffix)
        return self.base_url.rstrip("/") + path

    @property
    def strftime(self) -> str:
        return TIMESTAMP_FORMATS[self.timestamp_format]

    def as_dict(self) -> dict[str, Any]:
        """Every setting plus the resolved URL, for manifests and summaries (JSON types only)."""
        attributes = [{"name": a.name, "type": a.data_type, "default": a.default, "validations": dict(a.validations)}
                      for a in self.attributes]
        return {**asdict(self), "attributes": attributes, "url": self.url}


_FIELDS = {f.name: f for f in fields(ExportSettings)}


def resolve_settings(
    project: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    meta_source: str = f"the model's meta.{META_KEY}",
) -> ExportSettings:
    """Merge the layers (see module docstring) into validated settings.

    ``project`` is ``[tool.stockx.export]``, ``meta`` the model's ``meta``
    (its ``peak`` key is used), ``env`` the process environment, and
    ``overrides`` command-line values (``None`` values are ignored). Errors in the meta
    layer name ``meta_source`` (the model and its property file, when known).
    """
    settings = ExportSettings()
    settings = _apply(settings, project or {}, "[tool.stockx.export] in pyproject.toml")
    model_meta = (meta or {}).get(META_KEY) or {}
    if not isinstance(model_meta, Mapping):
        raise ExportError(f"{meta_source} must be a mapping of export settings, got {model_meta!r}")
    settings = _apply(settings, model_meta, meta_source)
    base_url = (env or {}).get("PEAK_BASE_URL")
    if base_url:
        settings = _apply(settings, {"base_url": base_url}, "PEAK_BASE_URL")
    cli = {k: v for k, v in (overrides or {}).items() if v is not None}
    settings = _apply(settings, cli, "the command line")
    return settings


def _apply(settings: ExportSettings, layer: Mapping[str, Any], source: str) -> ExportSettings:
    changes: dict[str, Any] = {}
    for raw_key in sorted(layer):
        key = raw_key.replace("-", "_")
        if key not in _FIELDS:
            known = ", ".join(sorted(_FIELDS))
            raise ExportError(f"{source}: unknown export setting '{raw_key}' (known: {known})")
        changes[key] = _coerce(key, layer[raw_key], source)
    return replace(settings, **changes) if changes else settings


def _coerce(key: str, value: Any, source: str) -> Any:
    kind = _FIELDS[key].type
    if key == "attributes":
        return _attributes(value, source)
    if key == "path" and isinstance(value, str) and value in PATH_FORMS:
        return PATH_FORMS[value]
    if kind == "int":
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not _within(key, value):
            raise ExportError(f"{source}: export setting '{key}' must be {_range_text(key)}, got {value!r}")
    elif kind == "float":
        number = None
        if not isinstance(value, bool):
            try:
                number = float(value)
            except (TypeError, ValueError):
                pass
        if number is None or not _within(key, number):
            raise ExportError(f"{source}: export setting '{key}' must be {_range_text(key)}, got {value!r}")
        value = number
    elif kind == "bool":
        if not isinstance(value, bool):
            raise ExportError(f"{source}: export setting '{key}' must be true or false, got {value!r}")
    elif not isinstance(value, str):
        raise ExportError(f"{source}: export setting '{key}' must be a string, got {value!r}")
    if key == "operation":
        value = value.upper()
        if value not in OPERATIONS:
            raise ExportError(f"{source}: operation must be UPSERT or APPEND, got '{value}'")
    if key == "attribute_form" and value not in ATTRIBUTE_FORMS:
        raise ExportError(f"{source}: attribute_form must be {' or '.join(repr(f) for f in ATTRIBUTE_FORMS)} "
                          f"(POST /api/v2/schema/{{object}}/add-attribute, or the older "
                          f"/ingestion-api/api/v2/{{object}}/add-attribute), got {value!r}")
    if key == "timestamp_format" and value not in TIMESTAMP_FORMATS:
        raise ExportError(f"{source}: timestamp_format must be 'iso' or 'sql', got '{value}'")
    if key == "base_url":
        value = check_base_url(value, source)
    if key == "path":
        if "?" in value or "#" in value:
            # A query is printed and stored with the URL (an API key in it would be too), and the
            # path is appended to the base URL whole.
            raise ExportError(f"{source}: path template holds a query or a fragment (the part from '?' or '#'); "
                              "it must be a path only, e.g. /api/v2/ingest/object/{prefix}{object}{suffix}")
        if not value.startswith("/"):
            # Else the path would run into the host name (``https://host`` + ``x@evil``).
            raise ExportError(f"{source}: path '{value}' must be {' or '.join(repr(f) for f in PATH_FORMS)} "
                              "or a template starting with '/'")
        try:
            value.format(prefix="", object="", suffix="")
        except (KeyError, IndexError, ValueError):
            raise ExportError(
                f"{source}: path template '{value}' may only use {{prefix}}, {{object}} and {{suffix}}"
            ) from None
    if key == "memory_limit" and not _MEMORY.fullmatch(value.strip()):
        raise ExportError(f"{source}: memory_limit must be a size such as 256MB or 2GB, got '{value}'")
    return value


def _attributes(value: Any, source: str) -> tuple[Attribute, ...]:
    """``{column: {type, default, validations}}`` as attributes, sorted by column."""
    if not isinstance(value, Mapping):
        raise ExportError(f"{source}: attributes must be a mapping of column names to {{type: ..., default: ..., "
                          f"validations: ...}}, got {value!r}")
    found = []
    for name in sorted(value):
        spec = value[name]
        where = f"{source}: attribute '{name}'"
        if not isinstance(name, str) or not _COLUMN_NAME.fullmatch(name):
            raise ExportError(f"{where}: a column name is letters, digits and '_' (not starting with a digit)")
        if isinstance(spec, str):
            spec = {"type": spec}
        if not isinstance(spec, Mapping):
            raise ExportError(f"{where} must be a mapping with a type, got {spec!r}")
        unknown = sorted(set(spec) - {"type", "default", "validations"})
        if unknown:
            raise ExportError(f"{where}: unknown key {', '.join(map(str, unknown))} (known: default, type, validations)")
        data_type = spec.get("type")
        if data_type not in ATTRIBUTE_TYPES:
            raise ExportError(f"{where}: type must be one of {', '.join(ATTRIBUTE_TYPES)}, got {data_type!r}")
        validations = spec.get("validations") or {}
        if not isinstance(validations, Mapping):
            raise ExportError(f"{where}: validations must be a mapping (nonNull, minLength, maxLength)")
        for check, setting in validations.items():
            wanted = VALIDATIONS.get(check)
            if wanted is None or not isinstance(setting, wanted) or (wanted is int and isinstance(setting, bool)):
                raise ExportError(f"{where}: validation {check}: {setting!r} is not one of nonNull (true/false), "
                                  "minLength, maxLength (whole numbers)")
        default = spec.get("default")
        if default is not None and not isinstance(default, (str, int, float, bool)):
            raise ExportError(f"{where}: default must be a string, a number or true/false, got {default!r}")
        found.append(Attribute(name, data_type, default, tuple(sorted(validations.items()))))
    return tuple(found)


def _within(key: str, number: float) -> bool:
    low, high, low_excluded = LIMITS[key]
    if not math.isfinite(number) or number > high:
        return False
    return number > low if low_excluded else number >= low


def _range_text(key: str) -> str:
    low, high, low_excluded = LIMITS[key]
    if _FIELDS[key].type == "int":
        return f"a whole number from {low:,} to {high:,}"
    if low_excluded:
        return f"a number above {low:g} and at most {high:,}"
    return f"a number from {low:g} to {high:,}"
