"""Human labels end to end: a run judged by a scripted judge, its HTML report marked in Chromium and exported,
`rescore --labels` storing the marks, and the report showing the `human` metric and the judge's Cohen's kappa.
Also the judge-reliability figures of a run (position bias, self-preference) and bad label files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli
from tests.support.scripted_server import ScriptedServer

SUITE = """
name: reviewed
tasks:
  - id: ozet
    type: generate
    template: "Bu e-postayı özetle: {{email}}"
    scorers: [{scorers}]
    judge: {{model: "{judge}"}}
    params: {{max_tokens: 32}}
    cases:
      - {{id: e1, email: "Toplantı yarın saat üçte, lütfen geç kalmayın."}}
      - {{id: e2, email: "Sevgili Amit, büyük dil modelleri artık açık kaynaklı."}}
      - {{id: e3, email: "Kargonuz İstanbul şubesine ulaştı."}}
      - {{id: e4, email: "Şifreniz değiştirildi; siz değilseniz bize yazın."}}
"""


def _between(text: str, tag: str) -> str:
    return text.split(f"<{tag}>", 1)[1].split(f"</{tag}>", 1)[0]


def answer(body: dict[str, Any]) -> str:
    """Writers: alpha always writes a detailed summary, beta only for e1 ("Toplantı"). The judge (Turkish
    verdict lines, as scoring/judge.py asks for Turkish material) gives a detailed answer 5 and another 2, and
    prefers the detailed answer of a pair (a tie when both are)."""
    text = body["messages"][-1]["content"]
    if "Kazanan:" in text:
        a, b = "ayrıntılı" in _between(text, "answer_a"), "ayrıntılı" in _between(text, "answer_b")
        return "Gerekçe kısa.\nKazanan: " + ("berabere" if a == b else "A" if a else "B")
    if "Puan: N" in text:
        return "Gerekçe kısa.\nPuan: " + ("5" if "ayrıntılı" in _between(text, "answer") else "2")
    if body["model"] == "alpha" or "Toplantı" in text:
        return "ayrıntılı ve doğru bir özet"
    return "özet"


def _run(tmp_path: Path, srv: ScriptedServer, *, scorers: str = "judge, pairwise", judge: str = "openai:judge",
         models: tuple[str, ...] = ("openai:alpha", "openai:beta")) -> tuple[Path, str]:
    suite = tmp_path / "reviewed.yaml"
    suite.write_text(SUITE.format(scorers=scorers, judge=judge), encoding="utf-8")
    db = tmp_path / "h.db"
    args = [a for m in models for a in ("-m", m)]
    res = run_cli("run", str(suite), *args, "--base-url", srv.base_url, "--db", str(db), "--json")
    assert res.returncode == 0, res.stderr
    return db, json.loads(res.stdout)["outcome"]["run_id"]


def _show(db: Path, run_id: str) -> dict[str, Any]:
    res = run_cli("show", run_id, "--db", str(db), "--json")
    assert res.returncode == 0, res.stderr
    report: dict[str, Any] = json.loads(res.stdout)
    return report


# What the reviewer marks: alpha's e4 is wrong although the judge gave it 5 (the one disagreement of 8).
MARKS = {("e1", "openai:alpha"): "correct", ("e2", "openai:alpha"): "correct", ("e3", "openai:alpha"): "correct",
         ("e4", "openai:alpha"): "wrong", ("e1", "openai:beta"): "correct", ("e2", "openai:beta"): "wrong",
         ("e3", "openai:beta"): "wrong", ("e4", "openai:beta"): "wrong"}
PAIR_MARKS = {"e1": "tie", "e2": "a_better", "e4": "b_better"}  # with A = alpha, B = beta


@pytest.mark.slow
def test_mark_in_chromium_export_rescore_and_the_report_shows_kappa(tmp_path: Path, browser: Any) -> None:
    with ScriptedServer(["alpha", "beta", "judge"], answer=answer) as srv:
        db, run_id = _run(tmp_path, srv)
    html = tmp_path / "report.html"
    res = run_cli("report", run_id, "--db", str(db), "-o", str(html))
    assert res.returncode == 0, res.stderr

    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(html.as_uri())
    page.wait_for_selector("#case-body tr.case-row")

    def row(case: str) -> Any:
        return page.locator("#case-body tr.case-row").filter(has=page.locator(".case-id", has_text=case))

    def button(case: str, model: str, label: str) -> Any:
        return row(case).locator(f'td.answer[data-model="{model}"] button.hl-btn[data-label="{label}"]')

    # 1. Mark every answer, then the pairs; a mark does not open the answer's details.
    for (case, model), label in MARKS.items():
        button(case, model, label).click()
        assert button(case, model, label).get_attribute("aria-pressed") == "true"
    assert page.locator("#case-body tr.detail-row").count() == 0
    button("e3", "openai:beta", "correct").click()  # a slip, put right: the last mark counts
    button("e3", "openai:beta", "wrong").click()
    page.fill("#hl-reviewer", "Ayşe")
    page.check("#diff-on")
    assert page.input_value("#diff-a") == "openai:alpha" and page.input_value("#diff-b") == "openai:beta"
    for case, label in PAIR_MARKS.items():
        row(case).locator(f'button.hl-btn[data-pair="{label}"]').click()
    assert page.get_attribute("#hl-count", "data-count") == str(len(MARKS) + len(PAIR_MARKS))

    # 2. The marks live in this browser: a reload finds them, and the pair reads the same with A and B swapped.
    page.reload()
    page.wait_for_selector("#case-body tr.case-row")
    assert page.get_attribute("#hl-count", "data-count") == str(len(MARKS) + len(PAIR_MARKS))
    assert button("e4", "openai:alpha", "wrong").get_attribute("aria-pressed") == "true"
    assert button("e4", "openai:alpha", "correct").get_attribute("aria-pressed") == "false"
    assert page.input_value("#hl-reviewer") == "Ayşe"
    page.check("#diff-on")
    page.select_option("#diff-a", "openai:beta")
    page.select_option("#diff-b", "openai:alpha")
    assert row("e2").locator('button.hl-btn[data-pair="b_better"]').get_attribute("aria-pressed") == "true"

    # 3. Export: the browser downloads the labels file.
    with page.expect_download() as got:
        page.click("#hl-export")
    labels_file = tmp_path / "labels.json"
    got.value.save_as(labels_file)
    assert got.value.suggested_filename == f"labels-{run_id}.json"
    context.close()
    assert errors == [] and [u for u in requests if not u.startswith("file:")] == []

    exported = json.loads(labels_file.read_text(encoding="utf-8"))
    assert exported["format"] == "llamacompare-labels" and exported["version"] == 1
    assert exported["run_id"] == run_id and len(exported["labels"]) == len(MARKS) + len(PAIR_MARKS)
    first = exported["labels"][0]
    assert set(first) >= {"run_id", "task", "case", "model", "mode", "repeat", "label", "reviewer", "timestamp"}
    assert {(e["case"], e["model"], e.get("versus"), e["label"]) for e in exported["labels"]} == {
        *((c, m, None, label) for (c, m), label in MARKS.items()),
        ("e1", "openai:alpha", "openai:beta", "tie"), ("e2", "openai:alpha", "openai:beta", "a_better"),
        ("e4", "openai:alpha", "openai:beta", "b_better")}
    assert {e["reviewer"] for e in exported["labels"]} == {"Ayşe"}

    # 4. Rescore with the labels: stored in the run; no model is called (the server is gone).
    res = run_cli("rescore", run_id, "--db", str(db), "--labels", str(labels_file))
    assert res.returncode == 0, res.stderr
    assert f"{len(MARKS) + len(PAIR_MARKS)} human labels stored" in res.stdout
    assert "Cohen's κ 0.75" in res.stdout  # the terminal summary shows the judge's agreement too

    task = _show(db, run_id)["tasks"][0]
    human = {m["model"]: m["metrics"]["human"] for m in task["models"]}
    assert human["openai:alpha"]["value"] == 0.75 and human["openai:beta"]["value"] == 0.25
    assert human["openai:alpha"]["lo"] < 0.75 < human["openai:alpha"]["hi"]
    assert [(p["a"], p["b"], p["n"]) for p in task["pairwise"] if p["metric"] == "human"] == [
        ("openai:alpha", "openai:beta", 4)]
    judges = {j["scorer"]: j for j in task["judges"]}
    # rubric: judge 5 -> correct for all of alpha and beta's e1, 2 -> wrong; people disagree on alpha's e4 only:
    # p_o = 7/8, p_e = 5/8 * 4/8 + 3/8 * 4/8 = 1/2, kappa = (7/8 - 1/2) / (1/2) = 0.75
    assert judges["judge"]["human"]["kappa"] == pytest.approx(0.75) and judges["judge"]["human"]["n"] == 8
    # pairwise: judge tie, A, A against people tie, A, B: p_o = 2/3, p_e = 1/3 * 1/3 + 1/3 * 2/3 = 1/3, kappa 0.5
    assert judges["pairwise"]["human"]["kappa"] == pytest.approx(0.5) and judges["pairwise"]["human"]["n"] == 3
    assert judges["pairwise"]["flip_rate"]["value"] == 0.0  # this judge is consistent both ways round

    # 5. The new report shows kappa and the human metric (in the browser, as a reader sees it).
    res = run_cli("report", run_id, "--db", str(db), "-o", str(html))
    assert res.returncode == 0, res.stderr
    context = browser.new_context()
    page = context.new_page()
    page.goto(html.as_uri())
    card = page.locator("section.task").first.inner_text()
    context.close()
    # se = sqrt(7/8 * 1/8 / (8 * 1/4)) = 0.2339; 0.75 +- 1.96 se, clipped at 1
    assert "Cohen's κ 0.75 [0.29, 1.00]" in card and "Cohen's κ 0.50" in card
    assert "human" in card and "0.75 [" in card

    # 6. And so does compare()'s view of the run in Jupyter (the report's task card) and as text.
    from llamacompare.analysis.runs import run_report
    from llamacompare.comparison import Comparison
    from llamacompare.store import Store

    with Store(db) as store:
        shown = Comparison(run_report(store, run_id), db)
    assert "Cohen&#39;s κ 0.75 [0.29, 1.00]" in shown._repr_html_() and "Cohen's κ 0.75" in repr(shown)


def test_a_bad_labels_file_is_one_line_exit_2_and_stores_nothing(tmp_path: Path) -> None:
    with ScriptedServer(["alpha", "beta", "judge"], answer=answer) as srv:
        db, run_id = _run(tmp_path, srv, scorers="judge")
    good = {"run_id": run_id, "task": "ozet", "case": "e1", "model": "openai:alpha", "mode": "generate",
            "repeat": 0, "label": "correct", "timestamp": "2026-12-01T18:00:00.000Z"}

    def labels(*entries: dict[str, Any], **top: Any) -> Path:
        path = tmp_path / f"labels-{len(list(tmp_path.glob('labels-*')))}.json"
        doc = {"format": "llamacompare-labels", "version": 1, "run_id": run_id, "labels": list(entries), **top}
        path.write_text(json.dumps(doc), encoding="utf-8")
        return path

    with sqlite3.connect(db) as c:
        scores_before = c.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
    cases = [
        (labels(good, {**good, "label": "maybe"}), "labels[1].label"),
        (labels({**good, "case": "e9"}), "labels[0].model: run " + run_id + " has no answer of 'openai:alpha'"),
        (labels({**good, "label": "a_better"}), "labels[0].versus"),
        (labels({**good, "run_id": "other"}), "labels[0].run_id"),
        (labels({**good, "timestamp": "yesterday"}), "labels[0].timestamp"),
        (labels(good, format="csv"), "format"),
    ]
    for path, field in cases:
        res = run_cli("rescore", run_id, "--db", str(db), "--labels", str(path))
        assert res.returncode == 2, res.stdout
        assert res.stderr.count("\n") == 1 and str(path) in res.stderr and field in res.stderr, res.stderr
        assert "Traceback" not in res.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "llamacompare-labels",\n "labels": [', encoding="utf-8")
    res = run_cli("rescore", run_id, "--db", str(db), "--labels", str(broken))
    assert res.returncode == 2 and f"{broken}:2: not valid JSON" in res.stderr
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT COUNT(*) FROM human_labels").fetchone()[0] == 0
        assert c.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == scores_before


def test_reliability_of_a_judge_that_prefers_the_first_answer_and_its_own(tmp_path: Path) -> None:
    """The judge is also a candidate (alpha) and always picks the answer shown first."""

    def biased(body: dict[str, Any]) -> str:
        text = body["messages"][-1]["content"]
        if "Kazanan:" in text:
            return "Kazanan: A"
        if "Puan: N" in text:
            mine = _between(text, "answer").strip().startswith("ayrıntılı")
            return "Puan: 5" if mine else "Puan: 3"
        return answer(body)

    with ScriptedServer(["alpha", "beta"], answer=biased) as srv:
        db, run_id = _run(tmp_path, srv, judge="openai:alpha")
    report = _show(db, run_id)
    judges = {j["scorer"]: j for j in report["tasks"][0]["judges"]}
    pair = judges["pairwise"]
    assert pair["judge"] == "openai:alpha" and pair["verdicts"] == 8  # 4 cases x 1 pair x both orders
    assert pair["flip_rate"]["value"] == 1.0 and pair["flip_rate"]["n"] == 4  # A both ways round: every pair flips
    assert pair["first_position"]["value"] == 1.0 and pair["first_position"]["n"] == 8
    assert pair["longer_wins"] is None  # all verdicts became ties once combined
    rubric = judges["judge"]
    own = rubric["self_preference"]
    # alpha's own answers get 5 on every case; beta's 5 on e1 (detailed), 3 elsewhere: per case 0, 2, 2, 2
    assert own["model"] == "openai:alpha" and own["own"] == 5.0 and own["others"] == 3.5 and own["n"] == 4
    assert own["diff"] == 1.5
    res = run_cli("show", run_id, "--db", str(tmp_path / "h.db"))
    assert "flips when the order is swapped: 100.0%" in res.stdout
    assert "self-preference of openai:alpha" in res.stdout


def test_labels_of_several_reviewers_and_both_orders_of_a_pair() -> None:
    from llamacompare.analysis.human import HumanKey, human_key, human_score_rows, pair_labels, unanimous_answer_labels
    from llamacompare.identity import AnswerKey, Contender
    from llamacompare.store.rows import HumanLabelRow

    def label(model: str, text: str, reviewer: str, versus: str = "", case: str = "e1") -> HumanLabelRow:
        return HumanLabelRow("r", "t", case, model, "generate", 0, versus, text, reviewer, "2026-12-01T18:00:00Z")

    labels = [label("m1", "correct", "ayşe"), label("m1", "wrong", "ali"), label("m2", "correct", "ayşe"),
              label("m2", "correct", "ali"),
              label("m2", "a_better", "ayşe", versus="m1"),  # m2 better, written B-vs-A: m1 vs m2 -> "B"
              label("m1", "b_better", "ali", versus="m2"),  # the same verdict written A-vs-B
              label("m1", "tie", "ayşe", versus="m2", case="e2"),
              label("m1", "a_better", "ali", versus="m2", case="e2")]
    def answers(task: str) -> dict[HumanKey, AnswerKey]:  # a run's answers to e1 and e2, by their names
        keys = [AnswerKey(task, case, Contender(m)) for case in ("e1", "e2") for m in ("m1", "m2")]
        return {human_key(k): k for k in keys}

    human = {s.model: s.value for s in human_score_rows(labels, answers("t"))}
    assert human == {"m1": 0.5, "m2": 1.0}  # the share of reviewers who marked it correct
    assert list(human_score_rows(labels, answers("other"))) == []
    assert unanimous_answer_labels(labels) == {("t", "e1", "m2", "generate", 0): "correct"}  # m1: they disagree
    assert pair_labels(labels) == {("e1", "m1", "m2"): "B"}  # e2: the reviewers disagree
