"""What loading a dbt project adds to loading a stockx one.

``before_models`` runs once macros are installed and seeds are added: it reads
``{% docs %}`` blocks from the docs paths, and reports what stockx does not run
(Python models, snapshots, packages), each once, naming its file. A Python model
or a snapshot stays known by name, so a model that ``ref``s it still parses: it
reads that relation as it already is in the database (built earlier by dbt), and
fails with DuckDB's "does not exist" error naming the model if it is not there.

``after_models`` renders Jinja in descriptions (``{{ doc('x') }}``, ``{{ var('y') }}``),
as dbt does, so manifest.json carries the text a reader should see.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from stockx_export.db import Relation
from stockx_export.core.jinja.macros import extract_blocks
from stockx_export.core.jinja.render import Frame
from stockx_export.core.nodes import Node

PACKAGE_FILES = ("packages.yml", "dependencies.yml")
_SNAPSHOT_SCHEMA = re.compile(r"\b(target_schema|schema)\s*=\s*['\"]([^'\"]+)['\"]")


def before_models(project) -> None:
    load_docs(project)
    report_profile_keys(project)
    for path, display, base in project._files(project.config.model_paths, ("*.py",)):
        _placeholder(project, path.stem, display, "python_model", project._config_parts(path, base))
        project.warnings.append(
            f"{display}: Python models are not supported by stockx, so it is not built (nor its tests); "
            f"models that ref it read {_relation(project, path.stem, project._config_parts(path, base))} "
            "as it is in the database"
        )
    for path, display, _ in project._files(_setting_paths(project, "snapshot-paths", "snapshots"), ("*.sql",)):
        for block in extract_blocks(path.read_text(encoding="utf-8"), display):
            if block.kind == "snapshot":
                _add_snapshot(project, block.name, block.source, display)
    for block in project.renderer.macros.unsupported:
        if block.kind == "snapshot":
            _add_snapshot(project, block.name, block.source, block.path)
    for name in PACKAGE_FILES:
        report_packages(project, project.config.root / name, name)
    for node in project.nodes.values():
        if node.resource_type == "seed" and node.config.get("fast") is False:
            project.warnings.append(
                f"{node.path}: 'fast: false' is not supported by stockx; it loads the seed the fast way, "
                "so DuckDB parses the values ('null' stays text, '1,000' is not a number)"
            )


def after_models(project) -> None:
    """Render each seed's and model's description and its columns' (sources' too)."""
    for uid, node in list(project.nodes.items()):
        where = node.patch_path or node.path
        described = dataclasses.replace(
            node,
            description=describe(project, node.description, where),
            columns=tuple(
                dataclasses.replace(c, description=describe(project, c.description, where)) for c in node.columns
            ),
        )
        project.nodes[uid] = described
        if project.by_name.get(node.name) is node:
            project.by_name[node.name] = described
    for key, source in list(project.sources.items()):
        project.sources[key] = dataclasses.replace(
            source,
            description=describe(project, source.description, source.path),
            columns=tuple(
                dataclasses.replace(c, description=describe(project, c.description, source.path))
                for c in source.columns
            ),
        )


def describe(project, text: str, where: str) -> str:
    return project.renderer.render_string(text, where) if text and "{" in text else text


def load_docs(project) -> None:
    """``{% docs %}`` blocks in ``*.md`` files of the docs paths (dbt's default: every resource path)."""
    cfg = project.config
    default = (*cfg.model_paths, *cfg.seed_paths, *cfg.test_paths, *cfg.macro_paths)
    paths = _setting_paths(project, "docs-paths", None) or default
    docs = project.renderer.macros.docs
    for path, display, _ in project._files(tuple(dict.fromkeys(paths)), ("*.md",)):
        for block in extract_blocks(path.read_text(encoding="utf-8"), display):
            if block.kind == "docs":
                docs[block.name] = block


def report_profile_keys(project) -> None:
    from stockx_export.dbt.config import PROFILE_KEY, PROFILE_KEYS_USED

    output = project.config.settings.get(PROFILE_KEY) or {}
    ignored = sorted(k for k in output if k not in PROFILE_KEYS_USED)
    if ignored:
        project.warnings.append(
            f"{output['profile_file']}: stockx ignores {', '.join(ignored)} in profile '{output['profile_name']}' "
            f"output '{output['name']}'; it uses type, path, schema, extensions and settings"
        )


def report_packages(project, path: Path, display: str) -> None:
    if not path.is_file():
        return
    from stockx_export.core.properties import load_yaml

    data = load_yaml(path, display) or {}
    entries = [*(data.get("packages") or []), *(data.get("projects") or [])] if isinstance(data, dict) else []
    if not entries:
        return
    names = ", ".join(_package_name(e) for e in entries)
    project.warnings.append(
        f"{display}: packages are not supported by stockx ({names}); their macros and models are not loaded, "
        "so a model that calls one of their macros fails naming it"
    )


def _package_name(entry: Any) -> str:
    if isinstance(entry, dict):
        for key in ("package", "git", "local", "tarball", "name"):
            if entry.get(key):
                return str(entry[key])
    return str(entry)


def _add_snapshot(project, name: str, source: str, display: str) -> None:
    found = dict((k, v) for k, v in _SNAPSHOT_SCHEMA.findall(source))
    if "target_schema" in found:
        relation = Relation(found["target_schema"], name)
    else:
        relation = project.this(Frame(name, display, "snapshot", {"schema": found.get("schema")}, "parse"))
    _register(project, name, display, "snapshot", relation)
    project.warnings.append(
        f"{display}: snapshots are not supported by stockx, so snapshot '{name}' is not taken; "
        f"models that ref it read {relation} as it is in the database"
    )


def _placeholder(project, name: str, display: str, kind: str, parts: list[str]) -> None:
    _register(project, name, display, kind, _relation(project, name, parts))
    project.properties.models.pop(name, None)  # its tests and docs would describe a model stockx does not build


def _relation(project, name: str, parts: list[str]) -> Relation:
    from stockx_export.core.project import folder_config

    config = folder_config(project.config.models, parts)
    return project.this(Frame(name, "", "model", config, "parse"))


def _register(project, name: str, display: str, kind: str, relation: Relation) -> None:
    project._register(
        Node(
            unique_id=f"{kind}.{project.config.name}.{name}",
            name=name,
            resource_type=kind,
            path=display,
            raw_code="",
            config={"materialized": kind},
            relation=relation,
        )
    )


def _setting_paths(project, key: str, default: str | None) -> tuple[str, ...]:
    value = project.config.settings.get(key) or ([default] if default else [])
    return tuple(str(v).rstrip("/") for v in ([value] if isinstance(value, str) else value))
