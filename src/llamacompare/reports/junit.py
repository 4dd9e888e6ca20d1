"""JUnit XML for CI: one testcase per task x model x gated metric, a failure when below the gate."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from llamacompare.analysis.contract import Report
from llamacompare.reports.gates import GateResult, evaluate_gates

# Characters XML 1.0 cannot hold at all, even escaped; a model name or task id must not break the file.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def render_junit(data: Report, gates: Mapping[str, float]) -> str:
    """JUnit XML text; raises UsageError for a gate on a metric no task has."""
    results = evaluate_gates(data, gates)
    by_task: dict[str, list[GateResult]] = {}
    for r in results:
        by_task.setdefault(r.task, []).append(r)

    root = ET.Element(
        "testsuites",
        name=_clean(f"llamacompare {data.run.id}"),
        tests=str(len(results)),
        failures=str(sum(not r.passed for r in results)),
        errors="0",
    )
    for task, items in by_task.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_clean(task),
            tests=str(len(items)),
            failures=str(sum(not r.passed for r in items)),
            errors="0",
            skipped="0",
            timestamp=_clean(data.generated_at),
        )
        for r in items:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_clean(f"llamacompare.{task}"),
                name=_clean(f"{r.model} {r.metric} >= {r.gate:g}"),
                time="0",
            )
            if not r.passed:
                failure = ET.SubElement(case, "failure", message=_clean(r.line()), type="QualityGate")
                failure.text = _clean(r.line())
            else:
                ET.SubElement(case, "system-out").text = _clean(r.line())
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
