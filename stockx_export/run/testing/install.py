"""The runner extension (see ``stockx_export.run.engine.EXTENSIONS``): tests, contracts, JUnit."""

from __future__ import annotations

from stockx_export.run.testing.contracts import contract_check
from stockx_export.run.testing.data_tests import run_data_test
from stockx_export.run.testing.junit import write_junit
from stockx_export.run.testing.unit import run_unit_test


def install(runner, order: list[str]) -> None:
    runner.executors["test"] = run_data_test
    runner.executors["unit_test"] = run_unit_test
    patches = runner.project.properties.models
    runner.model_checks.append(
        lambda node: contract_check(node, patches[node.name].constraints if node.name in patches else ())
    )
    junit = runner.options.get("junit") if runner.options is not None else None
    if junit:
        runner.hooks_after.append(lambda runner, run: _junit(runner, run, junit))


def _junit(runner, run, path: str) -> None:
    # The run is over: a report that cannot be written is a warning, not a reason to lose the artifacts.
    try:
        write_junit(path, run, runner.project.config.name)
    except OSError as exc:
        runner.reporter.warn(f"cannot write JUnit XML to {path}: {exc.strerror or exc}")
