"""A Comparison's Jupyter views (cell HTML, text, chart, one case) drawn from the report's own pieces."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from report_fixture import MODELS, N_CLASSIFY, N_GENERATE, XSS_IMG, XSS_SCRIPT

from llamacompare import Comparison
from llamacompare.analysis.contract import Report
from llamacompare.reports import render_html
from llamacompare.reports.html import disagrees

SVG = "{http://www.w3.org/2000/svg}"


def comparison(data: Report, **kw: object) -> Comparison:
    return Comparison(data, Path("unused.db"), **kw)  # type: ignore[arg-type]


def test_cell_shows_summary_recommendation_charts_and_marked_cases(report_data: Report) -> None:
    html = comparison(report_data, rows=10)._repr_html_()
    for task in report_data.tasks:
        assert task.recommendation is not None and task.recommendation.line in html.replace("&#39;", "'")
    assert "0.93 [0.79, 0.98]" in html  # the interval, formatted as in the report
    assert html.count('<svg class="scatter"') == 4  # quality vs cost and vs latency for both tasks
    first = report_data.cases[0]
    assert first.input in html and f"<b>Reference: </b>{first.reference}" in html
    assert "✓ correct" in html and "✗ wrong" in html
    assert html.count('class="case-row') == 10
    assert f"{N_CLASSIFY + N_GENERATE - 10} more cases not shown here" in html
    assert ".report(" in html and ".to_pandas()" in html and ".show(" in html
    # the local model costs $0, written by the one formatter; never a long run of zeros
    assert ">$0<" in html and "$0.000000" not in html


def test_cell_html_is_escaped_and_its_styles_touch_nothing_outside(report_data: Report) -> None:
    html = comparison(report_data, rows=100)._repr_html_()
    assert XSS_SCRIPT not in html and XSS_IMG not in html and "<script" not in html
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert style is not None
    selectors = [s.strip() for block in re.findall(r"(?:^|})\s*([^{}@]+)\{", style.group(1)) for s in block.split(",")]
    assert selectors and all(s.startswith(".lc-nb") for s in selectors), [s for s in selectors if
                                                                          not s.startswith(".lc-nb")]


def test_disagreements_come_first(report_data: Report) -> None:
    types = {t.id: t.type for t in report_data.tasks}
    expected = [c.id for c in report_data.cases if disagrees(c, types[c.task])]
    assert 0 < len(expected) < len(report_data.cases)
    html = comparison(report_data).disagreements(rows=len(expected) + 1)._repr_html_()
    ids = re.findall(r'<span class="case-id">([^<]+)</span>', html)
    assert ids[: len(expected)] == expected and ids[len(expected)] not in expected
    assert f"{len(expected)} of {N_CLASSIFY + N_GENERATE} cases where the models disagree" in html


def test_text_repr_is_the_terminal_summary(report_data: Report) -> None:
    text = repr(comparison(report_data, rows=5))
    assert "0.93 [0.79, 0.98]" in text and "gpt-4o-mini: tied for best accuracy" in text
    assert "\x1b[" not in text
    assert "50 cases not shown here" in text  # both tasks have more than 5 cases: none is listed


def test_plot_is_the_reports_chart_as_a_standalone_svg(report_data: Report, tmp_path: Path) -> None:
    chart = comparison(report_data).plot()
    svg = chart._repr_svg_()
    root = ET.fromstring(svg)  # a well-formed SVG document
    assert root.tag == f"{SVG}svg" and root.find(f"{SVG}style") is not None
    # the same points as the report draws, at the same coordinates
    report_points = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="5.5">', render_html(report_data))
    chart_points = [(c.get("cx"), c.get("cy")) for c in root.iter(f"{SVG}circle") if c.get("r") == "5.5"]
    assert sorted(chart_points) == sorted(report_points) and len(chart_points) >= 4
    saved = chart.save(tmp_path / "chart.svg")
    ET.parse(saved)
    only = comparison(report_data).plot("cost", task="sentiment")
    assert len(only.panels) == 1 and "Quality vs cost" in only.to_svg()
    with pytest.raises(ValueError, match=r"\.svg or \.html"):
        chart.save(tmp_path / "chart.png")
    with pytest.raises(ValueError, match="no task 'nope'"):
        comparison(report_data).plot(task="nope")


def test_show_lists_prompt_parameters_tokens_latency_and_cost_of_each_answer(report_data: Report) -> None:
    case = report_data.cases[0]
    view = comparison(report_data).show(case.id)
    text, html = repr(view), view._repr_html_()
    for model in MODELS:
        answer = case.answers[model]
        assert f"== {model}" in text and model in html
        assert answer.prompt.splitlines()[0] in text and answer.prompt.splitlines()[0] in html
    assert '"temperature": 0.0' in text and "&#34;temperature&#34;: 0.0" in html
    assert "prompt tokens: 120" in text and "latency: 0.62 s" in text and "cost: $0.0024" in text
    assert "cost: $0 " in text and "cost: unknown" in text  # local model, unpriced model
    assert comparison(report_data).show(f"{case.task}/{case.id}").case is case
    with pytest.raises(KeyError, match="no case 'nope'"):
        comparison(report_data).show("nope")


def test_report_writes_the_full_page(report_data: Report, tmp_path: Path) -> None:
    out = comparison(report_data).report(tmp_path / "r.html")
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page == render_html(report_data)
