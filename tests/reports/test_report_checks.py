"""Checks in the views of a Report: a checks table per task (HTML, Markdown, terminal), each answer's ✓/✗ per check
with the reason, and the HTML report's filter to the cases where a given check fails, driven in Chromium."""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_fixture import MODELS, build_report_data
from rich.console import Console

from llamacompare.analysis.contract import Report
from llamacompare.reports import render_html
from llamacompare.reports.markdown import render_markdown
from llamacompare.reports.terminal import print_report

REGEX = "check:regex:\\d{4}"
PYTHON = "check:python:has_city"


def _outcomes(task: str, i: int, model: str) -> dict[str, dict[str, Any]]:
    """A fixed pattern of outcomes, written out so the expected counts below can be read off independently."""
    regex_fails = task == "summarize" and model == "gemma-3-270m" and i % 4 == 0  # cases 0, 4, 8, 12, 16
    python_fails = task == "summarize" and model == "claude-3-5-haiku" and i in (3, 4)
    return {
        REGEX: {"value": 0.0, "reason": "regex /\\d{4}/ not found"} if regex_fails else {"value": 1.0},
        PYTHON: ({"value": 0.0, "reason": "ValueError: no city named in <b>the answer</b>"} if python_fails
                 else {"value": 1.0}),
        "all_checks": {"value": 0.0 if regex_fails or python_fails else 1.0},
    }


def checks_report() -> Report:
    data = copy.deepcopy(build_report_data())
    summarize = next(t for t in data["tasks"] if t["id"] == "summarize")
    for row in summarize["models"]:
        row["metrics"][REGEX] = {"value": 0.75 if row["model"] == "gemma-3-270m" else 1.0, "lo": 0.53, "hi": 1.0}
        row["metrics"][PYTHON] = {"value": 0.9 if row["model"] == "claude-3-5-haiku" else 1.0, "lo": 0.7, "hi": 1.0}
        row["metrics"]["all_checks"] = {"value": 0.7, "lo": 0.48, "hi": 0.85}
    summarize["pairwise"].append({"a": "gpt-4o-mini", "b": "gemma-3-270m", "metric": REGEX, "diff": 0.25,
                                  "lo": 0.05, "hi": 0.45, "p_value": 0.0625, "test": "mcnemar-exact/tango"})
    for i, case in enumerate(c for c in data["cases"] if c["task"] == "summarize"):
        for model, answer in case["answers"].items():
            answer["checks"] = _outcomes("summarize", i, model)
    return Report.model_validate(data)


def test_html_lists_checks_in_their_own_table_and_marks_each_answer() -> None:
    html = render_html(checks_report())
    assert html.count('<table class="checks-table">') == 1  # only the task with checks
    table = html[html.index('<table class="checks-table">'):]
    table = table[: table.index("</table>")]
    assert "regex:\\d{4}" in table and "python:has_city" in table and "all checks passed" in table
    assert "0.75 [0.53, 1.00]" in table
    summary = html[html.index('id="task-1"'):html.index('<table class="checks-table">')]
    assert "regex:" not in summary  # the metrics table keeps the task's own metrics
    assert '"failed_checks":["check:regex:\\\\d{4}","all_checks"]' in html
    assert "<b>the answer</b>" not in html  # reasons are text, escaped in the embedded JSON


def test_markdown_and_terminal_show_the_checks_table() -> None:
    report = checks_report()
    md = render_markdown(report)
    assert "Checks (share of answers passing, 95% CI):" in md
    assert "| regex:\\\\d\\{4\\} | 1.00 [0.53, 1.00] | 1.00 [0.53, 1.00] | 0.75 [0.53, 1.00] |" in md
    out = io.StringIO()
    print_report(report, con=Console(file=out, width=80, highlight=False))
    text = out.getvalue()
    assert "task summarize: checks passed, 95% CI" in text and "python:has_city" in text
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("checks-report") / "report.html"
    path.write_text(render_html(checks_report()), encoding="utf-8")
    return path


@pytest.fixture
def page(browser: Any, report_file: Path) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: m.type in ("error", "warning") and errors.append(m.text))
    pg.on("request", lambda r: requests.append(r.url))
    pg.goto(report_file.as_uri())
    pg.wait_for_selector("#case-body tr.case-row")
    yield pg
    context.close()
    assert errors == []
    assert requests == [report_file.as_uri()]


def _matching(pg: Any) -> int:
    return int(pg.get_attribute("#case-status", "data-matching") or -1)


def test_the_report_filters_to_the_cases_where_a_check_fails(page: Any) -> None:
    pg = page
    options = pg.eval_on_selector_all("#case-check option", "os => os.map(o => [o.value, o.textContent])")
    assert options == [["", "Any check result"], [REGEX, "Fails: regex:\\d{4}"], [PYTHON, "Fails: python:has_city"],
                       ["all_checks", "Fails: any check"]]
    assert _matching(pg) == 50
    pg.select_option("#case-check", REGEX)
    assert _matching(pg) == 5  # gemma's cases 0, 4, 8, 12, 16
    rows = pg.locator("#case-body tr.case-row")
    assert [rows.nth(i).locator(".case-id").inner_text() for i in range(5)] == [
        "g-000", "g-004", "g-008", "g-012", "g-016"]
    gemma = rows.first.locator(f"td.answer[data-model='{MODELS[2]}']")
    assert "\u2717 regex:\\d{4}: regex /\\d{4}/ not found" in gemma.inner_text()
    assert "\u2713 python:has_city" in gemma.inner_text()
    pg.select_option("#case-check", PYTHON)
    assert _matching(pg) == 2
    claude = pg.locator("#case-body tr.case-row").first.locator(f"td.answer[data-model='{MODELS[1]}']")
    assert "ValueError: no city named in <b>the answer</b>" in claude.inner_text()  # shown as text
    pg.select_option("#case-check", "all_checks")
    assert _matching(pg) == 6  # 0, 4, 8, 12, 16 and 3 (4 fails both)
    pg.fill("#case-search", "g-003")  # the filters combine
    pg.wait_for_selector('#case-status[data-matching="1"]')
    pg.fill("#case-search", "")
    pg.select_option("#case-check", "")
    pg.wait_for_selector('#case-status[data-matching="50"]')
