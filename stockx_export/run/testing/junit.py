"""JUnit XML for CI: one test case per model, seed, data test and unit test of a run.

``fail`` becomes ``<failure>``, ``error`` ``<error>``, ``skipped`` ``<skipped>``; a
``warn`` passes, with its message and rows in ``<system-out>``. Failures carry
the message, the first failing rows (or the unit test diff) and the compiled SQL path.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from stockx_export.errors import ReportNotWritten
from stockx_export.tables import format_table

CLASSNAMES = {"model": "model", "seed": "seed", "snapshot": "snapshot", "test": "data_test", "unit_test": "unit_test"}
# Characters XML 1.0 cannot hold at all, escaped or not: a failing row may contain them.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_text(text: str) -> str:
    """``text`` with each character XML cannot carry shown as ``\\xNN``, so the report stays readable XML."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100 else f"\\u{ord(m.group(0)):04x}", text)


def _body(result) -> str:
    parts = [result.message] if result.message else []
    sample = result.extra.get("sample")
    if sample and sample.get("columns"):
        parts.append(format_table(sample["columns"], sample["rows"]))
    if result.detail:
        parts.append(result.detail)
    return "\n".join(parts)


def junit_xml(run, project_name: str) -> ET.Element:
    """The ``<testsuites>`` element for ``run``."""
    results = run.results
    counts = {
        "tests": len(results),
        "failures": sum(r.status == "fail" for r in results),
        "errors": sum(r.status == "error" for r in results),
        "skipped": sum(r.status == "skipped" for r in results),
    }
    suites = ET.Element("testsuites", {k: str(v) for k, v in counts.items()}, time=f"{run.elapsed:.3f}")
    suite = ET.SubElement(
        suites, "testsuite", {"name": f"stockx {run.command}", **{k: str(v) for k, v in counts.items()}}, time=f"{run.elapsed:.3f}"
    )
    for result in results:
        node = result.node
        case = ET.SubElement(
            suite,
            "testcase",
            name=node.name,
            classname=f"{project_name}.{CLASSNAMES.get(node.resource_type, node.resource_type)}",
            file=node.path,
            time=f"{result.execution_time:.3f}",
        )
        first_line = _xml_text((result.message or result.status).splitlines()[0])
        if result.status == "fail":
            ET.SubElement(case, "failure", message=first_line, type="fail").text = _xml_text(_body(result))
        elif result.status == "error":
            ET.SubElement(case, "error", message=first_line, type="error").text = _xml_text(_body(result))
        elif result.status == "skipped":
            ET.SubElement(case, "skipped", message=first_line)
        elif result.status == "warn":
            ET.SubElement(case, "system-out").text = _xml_text("WARN " + _body(result))
    return suites


def write_junit(path: str | os.PathLike, run, project_name: str) -> Path:
    """Write ``run`` as JUnit XML to ``path`` (folders created as needed)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tree = ET.ElementTree(junit_xml(run, project_name))
    ET.indent(tree)
    tree.write(target, encoding="utf-8", xml_declaration=True)
    return target


def write_report(path: str | os.PathLike, run, project_name: str) -> Path:
    """Write ``run``'s JUnit XML to ``path`` once the run and its artifacts are done;
    :class:`~stockx_export.errors.ReportNotWritten` when it cannot be written (a CI job
    that reads the file must not pass without it)."""
    try:
        return write_junit(path, run, project_name)
    except OSError as exc:
        raise ReportNotWritten(
            f"cannot write JUnit XML to {path}: {exc.strerror or exc}; the run itself finished and its results are "
            "in target/run_results.json: give --junit a path that can be written") from None
