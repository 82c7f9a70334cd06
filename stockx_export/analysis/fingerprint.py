"""Fingerprints for change detection: what a node is, so a later run can tell whether it changed.

A model's fingerprint hashes its SQL rendered in parse mode (no database: the
same files and vars always give the same text) and normalised by sqlglot (so
formatting and comments do not count), for an incremental model rendered a
second time with is_incremental() true, its enforced contract, its config, and
the fingerprints of what it depends on: a change anywhere upstream changes
every fingerprint below it.
Seeds hash their CSV bytes; sources their declaration. Normalising costs a
sqlglot parse, so results are cached in ``target/`` by the hash of the text.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from stockx_export.analysis.parse import SqlParses
from stockx_export.core.jinja.render import Frame
from stockx_export.core.loading import parse_text
from stockx_export.core import parse_cache
from stockx_export.errors import StockxError

CACHE_FILE = "analysis_cache.json"


def _digest(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalised_sql(sql: str, parses: SqlParses) -> str:
    """``sql`` as sqlglot prints it (DuckDB dialect): one canonical text per query, comments dropped."""
    from sqlglot.errors import SqlglotError

    try:
        return ";\n".join(e.sql(dialect="duckdb", comments=False) for e in parses.parse(sql) if e)
    except SqlglotError:
        # SQL sqlglot cannot read still gets a fingerprint: comments and whitespace removed by hand.
        without = re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S)
        return " ".join(without.split())


class FingerprintCache:
    """rendered-SQL hash -> normalised-SQL hash, kept in ``target/analysis_cache.json``.

    Forgotten when stockx's, sqlglot's (or another tool's) version changes: another sqlglot
    may print the same SQL otherwise. Not ``enabled`` (``--no-partial-parse``): not read or written.
    """

    def __init__(self, target_dir: Path, parses: SqlParses, *, enabled: bool = True) -> None:
        self.path = target_dir / CACHE_FILE
        self.parses = parses
        self.enabled = enabled
        self.entries: dict[str, str] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8")) if enabled else {}
            if data.get("versions") == parse_cache.tool_versions() and isinstance(data.get("entries"), dict):
                self.entries = data["entries"]
        except (OSError, ValueError, AttributeError):
            self.entries = {}
        self.changed = False

    def normalised_hash(self, sql: str) -> str:
        key = _digest(sql)
        if key not in self.entries:
            self.entries[key] = _digest(normalised_sql(sql, self.parses))
            self.changed = True
        return self.entries[key]

    def save(self) -> None:
        if self.changed and self.enabled and self.path.parent.is_dir():
            data = {"versions": parse_cache.tool_versions(), "entries": self.entries}
            self.path.write_text(json.dumps(data, sort_keys=True) + "\n", encoding="utf-8")


def _rendered(project, node, incremental: bool = False) -> str:
    frame = Frame(node.name, node.path, node.resource_type, dict(node.config), "parse", extra={"node": node})
    if not incremental:
        # Loading rendered it so already, unless its config() calls or what it reads have changed since.
        kept = parse_text(project, node)
        return kept if kept is not None else project.renderer.render(node.raw_code, frame)
    with project.renderer.overridden(macros={"is_incremental": True}):
        return project.renderer.render(node.raw_code, frame)


def model_texts(project) -> dict[str, tuple[str, str | None]]:
    """unique id -> what each model renders to in parse mode: plainly, and for an incremental model
    with is_incremental() true too (None when that branch cannot render without a database).

    Rendering needs the project's renderer, which serves one thread at a time: render here,
    then hand the texts to :func:`fingerprints` (which may run on another thread).
    """
    texts: dict[str, tuple[str, str | None]] = {}
    for uid in project.dag.sorted():
        node = project.nodes.get(uid)
        if node is None or node.resource_type != "model":
            continue
        plain, incremental = _rendered(project, node), None
        if node.config.get("materialized") == "incremental":
            # Without a database is_incremental() is false, which would hide the filter a
            # daily run applies (and the vars it reads): render that branch too.
            try:
                incremental = _rendered(project, node, incremental=True)
            except StockxError:
                # e.g. the branch reads run_query() results without an `execute` guard:
                # parse mode has none, so only the full-refresh text can count.
                incremental = None
        texts[uid] = (plain, incremental)
    return texts


def _model_content(node, cache: FingerprintCache, texts: dict[str, tuple[str, str | None]]) -> str:
    rendered, incremental = texts[node.unique_id]
    plain = cache.normalised_hash(rendered)
    if incremental is None:
        return plain
    return _digest([plain, cache.normalised_hash(incremental)])


def _contract(project, node) -> dict | None:
    """What an enforced contract promises (column names, types, constraints), else None.

    The contract lives in a property file, not in the SQL or config: without this a
    changed type or constraint would not select the model that must now be checked.
    """
    if not node.enforced_contract:
        return None
    patch = project.properties.models.get(node.name)
    return {
        "columns": [(c.name, c.data_type, list(c.constraints)) for c in node.columns],
        "constraints": list(patch.constraints) if patch is not None else [],
    }


def _content(project, node, cache: FingerprintCache, texts: dict[str, tuple[str, str | None]]) -> str:
    if node.resource_type == "seed":
        return hashlib.sha256((project.config.root / node.path).read_bytes()).hexdigest()
    if node.resource_type == "model":
        content = _model_content(node, cache, texts)
        contract = _contract(project, node)
        return content if contract is None else _digest({"sql": content, "contract": contract})
    # Tests: their SQL, and their arguments (a generic test's kwargs live in extra).
    return _digest({"code": node.raw_code, "extra": node.extra})


def fingerprints(project, parses: SqlParses | None = None,
                 texts: dict[str, tuple[str, str | None]] | None = None) -> dict[str, str]:
    """unique id -> fingerprint, for every node and source of ``project`` (``parses``: SQL parsed already;
    ``texts``: what :func:`model_texts` returned, rendered already)."""
    texts = model_texts(project) if texts is None else texts
    cache = FingerprintCache(project.config.target_dir, parses or SqlParses(), enabled=project.parse_cache.enabled)
    found: dict[str, str] = {}
    for source in project.sources.values():
        found[source.unique_id] = _digest(
            {
                "relation": str(source.relation),
                "external_location": source.external_location,
                "columns": [(c.name, c.data_type) for c in source.columns],
            }
        )
    for uid in project.dag.sorted():
        node = project.nodes.get(uid)
        if node is None or uid in found:
            continue
        found[uid] = _digest(
            {
                "content": _content(project, node, cache, texts),
                "config": node.config,
                "upstream": [found.get(u, u) for u in sorted(node.depends_on)],
            }
        )
    cache.save()
    return found
