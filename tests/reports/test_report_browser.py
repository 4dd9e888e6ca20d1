"""The HTML report opened in a real headless Chromium (Debian's /usr/bin/chromium; no downloaded browsers).

These tests fail, not skip, when Chromium is missing: CI installs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_fixture import MODELS, N_CLASSIFY, N_GENERATE, XSS_IMG, XSS_SCRIPT, build_report_data

from llamacompare.analysis.contract import Report
from llamacompare.reports import render_html

REPO = Path(__file__).resolve().parents[2]


def expected_disagreements(data: dict[str, Any]) -> int:
    """Written out independently of the renderer: labels for classify, text for generate."""
    types = {t["id"]: t["type"] for t in data["tasks"]}
    n = 0
    for c in data["cases"]:
        if types[c["task"]] == "classify":
            values = {a["label"] or "(no label)" for a in c["answers"].values()}
        else:
            values = {None if a["text"] is None else a["text"].strip() for a in c["answers"].values()}
        n += len(values) > 1
    return n


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html(Report.model_validate(build_report_data())), encoding="utf-8")
    return path


class Page:
    """A loaded report page plus everything it logged and requested."""

    def __init__(self, page: Any, url: str) -> None:
        self.page, self.url = page, url
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: m.type in ("error", "warning") and self.console_errors.append(m.text))
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def rows(self) -> Any:
        return self.page.locator("#case-body tr.case-row")

    def matching(self) -> int:
        return int(self.page.get_attribute("#case-status", "data-matching") or -1)


def _open(browser: Any, path: Path, **context_kw: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, **context_kw)
    page = context.new_page()
    p = Page(page, path.as_uri())
    page.goto(p.url)
    page.wait_for_selector("#case-body tr.case-row")
    yield p
    # Whatever a test clicked, the page must not have logged errors or touched the network.
    context.close()
    assert p.page_errors == []
    assert p.console_errors == []
    assert p.dialogs == []
    assert [u for u in p.requests if u != p.url] == []


@pytest.fixture
def page(browser: Any, report_file: Path) -> Iterator[Page]:
    yield from _open(browser, report_file)


def test_loads_without_errors_or_network(page: Page) -> None:
    page.page.wait_for_timeout(200)  # let anything lazy fire
    assert page.page_errors == []
    assert page.console_errors == []
    assert page.requests == [page.url]  # only the file itself
    csp = page.page.get_attribute('meta[http-equiv="Content-Security-Policy"]', "content") or ""
    assert "default-src 'none'" in csp


def test_summary_tables_recommendation_and_charts(page: Page) -> None:
    pg = page.page
    assert pg.locator("table.summary").count() == 2
    first = pg.locator("table.summary").first
    assert first.locator("tbody tr").count() == 4  # 3 models + the majority baseline
    assert "0.93 [0.79, 0.98]" in first.inner_text()
    claude = first.locator("tbody tr", has_text="claude-3-5-haiku")
    assert "unknown" in claude.inner_text()  # unknown cost is "unknown", never $0
    assert first.locator("tr.baseline-row").count() == 1
    assert first.locator(".badge-best").count() == 2
    assert pg.locator(".recommendation").first.is_visible()
    assert "gpt-4o-mini: tied for best accuracy" in pg.locator(".recommendation").first.inner_text()

    svgs = pg.locator("svg.scatter")
    assert svgs.count() == 4  # quality vs cost and vs latency, per task
    cost_chart = svgs.nth(0)
    plotted = sorted(cost_chart.locator("g.point").evaluate_all("els => els.map(e => e.dataset.model)"))
    assert plotted == ["gemma-3-270m", "gpt-4o-mini"]  # claude's cost is unknown: listed apart
    assert "claude-3-5-haiku" in pg.locator(".not-plotted").first.inner_text()
    front = cost_chart.locator("g.point.on-frontier").evaluate_all("els => els.map(e => e.dataset.model)")
    assert sorted(front) == ["gemma-3-270m", "gpt-4o-mini"]
    assert cost_chart.locator("line.errbar").count() == 6  # a bar and two caps per point
    latency_chart = svgs.nth(1)
    dominated = latency_chart.locator("g.point:not(.on-frontier)").evaluate_all(
        "els => els.map(e => e.dataset.model)"
    )
    assert dominated == ["claude-3-5-haiku"]  # slower than gpt-4o-mini with the same accuracy
    assert pg.locator("table.heat").count() == 3
    assert pg.locator("#run-diff .verdict").first.inner_text() == "B higher"


def test_matrix_columns_and_first_page(page: Page) -> None:
    heads = page.page.locator("#case-head th").all_inner_texts()
    assert heads == ["Case", *MODELS]
    assert page.rows().count() == N_CLASSIFY + N_GENERATE  # 50 fit on the first page
    assert page.matching() == N_CLASSIFY + N_GENERATE


def test_search_filters_rows(page: Page) -> None:
    pg = page.page
    pg.fill("#case-search", "g-007")
    pg.wait_for_selector('#case-status[data-matching="1"]')
    assert page.rows().count() == 1
    assert "Article 7" in page.rows().first.inner_text()
    # Turkish: dotted capital İ and dotless ı are found from plain ASCII.
    pg.fill("#case-search", "istanbul isik")
    pg.wait_for_selector('#case-status[data-matching="2"]')
    ids = page.rows().locator(".case-id").all_inner_texts()
    assert ids == ["s-011", "g-006"]
    pg.fill("#case-search", "no such text anywhere")
    pg.wait_for_selector('#case-status[data-matching="0"]')
    assert page.rows().count() == 0
    assert "No cases match" in pg.locator("#case-body").inner_text()
    pg.fill("#case-search", "")
    pg.wait_for_selector('#case-status[data-matching="50"]')


def test_disagreement_filter(page: Page) -> None:
    data = build_report_data()
    expected = expected_disagreements(data)
    assert expected == 21  # 6 classify cases + 15 of 20 generate cases (fixed by the fixture's design)
    page.page.check("#case-disagree")
    assert page.matching() == expected
    assert page.rows().count() == expected
    assert page.page.locator("#case-body tr.case-row:not(.disagree)").count() == 0
    page.page.select_option("#case-task", "sentiment")
    assert page.rows().count() == 6
    page.page.uncheck("#case-disagree")
    assert page.rows().count() == N_CLASSIFY


def test_clicking_a_cell_shows_its_details(page: Page) -> None:
    pg = page.page
    cell = pg.locator('tr.case-row[data-index="34"] td.answer[data-model="claude-3-5-haiku"]')
    cell.click()
    detail = pg.locator("#case-body tr.detail-row")
    assert detail.count() == 1
    text = detail.text_content() or ""  # not inner_text: the labels are uppercased by CSS
    for expected in ("Rendered prompt", "Summarize in one sentence.", "Parameters", '"temperature": 0',
                     '"max_tokens": 256', "0.91 s", "Prompt tokens", "120", "unknown", "Score"):
        assert expected in text, expected
    assert cell.get_attribute("aria-expanded") == "true"
    # Another model's cell in the same row swaps the details; clicking it again closes them.
    other = pg.locator('tr.case-row[data-index="34"] td.answer[data-model="gpt-4o-mini"]')
    other.click()
    assert detail.count() == 1
    assert "$0.0027" in detail.inner_text()  # 2e-5 $/token x (120 + 15) tokens
    other.click()
    assert detail.count() == 0
    # Keyboard works too.
    pg.locator('tr.case-row[data-index="35"] td.answer[data-model="gemma-3-270m"]').focus()
    pg.keyboard.press("Enter")
    assert detail.count() == 1


def test_word_diff_between_two_columns(page: Page) -> None:
    pg = page.page
    pg.select_option("#diff-a", "gpt-4o-mini")
    pg.select_option("#diff-b", "claude-3-5-haiku")
    pg.check("#diff-on")
    cell = pg.locator('tr.case-row[data-index="33"] td.answer[data-model="claude-3-5-haiku"]')  # g-003
    assert cell.locator("del").all_inner_texts() == ["The city ", "a ", "park budget after a long debate"]
    assert cell.locator("ins").all_inner_texts() == ["After long debate, the ", "for new parks"]
    assert "council approved" in cell.inner_text()
    # Where both answers are the same there is nothing to mark.
    same = pg.locator('tr.case-row[data-index="34"] td.answer[data-model="claude-3-5-haiku"]')  # g-004
    assert same.locator("ins, del").count() == 0
    assert pg.locator("#case-head .col-tag").all_inner_texts() == ["A", "B"]
    pg.uncheck("#diff-on")
    assert pg.locator("#case-body ins, #case-body del").count() == 0


def test_review_marks_on_answers_not_on_failed_requests(page: Page) -> None:
    pg = page.page
    failed = pg.locator('tr.case-row[data-index="5"] td.answer[data-model="gemma-3-270m"]')  # a timeout
    assert "TimeoutError" in failed.inner_text() and failed.locator("button.hl-btn").count() == 0
    cell = pg.locator('tr.case-row[data-index="5"] td.answer[data-model="gpt-4o-mini"]')
    cell.locator('button[data-label="wrong"]').click()
    assert pg.locator("#case-body tr.detail-row").count() == 0  # a mark is not a click on the answer
    assert cell.locator('button[data-label="wrong"]').get_attribute("aria-pressed") == "true"
    saved = pg.evaluate("JSON.parse(localStorage.getItem('llamacompare-labels:20261127-0812-ab12'))")
    assert [(v["case"], v["model"], v["mode"], v["label"]) for v in saved["labels"].values()] == [
        ("s-005", "gpt-4o-mini", "generate", "wrong")]
    cell.locator('button[data-label="wrong"]').click()  # again: unmarked
    assert pg.get_attribute("#hl-count", "data-count") == "0"
    # A pair where one side failed cannot be compared.
    pg.select_option("#diff-a", "gpt-4o-mini")
    pg.select_option("#diff-b", "gemma-3-270m")
    pg.check("#diff-on")
    assert pg.locator('tr.case-row[data-index="5"] button[data-pair]').count() == 0
    assert pg.locator('tr.case-row[data-index="4"] button[data-pair]').count() == 3


def test_injected_markup_is_inert_text(page: Page) -> None:
    pg = page.page
    pg.wait_for_timeout(200)
    assert pg.evaluate("window.__xss") is None
    assert pg.locator('img[src="x"]').count() == 0
    assert pg.locator("#case-body script").count() == 0
    xss_cell = pg.locator('tr.case-row[data-index="9"] td.answer[data-model="gpt-4o-mini"]')
    assert XSS_SCRIPT in xss_cell.inner_text()
    assert XSS_IMG in pg.locator('tr.case-row[data-index="10"] .case-input').inner_text()
    xss_cell.click()
    assert XSS_SCRIPT in pg.locator("tr.detail-row").inner_text()
    pg.fill("#case-search", "onerror")
    pg.wait_for_selector('#case-status[data-matching="2"]')
    assert XSS_IMG in page.rows().nth(1).inner_text()
    assert pg.evaluate("window.__xss") is None


def test_paging(page: Page) -> None:
    pg = page.page
    pg.select_option("#page-size", "25")
    assert page.rows().count() == 25
    assert pg.is_disabled("#page-prev")
    pg.click("#page-next")
    assert page.rows().count() == 25
    assert page.rows().first.locator(".case-id").inner_text() == "s-025"
    assert pg.is_disabled("#page-next")
    assert "Rows 26–50 of 50" in pg.locator("#page-info").inner_text()


def test_large_run_renders_one_page_of_rows(browser: Any, tmp_path: Path) -> None:
    data = build_report_data()
    base = data["cases"]
    data["cases"] = [dict(base[i % len(base)], id=f"c-{i:04d}") for i in range(872)]
    data["run"]["n_cases"] = 872
    path = tmp_path / "large.html"
    path.write_text(render_html(Report.model_validate(data)), encoding="utf-8")
    for p in _open(browser, path):
        assert p.matching() == 872
        assert p.rows().count() == 50  # not 872 x 3 cells up front
        assert p.page.locator("#case-body td").count() == 50 * (1 + len(MODELS))
        p.page.fill("#case-search", "c-0871")
        p.page.wait_for_selector('#case-status[data-matching="1"]')


def test_dark_mode_and_screenshot(browser: Any, report_file: Path) -> None:
    for p in _open(browser, report_file, color_scheme="dark"):
        assert p.page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(246, 247, 249)"
    artifacts = REPO / "artifacts"
    artifacts.mkdir(exist_ok=True)
    for p in _open(browser, report_file):
        p.page.check("#diff-on")
        p.page.locator('tr.case-row[data-index="9"] td.answer[data-model="gpt-4o-mini"]').click()
        p.page.screenshot(path=str(artifacts / "report.png"), full_page=True)
    assert (artifacts / "report.png").stat().st_size > 10_000
