"""Prompt variants as a dimension: every case for every model x prompt, stored with the prompt id, compared
paired on the same cases (models under one prompt, prompts for one model), with a rank-stability line, through
`show --json`, `export`, the terminal, Markdown and HTML reports."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli
from tests.support.scripted_server import ScriptedServer

from llamacompare.errors import UsageError
from llamacompare.scoring.rank_stability import rank_stability
from llamacompare.tasks import load_suite

SUITE = """
name: variants
tasks:
  - id: duygu
    type: classify
    labels: {Pozitif: [olumlu], Negatif: [olumsuz]}
    prompts:
      - {id: kisa, template: "Mesaj: {text}\\nDuygu:"}
      - id: uzun
        system: "Sen bir duygu sınıflandırıcısısın."
        template: "Aşağıdaki mesajın duygusu nedir?\\n{text}\\nTek kelime ile yanıt ver."
    cases:
      - {id: a, text: "Ne iyi bir gün!", label: Pozitif}
      - {id: b, text: "Çok kötü bir film.", label: Negatif}
      - {id: c, text: "İyi ki geldin.", label: Pozitif}
      - {id: d, text: "Kötü haber.", label: Negatif}
      - {id: e, text: "iyi iş", label: Pozitif}
      - {id: f, text: "kötü hava", label: Negatif}
"""


def _answer(body: dict[str, Any]) -> str:
    """alpha is right under the short prompt and always says Negatif under the long one; beta the other way
    round: the models' order swaps with the prompt."""
    content = "\n".join(m["content"] for m in body.get("messages") or [])
    gold = "Pozitif" if "iyi" in content.replace("İ", "i") else "Negatif"
    long = "Tek kelime" in content
    if (body["model"] == "alpha") == long:
        return "Negatif"
    return gold


@pytest.fixture(scope="module")
def variants_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], list[Any]]:
    tmp = tmp_path_factory.mktemp("variants")
    suite, db = tmp / "variants.yaml", tmp / "runs.db"
    suite.write_text(SUITE, encoding="utf-8")
    bodies: list[dict[str, Any]] = []

    def answer(body: dict[str, Any]) -> str:
        bodies.append(body)  # what the server received
        return _answer(body)

    with ScriptedServer(["alpha", "beta"], answer=answer) as srv:
        res = run_cli("run", str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--base-url", srv.base_url,
                      "--db", str(db), "--json")
        assert res.returncode == 0, res.stderr
    return db, json.loads(res.stdout), bodies


def test_every_case_runs_for_every_model_and_prompt(variants_run: tuple[Path, dict[str, Any], list[Any]]) -> None:
    _, out, sent = variants_run
    assert out["outcome"]["sent"] == 24 and out["outcome"]["failed"] == 0  # 6 cases x 2 models x 2 prompts
    bodies = {(b["model"], json.dumps(b["messages"], ensure_ascii=False)) for b in sent}
    assert ("alpha", json.dumps([{"role": "user", "content": "Mesaj: Ne iyi bir gün!\nDuygu:"}],
                                ensure_ascii=False)) in bodies
    long_a = [{"role": "system", "content": "Sen bir duygu sınıflandırıcısısın."},
              {"role": "user",
               "content": "Aşağıdaki mesajın duygusu nedir?\nNe iyi bir gün!\nTek kelime ile yanıt ver."}]
    assert ("beta", json.dumps(long_a, ensure_ascii=False)) in bodies
    assert len(bodies) == 24


