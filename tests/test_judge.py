"""The LLM judge inside a run: scored, cached, rescored without calls; and against the real llama.cpp server."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli
from tests.support.scripted_server import ScriptedServer

SUITE = """
name: judged
tasks:
  - id: ozet
    type: generate
    template: "Bu e-postayı özetle: {{email}}"
    scorers: [judge, length]
    judge: {{model: "{judge}", rubric: "Özet doğru ve kısa mı?"}}
    cases:
      - {{id: e1, email: "Sevgili Amit, büyük dil modelleri artık açık kaynaklı."}}
      - {{id: e2, email: "Toplantı yarın saat üçte, lütfen geç kalmayın."}}
"""


def answer(body: dict) -> str:  # type: ignore[type-arg]
    text = json.dumps(body, ensure_ascii=False)
    if "Puan: N" in text or "Score: N" in text:
        return "Kısa ve doğru bir özet.\nPuan: 4"
    return "Kısa bir özet."


def test_judge_scores_are_cached_and_rescored_without_calls(tmp_path: Path) -> None:
    suite = tmp_path / "judged.yaml"
    suite.write_text(SUITE.format(judge="openai:judge"), encoding="utf-8")
    db = tmp_path / "j.db"
    with ScriptedServer(["writer", "judge"], answer=answer) as srv:
        args = ["run", str(suite), "-m", "openai:writer", "--base-url", srv.base_url, "--db", str(db), "--json"]
        res = run_cli(*args)
        assert res.returncode == 0, res.stderr
        judged = srv.stats()["by_model"].get("judge", 0)
        again = run_cli(*args)
        assert again.returncode == 0 and srv.stats()["by_model"].get("judge", 0) == judged == 2
    task = json.loads(res.stdout)["report"]["tasks"][0]
    assert task["primary_metric"] == "judge"
    assert task["models"][0]["metrics"]["judge"]["value"] == 4.0
    run_id = json.loads(res.stdout)["outcome"]["run_id"]
    res = run_cli("rescore", run_id, "--db", str(db))  # the server is gone: nothing may be called
    assert res.returncode == 0 and "no model called" in res.stdout


def test_judge_against_the_llama_cpp_server(tmp_path: Path, llama_server: str) -> None:
    suite = tmp_path / "judged.yaml"
    text = SUITE.format(judge="openai:gemma-3-270m").replace("cases:", "params: {max_tokens: 16}\n    cases:")
    suite.write_text(text.replace('rubric: "Özet doğru ve kısa mı?"', 'rubric: "Özet doğru mu?", max_tokens: 24'),
                     encoding="utf-8")
    db = tmp_path / "j.db"
    res = run_cli("run", str(suite), "-m", "openai:gemma-3-270m", "--base-url", llama_server, "--db", str(db),
                  "--json")
    assert res.returncode == 0, res.stderr
    import sqlite3

    with sqlite3.connect(db) as c:
        judge_answers = c.execute("SELECT COUNT(*) FROM responses WHERE kind = 'judge'").fetchone()[0]
        judge_rows = c.execute("SELECT COUNT(*) FROM scores WHERE scorer = 'judge'").fetchone()[0]
    assert judge_answers == 2 and judge_rows == 2  # a small model may give no parsable score: stored as unknown


def test_a_local_judge_in_process_judges_every_case(tmp_path: Path) -> None:
    """Writer and judge both the bundled model in-process: verdicts are asked several at a time (batched)."""
    suite = tmp_path / "judged.yaml"
    extra = "".join(f'      - {{id: e{i}, email: "Toplantı {i} Mayıs günü saat üçte, lütfen geç kalmayın."}}\n'
                    for i in range(3, 8))
    text = SUITE.format(judge="local:gemma-3-270m").replace("cases:", "params: {max_tokens: 16}\n    cases:") + extra
    suite.write_text(text.replace('rubric: "Özet doğru ve kısa mı?"', 'rubric: "Özet doğru mu?", max_tokens: 24'),
                     encoding="utf-8")
    db = tmp_path / "j.db"
    res = run_cli("run", str(suite), "-m", "local:gemma-3-270m", "--db", str(db), "--json")
    assert res.returncode == 0, res.stderr
    import sqlite3

    with sqlite3.connect(db) as c:
        judge_answers = c.execute("SELECT COUNT(*) FROM responses WHERE kind = 'judge'").fetchone()[0]
        judge_rows = c.execute("SELECT COUNT(*) FROM scores WHERE scorer = 'judge'").fetchone()[0]
    assert judge_answers == 7 and judge_rows == 7


def pairwise_answer(body: dict) -> str:  # type: ignore[type-arg]
    """Writers: 'alpha' gives a long summary, 'beta' a short one. Judge: prefers the answer with 'ayrıntılı'."""
    text = body["messages"][-1]["content"]
    if "Winner:" in text or "Kazanan:" in text:
        a = text.split("<answer_a>", 1)[1].split("</answer_a>", 1)[0]
        return "Kazanan: A" if "ayrıntılı" in a else "Kazanan: B"
    if body["model"] == "alpha":
        return "ayrıntılı ve doğru bir özet"
    return "özet"


def test_pairwise_judging_both_ways_round(tmp_path: Path) -> None:
    suite = tmp_path / "pair.yaml"
    suite.write_text(SUITE.format(judge="openai:judge").replace("scorers: [judge, length]", "scorers: [pairwise]"),
                     encoding="utf-8")
    with ScriptedServer(["alpha", "beta", "judge"], answer=pairwise_answer) as srv:
        res = run_cli("run", str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--base-url", srv.base_url,
                      "--db", str(tmp_path / "p.db"), "--json")
        assert res.returncode == 0, res.stderr
        assert srv.stats()["by_model"]["judge"] == 4  # 2 cases x 1 pair x both orders
    task = json.loads(res.stdout)["report"]["tasks"][0]
    assert task["primary_metric"] == "pairwise"
    rows = {m["model"]: m["metrics"]["pairwise"]["value"] for m in task["models"]}
    assert rows == {"openai:alpha": 1.0, "openai:beta": 0.0}


def test_a_judge_that_always_picks_the_first_answer_gives_ties(tmp_path: Path) -> None:
    suite = tmp_path / "pair.yaml"
    suite.write_text(SUITE.format(judge="openai:judge").replace("scorers: [judge, length]", "scorers: [pairwise]"),
                     encoding="utf-8")

    def biased(body: dict) -> str:  # type: ignore[type-arg]
        text = body["messages"][-1]["content"]
        return "Kazanan: A" if "Kazanan:" in text else pairwise_answer(body)

    with ScriptedServer(["alpha", "beta", "judge"], answer=biased) as srv:
        res = run_cli("run", str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--base-url", srv.base_url,
                      "--db", str(tmp_path / "p.db"), "--json")
    assert res.returncode == 0, res.stderr
    models = json.loads(res.stdout)["report"]["tasks"][0]["models"]
    rows = {m["model"]: m["metrics"]["pairwise"]["value"] for m in models}
    assert rows == {"openai:alpha": 0.5, "openai:beta": 0.5}  # position bias cancels out


LIMITED = """
name: judged
models:
  - {{name: "openai:judge", concurrency: 1, rpm: 120}}
