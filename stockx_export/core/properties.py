"""Property files (``models/**/*.yml``) in dbt's shape: models, seeds, sources, unit tests.

Only the structure is read here; Jinja inside values (``external_location``,
descriptions) is rendered later by the renderer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stockx_export.errors import ProjectError
from stockx_export.core.files import read_text
from stockx_export.core.nodes import Column, SourceTable

TEST_KEYS = ("data_tests", "tests")


@dataclass(frozen=True)
class Patch:
    """What a property file says about one model or seed."""

    name: str
    path: str
    description: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    columns: tuple[Column, ...] = ()
    tests: tuple[Any, ...] = ()
    constraints: tuple[Any, ...] = ()  # model-level, e.g. {type: primary_key, columns: [a, b]}
    relation: str | None = None  # a snapshot defined in YAML: what it snapshots, ref('x') or source('s', 't')


@dataclass
class Properties:
    models: dict[str, Patch] = field(default_factory=dict)
    seeds: dict[str, Patch] = field(default_factory=dict)
    snapshots: dict[str, Patch] = field(default_factory=dict)
    sources: dict[tuple[str, str], SourceTable] = field(default_factory=dict)
    unit_tests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def merge(self, other: Properties) -> None:
        """Add ``other``'s entries (a package's property files); a name described in both is an error."""
        pairs = (("model", self.models, other.models), ("seed", self.seeds, other.seeds),
                 ("snapshot", self.snapshots, other.snapshots))
        for kind, mine, theirs in pairs:
            for name, patch in theirs.items():
                if name in mine:
                    raise ProjectError(f"{kind} '{name}' is described twice: in {mine[name].path} and {patch.path}")
                mine[name] = patch
        for key, source in other.sources.items():
            if key in self.sources:
                raise ProjectError(
                    f"source '{key[0]}.{key[1]}' is declared twice: in {self.sources[key].path} and {source.path}"
                )
            self.sources[key] = source
        self.unit_tests.extend(other.unit_tests)


def load_yaml(path: Path, display: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(read_text(path, display), Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{display}:{mark.line + 1}" if mark else display
        raise ProjectError(f"{where}: invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ProjectError(f"{display}: invalid YAML: {exc}") from None


def _tests(entry: dict[str, Any]) -> tuple[Any, ...]:
    found: list[Any] = []
    for key in TEST_KEYS:
        found.extend(entry.get(key) or [])
    return tuple(found)


def _columns(entries: Any, display: str) -> tuple[Column, ...]:
    columns = []
    for entry in entries or []:
        if not isinstance(entry, dict) or "name" not in entry:
            raise ProjectError(f"{display}: every column needs a name, got {entry!r}")
        constraints = tuple(
            c.get("type") if isinstance(c, dict) else str(c) for c in entry.get("constraints") or []
        )
        columns.append(
            Column(
                name=str(entry["name"]),
                data_type=entry.get("data_type"),
                description=str(entry.get("description") or ""),
                constraints=constraints,
                tests=_tests(entry),
                meta=entry.get("meta") or {},
            )
        )
    return tuple(columns)


def _mapping(value: Any, what: str, display: str) -> dict[str, Any]:
    """``value`` (a config or meta block) as a dict; anything else is an error naming it."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProjectError(f"{display}: {what} must be a mapping of settings (key: value), got {value!r}")
    return dict(value)


def _patch(entry: dict[str, Any], display: str) -> Patch:
    config = _mapping(entry.get("config"), f"the config of '{entry['name']}'", display)
    for key in ("meta", "tags", "docs"):
        if key in entry and key not in config:
            config[key] = entry[key]
    return Patch(
        name=str(entry["name"]),
        path=display,
        description=str(entry.get("description") or ""),
        config=config,
        columns=_columns(entry.get("columns"), display),
        tests=_tests(entry),
        constraints=tuple(entry.get("constraints") or ()),
        relation=str(entry["relation"]) if entry.get("relation") else None,
    )


