from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from llamacompare.analysis.contract import Report
from llamacompare.errors import UsageError
from llamacompare.reports import check_gates, render_junit


def test_junit_one_case_per_task_model_metric(report_data: Report) -> None:
    root = ET.fromstring(render_junit(report_data, {"accuracy": 0.85, "rougeL": 0.4}))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("6", "2")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["sentiment", "summarize"]
    cases = root.iter("testcase")
    names = [c.get("name") for c in cases]
    assert "gemma-3-270m accuracy >= 0.85" in names
    assert not any("baseline" in n for n in names)  # the majority baseline is not gated
    failed = {c.get("name"): f for c in root.iter("testcase") if (f := c.find("failure")) is not None}
    assert set(failed) == {"gemma-3-270m accuracy >= 0.85", "gemma-3-270m rougeL >= 0.4"}
    message = failed["gemma-3-270m accuracy >= 0.85"].get("message")
    assert message == "sentiment / gemma-3-270m: accuracy 0.800 [0.627, 0.905] < gate 0.85"


def test_all_pass(report_data: Report) -> None:
    root = ET.fromstring(render_junit(report_data, {"accuracy": 0.5}))
    assert (root.get("tests"), root.get("failures")) == ("3", "0")
    assert check_gates(report_data, {"accuracy": 0.5}) == []


def test_check_gates_lines(report_data: Report) -> None:
    assert check_gates(report_data, {"accuracy": 0.9}) == [
        "sentiment / gemma-3-270m: accuracy 0.800 [0.627, 0.905] < gate 0.9",
    ]
    assert check_gates(report_data, {"accuracy": 0.8}) == []  # at the gate passes
    report_data.tasks[0].models[1].metrics = {}  # a model with no value fails its gate
    assert check_gates(report_data, {"accuracy": 0.8}) == [
        "sentiment / claude-3-5-haiku: accuracy no value < gate 0.8",
    ]


def test_unknown_gate_metric_is_a_usage_error(report_data: Report) -> None:
    with pytest.raises(UsageError) as err:
        check_gates(report_data, {"acuracy": 0.8})
    assert "'acuracy'" in str(err.value) and "known metrics: accuracy, rougeL" in str(err.value)
    with pytest.raises(UsageError):
        render_junit(report_data, {"bleu": 0.3})


def test_xml_stays_valid_with_odd_names(report_data: Report) -> None:
    report_data.tasks[0].models[0].model = 'ümit <"&"> \x00\x1b model'
    root = ET.fromstring(render_junit(report_data, {"accuracy": 0.85}))
    names = [c.get("name") for c in root.iter("testcase")]
    assert 'ümit <"&"> \ufffd\ufffd model accuracy >= 0.85' in names
