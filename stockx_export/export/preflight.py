"""Checks run before a single row is serialized; any failure stops the export.

Build checks read ``target/manifest.json`` and the results of the runs that built
the exported database (``target/last_results.json``);
table checks are SQL in DuckDB (no Python loops over rows) and report the first
offending rows. Every message says what to run next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stockx_export.core.artifacts import (
    LAST_RESULTS, MANIFEST, RUN_RESULTS, Manifest, database_key, read_last_results, read_manifest, read_run_results,
)
from stockx_export.errors import ArtifactError, ExportError
from stockx_export.export.contract import Resource
from stockx_export.export.serialize import quote_identifier, row_json_sql

SAMPLE = 5  # offending rows shown in a message
SHOWN_CHARS = 60  # characters of a value quoted in a message
TEST_OK = ("pass", "warn")


@dataclass(frozen=True)
class ModelNode:
    """What the export needs from the manifest about one model."""

    unique_id: str
    name: str
    relation: str
    meta: dict[str, Any] = field(default_factory=dict)
    patch_path: str | None = None  # the property file declaring it (its meta among the rest)


def _build_hint(model: str) -> str:
    # +model: its upstream too, which a fresh checkout or `stockx clean` has not built.
    return f"run `stockx build --select +{model}`"


def _read(reader, path: Path, model: str):
    try:
        return reader(path)
    except ArtifactError as exc:
        if exc.missing:
            raise ExportError(f"{path} not found: no build recorded; {_build_hint(model)} first") from None
        raise ExportError(f"{path} cannot be read ({exc}); {_build_hint(model)} again") from None


def _manifest(target_dir: Path, model: str) -> Manifest:
    return _read(read_manifest, target_dir / MANIFEST, model)


def find_model(target_dir: Path, model: str) -> ModelNode:
    """The model named ``model`` in ``target/manifest.json``."""
    node = _manifest(target_dir, model).model(model)
    if node is not None:
        return ModelNode(node.unique_id, model, node.relation or f"main.{model}", dict(node.meta), node.patch_path)
    raise ExportError(
        f"no model named '{model}' in {target_dir / 'manifest.json'}; check the name "
        "(`stockx ls --resource-type model`), or build it first"
    )


def check_build(target_dir: Path, node: ModelNode, database: str) -> None:
    """The last run that built ``node`` in ``database`` succeeded, and every test attached
    to it passed (or warned) since, in that database: a build of another database of the
    project says nothing about this one."""
    manifest = _manifest(target_dir, node.name)
    results = _latest_results(target_dir, node.name, database)
    hint = _build_hint(node.name)
    model_result = results.get(node.unique_id)
    if model_result is None:
        chosen = "--target" if "://" in database else "--database"
        raise ExportError(f"the last run did not build model {node.name} in the database {database}; {hint} "
                          f"(with the same {chosen}) before exporting")
    if model_result.get("status") != "success":
        raise ExportError(
            f"the last build of model {node.name} ended with status '{model_result.get('status')}'; "
            f"fix it and {hint} before exporting"
        )
    nodes = manifest.nodes
    names = {uid: n.name for uid, n in nodes.items()}
    # A test attached to another model (a child's relationships test pointing here) is that
    # model's: it does not judge this one.
    tests = sorted(
        uid
        for uid, n in nodes.items()
        if n.resource_type == "test"
        and (n.attached_node == node.unique_id or (not n.attached_node and node.unique_id in n.depends_on))
    )
    tests += sorted(
        uid
        for uid, r in results.items()
        if r.get("attached_node") == node.unique_id and uid not in tests and (not nodes or uid in nodes)
    )
    missing = [uid for uid in tests if uid not in results]
    if missing:
        names = ", ".join(names.get(uid, uid) for uid in missing)
        raise ExportError(f"tests on model {node.name} did not run in the last run: {names}; {hint}")
    stale = [uid for uid in tests if _ran_before(results[uid], model_result)]
    if stale:
        names = ", ".join(names.get(uid, uid) for uid in stale)
        raise ExportError(
            f"tests on model {node.name} have not run since its last build: {names}; "
            f"run `stockx test --select {node.name}`"
        )
    failed = [uid for uid in tests if results[uid].get("status") not in TEST_OK]
    if failed:
        described = ", ".join(
            f"{names.get(uid, uid)} ({results[uid].get('status')}"
            + (f", {results[uid]['failures']} failing rows" if results[uid].get("failures") else "")
            + ")"
            for uid in failed
        )
        raise ExportError(f"tests on model {node.name} did not pass in the last run: {described}; fix them and {hint}")


def _latest_results(target_dir: Path, model: str, database: str) -> dict[str, dict[str, Any]]:
    """Each node's newest result over every run in ``database`` (``last_results.json``);
    without that file, the last run's (``run_results.json``), unless it names another database."""
    merged = read_last_results(target_dir / LAST_RESULTS, database)
    if merged is not None:
        return merged
    run_results = _read(read_run_results, target_dir / RUN_RESULTS, model)
    if run_results.database is not None and run_results.database != database_key(database):
        return {}
    return {r.unique_id: {"status": r.status, "failures": r.failures} for r in run_results.results}


def _ran_before(test: dict[str, Any], model: dict[str, Any]) -> bool:
    """Whether a test's result predates its model's last build (a later `stockx run` of the model alone)."""
    if "run" not in test or "run" not in model:
        return False  # one run's results: every test ran in it, after its model
    return (test["run"], test["order"]) < (model["run"], model["order"])


def _split_relation(relation: str) -> tuple[str, str]:
    parts = [p.strip('"') for p in relation.split(".")]
    return (parts[-2] if len(parts) > 1 else "main"), parts[-1]