def test_the_summary_names_four_variants_compares_prompts_and_says_the_order_swaps(
        variants_run: tuple[Path, dict[str, Any], list[Any]]) -> None:
    _, out, _ = variants_run
    (task,) = out["report"]["tasks"]
    rows = [(m["model"], m["base_model"], m["prompt"], m["metrics"]["accuracy"]["value"])
            for m in task["models"] if not m["is_baseline"]]
    assert rows == [("openai:alpha · kisa", "openai:alpha", "kisa", 1.0),
                    ("openai:alpha · uzun", "openai:alpha", "uzun", 0.5),
                    ("openai:beta · kisa", "openai:beta", "kisa", 0.5),
                    ("openai:beta · uzun", "openai:beta", "uzun", 1.0)]
    assert task["prompts"] == ["kisa", "uzun"]
    # for each model, prompt A vs prompt B on the same six cases
    assert [(p["a"], p["b"], p["n"], p["diff"]) for p in task["prompt_pairs"]] == [
        ("openai:alpha · kisa", "openai:alpha · uzun", 6, 0.5), ("openai:beta · kisa", "openai:beta · uzun", 6, -0.5)]
    stab = task["rank_stability"]
    assert stab["stable"] is False and stab["taus"] == [{"a": "kisa", "b": "uzun", "tau": -1.0, "n_models": 2}]
    assert stab["rankings"] == {"kisa": ["openai:alpha", "openai:beta"], "uzun": ["openai:beta", "openai:alpha"]}
    assert stab["swaps"] == [{"a": "openai:alpha", "b": "openai:beta", "a_ahead": ["kisa"], "b_ahead": ["uzun"]}]
    assert stab["line"] == ("rank stability: the models' order changes with the prompt (Kendall τ = -1.00): "
                            "openai:alpha ahead under kisa, openai:beta under uzun")
    rec = task["recommendation"]
    assert rec["model"] in {r[0] for r in rows} and rec["prompt"] == rec["model"].split(" · ")[1]


def test_show_json_export_and_reports_carry_the_prompt(variants_run: tuple[Path, dict[str, Any], list[Any]],
                                                       tmp_path: Path) -> None:
    db, out, _ = variants_run
    shown = json.loads(run_cli("show", "latest", "--db", str(db), "--json").stdout)
    variants = {"openai:alpha · kisa", "openai:alpha · uzun", "openai:beta · kisa", "openai:beta · uzun"}
    assert all(set(c["answers"]) == variants for c in shown["cases"]) and len(shown["cases"]) == 6

    exported = run_cli("export", "latest", "--db", str(db), "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 24 and {(r["model"], r["prompt"]) for r in rows} == {
        ("openai:alpha", "kisa"), ("openai:alpha", "uzun"), ("openai:beta", "kisa"), ("openai:beta", "uzun")}

    text = run_cli("show", "latest", "--db", str(db), env={"COLUMNS": "80"}).stdout
    assert "alpha · kisa" in text and "prompts, for the same model (paired on the same cases):" in text
    assert "rank stability: the models' order changes with the prompt" in text

    md = tmp_path / "r.md"
    assert run_cli("report", "latest", "--db", str(db), "--format", "markdown", "-o", str(md)).returncode == 0
    markdown = md.read_text(encoding="utf-8")
    assert "Prompts compared for each model, paired on the same cases:" in markdown
    assert "| openai:alpha · kisa | openai:alpha · uzun | accuracy |" in markdown
    assert "**Rank stability:** the models' order changes with the prompt" in markdown

    page = tmp_path / "r.html"
    assert run_cli("report", "latest", "--db", str(db), "-o", str(page)).returncode == 0
    html = page.read_text(encoding="utf-8")
    assert "Prompts compared for each model, paired on the same cases (2)" in html
    assert 'class="rank-stability warn"' in html
    payload = json.loads(html.split('<script type="application/json" id="lc-data">')[1].split("</script>")[0])
    assert payload["columns"] == sorted(variants)  # the case matrix: a column per model x prompt


def test_a_rerun_is_served_from_the_cache_per_rendered_prompt(variants_run: tuple[Path, dict[str, Any], list[Any]],
                                                              tmp_path: Path) -> None:
    db, _, _ = variants_run
    suite = tmp_path / "variants.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    with ScriptedServer(["alpha", "beta"], answer=_answer) as srv:
        res = run_cli("run", str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--base-url", srv.base_url,
                      "--db", str(db), "--json")
        assert not [r for r in srv.requests if r.path.endswith("/chat/completions")]
    outcome = json.loads(res.stdout)["outcome"]
    assert (outcome["cached"], outcome["sent"]) == (24, 0)


