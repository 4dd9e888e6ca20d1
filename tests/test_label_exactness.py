"""One definition of a label score, log P(label | prompt): where an engine gives only the top log-probs of the first
answer token (the scripted server's "ollama" dialect), the scores are approximate, and every view says so with the
share of cases where every label was listed; scores from echoed prompt log-probs (its "vllm" dialect) are exact
and shown as before; a recommendation that ranks the two says so. Through the real command line against two scripted
servers (tests/support/scripted_server.py), one per engine, in one run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli
from tests.support.scripted_server import ModelSpec, ScriptedServer

N, NEGATIVE = 10, 4  # cases, and of them those the models answer Negatif


def _suite() -> str:
    cases = "\n".join(
        f"      - {{id: c{i}, text: '{'çok kötü' if i < NEGATIVE else 'harika'} {i}', "
        f"label: {'Negatif' if i < NEGATIVE else 'Pozitif'}}}" for i in range(N))
    return f"""
name: exactness
tasks:
  - id: duygu
    type: classify
    mode: logprob
    labels: {{Pozitif: [olumlu], Negatif: [olumsuz]}}
    template: "Mesaj: {{text}}\\nDuygu:"
    cases:
{cases}
"""


def _answer(body: dict[str, Any]) -> str:
    text = json.dumps(body.get("messages") or body.get("prompt"), ensure_ascii=False)
    return "Negatif" if "kötü" in text else "Pozitif"


# The first answer token's top log-probs list the answer's own token and the first tokens of `answers`: "Negatif"
# is listed only where it is the answer, so the approximate scores cover NEGATIVE of the N cases.
ANSWERS = ["Pozitif", "Belki"]
COVERAGE = f"{100 * NEGATIVE // N}%"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The database, a run of an exact and an approximate model, then a run of the exact one alone."""
    tmp = tmp_path_factory.mktemp("exactness")
    suite = tmp / "s.yaml"
    suite.write_text(_suite(), encoding="utf-8")
    db = tmp / "e.db"
    ids = []
    with ScriptedServer(["alpha"], answer=_answer, answers=ANSWERS, dialect="vllm") as vllm, \
            ScriptedServer([ModelSpec("beta:latest", None)], answer=_answer, answers=ANSWERS,
                           dialect="ollama") as ollama:
        env = {"VLLM_BASE_URL": vllm.base_url, "OLLAMA_BASE_URL": ollama.base_url}
        for models in (["vllm:alpha", "ollama:beta"], ["vllm:alpha"]):
            args = [a for m in models for a in ("-m", m)]
            res = run_cli("run", str(suite), *args, "--db", str(db), "--json", "--no-progress", env=env)
            assert res.returncode == 0, res.stdout[-2000:] + res.stderr
            ids.append(json.loads(res.stdout)["outcome"]["run_id"])
    return db, ids[0], ids[1]


def _json(db: Path, run_id: str) -> dict[str, Any]:
    shown = run_cli("show", run_id, "--db", str(db), "--json")
    assert shown.returncode == 0, shown.stderr
    report: dict[str, Any] = json.loads(shown.stdout)
    return report


def test_show_json_says_which_rows_are_approximate_with_their_coverage(runs: tuple[Path, str, str]) -> None:
    db, mixed, _ = runs
    (task,) = _json(db, mixed)["tasks"]
    rows = {r["model"]: r for r in task["models"]}
    assert rows["ollama:beta"]["label_scores"] == {
        "exactness": "approximate", "methods": ["chat_top_logprobs"], "n": N, "covered": NEGATIVE,
        "coverage": NEGATIVE / N, "unknown": 0}
    assert rows["vllm:alpha"]["label_scores"] == {
        "exactness": "exact", "methods": ["echo"], "n": N, "covered": N, "coverage": 1.0, "unknown": 0}
    assert rows["baseline: always Pozitif"]["label_scores"] is None
    caveat = task["recommendation"]["caveat"]
    assert caveat == (f"label scores approximate (top log-probs) for ollama:beta (coverage {COVERAGE}), exact for "
                      "vllm:alpha: the ranking mixes two measures of log P(label | prompt)")


def test_every_answer_keeps_its_method_in_the_export(runs: tuple[Path, str, str]) -> None:
    db, mixed, _ = runs
    res = run_cli("export", mixed, "--db", str(db), "--format", "jsonl")
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines() if line.strip()]
    methods = {(r["model"], r["label_method"]) for r in rows}
    assert methods == {("vllm:alpha", "echo"), ("ollama:beta", "chat_top_logprobs")}
    covered = {r["case"] for r in rows if r["model"] == "ollama:beta" and r["label_covered"]}
    assert covered == {f"c{i}" for i in range(NEGATIVE)}
    assert all(r["label_covered"] for r in rows if r["model"] == "vllm:alpha")


