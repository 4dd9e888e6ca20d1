"""Reliability and security: faults, crashes, concurrent writers, secrets and bad input at the command line."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import time
from pathlib import Path

import pytest
import yaml
from tests.conftest import REPO, run_cli
from tests.support.fake_lm import pick_answer, prompt_hash
from tests.support.scripted_server import FaultPlan, ScriptedServer
from tests.test_runner import _spawn_run, db_rows, stored_answers

ANSWERS = ("Pozitif", "Negatif")


def numbered_suite(tmp_path: Path, n: int, name: str = "many", word: str = "mesaj") -> Path:
    data = tmp_path / f"{name}.jsonl"
    with data.open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"c{i}", "text": f"{word} {i} — İş güzel", "label": ANSWERS[i % 2]}) + "\n")
    suite = tmp_path / f"{name}.yaml"
    suite.write_text(f"""
name: {name}
tasks:
  - id: t
    type: classify
    labels: {{Pozitif: [], Negatif: []}}
    template: "Mesaj: {{text}}"
    dataset: {{path: {data.name}, id_column: id}}
""", encoding="utf-8")
    return suite


def body_for(i: int) -> dict:  # type: ignore[type-arg]
    return {"messages": [{"role": "user", "content": f"Mesaj: mesaj {i} — İş güzel"}]}


@pytest.mark.slow
def test_5000_requests_with_a_quarter_faulty_lose_nothing_and_store_no_fault(tmp_path: Path) -> None:
    n = 5000
    suite, db = numbered_suite(tmp_path, n), tmp_path / "faults.db"
    kinds = ("429", "429_no_retry_after", "500", "502", "503", "reset", "malformed_json", "stream_cut",
             "empty_choices", "hang")
    plan = FaultPlan(rate=0.25, kinds=kinds, seed=7, retry_after=0.05, hang_s=3.0)
    args = [str(suite), "-m", "openai:alpha", "--concurrency", "64", "--timeout", "1", "--retries", "3",
            "--retry-base", "0.01", "--db", str(db), "--no-progress"]
    with ScriptedServer(["alpha"], answers=ANSWERS, faults=plan) as srv:
        first = run_cli("run", *args, "--base-url", srv.base_url, timeout=900)
        stats = srv.stats()
        run_id = db_rows(db, "SELECT id FROM runs")[0][0]
        failed_before = {c for (c,) in db_rows(db, "SELECT case_id FROM results WHERE status = 'failed'")}
        srv.reset()
        srv.set_faults(FaultPlan())
        second = run_cli("run", "--resume", run_id, "--base-url", srv.base_url, "--db", str(db), "--no-progress")
        resent = srv.stats()["prompts"]
    gen = {k: v for k, v in stats["by_outcome"].items()}
    faults = sum(v for k, v in gen.items() if k != "ok")
    total = sum(gen.values())
    print(f"\nfault run: {total} requests, {faults} faults ({faults / total:.0%}), {len(failed_before)} cases failed")
    assert total >= 5000 and faults / total >= 0.2
    assert first.returncode in (0, 1), first.stderr
    # every case ended answered or failed with its reason
    rows = db_rows(db, "SELECT status, error FROM results")
    assert len(rows) == n
    # no fault was ever stored as an answer: each answer is exactly what the server would say to that prompt
    answers = stored_answers(db)
    for (_, case, _, _), text in answers.items():
        assert text == pick_answer(body_for(int(case[1:])), ANSWERS)
    # retries stayed within their limits: at most 1 + 3 attempts per prompt
    assert max(p["attempts"] for p in stats["prompts"].values()) <= 4
    # the rerun sent only the cases that had failed, once each
    expected = {prompt_hash(body_for(int(c[1:]))) for c in failed_before}
    assert set(resent) == expected and all(p["attempts"] == 1 for p in resent.values())
    assert second.returncode == 0, second.stderr
    assert db_rows(db, "SELECT COUNT(*) FROM results WHERE status = 'ok'")[0][0] == n


def _answered(db: Path) -> int:
    try:
        return int(db_rows(db, "SELECT COUNT(*) FROM results")[0][0])
    except (sqlite3.Error, IndexError):
        return 0


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_gives_the_uninterrupted_results(tmp_path: Path) -> None:
    """Trials until at least 10 SIGKILLs: each trial is a fresh run, killed at random moments and resumed
    until done, then compared with an uninterrupted run."""
    suite = numbered_suite(tmp_path, 150)
    ref_db = tmp_path / "ref.db"
    rng = random.Random(1234)
    kills = trials = 0
    with ScriptedServer(["alpha", "beta"], answers=ANSWERS, latency=0.02) as srv:
        url = ["--base-url", srv.base_url]
        common = [str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--concurrency", "8", "--no-progress"]
        assert run_cli("run", *common, *url, "--db", str(ref_db)).returncode == 0
        reference = stored_answers(ref_db)
        while kills < 10 and trials < 15:
            trials += 1
            db = tmp_path / f"kill{trials}.db"
            run_id = None
            for _ in range(30):
                args = ["run", "--resume", run_id] if run_id else ["run", *common]
                before = _answered(db)
                proc = _spawn_run([*args, *url, "--db", str(db)])
                # kill at a random moment once this process answers: start-up time varies with the machine's load,
                # and a kill before any answer would only test start-up again
                deadline = time.monotonic() + 60
                while proc.poll() is None and _answered(db) <= before and time.monotonic() < deadline:
                    time.sleep(0.02)
                time.sleep(rng.uniform(0.0, 0.6))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
                proc.communicate(timeout=60)
                if run_id is None:
                    try:
                        run_id = db_rows(db, "SELECT id FROM runs")[0][0]
                    except (sqlite3.Error, IndexError):
                        continue  # killed before the run was even created: start again
                assert db_rows(db, "PRAGMA integrity_check")[0][0] == "ok"
                if db_rows(db, "SELECT status FROM runs")[0][0] == "done":
                    break
            assert run_id is not None
            assert stored_answers(db) == reference, "a resumed run ends with the uninterrupted run's results"
            assert db_rows(db, "SELECT COUNT(*) FROM results")[0][0] == 300  # no case twice
    print(f"\n{kills} SIGKILLs over {trials} runs")
    assert kills >= 10


def test_a_resume_that_fails_before_finishing_is_not_marked_done(tmp_path: Path) -> None:
    """A resumed run whose server has gone fails; the run stays resumable instead of being marked done with
    half its answers (what the SIGKILL test above caught under load)."""
    suite = numbered_suite(tmp_path, 20)
    db = tmp_path / "r.db"
    with ScriptedServer(["alpha"], answers=ANSWERS) as srv:
        url = srv.base_url
        assert run_cli("run", str(suite), "-m", "openai:alpha", "--base-url", url, "--db", str(db),
                       "--no-progress").returncode == 0
    run_id = db_rows(db, "SELECT id FROM runs")[0][0]
    with sqlite3.connect(db) as conn:  # as a killed run leaves it: half answered, not done
        conn.execute("DELETE FROM results WHERE rowid % 2 = 0")
        conn.execute("UPDATE runs SET status = 'interrupted'")
    proc = run_cli("run", "--resume", run_id, "--base-url", url, "--db", str(db), "--no-progress")
    assert proc.returncode != 0
    assert db_rows(db, "SELECT status FROM runs")[0][0] != "done"


def test_a_resume_reaches_a_server_that_moved_and_refuses_to_change_the_work(tmp_path: Path) -> None:
    """The server of an interrupted run comes back on another port (a restarted vLLM, a new tunnel): `--resume
    RUN --base-url NEW` sends only the missing cases there, and the run keeps the new address and limits for
    its next resume. A flag that would change what the run asks is one line and exit 2, not ignored."""
    suite = numbered_suite(tmp_path, 20)
    db = tmp_path / "r.db"
    with ScriptedServer(["alpha"], answers=ANSWERS) as old:
        first = run_cli("run", str(suite), "-m", "openai:alpha", "--base-url", old.base_url, "--db", str(db),
                        "--no-progress")
        assert first.returncode == 0, first.stderr
        old_url = old.base_url
    run_id = db_rows(db, "SELECT id FROM runs")[0][0]
    complete = stored_answers(db)
    with sqlite3.connect(db) as conn:  # as a killed run leaves it: 8 answered, not done
        conn.execute("DELETE FROM results WHERE rowid > 8")
        conn.execute("DELETE FROM responses WHERE key NOT IN (SELECT response_key FROM results)")
        conn.execute("UPDATE runs SET status = 'interrupted'")

    changed = [("--limit", "5"), ("-m", "openai:beta"), ("--repeats", "2"), ("--mode", "logprob"),
               ("--until-decided",)]
    for flag in changed:
        refused = run_cli("run", str(suite), "--resume", run_id, *flag, "--db", str(db), "--no-progress")
        assert refused.returncode == 2, (flag, refused.stderr)
        line = refused.stderr.strip()
        assert "\n" not in line and "Traceback" not in line and flag[0] in line and run_id in line, line
    assert db_rows(db, "SELECT status FROM runs")[0][0] == "interrupted"
    assert db_rows(db, "SELECT COUNT(*) FROM results")[0][0] == 8

    with ScriptedServer(["alpha"], answers=ANSWERS) as new:
        assert new.base_url != old_url
        # the command line as first typed, --resume added: what matches the run is accepted
        resumed = run_cli("run", str(suite), "-m", "openai:alpha", "--resume", run_id, "--base-url", new.base_url,
                          "--timeout", "30", "--concurrency", "2", "--db", str(db), "--no-progress")
        assert resumed.returncode == 0, resumed.stderr
        sent = [r for r in new.requests if r.path.endswith("/completions")]
        assert len(sent) == 12 and {r.outcome for r in sent} == {"ok"}
        assert new.stats()["max_in_flight"] <= 2
    assert db_rows(db, "SELECT status FROM runs")[0][0] == "done"
    assert stored_answers(db) == complete
    options = json.loads(db_rows(db, "SELECT config_json FROM runs")[0][0])["options"]
    assert (options["base_url"], options["timeout_s"], options["default_concurrency"]) == (new.base_url, 30.0, 2)


@pytest.mark.slow
def test_two_processes_on_one_database(tmp_path: Path) -> None:
    a, b = numbered_suite(tmp_path, 400, "a"), numbered_suite(tmp_path, 400, "b")
    db = tmp_path / "shared.db"
    with ScriptedServer(["alpha"], answers=ANSWERS) as srv:
        procs = [_spawn_run(["run", str(s), "-m", "openai:alpha", "--base-url", srv.base_url, "--db", str(db),
                             "--no-progress"]) for s in (a, b)]
        for p in procs:
            _, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
    assert db_rows(db, "PRAGMA integrity_check")[0][0] == "ok"
    assert db_rows(db, "SELECT COUNT(*), COUNT(DISTINCT run_id) FROM results WHERE status='ok'")[0] == (800, 2)


FAKE_KEY = "sk-FAKE-KEY-9f8e7d6c5b4a3210zz"


def test_the_key_appears_nowhere(tmp_path: Path) -> None:
    suite = numbered_suite(tmp_path, 6)
    db = tmp_path / "s.db"
    env = {"OPENAI_API_KEY": FAKE_KEY, "TOGETHER_API_KEY": FAKE_KEY}
    outputs: list[str] = []
    with ScriptedServer(["alpha"], answers=ANSWERS, api_key=FAKE_KEY) as srv:
        for args in (["run", str(suite), "-m", "openai:alpha", "--base-url", srv.base_url, "--db", str(db)],
                     ["ask", "x", "-m", "openai:alpha", "--base-url", srv.base_url, "--verbose"],
                     ["ask", "x", "-m", "openai:alpha", "--base-url", srv.base_url, "--json"]):
            res = run_cli(*args, env=env)
            assert res.returncode == 0, res.stderr
            outputs += [res.stdout, res.stderr]
    with ScriptedServer(["alpha"], api_key="another-key-entirely") as srv:  # the server rejects our key
        fresh = numbered_suite(tmp_path, 3, "fresh", word="yeni")  # not in the cache: requests must go out
        res = run_cli("run", str(fresh), "-m", "openai:alpha", "--base-url", srv.base_url, "--db", str(db), env=env)
        assert res.returncode != 0 and "AuthenticationError" in res.stderr
        outputs += [res.stdout, res.stderr]
        res = run_cli("ask", "x", "-m", "openai:alpha", "--base-url", srv.base_url, env=env)
        outputs += [res.stdout, res.stderr]
    res = run_cli("ask", "x", "-m", "META-LLAMA/Llama-2-7B-CHAT-HF", "--timeout", "1",
                  env={**env, "TOGETHER_BASE_URL": "http://127.0.0.1:9/v1"})
    outputs += [res.stdout, res.stderr]
    for fmt, ext in (("html", "html"), ("markdown", "md"), ("junit", "xml")):
        out = tmp_path / f"r.{ext}"
        assert run_cli("report", "--db", str(db), "--format", fmt, "-o", str(out), env=env).returncode == 0
        outputs.append(out.read_text(encoding="utf-8"))
    for fmt in ("csv", "jsonl", "json"):
        outputs.append(run_cli("export", "--db", str(db), "--format", fmt, env=env).stdout)
    outputs.append(run_cli("show", "--db", str(db), "--json", env=env).stdout)
    for f in tmp_path.glob("s.db*"):
        outputs.append(f.read_bytes().decode("latin-1"))
    assert len(outputs) > 15
    for text in outputs:
        assert FAKE_KEY not in text
        assert FAKE_KEY[:16] not in text


CORPUS = REPO / "tests" / "tasks" / "bad_inputs"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["suite"] for c in CASES])
def test_bad_input_at_the_command_line(case: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    db = tmp_path / "bad.db"
    res = run_cli("run", str(CORPUS / case["suite"]), "-m", "openai:m", "--base-url", "http://127.0.0.1:9/v1",
                  "--db", str(db), timeout=120)
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert (case.get("where") or case["suite"]) in lines[0]
    assert not db.exists() or db_rows(db, "SELECT COUNT(*) FROM runs")[0][0] == 0  # nothing half-written