def test_a_task_without_prompts_has_no_prompt_column(tmp_path: Path) -> None:
    suite, db = tmp_path / "one.yaml", tmp_path / "runs.db"
    suite.write_text(SUITE.replace("""    prompts:
      - {id: kisa, template: "Mesaj: {text}\\nDuygu:"}
      - id: uzun
        system: "Sen bir duygu sınıflandırıcısısın."
        template: "Aşağıdaki mesajın duygusu nedir?\\n{text}\\nTek kelime ile yanıt ver."
""", '    template: "Mesaj: {text}\\nDuygu:"\n'), encoding="utf-8")
    with ScriptedServer(["alpha", "beta"], answer=_answer) as srv:
        res = run_cli("run", str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--base-url", srv.base_url,
                      "--db", str(db), "--json")
    assert res.returncode == 0, res.stderr
    (task,) = json.loads(res.stdout)["report"]["tasks"]
    assert [m["model"] for m in task["models"]][:2] == ["openai:alpha", "openai:beta"]
    assert task["prompts"] == [] and task["prompt_pairs"] == [] and task["rank_stability"] is None
    header = run_cli("export", "latest", "--db", str(db), "--format", "csv").stdout.splitlines()[0]
    assert "prompt" not in header.split(",")
    assert "prompt" not in json.loads(run_cli("export", "latest", "--db", str(db), "--format", "jsonl")
                                      .stdout.splitlines()[0])
    text = run_cli("show", "latest", "--db", str(db), env={"COLUMNS": "80"}).stdout
    assert "·" not in text and "rank stability" not in text and "prompts, for the same model" not in text


@pytest.mark.parametrize(("prompts", "field", "message"), [
    ('    template: "x {text}"\n    prompts: [{id: a, template: "y {text}"}]\n', "tasks[0].prompts",
     "give either `template` (one prompt) or `prompts` (variants), not both"),
    ('    prompts:\n      - {id: a, template: "x {text}"}\n      - {id: a, template: "y {text}"}\n',
     "tasks[0].prompts[1].id", "duplicate prompt id 'a' (also prompts[0])"),
    ('    prompts:\n      - {id: "kısa yol", template: "x {text}"}\n', "tasks[0].prompts[0].id",
     "prompt id 'kısa yol' may only use letters"),
    ('    prompts:\n      - {id: a, template: "x {text"}\n', "tasks[0].prompts[0].template", "bad braces"),
    ('    prompts:\n      - {id: a, template: "x {label}"}\n', "tasks[0].prompts[0].template",
     "the template shows the gold field {label}"),
    ('    prompts: []\n', "tasks[0].prompts", "no prompt variants"),
    ('    prompts:\n      - {id: a}\n', "tasks[0].prompts[0].template", "required field 'template' is missing"),
])
def test_bad_prompts_are_named_by_file_line_and_field(tmp_path: Path, prompts: str, field: str,
                                                      message: str) -> None:
    suite = tmp_path / "bad.yaml"
    suite.write_text("tasks:\n  - id: t\n    type: classify\n    labels: {Pozitif: [], Negatif: []}\n" + prompts +
                     "    cases: [{text: iyi, label: Pozitif}]\n", encoding="utf-8")
    with pytest.raises(UsageError) as e:
        load_suite(suite)
    msg = str(e.value)
    assert msg.startswith(f"{suite}:") or msg.startswith("bad.yaml:") or ":" in msg.split(" ")[0]
    line = int(msg.split(":")[1])
    assert 4 <= line <= 8, msg
    assert f": {field}: " in msg and message in msg, msg
    res = run_cli("run", str(suite), "-m", "openai:x", "--base-url", "http://127.0.0.1:9/v1")
    assert res.returncode == 2 and "Traceback" not in res.stderr and field in res.stderr


def test_each_variant_may_bring_its_own_few_shot_template_and_instruction() -> None:
    from llamacompare.tasks import Suite
    from llamacompare.tasks.case import Case
    from llamacompare.tasks.prompt_template import render_case

    suite = Suite.model_validate({"tasks": [{
        "id": "t", "type": "classify", "labels": {"Pozitif": [], "Negatif": []}, "system": "Görev sistemi.",
        "instruction": "\nTek kelime ile yanıt ver.",
        "few_shot": [{"text": "harika", "label": "Pozitif"}], "few_shot_template": "Mesaj: {text}\nDuygu: {label}\n",
        "prompts": [{"id": "tr", "template": "Mesaj: {text}\nDuygu:"},
                    {"id": "en", "template": "Message: {text}\nSentiment:", "system": "Be brief.",
                     "few_shot_template": "Message: {text}\nSentiment: {label}\n", "instruction": ""}],
        "cases": [{"text": "iyi", "label": "Pozitif"}]}]})
    task = suite.tasks[0]
    tr, en = (render_case(task, Case("1", {"text": "güzel"}, "Pozitif"), variant=v) for v in task.variants())
    assert (tr.system, tr.text) == ("Görev sistemi.", "Mesaj: harika\nDuygu: Pozitif\nMesaj: güzel\nDuygu:\n"
                                                      "Tek kelime ile yanıt ver.")
    assert (tr.prefix, en.prefix) == ("Mesaj: harika\nDuygu: Pozitif\nMesaj: ",
                                      "Message: harika\nSentiment: Pozitif\nMessage: ")
    assert (en.system, en.text) == ("Be brief.", "Message: harika\nSentiment: Pozitif\nMessage: güzel\nSentiment:")


