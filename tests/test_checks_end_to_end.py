"""A suite with checks run on the bundled model through the command line: every check is a metric with its interval
and paired tests in `show --json`, its reasons reach the export, the Markdown and the HTML report (whose filter to
a failing check is driven in Chromium), and `compare()` in a notebook lists the same. User code runs only with
the suite file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli

SUITE = r"""
name: checks-e2e
models:
  - {name: local:gemma-3-270m, label: g0}
  - {name: local:gemma-3-270m, label: g1, params: {temperature: 1.5, seed: 11}}
tasks:
  - id: sehir
    type: generate
    template: "Türkiye'nin en kalabalık şehri hangisidir? {q}"
    reference: ref
    params: {max_tokens: 8}
    checks:
      - max_words: 500
      - icontains: istanbul
      - json_schema: {type: object, required: [city]}
      - python: my_checks.py:not_b
    cases:
      - {id: a, q: "Tek kelime ile yanıt ver.", ref: '{"city": "İstanbul"}'}
      - id: b
        q: "Kısaca yanıt ver."
        ref: '{"city": "İstanbul"}'
        checks:
          - {contains: "§§§", name: impossible}
"""

USER_CHECKS = '''
def not_b(answer, case, task):
    if case.id == "b":
        raise ValueError(f"case b of {task.id} is checked by hand")
    return True
'''


@pytest.mark.slow
def test_checks_reach_every_view(tmp_path: Path, browser: Any) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    (tmp_path / "my_checks.py").write_text(USER_CHECKS, encoding="utf-8")
    db = tmp_path / "r.db"
    res = run_cli("run", str(suite), "--db", str(db), "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "task sehir: checks passed, 95% CI" in res.stdout

    shown = run_cli("show", "--db", str(db), "--json")
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    report = report.get("report", report)
    task = report["tasks"][0]
    rows = {r["model"]: r for r in task["models"]}
    assert set(rows) == {"g0", "g1"}
    for row in rows.values():
        m = row["metrics"]
        assert m["check:max_words:500"]["value"] == 1.0 and m["check:max_words:500"]["lo"] < 1.0  # an interval
        assert m["check:python:not_b"]["value"] == 0.5 and m["check:python:not_b"]["hi"] > 0.5
        assert m["check:impossible"]["value"] == 0.0  # case b's own check
        for name in ("check:icontains:istanbul", "check:json_schema", "json_fields", "all_checks"):
            assert name in m and 0.0 <= m[name]["value"] <= 1.0
    paired = {p["metric"]: p for p in task["pairwise"]}
    assert {"check:max_words:500", "check:python:not_b", "check:impossible", "all_checks"} <= set(paired)
    assert paired["check:python:not_b"]["diff"] == 0.0 and paired["check:python:not_b"]["n"] == 2
    case_b = next(c for c in report["cases"] if c["id"] == "b")
    for answer in case_b["answers"].values():
        assert answer["checks"]["check:python:not_b"] == {"value": 0.0,
                                                          "reason": "ValueError: case b of sehir is checked by hand"}
        assert answer["checks"]["check:impossible"] == {"value": 0.0, "reason": '"§§§" not found'}
    case_a = next(c for c in report["cases"] if c["id"] == "a")
    assert all("check:impossible" not in a["checks"] for a in case_a["answers"].values())
    assert "§§§" not in case_b["input"]  # a case's checks are not shown as its input

    exported = run_cli("export", "--db", str(db), "--format", "jsonl")
    assert exported.returncode == 0, exported.stderr
    records = [json.loads(line) for line in exported.stdout.splitlines()]
    b_records = [r for r in records if r["case"] == "b"]
    assert len(b_records) == 2 and all(r["scores"]["check:python:not_b"] == 0.0 for r in b_records)
    assert all(r["check_reasons"]["check:impossible"] == '"§§§" not found' for r in b_records)

    md = tmp_path / "r.md"
    assert run_cli("report", "--db", str(db), "--format", "markdown", "-o", str(md)).returncode == 0
    assert "Checks (share of answers passing, 95% CI):" in md.read_text(encoding="utf-8")
    html = tmp_path / "r.html"
    assert run_cli("report", "--db", str(db), "-o", str(html)).returncode == 0
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(html.as_uri())
    page.wait_for_selector("#case-body tr.case-row")
    assert "python:not_b" in page.locator("table.checks-table").inner_text()
    page.select_option("#case-check", "check:python:not_b")
    page.wait_for_selector('#case-status[data-matching="1"]')
    assert page.locator("#case-body .case-id").all_inner_texts() == ["b"]
    assert "ValueError: case b of sehir is checked by hand" in page.locator("#case-body td.answer").first.inner_text()
    page.select_option("#case-check", "")
    page.wait_for_selector('#case-status[data-matching="2"]')
    page.close()
    assert errors == []

    # the stored suite has no folder: rescoring without the suite file runs no user code, and says so
    assert run_cli("rescore", "--db", str(db)).returncode == 0
    again = json.loads(run_cli("show", "--db", str(db), "--json").stdout)
    again = again.get("report", again)
    assert "check:python:not_b" not in again["tasks"][0]["models"][0]["metrics"]
    outcome = next(iter(again["cases"][0]["answers"].values()))["checks"]["check:python:not_b"]
    assert outcome["value"] is None and "rescore --suite" in outcome["reason"]
    assert run_cli("rescore", "--db", str(db), "--suite", str(suite)).returncode == 0
    again = json.loads(run_cli("show", "--db", str(db), "--json").stdout)
    again = again.get("report", again)
    assert again["tasks"][0]["models"][0]["metrics"]["check:python:not_b"]["value"] == 0.5

    from llamacompare import compare

    c = compare(str(suite), db=db, progress=False)  # the same answers, from the cache
    checks = c.checks()
    assert set(checks["model"]) == {"g0", "g1"}
    assert checks.loc[(checks.model == "g0") & (checks.check == "python:not_b"), "value"].item() == 0.5
    frame = c.to_pandas()
    b_rows = frame[frame.case == "b"]
    assert all(r["check:impossible"] == '"§§§" not found' for r in b_rows.check_reasons)
