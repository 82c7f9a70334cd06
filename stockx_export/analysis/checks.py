"""The static checks run before any model: syntax, direct reads, contract columns.

``before_run`` is a runner extension (see ``stockx_export.engine.EXTENSIONS``):
a failed check stops ``stockx build`` / ``run`` before the first node runs.
"""

from __future__ import annotations

from stockx_export.analysis.analyzer import Analyzer
from stockx_export.analysis.problems import CheckError, Problem
from stockx_export.analysis.references import direct_reads, direct_reads_level


def contract_problems(analyzer: Analyzer, node) -> list[Problem]:
    """A contracted model whose SQL misses or adds a contract column (by name)."""
    contract = node.config.get("contract") or {}
    if not (isinstance(contract, dict) and contract.get("enforced")) or not node.columns:
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


def check_models(analyzer: Analyzer, nodes: list) -> list[Problem]:
    """Every problem the static checks find in ``nodes`` (models), in node order."""
    level = direct_reads_level(analyzer.project.config.settings)
    problems: list[Problem] = []
    for node in nodes:
        parsed = analyzer.parsed(node)
        if parsed.problem is not None:
            problems.append(parsed.problem)
        if parsed.expression is None:
            continue
        problems += direct_reads(analyzer.project, node, parsed.expression, level)
        problems += contract_problems(analyzer, node)
    return problems


def run_checks(project, con, order: list[str], warn) -> Analyzer:
    """Check the models in ``order``; warnings go to ``warn``, errors raise :class:`CheckError`."""
    analyzer = Analyzer(project, con)
    problems = check_models(analyzer, analyzer.models(order))
    for problem in problems:
        if problem.level == "warn":
            warn(str(problem))
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise CheckError(errors)
    return analyzer


def before_run(runner, order: list[str]) -> None:
    """Runner extension: refuse to start a run whose models fail a static check."""
    runner.project.attach(runner.con)  # is_incremental() must render as it will at run time
    run_checks(runner.project, runner.con, order, runner.reporter.warn)