def test_kendall_tau_and_swaps_over_three_prompts() -> None:
    """τ-b by hand: under p1 the order is a > b > c; p2 swaps b and c (1 of 3 pairs discordant: τ = 1/3);
    p3 reverses it (τ = -1 against p1)."""
    means = {"p1": {"a": 0.9, "b": 0.6, "c": 0.3}, "p2": {"a": 0.8, "b": 0.4, "c": 0.5},
             "p3": {"a": 0.1, "b": 0.5, "c": 0.7}}
    found = rank_stability(means, ["a", "b", "c"])
    assert found is not None and not found.stable
    taus = {(t.a, t.b): t.tau for t in found.taus}
    assert taus[("p1", "p2")] == pytest.approx(1 / 3) and taus[("p1", "p3")] == pytest.approx(-1.0)
    assert taus[("p2", "p3")] == pytest.approx(-1 / 3)
    assert [(s.a, s.b, s.a_ahead, s.b_ahead) for s in found.swaps] == [
        ("a", "b", ("p1", "p2"), ("p3",)), ("a", "c", ("p1", "p2"), ("p3",)), ("b", "c", ("p1",), ("p2", "p3"))]
    assert found.rankings["p2"] == ["a", "c", "b"]
    # lower is better (words): the same order reversed, the same τ
    low = rank_stability(means, ["a", "b", "c"], higher_is_better=False)
    assert low is not None and low.rankings["p1"] == ["c", "b", "a"]
    assert [t.tau for t in low.taus] == [t.tau for t in found.taus]
    # one prompt, or one model: nothing to say
    assert rank_stability({"p1": means["p1"]}, ["a", "b", "c"]) is None
    assert rank_stability({"p1": {"a": 1.0}, "p2": {"a": 0.0}}, ["a"]) is None
    steady = rank_stability({"p1": {"a": 0.9, "b": 0.2}, "p2": {"a": 0.7, "b": 0.6}}, ["a", "b"])
    assert steady is not None and steady.stable and steady.taus[0].tau == pytest.approx(1.0)


def test_compare_frames_give_the_prompt_its_own_column(variants_run: tuple[Path, dict[str, Any], list[Any]]) -> None:
    from llamacompare.analysis.runs import run_report
    from llamacompare.comparison import Comparison
    from llamacompare.store import Store

    db, _, _ = variants_run
    with Store(db) as store:
        c = Comparison(run_report(store, "latest"), db)
    summary = c.summary()
    rows = summary[summary["model"] != "baseline: always Negatif"]
    assert list(zip(rows["model"], rows["prompt"], rows["value"], strict=True)) == [
        ("openai:alpha", "kisa", 1.0), ("openai:alpha", "uzun", 0.5), ("openai:beta", "kisa", 0.5),
        ("openai:beta", "uzun", 1.0)]
    frame = c.to_pandas()
    assert len(frame) == 24 and set(frame["prompt"]) == {"kisa", "uzun"}
    pivot = frame.pivot_table(index="case", columns=["model", "prompt"], values="correct", aggfunc="first")
    assert pivot.loc["a", ("openai:alpha", "kisa")] and not pivot.loc["a", ("openai:alpha", "uzun")]
    assert "rank stability: the models' order changes" in repr(c)  # print(c) in plain Python
    html = c._repr_html_()  # Jupyter: the report's task card
    assert "Prompts compared for each model, paired on the same cases (2)" in html and "Kendall τ = -1.00" in html


def test_until_decided_refuses_a_task_with_prompt_variants(tmp_path: Path) -> None:
    suite = tmp_path / "variants.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    with ScriptedServer(["alpha", "beta"], answer=_answer) as srv:
        res = run_cli("run", str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--base-url", srv.base_url,
                      "--until-decided", "--db", str(tmp_path / "r.db"))
        assert not [r for r in srv.requests if r.path.endswith("/chat/completions")]
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert "task duygu: --until-decided races models under one prompt" in res.stderr