def check_columns(con: Any, relation: str, resource: Resource) -> None:
    """The relation exists and its columns are the contract's, in order, with accepted types."""
    schema, table = _split_relation(relation)
    found = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    if not found:
        raise ExportError(f"table {relation} does not exist in the database; {_build_hint(table)} first")
    problems = []
    for position in range(max(len(found), len(resource.columns))):
        have = found[position] if position < len(found) else None
        want = resource.columns[position] if position < len(resource.columns) else None
        if want is None:
            problems.append(f"column {position + 1}: unexpected column {have[0]} {have[1]}")
        elif have is None:
            problems.append(f"column {position + 1}: missing {want.name} {want.expected_types}")
        elif have[0] != want.name:
            problems.append(f"column {position + 1}: expected {want.name} {want.expected_types}, found {have[0]} {have[1]}")
        elif have[1] not in want.duckdb_types:
            problems.append(f"column {position + 1}: {want.name} is {have[1]}, expected {want.expected_types}")
    if problems:
        lines = "\n  ".join(problems)
        raise ExportError(f"table {relation} does not match the Peak {resource.object_name} contract:\n  {lines}")


def _describe_rows(names: tuple[str, ...], rows: list[tuple]) -> str:
    def value(v: Any) -> str:
        if v is None:
            return "NULL"
        text = str(v)
        if len(text) > SHOWN_CHARS:  # a multi-megabyte value would make the message that long
            return f"{text[:SHOWN_CHARS]!r}… ({len(text):,} characters)"
        return repr(text)

    return "\n  ".join("(" + ", ".join(f"{n}={value(v)}" for n, v in zip(names, row)) + ")" for row in rows)


def _offending(con: Any, relation: str, names: tuple[str, ...], where: str, order: str) -> tuple[int, list[tuple]]:
    # Cast in SQL so values print as DuckDB writes them ('infinity', not a clamped date).
    cols = ", ".join(f"CAST({quote_identifier(n)} AS VARCHAR)" for n in names)
    count = con.execute(f"SELECT count(*) FROM {relation} WHERE {where}").fetchone()[0]
    sample = con.execute(f"SELECT {cols} FROM {relation} WHERE {where} ORDER BY {order} LIMIT {SAMPLE}").fetchall() if count else []
    return count, sample


def check_rows(con: Any, relation: str, resource: Resource, strftime: str, max_row_bytes: int) -> int:
    """Keys non-null and unique, required values present, dates finite, variants
    ``dimension:value``, every row small enough for a page. Returns the row count."""
    names = resource.names
    keys = resource.key_names
    key_sql = ", ".join(quote_identifier(n) for n in keys)
    order = ", ".join(f"{quote_identifier(n)} NULLS FIRST" for n in names)
    checks: list[tuple[str, str]] = []
    required = [c for c in resource.columns if not c.nullable]
    checks.append((
        " OR ".join(f"{quote_identifier(c.name)} IS NULL" for c in required),
        "NULL in a column the contract requires ({})".format(", ".join(c.name for c in required)),
    ))
    temporal = [c for c in resource.columns if c.peak_type in ("date", "timestamp")]
    checks.append((
        " OR ".join(f"NOT isfinite({quote_identifier(c.name)})" for c in temporal),
        "an infinite date or timestamp",
    ))
    years = " OR ".join(
        f"year({quote_identifier(c.name)}) NOT BETWEEN 1 AND 9999" for c in temporal if c.peak_type in ("date", "timestamp")
    )
    checks.append((f"({years})", "a date or timestamp outside years 1-9999"))
    if "product_variant" in names:
        checks.append((
            "NOT regexp_full_match(product_variant, '[^:]+:.+')",
            "a product_variant that is not 'dimension:value'",
        ))
    checks.append((
        f"strlen({row_json_sql(resource, strftime)}) > {max_row_bytes}",
        f"a row whose JSON does not fit in a page ({max_row_bytes:,} bytes of rows at most)",
    ))
    for where, what in checks:
        count, sample = _offending(con, relation, names, where, order)
        if count:
            advice = ""
            if what.startswith("a row whose JSON"):
                advice = ("\n  A value this long is most likely a malformed raw line: fix it at the source, or have the "
                          "model reject such lines (Peak takes 1,000,000 bytes per payload; raise page_bytes only if "
                          "your tenant takes more)")
            raise ExportError(
                f"table {relation}: {count} row{'s' if count != 1 else ''} with {what}; first:\n  "
                + _describe_rows(names, sample) + advice
            )
    duplicates = con.execute(
        f"SELECT {key_sql}, count(*) AS n FROM {relation} GROUP BY ALL HAVING count(*) > 1 ORDER BY {key_sql}"
        f" LIMIT {SAMPLE}"
    ).fetchall()
    if duplicates:
        total = con.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {relation} GROUP BY {key_sql} HAVING count(*) > 1)"
        ).fetchone()[0]
        described = "\n  ".join(
            _describe_rows(keys, [row[:-1]]) + f" appears {row[-1]} times" for row in duplicates
        )
        raise ExportError(
            f"table {relation}: primary key ({', '.join(keys)}) is not unique: "
            f"{total} key{'s' if total != 1 else ''} repeated; first:\n  {described}"
        )
    return con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]


def check_table(con: Any, relation: str, resource: Resource, strftime: str, max_row_bytes: int) -> int:
    """Every table check, in order; returns the number of rows to export."""
    check_columns(con, relation, resource)
    return check_rows(con, relation, resource, strftime, max_row_bytes)
