from __future__ import annotations

import re

from llamacompare.analysis.contract import Report
from llamacompare.reports import render_markdown
from llamacompare.reports.markdown import md_text

UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _tables(md: str) -> list[list[str]]:
    tables, current = [], []
    for line in md.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def test_summary_tables(report_data: Report) -> None:
    md = render_markdown(report_data)
    assert md.startswith("## llamacompare run 20261127-0812-ab12 — suite seed\n")
    assert "### Task sentiment (classify, generate)" in md
    assert "### Task summarize (generate)" in md
    assert "| **gpt-4o-mini** ★ | **0.93 [0.79, 0.98]** | 96.7% | 0.62 s / 1.30 s | $0.074 | 30 | 0 |" in md
    assert "| claude-3-5-haiku | 0.49 [0.44, 0.53] | 100.0% | 0.91 s / 1.91 s | unknown | 20 | 1 |" in md
    assert "*majority baseline (baseline)*" in md
    assert "> **Recommendation:** gpt-4o-mini: tied for best accuracy" in md
    assert "+0.121 [+0.070, +0.170] | <0.001" in md  # a significant pairwise difference
    assert "McNemar exact |" in md and "+0.000 [-0.100, +0.100]" not in md  # p = 1.0: not listed
    assert "### Run diff: A = 20261120-1500-ff00, B = 20261127-0812-ab12" in md
    # Every table row has as many cells as its header.
    for table in _tables(md):
        widths = {len(UNESCAPED_PIPE.findall(row)) for row in table}
        assert len(widths) == 1, table


def test_pipes_newlines_and_markup_are_escaped(report_data: Report) -> None:
    report_data.tasks[0].models[0].model = "evil|model\nname <script>x</script>"
    report_data.tasks[1].recommendation.line = "No single winner | gpt leads\non rougeL"
    md = render_markdown(report_data)
    row = next(line for line in md.splitlines() if "evil" in line)
    assert "evil\\|model<br>name \\<script\\>x\\</script\\>" in row
    assert "<script>" not in md
    assert "> **Recommendation:** No single winner \\| gpt leads<br>on rougeL" in md
    for table in _tables(md):
        assert len({len(UNESCAPED_PIPE.findall(r)) for r in table}) == 1


def test_md_text() -> None:
    assert md_text("a|b") == "a\\|b"
    assert md_text("x\r\ny\nz") == "x<br>y<br>z"
    assert md_text("*bold* [link](http://x) `code`") == "\\*bold\\* \\[link\\]\\(http://x\\) \\`code\\`"
    assert md_text("İstanbul ışık & ğ") == "İstanbul ışık &amp; ğ"


def test_no_diff_no_recommendation(report_data: Report) -> None:
    report_data.diff = None
    for t in report_data.tasks:
        t.recommendation = None
        t.pairwise = []
    md = render_markdown(report_data)
    assert "Run diff" not in md and "Recommendation" not in md and "Significant differences" not in md
