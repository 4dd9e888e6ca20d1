"""Why answers failed, said in one line with what to do: answers cut at max_tokens before a label (or before their
end), answers that loop, and a judge whose answers hold no verdict. Through the real command line against the
scripted OpenAI-compatible server (tests/support/scripted_server.py), which cuts an answer at `max_tokens` fake tokens
(a word or a punctuation mark each) and then says finish_reason "length"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli
from tests.support.scripted_server import ScriptedServer

SUITE = r"""
name: diagnoses
tasks:
  - id: duygu
    type: classify
    labels: {Pozitif: [olumlu], Negatif: [olumsuz]}
    template: "Mesaj: {text}\nDuygu:"
    params: {max_tokens: 2}
    cases:
      - {id: "1", text: "Harika bir gün!", label: Pozitif}
      - {id: "2", text: "Berbat.", label: Negatif}
      - {id: "3", text: "Çok güzel.", label: Pozitif}
      - {id: "4", text: "İyi iş.", label: Pozitif}
  - id: ozet
    type: generate
    template: "Özetle: {text}"
    params: {max_tokens: 40}
    cases:
      - {id: a, text: "Tatil planı: önce İzmir, sonra Bodrum."}
      - {id: b, text: "Toplantı yarın saat üçte."}
      - {id: c, text: "Kargo iki gün gecikti."}
"""

LOOP = "daha iyi bir yolculuktan " * 30  # 120 fake tokens: cut at 40, and looping all along


def _answer(body: dict[str, Any]) -> str:
    text = json.dumps(body.get("messages") or body.get("prompt"), ensure_ascii=False)
    if "Özetle:" in text:
        return "Kısa ve doğru bir özet." if body["model"] == "alpha" else LOOP
    # alpha: the label straight away; beta: thinks aloud first, so 2 tokens hold no label
    return "Pozitif" if body["model"] == "alpha" else "Let me think about it: Pozitif"


def _report(db: Path) -> dict[str, Any]:
    shown = run_cli("show", "--db", str(db), "--json")
    assert shown.returncode == 0, shown.stderr
    report: dict[str, Any] = json.loads(shown.stdout)
    return report


def test_answers_cut_at_max_tokens_and_looping_answers_are_said_in_one_line(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    db = tmp_path / "r.db"
    with ScriptedServer(["alpha", "beta"], answer=_answer) as srv:
        res = run_cli("run", str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--base-url", srv.base_url,
                      "--db", str(db), "--no-progress")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert ("task duygu, openai:beta: 100% of answers (4 of 4) stopped at max_tokens=2 before a label: "
            "raise max_tokens") in out
    # a looping answer would loop on to any limit: the advice is not to raise it
    assert "task ozet, openai:beta: 100% of answers (3 of 3) were cut at max_tokens=40 before they ended: most of " \
           "them in a loop, which a higher max_tokens would not end" in out
    assert ("task ozet, openai:beta: 100% of answers (3 of 3) loop (at least 30% of their word 4-grams repeat): "
            "their word counts overstate what they say") in out
    assert "openai:alpha: " not in out  # its answers ended on their own, with a label, and do not loop
    # beside the word counts of a task that measures words
    assert "repetition (share of repeated word 4-grams, lower is better), 95% CI: alpha 0.00 [0.00, 0.00], beta 0.89 " \
           "[0.89, 0.89] loops" in out

    report = _report(db)
    duygu, ozet = report["tasks"]
    assert duygu["max_tokens_stops"] == [
        {"model": "openai:beta", "max_tokens": 2, "before": "label", "k": 4, "n": 4, "share": 1.0, "looping": 0}]
    assert duygu["looping"] == []
    assert ozet["max_tokens_stops"] == [
        {"model": "openai:beta", "max_tokens": 40, "before": "end", "k": 3, "n": 3, "share": 1.0, "looping": 3}]
    assert ozet["looping"] == [{"model": "openai:beta", "threshold": 0.3, "k": 3, "n": 3, "share": 1.0}]
    rows = {r["model"]: r["metrics"] for r in ozet["models"]}
    # 40 words of a 4-word loop: 37 4-grams, 4 distinct
    assert rows["openai:beta"]["repetition"]["value"] == pytest.approx(1 - 4 / 37)
    assert rows["openai:alpha"]["repetition"]["value"] == 0.0
    assert ozet["primary_metric"] == "words"  # repetition is a diagnostic, never what a task is ranked by

    md = run_cli("report", "--db", str(db), "--format", "markdown", "-o", str(tmp_path / "r.md"))
    assert md.returncode == 0, md.stderr
    markdown = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "stopped at max\\_tokens=2 before a label: raise max\\_tokens" in markdown
    assert "| words | repetition |" in markdown and "| 0.89 [0.89, 0.89] loops |" in markdown
    html = run_cli("report", "--db", str(db), "-o", str(tmp_path / "r.html"))
    assert html.returncode == 0, html.stderr
    assert "were cut at max_tokens=40 before they ended: most of them in a loop" in (tmp_path / "r.html").read_text()
    # what compare() shows in Jupyter (the report's task cards) says it too
    from llamacompare.analysis.contract import Report
    from llamacompare.reports.notebook import comparison_html

    assert "stopped at max_tokens=2 before a label: raise max_tokens" in comparison_html(Report.model_validate(report))


JUDGED = """
name: judged
tasks:
  - id: ozet
    type: generate
    template: "Bu e-postayı özetle: {email}"
    scorers: [judge, pairwise]
    judge: {model: "openai:judge", max_tokens: 12}
    cases:
      - {id: e1, email: "Sevgili Amit, büyük dil modelleri artık açık kaynaklı."}
      - {id: e2, email: "Toplantı yarın saat üçte, lütfen geç kalmayın."}
