"""Settings as a new axis (issue 29): a task's `settings:` run every case for every model x setting, each row named
`MODEL · SETTING` in `run --json`, export, HTML, Markdown and compare(), a model's settings paired on the same
cases, and `diff` between two runs pairing the same four rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli
from tests.support.scripted_server import ScriptedServer

SUITE = """
name: ayarlar
tasks:
  - id: duygu
    type: classify
    labels: {Pozitif: [olumlu], Negatif: [olumsuz]}
    template: "Mesaj: {text}\\nDuygu:"
    settings:
      - {id: t0, params: {temperature: 0}}
      - {id: t07, params: {temperature: 0.7, max_tokens: 5}}
    cases:
      - {id: a, text: "Ne iyi bir gün!", label: Pozitif}
      - {id: b, text: "Çok kötü bir film.", label: Negatif}
      - {id: c, text: "İyi ki geldin.", label: Pozitif}
      - {id: d, text: "Kötü haber.", label: Negatif}
"""
ROWS = ["openai:alpha · t0", "openai:alpha · t07", "openai:beta · t0", "openai:beta · t07"]


def _answer(body: dict[str, Any]) -> str:
    """Right at temperature 0; at 0.7 alpha always says Negatif, beta stays right."""
    content = "\n".join(m["content"] for m in body.get("messages") or [])
    gold = "Pozitif" if "iyi" in content.replace("İ", "i") else "Negatif"
    return "Negatif" if body["model"] == "alpha" and body.get("temperature") == 0.7 else gold


@pytest.fixture(scope="module")
def settings_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]], list[Any]]:
    tmp = tmp_path_factory.mktemp("settings")
    suite, db = tmp / "ayarlar.yaml", tmp / "runs.db"
    suite.write_text(SUITE, encoding="utf-8")
    bodies: list[dict[str, Any]] = []

    def answer(body: dict[str, Any]) -> str:
        bodies.append(body)
        return _answer(body)

    outs = []
    with ScriptedServer(["alpha", "beta"], answer=answer) as srv:
        for _ in range(2):  # the second run is served from the cache: the same rows, for `diff`
            res = run_cli("run", str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--base-url", srv.base_url,
                          "--db", str(db), "--json")
            assert res.returncode == 0, res.stderr
            outs.append(json.loads(res.stdout))
    return db, outs, bodies


def test_every_case_runs_under_every_setting_with_its_params(
        settings_runs: tuple[Path, list[dict[str, Any]], list[Any]]) -> None:
    _, _, bodies = settings_runs
    assert len(bodies) == 4 * 2 * 2  # cases x models x settings, the second run all from the cache
    sent = {(b["model"], b.get("temperature"), b.get("max_tokens")) for b in bodies}
    assert sent == {("alpha", 0.0, 64), ("alpha", 0.7, 5), ("beta", 0.0, 64), ("beta", 0.7, 5)}


def test_four_contenders_named_in_run_json_with_settings_paired(
        settings_runs: tuple[Path, list[dict[str, Any]], list[Any]]) -> None:
    _, outs, _ = settings_runs
    task = outs[0]["report"]["tasks"][0]
    rows = {m["model"]: m for m in task["models"] if not m["is_baseline"]}
    assert sorted(rows) == ROWS
    assert rows["openai:alpha · t07"]["setting"] == "t07" and rows["openai:alpha · t07"]["base_model"] == "openai:alpha"
    assert rows["openai:alpha · t07"]["metrics"]["accuracy"]["value"] == 0.5
    assert rows["openai:beta · t07"]["metrics"]["accuracy"]["value"] == 1.0
    assert task["settings"] == ["t0", "t07"]
    pairs = {frozenset((p["a"], p["b"])) for p in task["prompt_pairs"]}
    assert pairs == {frozenset(ROWS[:2]), frozenset(ROWS[2:])}  # each model's two settings, paired


def test_export_html_markdown_and_compare_carry_the_setting(
        settings_runs: tuple[Path, list[dict[str, Any]], list[Any]], tmp_path: Path) -> None:
    db, outs, _ = settings_runs
    run_id = outs[0]["outcome"]["run_id"]
    res = run_cli("export", run_id, "--db", str(db), "--format", "csv")
    assert res.returncode == 0, res.stderr
    table = list(csv.DictReader(io.StringIO(res.stdout)))
    assert len(table) == 16 and "prompt" not in table[0]
    assert {(r["model"], r["setting"]) for r in table} == {(m, s) for m in ("openai:alpha", "openai:beta")
                                                           for s in ("t0", "t07")}
    html = run_cli("report", run_id, "--db", str(db), "-o", str(tmp_path / "r.html"))
    assert html.returncode == 0, html.stderr
    page = (tmp_path / "r.html").read_text("utf-8")
    assert all(name in page for name in ROWS) and "Settings compared for each model" in page
    md = run_cli("report", run_id, "--db", str(db), "--format", "markdown", "-o", str(tmp_path / "r.md"))
    assert md.returncode == 0, md.stderr
    assert "Settings compared for each model, paired on the same cases:" in (tmp_path / "r.md").read_text("utf-8")
    shown = run_cli("show", run_id, "--db", str(db))
    assert "settings, for the same model (paired on the same cases):" in shown.stdout

    from llamacompare.analysis.runs import run_report
    from llamacompare.comparison import Comparison
    from llamacompare.store import Store

    with Store(db) as store:
        c = Comparison(run_report(store, run_id), db)
    summary = c.summary()
    named = summary[summary["model"].str.startswith("openai:")]
    assert list(zip(named["model"], named["setting"], named["value"], strict=True)) == [
        ("openai:alpha", "t0", 1.0), ("openai:alpha", "t07", 0.5), ("openai:beta", "t0", 1.0),
        ("openai:beta", "t07", 1.0)]
    assert set(c.to_pandas()["setting"]) == {"t0", "t07"}


def test_diff_between_two_runs_pairs_the_same_rows(
        settings_runs: tuple[Path, list[dict[str, Any]], list[Any]]) -> None:
    db, outs, _ = settings_runs
    a, b = (o["outcome"]["run_id"] for o in outs)
    res = run_cli("diff", a, b, "--db", str(db), "--json")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)["rows"]
    assert sorted(r["model"] for r in rows) == ROWS
    assert all(r["n"] == 4 and r["diff"] == 0 for r in rows)


def test_bad_settings_are_named_by_file_line_and_field(tmp_path: Path) -> None:
    suite = tmp_path / "bad.yaml"
    suite.write_text(SUITE.replace("{id: t07,", "{id: t0,"), encoding="utf-8")
    res = run_cli("run", str(suite), "-m", "openai:alpha", "--base-url", "http://127.0.0.1:9/v1")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "bad.yaml:" in res.stderr and "settings[1].id" in res.stderr and "duplicate setting id 't0'" in res.stderr
