"""The lineage ``stockx docs generate`` draws equals sqlglot's answer for each column asked alone.

The site's graph is worked out a model at a time (one qualify and one lineage pass for all of a
model's columns, the parse qualified in place, one sqlglot schema shared, the memo reused): here
every column of every model is traced the plain way instead, each with its own
``sqlglot.lineage.lineage(column, compiled SQL, schema)`` call that parses and qualifies the SQL
afresh, and the two graphs must be the same, edge for edge, on the sample project and on the
project bench/docs.py measures (generated here by bench/build.py). Nothing is hard-coded: both
answers are computed in the test. The memo's second generate must give the same graph again.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from docs_support import REPO, built_sample, generate, site_data, stockx

from stockx_export import adapters
from stockx_export.analysis.analyzer import Analyzer
from stockx_export.core.jinja.render import Frame
from stockx_export.run.options import RunOptions
from stockx_export.run.projects import open_project
from stockx_export.run.reporting import TextReporter


def bench_project(root: Path, models: int) -> Path:
    """bench/docs.py's project: bench/build.py's models, each with a property file listing its columns."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import build
        spec = importlib.util.spec_from_file_location("bench_docs", REPO / "bench" / "docs.py")
        bench_docs = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench_docs)
    finally:
        sys.path.pop(0)
    build.generate(root, models)
    bench_docs.add_properties(root)
    return root


def per_column_graph(root: Path) -> tuple[dict[str, list[str]], list[str]]:
    """(edges, untraced) as the site holds them, each column traced alone by sqlglot."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.lineage import lineage
    from sqlglot.optimizer.qualify import qualify

    project = open_project(RunOptions(project_dir=str(root)), TextReporter(out=sys.stderr))
    with adapters.for_reading(project.config.target) as adapter:
        project.resolver.attach(adapter)
        analyzer = Analyzer(project, adapter, types=False)  # parses copied before qualifying, as ever
        traced = {uid: node for uid, node in project.nodes.items() if node.resource_type in ("model", "snapshot")}
        columns = {uid: analyzer.schemas.inferred(node) for uid, node in traced.items()}
        relations, reads = {}, {}
        for source in project.sources.values():
            relations.setdefault((source.relation.schema.lower(), source.relation.identifier.lower()), source)
            frame = Frame("", source.path, "source", {}, "parse")
            read = project.resolver.resolve_source(source.source_name, source.name, frame)
            if isinstance(read, str):
                query = qualify(sqlglot.parse_one(f"select * from {read}", read="duckdb"), dialect="duckdb",
                                validate_qualify_columns=False)
                table = query.find(exp.Table)
                if table is not None and isinstance(table.this, exp.Func):
                    reads.setdefault(table.this.sql("duckdb"), source)
        seeds = {}
        for node in project.nodes.values():
            if node.resource_type in ("model", "snapshot", "seed") and node.relation is not None:
                place = (node.relation.schema.lower(), node.relation.identifier.lower())
                relations.setdefault(place, node)
                if node.resource_type == "seed":
                    seeds[place] = node

        def key(target, column: str) -> str:
            if hasattr(target, "source_name"):
                return f"source:{target.source_name}.{target.name}.{column}"
            return f"{target.resource_type}:{target.name}.{column}"

        edges: dict[str, list[str]] = {}
        untraced = []
        for uid in sorted(traced):
            node = traced[uid]
            if columns[uid] is None:
                untraced.append(uid)
                continue
            sql, mapping = analyzer.compiled(node), analyzer.schemas.mapping(node)
            for column in columns[uid]:
                root_step = lineage(column.name, sql, schema=mapping, dialect="duckdb")
                upstream = set()
                for step in root_step.walk():
                    if step.downstream or not isinstance(step.expression, exp.Table):
                        continue
                    named = sqlglot.parse_one(step.name, read="duckdb")
                    name = named.name if isinstance(named, exp.Column) else step.name
                    table = step.expression
                    if isinstance(table.this, exp.Func):
                        target = reads.get(table.this.sql("duckdb"))
                    else:
                        target = relations.get(((table.db or project.config.target_schema).lower(), table.name.lower()))
                    if target is not None:
                        upstream.add(key(target, name))
                edges[key(node, column.name)] = sorted(upstream)
    # What the traced columns reach, down to where each tree ends.
    pending = [k for ups in edges.values() for k in ups]
    while pending:
        name = pending.pop()
        if name in edges:
            continue
        kind, rest = name.split(":", 1)
        if kind == "source":
            source_name, table, column = rest.split(".", 2)
            source = next(s for s in project.sources.values() if (s.source_name, s.name) == (source_name, table))
            seed = seeds.get((source.relation.schema.lower(), source.relation.identifier.lower()))
            reads_files = source in reads.values()
            edges[name] = [f"seed:{seed.name}.{column}"] if seed is not None and not reads_files else []
            pending.extend(edges[name])
        else:  # a seed's column, or one a snapshot adds: the tree ends there
            edges[name] = []
    return dict(sorted(edges.items())), untraced


def assert_same_lineage(root: Path) -> None:
    done = generate(root)
    assert done.exit_code == 0, done.output
    drawn = site_data(root)["lineage"]
    edges, untraced = per_column_graph(root)
    assert len([k for k in edges if k.startswith("model:")]) > 20  # a graph worth comparing
    assert drawn["untraced"] == untraced
    assert set(drawn["edges"]) == set(edges)
    differing = {k: (drawn["edges"][k], edges[k]) for k in edges if drawn["edges"][k] != edges[k]}
    assert not differing
    assert drawn["edges"] == edges
    again = generate(root)  # from the memo this time
    assert again.exit_code == 0, again.output
    assert site_data(root)["lineage"] == drawn


def test_the_sample_projects_lineage_is_each_columns_own(tmp_path):
    root = built_sample(tmp_path / "sample")
    assert_same_lineage(root)


@pytest.mark.parametrize("models", [120])
def test_the_bench_projects_lineage_is_each_columns_own(tmp_path, models):
    """Not built: no target/ at all, as the first command in a new project."""
    root = bench_project(tmp_path / "bench", models)
    assert_same_lineage(root)


def test_a_database_built_from_older_sql_changes_no_answer(tmp_path):
    """What a model reads is guessed from the database to trace ahead: a guess the SQL has since made
    wrong (model_0000 reordered and widened after the build) must cost time, not a different graph."""
    root = bench_project(tmp_path / "bench", 40)
    done = stockx("build", "--quiet", "--project-dir", str(root))
    assert done.exit_code == 0, done.output
    first = next((root / "models").glob("*/model_0000.sql"))
    first.write_text("select t.grp, t.id, t.val, 1 as extra from {{ ref('seed_0') }} as t\n")
    assert_same_lineage(root)