"""


def _rambling_judge(body: dict[str, Any]) -> str:
    text = body["messages"][-1]["content"]
    if body["model"] != "judge":
        return "Kısa bir özet." if body["model"] == "alpha" else "Uzunca yazılmış bir özet."
    # no verdict line, no digits, no letter on its own: nothing a parser could read as a verdict. About the e-mail
    # it says 6 fake tokens; about the meeting 13, cut at the judge's max_tokens (12) before its full stop
    if "Toplantı" in text:
        return "Bu toplantı özetlerini okudum; ikisi de konuya değiniyor ve dili anlaşılır."
    return "Özetleri okudum, dili anlaşılır."


def test_a_judge_whose_answers_hold_no_verdict_shows_what_it_said_and_what_it_was_asked(tmp_path: Path) -> None:
    suite = tmp_path / "j.yaml"
    suite.write_text(JUDGED, encoding="utf-8")
    db = tmp_path / "j.db"
    with ScriptedServer(["alpha", "beta", "judge"], answer=_rambling_judge) as srv:
        res = run_cli("run", str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--base-url", srv.base_url,
                      "--db", str(db), "--no-progress")
    assert res.returncode == 0, res.stderr
    rubric, pairwise = _report(db)["tasks"][0]["judges"]
    said = ["Özetleri okudum, dili anlaşılır.",
            "Bu toplantı özetlerini okudum; ikisi de konuya değiniyor ve dili anlaşılır"]
    assert (pairwise["scorer"], pairwise["verdicts"], pairwise["unparsed"]) == ("pairwise", 0, 4)
    assert pairwise["asked_for"] == "Kazanan: A | Kazanan: B | Kazanan: berabere"  # the source is Turkish
    assert pairwise["unparsed_examples"] == said  # two, different, in the order stored
    assert (pairwise["unparsed_stopped"], pairwise["max_tokens"]) == (2, 12)  # the two about the meeting
    assert (rubric["scorer"], rubric["verdicts"], rubric["unparsed"]) == ("judge", 0, 4)
    assert rubric["asked_for"] == "Puan: N (1-5)"
    assert rubric["unparsed_examples"] == said
    out = res.stdout
    assert "judge answers with no verdict: 4" in out
    assert "it was asked to end with: Kazanan: A | Kazanan: B | Kazanan: berabere" in out
    assert "of them cut at the judge's max_tokens=12: 2 (raise its max_tokens)" in out
    assert f"it answered, e.g.: “{said[0]}”" in out
