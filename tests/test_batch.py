"""`run --batch` against the scripted batch server (tests/support/batch_server.py, built from OpenAI's API
reference and openai-python's `Batch`/`FileObject` types, and Together's openapi.yaml): one batch per model, its
answers stored as live ones are at the batch price, a killed run re-attached on --resume, an expired batch's missing
cases sent again and only those."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.conftest import REPO, run_cli
from tests.support.batch_server import BatchServer

from llamacompare.store import Store

OPENAI = "openai:gpt-4o-mini"
TOGETHER_ID = "meta-llama/Llama-3.3-70B-Instruct-Turbo"


def reviews(tmp_path: Path, n: int = 200) -> Path:
    """n English reviews in the shipped sample's columns (sst2 reads `lang: en` rows)."""
    path = tmp_path / "reviews.tsv"
    rows = ["id\tlang\ttext\tlabel"]
    rows += [f"r{i:03d}\ten\t{'a fine , moving film' if i % 2 else 'a dull , empty film'} number {i} .\t{i % 2}"
             for i in range(n)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def env(srv: BatchServer, kind: str = "openai") -> dict[str, str]:
    if kind == "together":
        return {"TOGETHER_API_KEY": "tgp-scripted", "TOGETHER_BASE_URL": srv.base_url}
    return {"OPENAI_API_KEY": "sk-scripted", "OPENAI_BASE_URL": srv.base_url}


def rows(db: Path) -> list[tuple[str, str, float | None, str | None, str | None]]:
    with sqlite3.connect(db) as c:
        return c.execute("""SELECT r.status, r.case_id, p.cost_usd, p.cost_source, r.error FROM results r
                            LEFT JOIN responses p ON p.key = r.response_key ORDER BY r.seq""").fetchall()


def test_a_batch_run_stores_every_answer_at_the_batch_price_with_no_live_call(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    with BatchServer(["gpt-4o-mini"]) as srv:
        res = run_cli("run", "sst2", "--data", str(reviews(tmp_path)), "--limit", "200", "-m", OPENAI, "--batch",
                      "--poll", "0.05", "--db", str(db), "--no-progress", env=env(srv))
        assert res.returncode == 0, res.stderr + res.stdout
        assert srv.stats()["batches"] == [200] and srv.stats()["live_calls"] == 0
        assert srv.uploads[0]["purpose"] == "batch"
        stored = rows(db)
        assert len(stored) == 200 and {r[0] for r in stored} == {"ok"}
        assert {r[3] for r in stored} == {"batch: 50% of table 2026-03"}
        with sqlite3.connect(db) as c:
            pt, ct, cost = c.execute("SELECT SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_usd) FROM "
                                     "responses").fetchone()
        assert cost == pytest.approx((pt * 0.15 + ct * 0.60) / 1e6 * 0.5)  # half of gpt-4o-mini's live price
        # the same request record a live call stores: the cache key of a live run of the same case
        with Store(db) as store:
            run = store.get_run("latest")
            assert [b.requests for b in store.batches(run.id)] == [200]
        show = run_cli("show", "latest", "--db", str(db), env=env(srv))
        assert show.returncode == 0 and "gpt-4o-mini" in show.stdout
        # a live run of the same cases finds every answer in the cache: nothing is sent again
        again = run_cli("run", "sst2", "--data", str(reviews(tmp_path)), "--limit", "200", "-m", OPENAI,
                        "--db", str(db), "--no-progress", "--json", env=env(srv))
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["outcome"]["cached"] == 200 and srv.stats()["live_calls"] == 0


def test_a_killed_batch_run_resumes_by_re_attaching_to_its_batch(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    with BatchServer(["gpt-4o-mini"], polls=10_000) as srv:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llamacompare.cli.main", "run", "sst2", "--data", str(reviews(tmp_path)),
             "--limit", "200", "-m", OPENAI, "--batch", "--poll", "0.05", "--db", str(db), "--no-progress"],
            env={**os.environ, **env(srv)}, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while srv.stats()["polls"] < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert srv.stats()["polls"] >= 3, "the run never polled its batch"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        srv.polls = 0  # the batch finishes while nobody watches
        with Store(db) as store:
            run_id = store.get_run("latest").id
        res = run_cli("run", "--resume", run_id, "--db", str(db), "--no-progress", "--poll", "0.05", env=env(srv))
        assert res.returncode == 0, res.stderr + res.stdout
        assert srv.stats()["batches"] == [200] and srv.stats()["live_calls"] == 0
        assert len(rows(db)) == 200 and {r[0] for r in rows(db)} == {"ok"}


@pytest.mark.parametrize("missing", ["batch", "live"])
def test_an_expired_batch_sends_only_its_missing_cases_on_resume(tmp_path: Path, missing: str) -> None:
    db = tmp_path / "e.db"
    with BatchServer(["gpt-4o-mini"], expire_after=120, polls=1) as srv:
        res = run_cli("run", "sst2", "--data", str(reviews(tmp_path)), "--limit", "200", "-m", OPENAI, "--batch",
                      "--poll", "0.05", "--db", str(db), "--no-progress", env=env(srv))
        assert res.returncode == 1, res.stderr + res.stdout  # failed cases: the run says so
        assert "80 of 200 requests unanswered" in res.stdout
        assert [r[0] for r in rows(db)].count("ok") == 120
        assert {r[4] for r in rows(db) if r[0] == "failed"} == {
            "BatchError: batch_expired: This request could not be executed before the completion window expired."}
        srv.expire_after = None
        with Store(db) as store:
            run_id = store.get_run("latest").id
        res = run_cli("run", "--resume", run_id, "--db", str(db), "--no-progress", "--poll", "0.05",
                      "--missing", missing, env=env(srv))
        assert res.returncode == 0, res.stderr + res.stdout
        if missing == "batch":
            assert srv.stats()["batches"] == [200, 80] and srv.stats()["live_calls"] == 0
        else:
            assert srv.stats()["batches"] == [200] and srv.stats()["live_calls"] == 80
        assert [r[0] for r in rows(db)].count("ok") == 200


def test_a_malformed_output_line_is_a_failed_row_not_a_crash(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    with BatchServer(["gpt-4o-mini"], malformed=[3, 7], polls=0) as srv:
        res = run_cli("run", "sst2", "--data", str(reviews(tmp_path, 20)), "-m", OPENAI, "--batch", "--poll", "0.05",
                      "--db", str(db), "--no-progress", env=env(srv))
        assert res.returncode == 1, res.stderr + res.stdout
        stored = rows(db)
        assert [r[0] for r in stored].count("ok") == 18
        failed = [r for r in stored if r[0] == "failed"]
        assert len(failed) == 2 and all("2 line(s) of its output could not be read" in (r[4] or "") for r in failed)


def test_together_batches_in_its_own_format(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with BatchServer([TOGETHER_ID], dialect="together", prices=(0.88, 0.88), expire_after=120) as srv:
        res = run_cli("run", "sst2", "--data", str(reviews(tmp_path)), "-m", f"together:{TOGETHER_ID}", "--batch",
                      "--poll", "0.05", "--db", str(db), "--no-progress", env=env(srv, "together"))
        assert res.returncode == 1, res.stderr + res.stdout
        assert srv.uploads[0]["purpose"] == "batch-api" and srv.uploads[0]["file_name"]
        stored = rows(db)
        assert [r[0] for r in stored].count("ok") == 120
        assert {r[3] for r in stored if r[0] == "ok"} == {"batch: 50% of provider"}
        srv.expire_after = None
        res = run_cli("run", "--resume", "latest", "--db", str(db), "--no-progress", "--poll", "0.05",
                      env=env(srv, "together"))
        assert res.returncode == 0, res.stderr + res.stdout
        assert srv.stats()["batches"] == [200, 80] and srv.stats()["live_calls"] == 0


def test_a_batch_over_the_providers_limit_is_refused_before_anything_is_uploaded(tmp_path: Path) -> None:
    """The real command line, with OpenAI's limit of 50,000 requests a batch set to 10 for the test."""
    from llamacompare.models.openai_batch import OpenAIBatch

    assert OpenAIBatch.limits.max_requests == 50_000 and OpenAIBatch.limits.max_bytes == 200 * 1024 * 1024
    db = tmp_path / "l.db"
    script = ("import sys; from llamacompare.models.base import BatchLimits; "
              "from llamacompare.models.openai_batch import OpenAIBatch; "
              "OpenAIBatch.limits = BatchLimits(10, 200 * 1024 * 1024, '24h'); "
              "from llamacompare.cli.main import main; sys.argv[0] = 'llamacompare'; main()")
    with BatchServer(["gpt-4o-mini"]) as srv:
        res = subprocess.run(
            [sys.executable, "-c", script, "run", "sst2", "--data", str(reviews(tmp_path, 20)), "-m", OPENAI,
             "--batch", "--db", str(db), "--no-progress"],
            env={**os.environ, **env(srv)}, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert res.returncode == 2, res.stderr
        assert res.stderr.strip().count("\n") == 0 and "at most 10" in res.stderr and "Traceback" not in res.stderr
        assert srv.uploads == [] and srv.stats()["batches"] == []
    with Store(db) as store:
        assert store.list_runs() == []  # nothing half-written


def test_a_model_without_a_batch_api_is_refused_and_an_in_process_one_runs_live(tmp_path: Path) -> None:
    nowhere = "http://127.0.0.1:9/v1"  # nothing listens: the refusal comes before any request
    res = run_cli("run", "sst2", "--limit", "2", "-m", "ollama:llama3", "--batch", "--db", str(tmp_path / "o.db"),
                  "--no-progress", env={"OLLAMA_BASE_URL": nowhere})
    assert res.returncode == 2 and "ollama:llama3 has no batch API" in res.stderr, res.stderr
    assert res.stderr.strip().count("\n") == 0
    res = run_cli("run", "sst2", "--limit", "2", "-m", "vllm:m", "--batch", "--db", str(tmp_path / "v.db"),
                  "--no-progress", env={"VLLM_BASE_URL": nowhere})
    assert res.returncode == 2 and "vllm:m: its server takes no batches" in res.stderr, res.stderr
    assert "batch export" in res.stderr and res.stderr.strip().count("\n") == 0
    res = run_cli("run", "sst2", "--limit", "2", "-m", "local:gemma-3-270m", "--batch", "--db",
                  str(tmp_path / "l.db"), "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "local:gemma-3-270m: runs in this process, live (--batch is for hosted models)" in res.stdout



def test_anthropic_message_batches_expire_and_resume_with_only_the_missing(tmp_path: Path) -> None:
    """Anthropic's format (tests/support/anthropic_server.py's Message Batches, from anthropic-sdk-python's
    types/messages): `{requests: [{custom_id, params}]}` with the body a live call sends, results by `result.type`."""
    from tests.support.anthropic_server import AnthropicServer

    db = tmp_path / "a.db"
    snapshot = "claude-haiku-4-5-20251001"
    key = "sk-ant-api03-scripted"
    with AnthropicServer([snapshot], api_key=key, aliases={"claude-haiku-4-5": snapshot}, batch_polls=1,
                         batch_expire_after=120) as srv:
        e = {"ANTHROPIC_API_KEY": key, "ANTHROPIC_BASE_URL": srv.base_url}
        res = run_cli("run", "sst2", "--data", str(reviews(tmp_path)), "-m", "anthropic:claude-haiku-4-5", "--batch",
                      "--poll", "0.05", "--db", str(db), "--no-progress", env=e)
        assert res.returncode == 1, res.stderr + res.stdout
        assert srv.batch_sizes == [200] and srv.messages_requests == []
        first = srv.batches["msgbatch_0001"]["requests"][0]
        assert set(first) == {"custom_id", "params"} and "stream" not in first["params"]
        assert first["params"]["model"] == snapshot and first["params"]["system"].startswith("Classify")
        stored = rows(db)
        assert [r[0] for r in stored].count("ok") == 120
        assert {r[3] for r in stored if r[0] == "ok"} == {"batch: 50% of table 2025-11-15"}
        assert {r[4] for r in stored if r[0] == "failed"} == {
            "BatchError: expired: the batch ended before this request was processed"}
        srv.batch_expire_after = None
        res = run_cli("run", "--resume", "latest", "--db", str(db), "--no-progress", "--poll", "0.05", env=e)
        assert res.returncode == 0, res.stderr + res.stdout
        assert srv.batch_sizes == [200, 80] and srv.messages_requests == []
        assert [r[0] for r in rows(db)].count("ok") == 200
        assert key not in res.stdout + res.stderr and key.encode() not in db.read_bytes()


@pytest.mark.parametrize(("model", "live_in", "live_out", "share"), [
    (OPENAI, 0.15, 0.60, 0.5),
    (f"together:{TOGETHER_ID}", 0.88, 0.88, 0.5),
    ("together:meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", 0.18, 0.18, 1.0),  # not among Together's discounted
    ("anthropic:claude-haiku-4-5", 1.0, 5.0, 0.5),
])
def test_the_plan_shows_the_live_and_the_batch_price_and_the_window(tmp_path: Path, model: str, live_in: float,
                                                                    live_out: float, share: float) -> None:
    res = run_cli("run", "sst2", "-m", model, "--plan", "--json", "--db", str(tmp_path / "p.db"),
                  env={"OPENAI_API_KEY": "sk-x", "TOGETHER_API_KEY": "x", "ANTHROPIC_API_KEY": "x"})
    assert res.returncode == 0, res.stderr
    est = json.loads(res.stdout)["models"][0]
    live = (est["prompt_tokens"] * live_in + est["output_tokens"] * live_out) / 1e6
    assert est["cost_usd"] == pytest.approx(live) and est["batch_cost_usd"] == pytest.approx(live * share)
    assert est["batch_window"] == "24h" and est["batched"] is False
    text = run_cli("run", "sst2", "-m", model, "--plan", "--batch", "--db", str(tmp_path / "p.db"),
                   env={"OPENAI_API_KEY": "sk-x", "TOGETHER_API_KEY": "x", "ANTHROPIC_API_KEY": "x"})
    assert text.returncode == 0, text.stderr
    assert "cost live" in text.stdout and "cost batch" in text.stdout and "<= 24h" in text.stdout
    assert "answers within 24h" in text.stdout


def test_vllm_offline_export_then_import_of_run_batch_output(tmp_path: Path) -> None:
    """`batch export` writes OpenAI batch lines for vLLM's run-batch; `batch import` stores its output (the shapes of
    vllm/entrypoints/openai/run_batch.py, tests/support/vllm_run_batch.py); a failed line is asked for again."""
    from tests.support.vllm_run_batch import run_batch

    db, requests, results = tmp_path / "v.db", tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    model = "vllm:meta-llama/Llama-3.1-8B-Instruct"
    res = run_cli("batch", "export", "sst2", "-m", model, "--data", str(reviews(tmp_path, 20)), "-o", str(requests),
                  "--db", str(db), env={"VLLM_BASE_URL": "http://127.0.0.1:9/v1"})  # nothing listens: none asked
    assert res.returncode == 0, res.stderr
    lines = [json.loads(x) for x in requests.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 20 and len({x["custom_id"] for x in lines}) == 20
    first = lines[0]
    assert first["method"] == "POST" and first["url"] == "/v1/chat/completions"
    assert first["body"]["model"] == "meta-llama/Llama-3.1-8B-Instruct" and "stream" not in first["body"]
    assert first["body"]["messages"][0] == {"role": "system", "content": "Classify the sentiment of each movie "
                                            "review as positive or negative. Answer with one word."}
    run_batch(requests, results, fail=[4])
    with Store(db) as store:
        run_id = store.get_run("latest").id
    res = run_cli("batch", "import", run_id, str(results), "--db", str(db))
    assert res.returncode == 1, res.stderr + res.stdout  # one line failed: said, stored as a failed row
    stored = rows(db)
    assert [r[0] for r in stored].count("ok") == 19
    assert [r[4] for r in stored if r[0] == "failed"] == ["BatchError: out.jsonl:5: CUDA out of memory"]
    assert {r[3] for r in stored if r[0] == "ok"} == {"batch: unknown"}
    again = tmp_path / "again.jsonl"
    res = run_cli("batch", "export", run_id, "-o", str(again), "--db", str(db))
    assert res.returncode == 0, res.stderr
    assert [json.loads(x)["custom_id"] for x in again.read_text().splitlines()] == [lines[4]["custom_id"]]
    run_batch(again, results)
    res = run_cli("batch", "import", run_id, str(results), "--db", str(db))
    assert res.returncode == 0, res.stderr + res.stdout
    assert [r[0] for r in rows(db)].count("ok") == 20
    show = run_cli("show", run_id, "--db", str(db))
    assert show.returncode == 0 and "Llama-3.1-8B" in show.stdout


def test_until_decided_sends_batches_in_waves_and_stops_a_decided_model(tmp_path: Path) -> None:
    """Two models race in waves of 40 cases: one always right, one always wrong. The wrong one is decided after a
    few waves and gets no more batches; every wave is a seeded random slice the race heard before the next."""
    def answer(body: dict[str, object]) -> str:
        text = json.dumps(body["messages"][-1])
        right = "positive" if "fine , moving" in text else "negative"
        wrong = "negative" if right == "positive" else "positive"
        return right if body["model"] == "gpt-4o-mini" else wrong

    db = tmp_path / "w.db"
    with BatchServer(["gpt-4o-mini", "gpt-4.1-nano"], answer=answer, polls=0) as srv:
        res = run_cli("run", "sst2", "--data", str(reviews(tmp_path, 400)), "-m", OPENAI, "-m", "openai:gpt-4.1-nano",
                      "--batch", "--until-decided", "--wave", "40", "--poll", "0.02", "--db", str(db),
                      "--no-progress", "--json", env=env(srv))
        assert res.returncode == 0, res.stderr
        sizes = srv.stats()["batches"]
    out = json.loads(res.stdout)["outcome"]
    assert all(n <= 40 for n in sizes) and 2 <= len(sizes) < 20  # waves, and fewer than all 400 x 2 cases
    assert out["saved"] > 0 and out["saved"] + out["sent"] == 800
    assert any("gpt-4.1-nano" in line for line in out["decisions"])
    with sqlite3.connect(db) as c:
        seqs = [r[0] for r in c.execute("SELECT seq FROM results WHERE model = ? ORDER BY rowid LIMIT 40",
                                        ("openai:gpt-4o-mini",))]
    assert seqs != sorted(seqs)  # a seeded random slice, not the first 40 cases


def test_batch_true_on_one_suite_model_batches_it_alone_and_turkish_text_survives(tmp_path: Path) -> None:
    suite = tmp_path / "duygu.yaml"
    suite.write_text("""name: duygu
models:
  - {name: "openai:gpt-4o-mini", batch: true}
  - openai:gpt-4.1-nano
tasks:
  - id: duygu
    type: classify
    labels: {Olumlu: [], Olumsuz: []}
    system: "Yorumun duygusunu yaz: Olumlu ya da Olumsuz. İyi düşün."
    template: "Yorum: {text}\\nDuygu:"
    reference: label
    cases:
      - {id: a, text: "İstanbul'da çekilmiş ılık, güzel bir film.", label: Olumlu}
      - {id: b, text: "Sıkıcı ve ışıksız; hiç beğenmedim.", label: Olumsuz}
      - {id: c, text: "IŞIL IŞIL oyunculuk, İNANILMAZ.", label: Olumlu}
""", encoding="utf-8")
    db = tmp_path / "s.db"
    with BatchServer(["gpt-4o-mini", "gpt-4.1-nano"], answers=("Olumlu", "Olumsuz"), polls=0) as srv:
        res = run_cli("run", str(suite), "--poll", "0.02", "--db", str(db), "--no-progress", env=env(srv))
        assert res.returncode == 0, res.stderr + res.stdout
        assert srv.stats()["batches"] == [3] and srv.stats()["live_calls"] == 3
        sent = json.loads(srv.files["file-000001"].decode().splitlines()[0])["body"]["messages"]
    assert sent[0]["content"] == "Yorumun duygusunu yaz: Olumlu ya da Olumsuz. İyi düşün."
    assert any("İstanbul'da çekilmiş ılık" in m["content"] for m in sent)
    with sqlite3.connect(db) as c:
        sources = dict(c.execute("SELECT r.model, p.cost_source FROM results r JOIN responses p "
                                 "ON p.key = r.response_key"))
    assert sources == {"openai:gpt-4o-mini": "batch: 50% of table 2026-03", "openai:gpt-4.1-nano": "table 2026-03"}


def test_the_progress_bar_shows_the_batch_state() -> None:
    import io

    from rich.console import Console

    from llamacompare.runner.progress import RichProgress

    buf = io.StringIO()
    bar = RichProgress(Console(file=buf, force_terminal=True, width=160))
    bar.start(200, "sst2: 1 model(s)")
    bar.note("openai:gpt-4o-mini: batch in_progress (120/200 done)")
    bar.close()
    assert "batch in_progress (120/200 done)" in buf.getvalue()


def test_a_run_killed_mid_wave_resumes_without_sending_any_request_twice(tmp_path: Path) -> None:
    db = tmp_path / "kw.db"
    with BatchServer(["gpt-4o-mini", "gpt-4.1-nano"], polls=10_000) as srv:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llamacompare.cli.main", "run", "sst2", "--data", str(reviews(tmp_path, 120)),
             "-m", OPENAI, "-m", "openai:gpt-4.1-nano", "--batch", "--until-decided", "--wave", "40", "--poll",
             "0.05", "--db", str(db), "--no-progress"],
            env={**os.environ, **env(srv)}, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while srv.stats()["polls"] < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert srv.stats()["batches"] == [40, 40]  # each model's first wave, in flight
        srv.polls = 0
        res = run_cli("run", "--resume", "latest", "--db", str(db), "--no-progress", "--poll", "0.02", env=env(srv))
        assert res.returncode == 0, res.stderr + res.stdout
        ids = [line["custom_id"] for b in srv.batches.values() for line in b.lines]
    assert len(ids) == len(set(ids))  # nothing asked twice
    assert len(ids) == len(rows(db))  # and every request asked has its answer stored