def test_the_terminal_marks_the_approximate_row_and_the_comparison_at_80_columns(runs: tuple[Path, str, str]
                                                                                 ) -> None:
    db, mixed, _ = runs
    out = run_cli("show", mixed, "--db", str(db), env={"COLUMNS": "80"}).stdout
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(line for line in lines if len(line) > 80)
    table = out[: out.index("answers side by side")]
    beta = next(line for line in lines if line.lstrip().startswith("ollama:beta"))
    alpha = next(line for line in lines if line.lstrip().startswith("vllm:alpha"))
    assert "≈1.00 [" in beta and "≈" not in alpha
    flat = " ".join(table.split())  # rich folds long lines
    assert "≈: made of approximate label scores" in flat
    assert (f"! task duygu, ollama:beta: label scores approximate, from the top log-probs of the first answer tokens "
            f"of a chat answer (coverage {COVERAGE} of {N} cases)") in flat
    assert f"≈ ollama:beta's label scores are approximate (coverage {COVERAGE}), vllm:alpha's exact" in flat
    assert f"≈ label scores approximate (top log-probs) for ollama:beta (coverage {COVERAGE}), exact for " \
           "vllm:alpha" in flat


def test_an_exact_run_shows_nothing_new(runs: tuple[Path, str, str]) -> None:
    db, _, exact = runs
    out = run_cli("show", exact, "--db", str(db), env={"COLUMNS": "80"}).stdout
    assert "≈" not in out and "approximate" not in out
    (task,) = _json(db, exact)["tasks"]
    assert task["models"][0]["label_scores"]["exactness"] == "exact"
    assert task["recommendation"]["caveat"] is None


def test_html_markdown_and_the_notebook_mark_the_approximate_row(runs: tuple[Path, str, str]) -> None:
    from llamacompare.analysis.runs import run_report
    from llamacompare.comparison import Comparison
    from llamacompare.reports import render_html, render_markdown
    from llamacompare.reports.markdown import md_text
    from llamacompare.store import Store

    db, mixed, exact = runs
    with Store(db) as store:
        report = run_report(store, mixed)
        alone = run_report(store, exact)
    note = f"ollama:beta: label scores approximate, from the top log-probs of the first answer tokens of a chat " \
           f"answer (coverage {COVERAGE} of {N} cases)"
    html = render_html(report)
    assert note in html and "≈1.00 [0.72, 1.00]" in html
    assert f"ollama:beta&#39;s label scores are approximate (coverage {COVERAGE}), vllm:alpha&#39;s exact" in html
    assert '<span class="rec-caveat">≈ label scores approximate (top log-probs) for ollama:beta' in html
    md = render_markdown(report)
    beta = next(line for line in md.splitlines() if line.startswith("| **ollama:beta**"))
    alpha = next(line for line in md.splitlines() if line.startswith("| **vllm:alpha**"))
    assert "≈1.00 [0.72, 1.00]" in beta and "≈" not in alpha
    assert f"> **Note:** {md_text('task duygu, ' + note)}" in md
    assert "> ≈ label scores approximate \\(top log-probs\\) for ollama:beta" in md
    c = Comparison(report, db)
    assert note in c._repr_html_() and note in " ".join(repr(c).split())
    summary = c.summary().set_index("model")
    assert summary.loc["ollama:beta", "label_scores"] == "approximate"
    assert summary.loc["ollama:beta", "label_coverage"] == NEGATIVE / N
    assert summary.loc["vllm:alpha", "label_scores"] == "exact"
    for text in (render_html(alone), render_markdown(alone)):
        assert "≈" not in text and "approximate" not in text


def test_answers_stored_before_methods_were_kept_read_as_unknown_not_exact(runs: tuple[Path, str, str],
                                                                          tmp_path: Path) -> None:
    import contextlib
    import shutil
    import sqlite3

    db, mixed, _ = runs
    old = tmp_path / "old.db"
    shutil.copy(db, old)
    with contextlib.closing(sqlite3.connect(old)) as conn:
        conn.execute("UPDATE responses SET label_method = NULL, label_covered = NULL")  # as migration 0007 left them
        conn.commit()
    (task,) = _json(old, mixed)["tasks"]
    scored = [r["label_scores"] for r in task["models"] if r["label_scores"]]
    assert scored == [{"exactness": "unknown", "methods": [], "n": 0, "covered": 0, "coverage": None,
                       "unknown": N}] * 2
    assert task["recommendation"]["caveat"] is None
    out = run_cli("show", mixed, "--db", str(old)).stdout
    assert "≈" not in out and "approximate" not in out
