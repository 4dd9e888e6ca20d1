"""The comparison engine end to end: suites x models against real loopback servers, stored, cached, resumed."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.conftest import REPO, run_cli
from tests.support.scripted_server import ScriptedServer

SUITE = """
name: mini
tasks:
  - id: sentiment
    type: classify
    labels: {Pozitif: [olumlu], Negatif: [olumsuz]}
    few_shot:
      - {text: "Harika bir gün!", label: Pozitif}
    few_shot_template: "Mesaj: {text}\\nDuygu: {label}\\n"
    template: "Mesaj: {text}\\nDuygu:"
    cases:
      - {id: a, text: "Bu akşam pizza sipariş etmek için sabırsızlanıyorum!", label: Pozitif}
      - {id: b, text: "Piyano resitalime geç kaldın!", label: Negatif}
      - {id: c, text: "İstanbul'da güneşli bir gün.", label: Pozitif}
      - {id: d, text: "Çok kötü bir film.", label: Negatif}
  - id: summary
    type: generate
    template: "Özetle: {text}"
    reference: ref
    scorers: [rouge, length]
    cases:
      - {id: s1, text: "Büyük dil modelleri artık açık kaynaklı.", ref: "modeller açık kaynaklı"}
"""


def write_suite(tmp_path: Path, text: str = SUITE) -> Path:
    p = tmp_path / "mini.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def inline_cases(n: int) -> str:
    """YAML lines for n inline cases c0..c(n-1), alternating gold labels, indented for a task's `cases:`."""
    return "\n".join(f"      - {{id: c{i}, text: 'mesaj {i}', label: {'Pozitif' if i % 2 else 'Negatif'}}}"
                     for i in range(n))


