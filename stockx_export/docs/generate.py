"""``stockx docs generate``: the site in ``target/docs/`` and ``target/catalog.json``.

Like dbt's: the project is parsed and every model compiled against the database
as it is (opened read-only: nothing is built or changed); the catalog is the
database's, the lineage sqlglot's, the results the last runs'; the sync state is
read without writing to it. Works before the first build (no catalog, no results)
and without a sync state.
"""

from __future__ import annotations

import datetime
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from stockx_export import __version__, adapters
from stockx_export.analysis.analyzer import Analyzer
from stockx_export.analysis.lineage_memo import LineageMemo
from stockx_export.docs.catalog import build_catalog, relations_of
from stockx_export.docs.lineage import project_lineage
from stockx_export.docs.pushes import read_sync
from stockx_export.docs.results import read_last_run, read_verdicts
from stockx_export.docs.site import site_data, write_json, write_site
from stockx_export.redact import Redactor
from stockx_export.run.options import RunOptions
from stockx_export.run.projects import open_project
from stockx_export.tables import plural

CATALOG_FILE = "catalog.json"
SITE_DIR = "docs"
LINEAGE_MEMO = "lineage_memo.json"  # what tracing learnt of each model's SQL, for the next generate


@dataclass(frozen=True)
class Generated:
    """What ``generate`` wrote."""

    index: Path  # target/docs/index.html
    catalog: Path  # target/catalog.json
    nodes: int  # models, seeds, snapshots and sources documented
    relations: int  # of them, found built in the database
    seconds: float


def generate(options: RunOptions, reporter, *, state_db: str | None = None,
             env: Mapping[str, str] | None = None, clock=time.perf_counter) -> Generated:
    """Write the site and the catalog of the project ``options`` name, every secret in ``env``
    (default the process's environment: the token, passwords) scrubbed from them; what is missing
    (nothing built yet, a model lineage cannot follow, a sync state a push holds) is
    warned about on ``reporter`` and shown as such on the site."""
    started = clock()
    env = os.environ if env is None else env
    project = open_project(options, reporter)
    generated_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with adapters.for_reading(project.config.target) as adapter:
        project.resolver.attach(adapter)
        tables = adapter.catalog(list(relations_of(project).values()))
        # The catalog has the types; nothing but lineage reads the parses, so they are qualified in place.
        analyzer = Analyzer(project, adapter, types=False, in_place=True)
        compiled = {uid: analyzer.compiled(node) for uid, node in sorted(project.nodes.items())
                    if node.resource_type in ("model", "snapshot")}
        lineage = project_lineage(project, analyzer, _lineage_memo(project.config.target_dir), tables)
    target = project.config.target_dir
    sync = read_sync(project.config, state_db=state_db, env=env)
    catalog = build_catalog(project, tables, generated_at, project.renderer.invocation_id)
    verdicts = read_verdicts(target, project.config.target.database)
    data = site_data(project, compiled=compiled, tables=tables, lineage=lineage, last_run=read_last_run(target),
                     verdicts=verdicts, sync=sync, generated_at=generated_at, inferred=lineage.columns)
    # SQL compiled with env_var('DB_PASSWORD'), an error message quoting it: every secret in the
    # environment is replaced, in any encoding, as the command line's output is.
    redactor = Redactor.of_environment(env)
    catalog, data = redactor.scrub_value(catalog), redactor.scrub_value(data)
    catalog_path = target / CATALOG_FILE
    write_json(catalog_path, catalog)
    index = write_site(target / SITE_DIR, data)
    documented = len(relations_of(project))
    _warn_about_gaps(reporter, project, tables, lineage, sync, documented)
    built = sum(1 for relation in relations_of(project).values() if relation in tables)
    return Generated(index, catalog_path, documented, built, clock() - started)


def _lineage_memo(target: Path) -> LineageMemo:
    import sqlglot

    return LineageMemo(target / LINEAGE_MEMO, f"stockx {__version__}, sqlglot {sqlglot.__version__}")


def _warn_about_gaps(reporter, project, tables, lineage, sync, documented: int) -> None:
    if documented and not tables:
        reporter.warn(f"nothing is built in {project.config.target.database} yet: the site shows no column types "
                      "and catalog.json is empty; run `stockx build`, then generate again")
    if lineage.untraced:
        names = ", ".join(project.nodes[uid].name for uid in lineage.untraced[:5])
        more = f" and {len(lineage.untraced) - 5} more" if len(lineage.untraced) > 5 else ""
        reporter.warn(f"column lineage cannot follow the SQL of {plural(len(lineage.untraced), 'model')} "
                      f"({names}{more}): the site shows their columns without lineage")
    if sync.problem:
        reporter.warn(f"the sync view is empty: {sync.problem}")
