"""`run --until-decided` end to end: two scripted models answer a generated 500-case JSONL set right or wrong
per case, the runner stops asking a model once the sequential test decides it, and the scripted server's own
count of requests shows what was not sent."""

from __future__ import annotations

import json
import math
import random
import re
import signal
import sqlite3
from pathlib import Path
from typing import Any

from tests.conftest import run_cli
from tests.support.scripted_server import ScriptedServer

N = 500
SUITE = """
name: decide
tasks:
  - id: sentiment
    type: classify
    labels: {Pozitif: [olumlu], Negatif: [olumsuz]}
    template: "Mesaj: {text}\\nDuygu:"
    dataset: cases.jsonl
"""


def _write(tmp_path: Path) -> Path:
    lines = [json.dumps({"id": f"c{i}", "text": f"mesaj #{i}", "label": "Pozitif" if i % 3 else "Negatif"},
                        ensure_ascii=False) for i in range(N)]
    (tmp_path / "cases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    suite = tmp_path / "decide.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    return suite


def _right(i: int, accuracy: float) -> bool:
    """Right on a fixed, spread-out share of the cases (a golden-ratio sequence, no randomness)."""
    return (i * 0.6180339887) % 1.0 < accuracy


def _answerer(accuracy: dict[str, float]) -> Any:
    def answer(body: dict[str, Any]) -> str:
        text = body.get("prompt") or body["messages"][-1]["content"]
        found = re.search(r"#(\d+)", text)
        if found is None:  # a prefix of the prompt, as label scoring by echo asks about
            return "Pozitif"
        i = int(found.group(1))
        gold = "Pozitif" if i % 3 else "Negatif"
        wrong = "Negatif" if gold == "Pozitif" else "Pozitif"
        return gold if _right(i, accuracy[body["model"]]) else wrong

    return answer


def _run(tmp_path: Path, accuracy: dict[str, float], *extra: str,
         latency: Any = 0.0) -> tuple[dict[str, Any], dict[str, int]]:
    suite = _write(tmp_path)
    with ScriptedServer(list(accuracy), answer=_answerer(accuracy), latency=latency) as srv:
        models = [a for m in accuracy for a in ("-m", f"openai:{m}")]
        res = run_cli("run", str(suite), *models, "--base-url", srv.base_url, "--db", str(tmp_path / "r.db"),
                      "--until-decided", "--json", *extra)
        assert res.returncode == 0, res.stderr
        sent = {m: n for m, n in srv.stats()["by_model"].items()}
        generated = sum(1 for r in srv.requests if r.path.endswith("completions"))
    out = json.loads(res.stdout)
    assert generated == sum(sent.values())  # nothing but answers were asked for
    return out, sent


def test_clearly_different_models_stop_early_and_the_better_is_named(tmp_path: Path) -> None:
    out, sent = _run(tmp_path, {"good": 0.9, "poor": 0.3})
    assert sent["good"] < 150 and sent["poor"] < 150  # well before 500 each
    outcome = out["outcome"]
    assert outcome["sent"] == sent["good"] + sent["poor"]
    assert outcome["saved"] == 2 * N - outcome["sent"]
    lines = outcome["decisions"]
    assert any(line.startswith("openai:poor: worse than openai:good") for line in lines), lines
    assert any(line.startswith("openai:good: the best") for line in lines), lines
    with sqlite3.connect(tmp_path / "r.db") as db:  # the stored rows are exactly what was sent
        stored = dict(db.execute("SELECT model, COUNT(*) FROM results WHERE status = 'ok' GROUP BY model"))
    assert stored == {"openai:good": sent["good"], "openai:poor": sent["poor"]}
    task = out["report"]["tasks"][0]
    assert task["recommendation"]["model"] == "openai:good"
    # kept with the run: the report, and `show` later, say why each model stopped and what it saved
    stops = {d["model"]: d for d in task["decided"]}
    assert {m: d["verdict"] for m, d in stops.items()} == {"openai:good": "best", "openai:poor": "worse"}
    assert sum(d["saved"] for d in stops.values()) == outcome["saved"]
    assert stops["openai:poor"]["saved"] == N - sent["poor"]
    shown = run_cli("show", "latest", "--db", str(tmp_path / "r.db"))
    assert shown.returncode == 0, shown.stderr
    assert f"until decided: {outcome['saved']:,} request(s) not sent" in shown.stdout
    assert "openai:poor: worse than openai:good" in shown.stdout
    md = run_cli("report", "latest", "--db", str(tmp_path / "r.db"), "--format", "markdown", "-o",
                 str(tmp_path / "r.md"))
    assert md.returncode == 0, md.stderr
    assert f"**Until decided: {outcome['saved']:,} request" in (tmp_path / "r.md").read_text("utf-8")
    html = run_cli("report", "latest", "--db", str(tmp_path / "r.db"), "-o", str(tmp_path / "r.html"))
    assert html.returncode == 0, html.stderr
    page = (tmp_path / "r.html").read_text("utf-8")
    assert f"Until decided: {outcome['saved']:,} request(s) not sent" in page
    assert "openai:poor: worse than openai:good" in page


def test_a_fast_model_waits_for_a_slow_one_instead_of_answering_everything(tmp_path: Path) -> None:
    """The poor model answers 200x slower: the good one is held back to within a few batches of it, so both are
    decided early, rather than the fast one answering all 500 before the race can decide."""
    def slow_poor(body: dict[str, Any]) -> float:
        return 0.2 if body["model"] == "poor" else 0.001

    out, sent = _run(tmp_path, {"good": 0.9, "poor": 0.3}, latency=slow_poor)
    assert sent["good"] < 150 and sent["poor"] < 150, sent
    # at most two batches of 10 and the 8 in flight ahead (plus the slow one's own 8 in flight); unheld: all 500
    assert sent["good"] <= sent["poor"] + 2 * 10 + 8 + 8, sent
    assert any(line.startswith("openai:poor: worse than") for line in out["outcome"]["decisions"])


def test_identical_models_run_to_the_end_undecided(tmp_path: Path) -> None:
    """Not told apart early is not a verdict (the summary's fixed-n comparison may still tell them apart): the
    line says every case was answered, never "tied"."""
    out, sent = _run(tmp_path, {"twin1": 0.7, "twin2": 0.7})
    assert sent == {"twin1": N, "twin2": N}
    outcome = out["outcome"]
    assert outcome["saved"] == 0
    assert outcome["decisions"] == [f"openai:twin1 and openai:twin2: not told apart early, all {N} cases answered "
                                    "(the comparison below uses them all)"]
    decided = out["report"]["tasks"][0]["decided"]
    assert [d["verdict"] for d in decided] == ["undecided", "undecided"] and all(d["saved"] == 0 for d in decided)


def test_a_lone_model_answers_every_case(tmp_path: Path) -> None:
    out, sent = _run(tmp_path, {"solo": 0.7})
    assert sent == {"solo": N}
    assert out["outcome"]["saved"] == 0 and out["outcome"]["decisions"] == []


def test_a_margin_stops_equivalent_models_early(tmp_path: Path) -> None:
    out, sent = _run(tmp_path, {"twin1": 0.7, "twin2": 0.7}, "--margin", "0.05")
    assert sent["twin1"] < N and sent["twin2"] < N
    assert all("within 0.05 of" in line for line in out["outcome"]["decisions"])
    line = out["report"]["tasks"][0]["recommendation"]["line"]  # the margin is the recommendation's rule too
    assert "within 0.05 of" in line, line


def test_the_order_is_seeded_and_a_resume_goes_on_deciding(tmp_path: Path) -> None:
    """The stored run keeps the seed: a resumed run feeds its races the stored answers in the same order, so
    resuming a decided run sends nothing and says the same."""
    suite = _write(tmp_path)
    accuracy = {"good": 0.9, "poor": 0.3}
    db = str(tmp_path / "r.db")
    with ScriptedServer(list(accuracy), answer=_answerer(accuracy)) as srv:
        res = run_cli("run", str(suite), "-m", "openai:good", "-m", "openai:poor", "--base-url", srv.base_url,
                      "--db", db, "--until-decided", "--seed", "7", "--json")
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout)
        asked = srv.stats()["by_model"]
        res = run_cli("run", "--resume", out["outcome"]["run_id"], "--db", db, "--json")
        assert res.returncode == 0, res.stderr
        assert srv.stats()["by_model"] == asked
    again = json.loads(res.stdout)["outcome"]
    assert again["sent"] == 0
    assert again["decisions"] == out["outcome"]["decisions"]