def read_properties(files: list[tuple[Path, str]], project_name: str, default_schema: str) -> Properties:
    """Read every property file; ``files`` are (absolute path, display path) pairs."""
    props = Properties()
    for path, display in files:
        doc = load_yaml(path, display)
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ProjectError(f"{display}: a property file must be a mapping with 'models:', 'sources:' ...")
        for kind, target in (("models", props.models), ("seeds", props.seeds), ("snapshots", props.snapshots)):
            for entry in doc.get(kind) or []:
                if not isinstance(entry, dict) or "name" not in entry:
                    raise ProjectError(f"{display}: every entry under '{kind}:' needs a name")
                patch = _patch(entry, display)
                if patch.name in target:
                    raise ProjectError(
                        f"{kind[:-1]} '{patch.name}' is described twice: in {target[patch.name].path} and {display}"
                    )
                target[patch.name] = patch
                if kind == "models":
                    for test in entry.get("unit_tests") or []:
                        props.unit_tests.append((display, {"model": patch.name, **test}))
        for source in doc.get("sources") or []:
            _read_source(source, display, project_name, default_schema, props)
        for test in doc.get("unit_tests") or []:
            props.unit_tests.append((display, test))
    return props


def _freshness(source: dict, source_config: dict, table: dict, table_config: dict) -> dict[str, Any]:
    """dbt's ``freshness`` and ``loaded_at_field`` of a source table: the table's (top level or in
    ``config:``) over its source's, key by key; ``freshness: null`` on the table turns it off."""
    found: dict[str, Any] = {}
    field = (table.get("loaded_at_field") or table_config.get("loaded_at_field") or source.get("loaded_at_field")
             or source_config.get("loaded_at_field"))
    if field:
        found["loaded_at_field"] = str(field)
    levels = []
    for entry, config in ((source, source_config), (table, table_config)):
        if "freshness" in entry or "freshness" in config:
            levels.append(entry["freshness"] if "freshness" in entry else config["freshness"])
    if levels and levels[-1] is None:
        found["freshness"] = None
    elif levels:
        merged: dict[str, Any] = {}
        for level in levels:
            merged.update({k: v for k, v in (level or {}).items() if v is not None})
        found["freshness"] = merged
    return found


def _read_source(source: Any, display: str, project: str, default_schema: str, props: Properties) -> None:
    if not isinstance(source, dict) or "name" not in source:
        raise ProjectError(f"{display}: every source needs a name")
    source_name = str(source["name"])
    source_config = _mapping(source.get("config"), f"the config of source '{source_name}'", display)
    for table in source.get("tables") or []:
        if not isinstance(table, dict) or "name" not in table:
            raise ProjectError(f"{display}: every table of source '{source_name}' needs a name")
        name = str(table["name"])
        key = (source_name, name)
        if key in props.sources:
            raise ProjectError(
                f"source '{source_name}.{name}' is declared twice: in {props.sources[key].path} and {display}"
            )
        meta = {**(source.get("meta") or {}), **(table.get("meta") or {})}
        table_config = _mapping(table.get("config"), f"the config of source table '{source_name}.{name}'", display)
        config = {**source_config, **table_config, **_freshness(source, source_config, table, table_config)}
        external = (
            table.get("external_location")
            or config.get("external_location")
            or meta.get("external_location")
            or source.get("external_location")
            or ""
        )
        props.sources[key] = SourceTable(
            unique_id=f"source.{project}.{source_name}.{name}",
            source_name=source_name,
            name=name,
            schema=str(table.get("schema") or source.get("schema") or default_schema),
            identifier=str(table.get("identifier") or name),
            path=display,
            external_location=str(external),
            description=str(table.get("description") or ""),
            columns=_columns(table.get("columns"), display),
            config={**config, "meta": meta},
            tests=_tests(table),
        )
