"""From a run to the report in a real browser: markup in model answers and dataset text never runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.conftest import run_cli
from tests.support.scripted_server import ScriptedServer

CHROMIUM = os.environ.get("LLAMACOMPARE_CHROMIUM", "/usr/bin/chromium")
XSS = "<script>window.__xss = 1</script><img src=x onerror=\"window.__xss = 2\">"

SUITE = """
name: xss
tasks:
  - id: t
    type: classify
    labels: {Pozitif: [], Negatif: []}
    template: "Mesaj: {text}"
    cases:
      - {id: a, text: "<img src=x onerror=\\"window.__xss = 3\\">güzel", label: Pozitif}
      - {id: b, text: "kötü </script><script>window.__xss = 4</script>", label: Negatif}
"""


def test_injected_markup_from_models_and_data_does_not_run(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium)")
    suite = tmp_path / "xss.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    db, out = tmp_path / "x.db", tmp_path / "report.html"
    with ScriptedServer(["alpha", "beta"], answer=lambda body: f"Pozitif {XSS}") as srv:
        res = run_cli("run", str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--base-url", srv.base_url,
                      "--db", str(db), "--no-progress")
        assert res.returncode == 0, res.stderr
    assert run_cli("report", "--db", str(db), "-o", str(out)).returncode == 0
    md = run_cli("report", "--db", str(db), "--format", "markdown", "-o", str(tmp_path / "r.md"))
    assert md.returncode == 0
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(out.as_uri())
        page.wait_for_timeout(300)
        assert page.evaluate("window.__xss") is None
        assert page.locator("img[src='x']").count() == 0
        assert "<script>window.__xss = 1</script>" in page.inner_text("body")  # shown as text
        assert not errors
        browser.close()