def test_a_killed_race_resumes_to_the_same_decisions(tmp_path: Path) -> None:
    """SIGKILL part-way through a race, then --resume: the race is fed the stored answers in the seeded order and
    goes on; it decides exactly as an uninterrupted run with the same seed does."""
    from tests.test_runner import _spawn_run, _wait_for_rows

    suite = _write(tmp_path)
    accuracy = {"good": 0.8, "poor": 0.6}
    args = ["-m", "openai:good", "-m", "openai:poor", "--until-decided", "--seed", "3", "--concurrency", "2"]
    with ScriptedServer(list(accuracy), answer=_answerer(accuracy), latency=0.02) as srv:
        ref = run_cli("run", str(suite), *args, "--base-url", srv.base_url, "--db", str(tmp_path / "ref.db"),
                      "--json")
        assert ref.returncode == 0, ref.stderr
        expected = json.loads(ref.stdout)["outcome"]["decisions"]
        assert any("worse than openai:good" in line for line in expected), expected
        killed = tmp_path / "killed.db"
        proc = _spawn_run(["run", str(suite), *args, "--base-url", srv.base_url, "--db", str(killed),
                           "--no-progress"])
        _wait_for_rows(killed, 40)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        with sqlite3.connect(killed) as db:
            run_id = db.execute("SELECT id FROM runs").fetchone()[0]
            assert db.execute("SELECT status FROM runs").fetchone()[0] == "running"
            stored = db.execute("SELECT COUNT(*) FROM results WHERE status = 'ok'").fetchone()[0]
        assert stored < json.loads(ref.stdout)["outcome"]["sent"]  # killed before the race was decided
        res = run_cli("run", "--resume", run_id, "--db", str(killed), "--json")
        assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["outcome"]["decisions"] == expected


