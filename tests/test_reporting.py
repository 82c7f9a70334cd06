"""The run log on a terminal: colours as click writes them, though the library does not import click."""

from __future__ import annotations

import io

import click

from stockx_export.core.nodes import Node
from stockx_export.run.reporting import TextReporter
from stockx_export.run.results import NodeResult


def test_a_failed_node_is_red_and_a_warning_yellow_as_click_styles_them():
    out = io.StringIO()
    reporter = TextReporter(out=out, color=True)
    node = Node("model.p.m", "m", "model", "models/m.sql", "", {}, None)
    reporter.node_finished(1, 1, NodeResult(node, "error", "boom"))
    reporter.warn("careful")
    failed, warned = out.getvalue().splitlines()
    assert failed == click.style(failed.removeprefix("\x1b[31m").removesuffix("\x1b[0m"), fg="red")
    assert " 1 of 1 ERROR model m " in failed
    assert warned == click.style("Warning: careful", fg="yellow")