def db_rows(db: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    # `with sqlite3.connect()` commits but does not close: close it, or the file stays open
    with contextlib.closing(sqlite3.connect(db)) as c:
        return c.execute(sql).fetchall()


def stored_answers(db: Path) -> dict[tuple[str, str, str, str], str]:
    rows = db_rows(db, """SELECT r.task_id, r.case_id, r.model, r.mode, p.text FROM results r
                          JOIN responses p ON p.key = r.response_key WHERE r.status = 'ok'""")
    return {(t, c, m, mo): text for t, c, m, mo, text in rows}


def test_run_two_models_store_score_and_show(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with ScriptedServer(["alpha", "beta"], answers=["Pozitif", "Negatif", "**Olumlu**."]) as srv:
        res = run_cli("run", str(write_suite(tmp_path)), "-m", "openai:alpha", "-m", "openai:beta", "--base-url",
                      srv.base_url, "--db", str(db), "--json")
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout)
        gens = [r for r in srv.requests if not r.path.endswith("/models")]
    assert out["outcome"]["sent"] == 10 and out["outcome"]["failed"] == 0 and len(gens) == 10
    report = out["report"]
    sent = next(t for t in report["tasks"] if t["id"] == "sentiment")
    names = [m["model"] for m in sent["models"]]
    assert names[:2] == ["openai:alpha", "openai:beta"] and names[2].startswith("baseline")
    acc = sent["models"][0]["metrics"]["accuracy"]
    assert 0 <= acc["lo"] <= acc["value"] <= acc["hi"] <= 1
    assert sent["pairwise"] and sent["recommendation"]["line"]
    summ = next(t for t in report["tasks"] if t["id"] == "summary")
    assert summ["primary_metric"] == "rougeL"
    # every answer is stored with its full request
    rows = db_rows(db, "SELECT request_json FROM responses")
    assert len(rows) == 10 and all("messages" in json.loads(r[0]) for r in rows)
    run_id = out["outcome"]["run_id"]
    listed = json.loads(run_cli("runs", "--db", str(db), "--json").stdout)
    assert listed[0]["id"] == run_id and listed[0]["answered"] == 10
    shown = json.loads(run_cli("show", run_id[:12], "--db", str(db), "--json").stdout)
    assert shown["run"]["id"] == run_id and len(shown["cases"]) == 5
    text = run_cli("show", run_id, "--db", str(db)).stdout
    assert "answers side by side" in text and "openai:beta" in text and "expected: Pozitif" in text


def test_rerun_is_served_from_the_cache(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    suite = write_suite(tmp_path)
    with ScriptedServer(["alpha"]) as srv:
        first = run_cli("run", str(suite), "-m", "openai:alpha", "--base-url", srv.base_url, "--db", str(db),
                        "--json")
        assert first.returncode == 0, first.stderr
        before = len([r for r in srv.requests if not r.path.endswith("/models")])
        second = run_cli("run", str(suite), "-m", "openai:alpha", "--base-url", srv.base_url, "--db", str(db),
                         "--json")
        after = len([r for r in srv.requests if not r.path.endswith("/models")])
    assert second.returncode == 0, second.stderr
    assert before == 5 and after == before, "a cache hit sends nothing"
    o1, o2 = json.loads(first.stdout), json.loads(second.stdout)
    assert o2["outcome"]["cached"] == 5 and o2["outcome"]["sent"] == 0
    a1 = {(c["id"], m): a["text"] for c in o1["report"]["cases"] for m, a in c["answers"].items()}
    a2 = {(c["id"], m): a["text"] for c in o2["report"]["cases"] for m, a in c["answers"].items()}
    assert a1 == a2


def test_export_formats(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with ScriptedServer(["alpha"]) as srv:
        assert run_cli("run", str(write_suite(tmp_path)), "-m", "openai:alpha", "--base-url", srv.base_url,
                       "--db", str(db), "--no-progress").returncode == 0
    jl = run_cli("export", "latest", "--db", str(db), "--format", "jsonl").stdout.splitlines()
    assert len(jl) == 5 and json.loads(jl[0])["request"]["params"]["temperature"] == 0.0
    csv_out = tmp_path / "out.csv"
    assert run_cli("export", "--db", str(db), "--format", "csv", "-o", str(csv_out)).returncode == 0
    import csv

    with csv_out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 5 and {r["task"] for r in rows} == {"sentiment", "summary"}
    js = json.loads(run_cli("export", "--db", str(db), "--format", "json").stdout)
    assert any(r["scores"].get("label") is not None for r in js)


def _spawn_run(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "llamacompare.cli.main", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_rows(db: Path, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if db_rows(db, "SELECT COUNT(*) FROM results WHERE status = 'ok'")[0][0] >= n:
                return
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} results stored in {timeout} s")


def test_show_scores_what_an_unfinished_run_has_answered(tmp_path: Path) -> None:
    """A run killed part-way (its status stays `running`) and one stopped with Ctrl-C (`interrupted`): `show`
    scores the answers stored so far, and says that it does."""
    suite = write_suite(tmp_path, f"""
name: partial
tasks:
  - id: t
    type: classify
    labels: {{Pozitif: [], Negatif: []}}
    template: "Mesaj: {{text}}"
    cases:
{inline_cases(400)}
""")
    for sig, status in ((signal.SIGKILL, "running"), (signal.SIGINT, "interrupted")):
        db = tmp_path / f"{status}.db"
        with ScriptedServer(["alpha", "beta"], answers=["Pozitif"], latency=0.02) as srv:
            proc = _spawn_run(["run", str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--base-url",
                               srv.base_url, "--db", str(db), "--concurrency", "2", "--no-progress"])
            _wait_for_rows(db, 40)
            proc.send_signal(sig)
            proc.wait(30)
        run_id, stored = db_rows(db, "SELECT id, status FROM runs")[0]
        assert stored == status and db_rows(db, "SELECT COUNT(*) FROM scores")[0][0] == 0
        answered = dict(db_rows(db, "SELECT model, COUNT(*) FROM results WHERE status = 'ok' GROUP BY model"))
        res = run_cli("show", run_id, "--db", str(db), "--json")
        assert res.returncode == 0, res.stderr
        rows = {m["model"]: m for m in json.loads(res.stdout)["tasks"][0]["models"]}
        for model in ("openai:alpha", "openai:beta"):
            assert 0 < rows[model]["n"] == answered[model] < 400
            assert rows[model]["metrics"]["accuracy"]["value"] is not None
        text = run_cli("show", run_id, "--db", str(db)).stdout
        assert f"run {run_id} is {status}" in text and "answered so far" in text
        assert db_rows(db, "SELECT COUNT(*) FROM scores")[0][0] == 0  # show reads; the run stores its scores


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_run_resumes_to_the_same_results_without_resending(tmp_path: Path, sig: int) -> None:
    rows = inline_cases(60)
    suite = write_suite(tmp_path, f"""
name: kill
tasks:
  - id: t
    type: classify
    labels: {{Pozitif: [], Negatif: []}}
    template: "Mesaj: {{text}}"
    cases:
{rows}
""")
    ref_db, db = tmp_path / "ref.db", tmp_path / "killed.db"
    args = [str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--concurrency", "4", "--no-progress"]
    with ScriptedServer(["alpha", "beta"], latency=0.02) as srv:
        url = ["--base-url", srv.base_url]
        ref = run_cli("run", *args, *url, "--db", str(ref_db))
        assert ref.returncode == 0, ref.stderr
        srv.reset()
        proc = _spawn_run(["run", *args, *url, "--db", str(db)])
        _wait_for_rows(db, 30)
        proc.send_signal(sig)
        proc.communicate(timeout=60)
        if sig == signal.SIGINT:
            assert proc.returncode == 130
            assert db_rows(db, "SELECT status FROM runs")[0][0] == "interrupted"
        stored_before = stored_answers(db)
        assert 30 <= len(stored_before) < 120
        run_id = db_rows(db, "SELECT id FROM runs")[0][0]
        srv.reset()
        resumed = run_cli("run", "--resume", run_id, *url, "--db", str(db), "--no-progress")
        assert resumed.returncode == 0, resumed.stderr
        resent = srv.stats()["prompts"]
    final = stored_answers(db)
    assert final == stored_answers(ref_db), "the resumed run ends with exactly the uninterrupted run's results"
    assert len(final) == 120
    # nothing that was stored before the kill was asked again
    from tests.support.fake_lm import prompt_hash

    def body(case: str) -> dict:  # type: ignore[type-arg]
        return {"messages": [{"role": "user", "content": f"Mesaj: mesaj {case[1:]}"}]}

    stored_hashes = {(m.split(":", 1)[1], prompt_hash(body(c))) for (_, c, m, _) in stored_before}
    asked = {(model, h) for h, p in resent.items() for model in p["models"]}
    assert not (stored_hashes & asked)
    assert sum(p["attempts"] for p in resent.values()) == 120 - len(stored_before)
    assert db_rows(db, "PRAGMA integrity_check")[0][0] == "ok"
    assert db_rows(db, "SELECT status FROM runs")[0][0] == "done"


@pytest.mark.slow
def test_sst2_872_cases_two_models_stored_and_resumable(tmp_path: Path) -> None:
    db = tmp_path / "sst2.db"
    data = tmp_path / "sst2_dev.tsv"  # SST-2 dev's size and format (text<TAB>label, PTB tokens), made up here
    words = ["a", "warm", "film", "it 's", "dull", "does n't", "work", "funny", "and", "sad", "."]
    data.write_text("text\tlabel\n" + "".join(f"{' '.join(words[(i + k) % len(words)] for k in range(3 + i % 9))} "
                                              f"#{i}\t{i % 2}\n" for i in range(872)), encoding="utf-8")
    with ScriptedServer(["alpha", "beta"], answers=["positive", "negative", "The sentiment is negative."]) as srv:
        proc = _spawn_run(["run", "sst2", "--data", str(data), "-m", "openai:alpha", "-m", "openai:beta",
                           "--base-url", srv.base_url, "--db", str(db), "--concurrency", "16", "--no-progress"])
        _wait_for_rows(db, 200)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        run_id = db_rows(db, "SELECT id FROM runs")[0][0]
        res = run_cli("run", "--resume", run_id, "--base-url", srv.base_url, "--db", str(db), "--json")
        assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["outcome"]["already_done"] >= 200
    task = out["report"]["tasks"][0]
    assert [m["n"] for m in task["models"][:2]] == [872, 872]
    assert db_rows(db, "SELECT COUNT(*) FROM results WHERE status = 'ok'")[0][0] == 2 * 872


def test_bad_input_fails_before_any_request(tmp_path: Path) -> None:
    bad = write_suite(tmp_path, SUITE.replace("template: \"Mesaj: {text}\\nDuygu:\"", "template: \"{txet}\""))
    db = tmp_path / "x.db"
    with ScriptedServer(["alpha"]) as srv:
        res = run_cli("run", str(bad), "-m", "openai:alpha", "--base-url", srv.base_url, "--db", str(db))
        assert srv.requests == []
    assert res.returncode == 2 and "txet" in res.stderr and "mini.yaml" in res.stderr
    assert "Traceback" not in res.stderr and res.stderr.count("\n") == 1
    res = run_cli("run", str(write_suite(tmp_path)), "-m", "nope-model", "--db", str(db))
    assert res.returncode == 2 and "closest known" in res.stderr


def test_prompt_longer_than_the_context_fails_before_any_request(tmp_path: Path) -> None:
    long_suite = SUITE.replace("Piyano resitalime geç kaldın!", "uzun " * 9000)
    with ScriptedServer([__import__("tests.support.scripted_server", fromlist=["ModelSpec"]).ModelSpec(
            "alpha", context_length=2048)]) as srv:
        res = run_cli("run", str(write_suite(tmp_path, long_suite)), "-m", "openai:alpha", "--base-url",
                      srv.base_url, "--db", str(tmp_path / "x.db"))
        gens = [r for r in srv.requests if not r.path.endswith("/models")]
    assert res.returncode == 2 and "2048-token context" in res.stderr and gens == []


@pytest.mark.slow
def test_default_run_compares_the_two_bundled_models(tmp_path: Path) -> None:
    """`llamacompare run` with no key and no network, read through a pipe at 80 columns: the seed's tasks plus 240
    labelled reviews on both bundled models, base and instruct, each read two ways (generated answer, label
    log-probabilities); a recommendation between them that agrees with the paired tests; answers not cut before
    their label; and a Turkish summary that is not blank."""
    db = str(tmp_path / "seed.db")
    # two or three minutes on 2 idle cores; far longer when other llama.cpp processes share them
    res = run_cli("run", "--db", db, env={"TOGETHER_API_KEY": "", "COLUMNS": "80"}, timeout=2400)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "sentiment_tr" in out and "answers side by side" in out and "baseline" in out
    report = json.loads(run_cli("show", "latest", "--db", db, "--json").stdout)
    reviews = next(t for t in report["tasks"] if t["id"] == "reviews")
    rows = {m["model"]: m for m in reviews["models"] if not m["is_baseline"]}
    base, instruct = "local:gemma-3-270m", "local:smollm2-135m-instruct"
    assert set(rows) == {f"{m}@{mode}" for m in (base, instruct) for mode in ("generate", "logprob")}
    assert all(m["n"] == 240 for m in rows.values())
    line, chosen = reviews["recommendation"]["line"], reviews["recommendation"]["model"]
    if line.startswith("choose "):  # only a model significantly better than every other one is chosen
        assert chosen in rows and "significantly better" in line
        involving = [p for p in reviews["pairwise"] if chosen in (p["a"], p["b"])]
        assert len(involving) == 3 and all(p["p_value"] < 0.05 for p in involving)
    else:
        assert "cannot separate" in line or "no significant" in line or "scored the same" in line
    assert base in line or instruct in line  # the line names the models it is about
    # no answer of the instruct model was cut before its label (the bar: at most 5%)
    assert not [s for s in reviews["max_tokens_stops"] if s["model"].startswith(instruct)]
    summary = next(c for c in report["cases"] if c["task"] == "summary_tr")
    assert len(summary["answers"][base]["text"].split()) >= 10  # words, not blank lines
    assert summary["answers"][instruct]["prompt"].startswith("<|im_start|>system\n")  # its own chat template


def test_per_model_concurrency_and_request_rate_limits(tmp_path: Path) -> None:
    rows = inline_cases(12)
    suite = write_suite(tmp_path, f"""
name: limits
models:
  - {{name: "openai:alpha", concurrency: 2}}
  - {{name: "openai:beta", concurrency: 8, rpm: 240}}
tasks:
  - id: t
    type: classify
    labels: {{Pozitif: [], Negatif: []}}
    template: "Mesaj: {{text}}"
    cases:
{rows}
""")
    with ScriptedServer(["alpha"], latency=0.05) as slow:
        res = run_cli("run", str(suite), "--base-url", slow.base_url, "--db", str(tmp_path / "a.db"),
                      "--no-progress", "-m", "openai:alpha")
        assert res.returncode == 0, res.stderr
        assert 1 <= slow.stats()["max_in_flight"] <= 2  # -m keeps the suite's settings for a listed model
    with ScriptedServer(["alpha", "beta"], latency=0.05) as srv:
        t0 = time.monotonic()
        res = run_cli("run", str(suite), "--base-url", srv.base_url, "--db", str(tmp_path / "b.db"), "--no-progress")
        elapsed = time.monotonic() - t0
        assert res.returncode == 0, res.stderr
        peak = srv.stats()["max_in_flight"]
        times = sorted(r.time for r in srv.requests if r.model == "beta" and not r.path.endswith("/models"))
    # alpha (concurrency 2) and beta (8) together never exceed 10 in flight
    assert peak <= 10
    # beta at 240 requests/minute = 4 a second: a burst of 4, then one every 0.25 s (8 more: 2 s)
    assert len(times) == 12 and times[-1] - times[0] >= 1.8 and elapsed >= 1.8


def test_logprob_mode_with_content_free_calibration(tmp_path: Path) -> None:
    rows = inline_cases(8)
    suite = write_suite(tmp_path, f"""
name: cf
tasks:
  - id: t
    type: classify
    mode: logprob
    calibration: content_free
    labels: {{Pozitif: [], Negatif: []}}
    template: "Mesaj: {{text}}\\nDuygu:"
    cases:
{rows}
""")
    db = tmp_path / "cf.db"
    with ScriptedServer(["alpha"], answers=("Pozitif", "Negatif")) as srv:
        res = run_cli("run", str(suite), "-m", "openai:alpha", "--base-url", srv.base_url, "--db", str(db), "--json")
        assert res.returncode == 0, res.stderr
        prompts = [r for r in srv.requests if r.path.endswith("/completions") and "chat" not in r.path]
    out = json.loads(res.stdout)
    assert out["outcome"]["sent"] == 9 and out["outcome"]["total"] == 9  # 8 cases + the content-free input
    assert len(prompts) == 9 * 2  # one echo request per label
    cf = db_rows(db, "SELECT case_id, mode FROM results WHERE mode = 'calibration'")
    assert cf == [("(content-free)", "calibration")]
    task = out["report"]["tasks"][0]
    assert [m["model"] for m in task["models"]][0] == "openai:alpha"  # no '@calibration' variant
    assert task["models"][0]["n"] == 8 and "accuracy_uncalibrated" in task["models"][0]["metrics"]
    assert all(c["id"] != "(content-free)" for c in out["report"]["cases"])