def test_compare_in_a_notebook_races_and_recommends_within_a_margin(tmp_path: Path) -> None:
    """compare() takes the same until_decided, seed and margin; the Comparison's report says why models stopped."""
    from llamacompare import compare

    suite = _write(tmp_path)
    accuracy = {"good": 0.9, "poor": 0.3}
    with ScriptedServer(list(accuracy), answer=_answerer(accuracy)) as srv:
        c = compare(suite, models=["openai:good", "openai:poor"], base_url=srv.base_url, db=tmp_path / "c.db",
                    progress=False, until_decided=True, seed=2, margin=0.05)
        sent = srv.stats()["by_model"]
    task = c.data.tasks[0]
    assert {d.model: d.verdict for d in task.decided} == {"openai:good": "best", "openai:poor": "worse"}
    assert sent["good"] < 150 and sent["poor"] < 150
    assert task.recommendation is not None and "within 0.05" in task.recommendation.line


def test_mode_both_races_each_mode_on_its_own(tmp_path: Path) -> None:
    """With `mode: both` a model's generated answers race the other's generated answers and its label scores
    theirs (by echo on the scripted server): both stop once both of its modes are decided."""
    out, sent = _run(tmp_path, {"good": 0.9, "poor": 0.3}, "--mode", "both")
    decided = {d["model"]: d["verdict"] for d in out["report"]["tasks"][0]["decided"]}
    assert decided == {"openai:good@generate": "best", "openai:poor@generate": "worse",
                       "openai:good@logprob": "best", "openai:poor@logprob": "worse"}
    # each case is one generation and one echo request per label (two labels): far fewer than 500 cases' worth
    assert sent["good"] < 3 * 150 and sent["poor"] < 3 * 150, sent


LOGPROB_SUITE = SUITE.replace("    type: classify\n", "    type: classify\n    mode: logprob\n")


def _margin_model(params: dict[str, tuple[float, float]]) -> Any:
    """Each model's own label log-probs (the scripted server's `logprob` hook): log P(Pozitif) - log P(Negatif) is
    bias + signal * (+1 for a Pozitif case, -1 for a Negatif one) + seeded noise."""
    def logprob(model: str, prefix: str, token: str) -> float | None:
        found = re.search(r"#(\d+)", prefix)
        if token.strip() not in ("Pozitif", "Negatif") or found is None or model not in params:
            return None
        i = int(found.group(1))
        bias, signal = params[model]
        margin = bias + signal * (1 if i % 3 else -1) + random.Random(f"{model}:{i}").gauss(0, 1)
        pos, neg = margin - math.log1p(math.exp(margin)), -math.log1p(math.exp(margin))
        return pos if token.strip() == "Pozitif" else neg

    return logprob


def test_label_scores_race_on_calibrated_accuracy_and_agree_with_the_summary(tmp_path: Path) -> None:
    """Calibrated accuracies 0.82 and 0.62 on these 500 cases (issue 31): the race stops both models before 300
    cases, the one it keeps is the one the summary recommends, and no line calls the pair tied."""
    suite = tmp_path / "decide.yaml"
    _write(tmp_path)
    suite.write_text(LOGPROB_SUITE, encoding="utf-8")
    models = {"good": (1.0, 0.9), "poor": (0.4, 0.35)}
    with ScriptedServer(list(models), answer=_answerer({"good": 0.5, "poor": 0.5}),
                        logprob=_margin_model(models)) as srv:
        res = run_cli("run", str(suite), "-m", "openai:good", "-m", "openai:poor", "--base-url", srv.base_url,
                      "--db", str(tmp_path / "r.db"), "--until-decided", "--json")
        assert res.returncode == 0, res.stderr
        sent = srv.stats()["by_model"]
    out = json.loads(res.stdout)
    task = out["report"]["tasks"][0]
    acc = {m["model"]: m["metrics"]["accuracy"]["value"] for m in task["models"] if not m["is_baseline"]}
    assert acc["openai:good"] - acc["openai:poor"] >= 0.15, acc
    stops = {d["model"]: d for d in task["decided"]}
    assert stops["openai:good"]["cases"] < 300 and stops["openai:poor"]["cases"] < 300, stops
    assert sent["good"] < 2 * 300 and sent["poor"] < 2 * 300, sent  # echo scores each of the two labels apart
    lines = out["outcome"]["decisions"]
    assert lines[0].startswith("raced on calibrated accuracy, its calibration fixed on the first 50 cases")
    assert any(line.startswith("openai:poor: worse than openai:good") for line in lines), lines
    assert not any("tied" in line or "not told apart" in line for line in lines), lines
    assert task["recommendation"]["model"] == "openai:good"
