"""The static checks run before any model: syntax, direct reads, contract columns.

``stockx build`` / ``run`` call :func:`run_checks` before the first node runs
(stockx_export.run.engine): a failed check stops the command.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from stockx_export.analysis.analyzer import Analyzer
from stockx_export.analysis.problems import Problem
from stockx_export.analysis.references import direct_reads, direct_reads_level
from stockx_export.core import parse_cache
from stockx_export.errors import CheckError


def contract_problems(analyzer: Analyzer, node) -> list[Problem]:
    """A contracted model whose SQL misses or adds a contract column (by name)."""
    if not node.enforced_contract or not node.columns:
        return []
    inferred = analyzer.schemas.inferred(node)
    if inferred is None:
        return []  # columns unknown (e.g. SELECT * over an undescribed file): the run-time contract decides
    produced = {c.name.lower(): c.name for c in inferred}
    declared = {c.name.lower(): c.name for c in node.columns}
    where = node.patch_path or "its property file"
    problems = [
        Problem(node.path, f"contract column '{name}' ({where}) is not in the model's output; the SQL returns: "
                + ", ".join(c.name for c in inferred))
        for key, name in declared.items()
        if key not in produced
    ]
    problems += [
        Problem(node.path, f"the model returns column '{name}', which its contract ({where}) does not list; "
                "add it there or remove it from the SQL")
        for key, name in produced.items()
        if key not in declared
    ]
    return problems


CACHE_FILE = "check_cache.json"
CACHE_VERSION = "2"
MAX_KEYS = 20_000


def first_checks(project, order: list[str]) -> bool:
    """Whether the checks of a run of ``order`` will parse models with nothing checked before (no
    check cache: a first build, a CI job's clean clone). They parse models only, so a run without
    any (``stockx seed``) has nothing to parse."""
    return (any(project.nodes[uid].resource_type == "model" for uid in order)
            and not (project.config.target_dir / CACHE_FILE).exists())


class CleanCache:
    """Keys of models that passed every check, in ``target/check_cache.json``.

    A key hashes all a model's checks depend on: its compiled SQL and the
    relations it may read and, for a contracted model, its contract's column
    names and what decides its upstream column names (every ancestor's compiled
    SQL, seed header and declared source columns). A model found clean before is
    not parsed again. (A file source whose header changes without any SQL change
    is the one case a stale key can miss: the run-time contract, checked before
    the table is replaced, still catches it.) Keys found by another version of
    stockx, sqlglot, DuckDB, Jinja or Python are forgotten. Not ``enabled``
    (``--no-partial-parse``): nothing is read or written.
    """

    def __init__(self, target_dir: Path, *, enabled: bool = True) -> None:
        self.path = target_dir / CACHE_FILE
        self.enabled = enabled
        self.keys: set[str] = set()
        try:
            data = json.loads(self.path.read_text(encoding="utf-8")) if enabled else {}
            if data.get("version") == CACHE_VERSION and data.get("versions") == parse_cache.tool_versions():
                self.keys = set(data["clean"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.keys = set()
        self.seen: set[str] = set()

    @staticmethod
    def key(project, node, sql: str) -> str:
        reads = []
        for name in node.refs:
            upstream = project.by_name.get(name)
            reads.append(str(upstream.relation) if upstream is not None else name)
        reads += [str(project.sources[s].relation) for s in node.sources if s in project.sources]
        text = json.dumps([CACHE_VERSION, sql, sorted(reads), str(node.relation)])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @staticmethod
    def contract_key(analyzer: Analyzer, node, sql: str) -> str:
        """``key`` extended with all a contracted model's column check depends on."""
        project = analyzer.project
        parts: list = [CleanCache.key(project, node, sql), [c.name for c in node.columns]]
        for uid in sorted(project.dag.ancestors(node.unique_id)):
            upstream = project.nodes.get(uid)
            if upstream is None:
                source = next((s for s in project.sources.values() if s.unique_id == uid), None)
                parts.append([uid, [c.name for c in source.columns] if source else None])
            elif upstream.resource_type == "seed":
                parts.append([uid, _first_line(project.config.root / upstream.path), upstream.config.get("column_types")])
            elif upstream.resource_type == "model":
                parts.append([uid, analyzer.compiled(upstream), [c.name for c in upstream.columns]])
        return hashlib.sha256(json.dumps(parts, default=str).encode("utf-8")).hexdigest()

    def save(self) -> None:
        # Keep the keys of models not selected this time; forget them all once stale ones pile up.
        keep = self.keys | self.seen if len(self.keys) < MAX_KEYS else self.seen
        if keep != self.keys and self.enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            data = {"version": CACHE_VERSION, "versions": parse_cache.tool_versions(), "clean": sorted(keep)}
            self.path.write_text(json.dumps(data) + "\n", encoding="utf-8")


def _first_line(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return handle.readline()
    except OSError:
        return ""


def check_models(analyzer: Analyzer, nodes: list, cache: CleanCache | None = None) -> list[Problem]:
    """Every problem the static checks find in ``nodes`` (models), in node order."""
    project = analyzer.project
    level = direct_reads_level(project.config.settings)
    problems: list[Problem] = []
    for node in nodes:
        key = None
        if cache is not None:
            sql = analyzer.compiled(node)
            key = CleanCache.contract_key(analyzer, node, sql) if node.enforced_contract else CleanCache.key(project, node, sql)
            if key in cache.keys:
                cache.seen.add(key)
                continue
        found = _check(analyzer, node, level)
        if key is not None and not found and analyzer.compiled(node):
            cache.seen.add(key)
        problems += found
    return problems


def _check(analyzer: Analyzer, node, level: str) -> list[Problem]:
    parsed = analyzer.parsed(node)
    problems = [parsed.problem] if parsed.problem is not None else []
    if parsed.expression is None:
        return problems
    problems += direct_reads(analyzer.project, node, parsed.expression, level)
    return problems + contract_problems(analyzer, node)


def run_checks(project, adapter, order: list[str], warn, parses: SqlParses | None = None) -> Analyzer:
    """Check the models in ``order``; warnings go to ``warn``, errors raise :class:`CheckError`.

    ``adapter`` is the database the models compile against (is_incremental(),
    run_query); ``parses`` keeps sqlglot's parses for the fingerprints that follow.
    """
    analyzer = Analyzer(project, adapter, parses)
    cache = CleanCache(project.config.target_dir, enabled=project.parse_cache.enabled)
    problems = check_models(analyzer, analyzer.models(order), cache)
    cache.save()
    for problem in problems:
        if problem.level == "warn":
            warn(str(problem))
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise CheckError(errors)
    return analyzer
