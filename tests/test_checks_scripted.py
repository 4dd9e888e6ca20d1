"""Checks on a classify task and on structured answers, through the real command line against the scripted
OpenAI-compatible server (tests/support/scripted_server.py), whose answers are fixed per model: every figure below is
known in advance, so the pass rates, the paired test and the field-level score are asserted exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import run_cli
from tests.support.scripted_server import ScriptedServer

SUITE = r"""
name: scripted-checks
tasks:
  - id: duygu
    type: classify
    labels: {Pozitif: [olumlu], Negatif: [olumsuz]}
    template: "Mesaj: {text}\nDuygu:"
    checks:
      - max_words: 1
      - icontains: POZİTİF
    cases:
      - {id: "1", text: "Harika bir gün!", label: Pozitif}
      - {id: "2", text: "Berbat.", label: Negatif}
      - {id: "3", text: "Çok güzel.", label: Pozitif}
      - {id: "4", text: "İyi iş.", label: Pozitif}
  - id: olay
    type: generate
    template: "JSON: {text}"
    reference: ref
    checks:
      - json_schema: {type: object, required: [date, city], properties: {date: {type: string}}}
    cases:
      - {id: a, text: "Samsun, 19 Mayıs 1919", ref: '{"date": "1919-05-19", "city": "Samsun"}'}
      - {id: b, text: "Sivas, 4 Eylül 1919", ref: '{"date": "1919-09-04", "city": "Sivas"}'}
"""


def _answer(body: dict[str, Any]) -> str:
    model = body["model"]
    text = json.dumps(body.get("messages") or body.get("prompt"), ensure_ascii=False)
    if "JSON:" in text:
        if model == "alpha":  # a fenced block with both fields right
            city, date = ("Samsun", "1919-05-19") if "Samsun" in text else ("Sivas", "1919-09-04")
            return f'İşte:\n```json\n{{"date": "{date}", "city": "{city}"}}\n```'
        return '{"city": "Samsun", "date": 1919}' if "Samsun" in text else "Bilmiyorum."
    # alpha: one word, always POZİTİF; beta: "Pozitif, bence." (two words, the right label)
    return "POZİTİF" if model == "alpha" else "Pozitif, bence."


def test_checks_on_classify_and_structured_answers(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    db = tmp_path / "r.db"
    with ScriptedServer(["alpha", "beta"], answer=_answer) as srv:
        res = run_cli("run", str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--base-url", srv.base_url,
                      "--db", str(db), "--no-progress")
        assert res.returncode == 0, res.stderr
    shown = json.loads(run_cli("show", "--db", str(db), "--json").stdout)
    report = shown.get("report", shown)
    duygu, olay = report["tasks"]
    rows = {r["model"]: r["metrics"] for r in duygu["models"] if not r["is_baseline"]}
    alpha, beta = rows["openai:alpha"], rows["openai:beta"]
    assert duygu["primary_metric"] == "accuracy"  # checks add metrics, they do not replace a task's own
    assert alpha["check:max_words:1"]["value"] == 1.0 and beta["check:max_words:1"]["value"] == 0.0
    assert alpha["check:icontains:POZİTİF"]["value"] == 1.0 and beta["check:icontains:POZİTİF"]["value"] == 1.0
    assert alpha["all_checks"]["value"] == 1.0 and beta["all_checks"]["value"] == 0.0
    words = next(p for p in duygu["pairwise"] if p["metric"] == "check:max_words:1")
    assert (words["a"], words["b"], words["diff"], words["n"]) == ("openai:alpha", "openai:beta", 1.0, 4)
    assert words["test"] == "mcnemar-exact/tango" and words["p_value"] == 0.125  # 4 discordant pairs: 2 * 0.5^4
    baseline = next(r for r in duygu["models"] if r["is_baseline"])
    assert not any(m.startswith("check:") for m in baseline["metrics"])
    case = next(c for c in report["cases"] if c["task"] == "duygu" and c["id"] == "2")
    assert case["answers"]["openai:beta"]["checks"]["check:max_words:1"] == {
        "value": 0.0, "reason": "2 words, more than 1"}

    rows = {r["model"]: r["metrics"] for r in olay["models"]}
    assert rows["openai:alpha"]["check:json_schema"]["value"] == 1.0
    assert rows["openai:alpha"]["json_fields"]["value"] == 1.0
    assert rows["openai:beta"]["check:json_schema"]["value"] == 0.0
    assert rows["openai:beta"]["json_fields"]["value"] == 0.25  # case a: city right, date wrong; case b: no JSON
    answers = {c["id"]: c["answers"]["openai:beta"]["checks"] for c in report["cases"] if c["task"] == "olay"}
    assert answers["a"]["check:json_schema"]["reason"] == "field 'date': 1919 is not of type 'string'"
    assert answers["a"]["json_fields"]["reason"] == '1/2 fields match; date: 1919 ≠ "1919-05-19"'
    assert answers["b"]["check:json_schema"]["reason"] == \
        "no JSON found (neither a ```json block nor a {...} object)"
