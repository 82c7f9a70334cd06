"""Which executor runs each resource type: one explicit, static table (dbt-core's RUNNER_MAP).

An executor is ``(runner, node) -> NodeResult``. Wrappers compose around the
build itself, outermost first: the files a node reads are checked before it
runs (stockx_export.run.file_sources), then the node's hooks run around it
(stockx_export.run.hooks; none in a stockx project). A new kind of node gets
its executor here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from stockx_export.run.file_sources import checking_files
from stockx_export.run.hooks import with_node_hooks
from stockx_export.run.materialize import run_model, run_seed, run_snapshot
from stockx_export.run.runner import Executor
from stockx_export.run.testing.data_tests import run_data_test
from stockx_export.run.testing.unit import run_unit_test

EXECUTORS: Mapping[str, Executor] = MappingProxyType({
    "seed": with_node_hooks(run_seed),
    "model": checking_files(with_node_hooks(run_model)),
    "snapshot": checking_files(with_node_hooks(run_snapshot)),
    "test": checking_files(run_data_test),
    "unit_test": run_unit_test,
})
