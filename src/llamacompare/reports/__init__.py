"""Reports from one run: a self-contained HTML page, a Markdown summary and JUnit XML with quality gates."""

from llamacompare.reports.gates import check_gates
from llamacompare.reports.html import render_html
from llamacompare.reports.junit import render_junit
from llamacompare.reports.markdown import render_markdown

__all__ = ["check_gates", "render_html", "render_junit", "render_markdown"]
