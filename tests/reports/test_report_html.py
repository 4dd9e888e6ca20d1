"""The HTML report as text: self-contained, escaped, with a CSP pinned to its own script and style."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import unescape
from typing import Any

from report_fixture import XSS_IMG, XSS_SCRIPT

from llamacompare.analysis.contract import Report
from llamacompare.reports import render_html
from llamacompare.reports.html import disagrees, embed_json, model_columns


def _data_json(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="lc-data">(.*?)</script>', html, re.S)
    assert m
    return json.loads(m.group(1))


def test_self_contained(report_data: Report) -> None:
    html = render_html(report_data)
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html, re.I)
    assert "@import" not in html and "url(" not in html
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == ['<script type="application/json" id="lc-data">', "<script>"]


def test_csp_pins_the_inline_script_and_style(report_data: Report) -> None:
    html = render_html(report_data)
    csp = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1))
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    for body in (script, style):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert ' style="' not in html  # inline style attributes would be blocked by the CSP


def test_markup_from_data_is_escaped(report_data: Report) -> None:
    report_data.title = "Run <b>bold</b> & co"
    report_data.tasks[0].recommendation.line = XSS_SCRIPT
    report_data.tasks[0].models[0].model = XSS_IMG
    report_data.run.models.append(XSS_IMG)
    report_data.tasks[1].id = '"><svg onload=alert(1)>'
    html = render_html(report_data)
    assert "<svg onload" not in html
    static = html.split('<script type="application/json"')[0]
    assert "<b>bold</b>" not in static and "Run &lt;b&gt;bold&lt;/b&gt; &amp; co" in static
    assert XSS_SCRIPT not in html and XSS_IMG not in html
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in static


def test_embedded_json_cannot_break_out(report_data: Report) -> None:
    nasty = "</script><script>window.__xss=3</script><!-- \u2028\u2029 & İ"
    report_data.cases[0].answers["gpt-4o-mini"].text = nasty
    report_data.cases[0].answers["gpt-4o-mini"].score = float("nan")
    html = render_html(report_data)
    block = re.search(r'id="lc-data">(.*?)</script>', html, re.S).group(1)
    for bad in ("<", ">", "\u2028", "\u2029", "&"):
        assert bad not in block
    payload = _data_json(html)
    answer = payload["cases"][0]["answers"]["gpt-4o-mini"]
    assert answer["text"] == nasty  # round-trips exactly, Turkish İ kept as UTF-8
    assert answer["score"] is None  # NaN is not JSON
    assert "İ" in block


def test_embed_json_escapes() -> None:
    assert embed_json({"a": "</script>"}) == '{"a":"\\u003c/script\\u003e"}'
    assert json.loads(embed_json(["\u2028<!--"])) == ["\u2028<!--"]


def test_disagreement_rules(report_data: Report) -> None:
    case = report_data.cases[0]
    assert not disagrees(case, "classify")
    case.answers["gemma-3-270m"].label = None
    assert disagrees(case, "classify")
    gen = report_data.cases[30]  # g-000: all models wrote the same text
    assert not disagrees(gen, "generate")
    gen.answers["gpt-4o-mini"].text += "  \n"  # outer whitespace does not count
    assert not disagrees(gen, "generate")
    gen.answers["gpt-4o-mini"].text = None
    assert disagrees(gen, "generate")
    payload = _data_json(render_html(report_data))
    assert sum(c["disagree"] for c in payload["cases"]) == 21 + 2


def test_columns_keep_run_order_and_extra_modes(report_data: Report) -> None:
    assert model_columns(report_data) == ["gpt-4o-mini", "claude-3-5-haiku", "gemma-3-270m"]
    report_data.cases[0].answers["gemma@logprob"] = report_data.cases[0].answers["gemma-3-270m"]
    assert model_columns(report_data)[-1] == "gemma@logprob"


def test_unknown_cost_and_optional_sections(report_data: Report) -> None:
    report_data.diff = None
    report_data.tasks[1].recommendation = None
    html = render_html(report_data)
    assert 'id="run-diff"' not in html
    assert html.count('class="recommendation"') == 1
    assert html.count("unknown</td>") == 3  # claude twice and the baseline; never "$0" for them
    assert "Not plotted (cost unknown): claude-3-5-haiku" in html