tasks:
  - id: ozet
    type: generate
    template: "Bu e-postayı özetle: {{email}}"
    scorers: [judge, length]
    judge: {{model: "openai:judge", rubric: "Özet doğru ve kısa mı?"}}
    cases:
{cases}
"""


class RecordingProgress:
    """A progress sink that keeps what it was told (the runner's ProgressSink protocol)."""

    def __init__(self) -> None:
        self.starts: list[tuple[int, str]] = []
        self.advanced = self.failed = 0

    def start(self, total: int, description: str) -> None:
        self.starts.append((total, description))

    def advance(self, *, tokens: int, cost: float | None, failed: bool) -> None:
        self.advanced += 1
        self.failed += failed

    def close(self) -> None:
        pass


def test_judge_calls_go_through_the_runner_limits_retries_progress_and_resume(tmp_path: Path) -> None:
    from tests.support.scripted_server import FaultPlan, PromptRule

    from llamacompare import pipeline
    from llamacompare.runner import RunOptions
    from llamacompare.store import Store

    cases = "\n".join(f'      - {{id: e{i}, email: "Toplantı {i} Mayıs günü saat üçte."}}' for i in range(6))
    suite = tmp_path / "judged.yaml"
    suite.write_text(LIMITED.format(cases=cases), encoding="utf-8")
    db = tmp_path / "j.db"
    down = FaultPlan(rules=(PromptRule("503", times=100, model="judge"),), retry_after=0.05)
    with ScriptedServer(["writer", "judge"], answer=answer, faults=down) as srv, Store(db) as store:
        # 1. The judge is down: every verdict fails after its retries, nothing is lost, and the run says so.
        options = RunOptions(base_url=srv.base_url, retry_base_s=0.05)
        plan = pipeline.plan_run(suite, ["openai:writer"], options)
        first = pipeline.run_plan(plan, store)
        judge_attempts = [r for r in srv.requests if r.model == "judge" and not r.path.endswith("/models")]
        assert first.outcome.sent == 6 and first.judge_failed == 6
        assert len(judge_attempts) == 6 * options.retry_attempts  # retried like any answer
        assert first.report.tasks[0].primary_metric != "judge"  # no verdict yet

        # 2. Resumed with the judge back: only the verdicts are asked, one at a time and at most 2 a second.
        srv.set_faults(FaultPlan())
        srv.reset()
        progress = RecordingProgress()
        second = pipeline.run_plan(pipeline.resume_plan(store, plan.run_id), store, resume=True, progress=progress)
        asked = [r for r in srv.requests if not r.path.endswith("/models")]
        peak = srv.stats()["max_in_flight"]
        assert second.judge_failed == 0 and {r.model for r in asked} == {"judge"} and len(asked) == 6
        assert peak == 1  # the suite's concurrency for the judge model
        times = sorted(r.time for r in asked)
        assert times[-1] - times[0] >= 1.4  # 120 a minute: a burst of 2, then one every 0.5 s
        assert (6, "judge ozet: openai:judge") in progress.starts and progress.advanced >= 6
        assert second.report.tasks[0].primary_metric == "judge"
        assert second.report.tasks[0].models[0].metrics["judge"].value == 4.0

        # 3. A third pass has nothing left to ask.
        srv.reset()
        pipeline.run_plan(pipeline.resume_plan(store, plan.run_id), store, resume=True)
        assert [r for r in srv.requests if not r.path.endswith("/models")] == []
