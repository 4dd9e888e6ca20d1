"""The store's write path: many rows per statement, every row kept, upserts and timestamps as before."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from llamacompare.identity import AnswerKey, Contender
from llamacompare.models.base import Response
from llamacompare.store.db import Store

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")


def _item(i: int, mode: str = "generate", prompt: str = "") -> dict[str, Any]:
    """Store.record's arguments for case i of task t, model m."""
    return {"answer": AnswerKey("t", f"c{i}", Contender("m", mode, prompt), 0), "seq": i,
            "input_json": '{"text": "ç"}', "reference": None}


@pytest.mark.parametrize("n", [1, 3, 513, 1234])
def test_every_queued_row_is_written_once_whatever_the_batch_size(tmp_path: Path, n: int) -> None:
    with Store(tmp_path / "s.db") as store:
        store.create_run("r", "suite", {})
        store.start_writer()
        for i in range(n):
            response = Response(model="m", text=f"yanıt {i}", prompt_tokens=3, completion_tokens=1, latency_s=0.01)
            store.record("r", **_item(i), response_key=f"k{i}", kind="generate", response=response, cached=False,
                         request_json='{"prompt": "x"}')
        store.stop_writer()
        rows = store.conn.execute("SELECT case_id, seq, status, response_key, updated_at FROM results").fetchall()
        texts = dict(store.conn.execute("SELECT key, text FROM responses").fetchall())
    assert sorted(r["seq"] for r in rows) == list(range(n))
    assert all(r["status"] == "ok" and r["response_key"] == f"k{r['seq']}" for r in rows)
    assert texts == {f"k{i}": f"yanıt {i}" for i in range(n)}
    stamp = rows[0]["updated_at"]
    assert ISO_MS.match(stamp), stamp
    age = datetime.now(UTC) - datetime.fromisoformat(stamp)
    assert 0 <= age.total_seconds() < 60


def test_a_failed_row_is_replaced_by_its_answer_and_an_answer_is_never_replaced(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.create_run("r", "suite", {})
        store.record("r", **_item(0), response_key="k0", kind="generate", response=None, cached=False,
                     error="ServerError: 503")
        ok = Response(model="m", text="Pozitif")
        store.record("r", **_item(0), response_key="k0", kind="generate", response=ok, cached=False, attempts=2)
        store.record("r", **_item(0), response_key="k0", kind="generate", response=None, cached=False,
                     error="late failure")
        row = store.conn.execute("SELECT status, error, attempts FROM results").fetchone()
    assert (row["status"], row["error"], row["attempts"]) == ("ok", None, 3)


def test_prompt_variants_of_one_case_are_separate_rows(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.create_run("r", "suite", {})
        for prompt in ("kisa", "uzun"):
            ok = Response(model="m", text=f"yanıt {prompt}")
            store.record("r", **_item(0, prompt=prompt), response_key=f"k-{prompt}", kind="generate", response=ok,
                         cached=False)
        rows = list(store.results("r"))
        assert [(r.prompt, r.text) for r in rows] == [("kisa", "yanıt kisa"), ("uzun", "yanıt uzun")]
        assert store.done_keys("r") == {AnswerKey("t", "c0", Contender("m", "generate", "kisa"), 0),
                                        AnswerKey("t", "c0", Contender("m", "generate", "uzun"), 0)}
        assert store.has_prompt_variants("r")


def test_a_database_from_before_prompt_variants_reads_as_the_default_variant(tmp_path: Path) -> None:
    """Migration 0004 rebuilds results and scores with a prompt column: old rows keep everything, prompt ''."""
    import sqlite3

    from llamacompare.store.db import _migrations

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)")
    for version, name, sql in _migrations():
        if version < 4:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 'then')", (version, name))
    conn.execute("INSERT INTO runs VALUES ('r', 'suite', '{}', 'then', NULL, 'done')")
    conn.execute("INSERT INTO responses VALUES ('k', 'm', 'generate', '{}', 'Olumlu', 'stop', 3, 1, 0.5, NULL, NULL, "
                 "NULL, NULL, 'then')")
    conn.execute("INSERT INTO results VALUES ('r', 't', 'c1', 'm', 'generate', 0, 0, 'ok', 'k', 0, NULL, 1, '{}', "
                 "'Pozitif', 'then')")
    conn.execute("INSERT INTO scores VALUES ('r', 't', 'c1', 'm', 'generate', 0, 'label', 0.0, NULL)")
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert store.schema_version() >= 4
        (row,) = store.results("r")
        assert (row.case_id, row.model, row.prompt, row.mode, row.text, row.reference) == (
            "c1", "m", "", "generate", "Olumlu", "Pozitif")
        (score,) = store.scores("r")
        assert score.answer == AnswerKey("t", "c1", Contender("m", "generate", ""), 0) and score.value == 0.0
        assert not store.has_prompt_variants("r")
        assert store.integrity_ok()


def test_a_database_from_before_label_methods_migrates_and_reads_them_as_unknown(tmp_path: Path) -> None:
    """Migration 0007 adds how each answer's label scores were obtained: answers stored before read as unknown
    (never as exact), answers stored after keep the method and whether every label was listed, cache hits too."""
    import sqlite3

    from llamacompare.store.db import _migrations

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)")
    for version, name, sql in _migrations():
        if version < 7:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 'then')", (version, name))
    conn.execute("INSERT INTO runs VALUES ('r', 'suite', '{}', 'then', NULL, 'done')")
    conn.execute("INSERT INTO responses VALUES ('old', 'm', 'logprob', '{}', 'Pozitif', 'logprob', 3, 1, 0.5, NULL, "
                 "NULL, NULL, '{\"Pozitif\": -0.1, \"Negatif\": -3.0}', 'then')")
    conn.execute("INSERT INTO results VALUES ('r', 't', 'c0', 'm', '', 'logprob', 0, 0, 'ok', 'old', 0, NULL, 1, "
                 "'{}', 'Pozitif', 'then')")
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert store.schema_version() == max(v for v, _, _ in _migrations())
        old = store.cached_response("old")
        assert old is not None and (old.label_method, old.label_covered) == (None, None)
        scored = Response(model="m", text="Negatif", finish_reason="logprob", label_logprobs={"Negatif": -0.2},
                          label_method="chat_top_logprobs", label_covered=False)
        store.record("r", **_item(1, mode="logprob"), response_key="new", kind="logprob", response=scored, cached=False)
        store.record("r", **_item(2, mode="logprob"), response_key="new", kind="logprob", response=None, cached=True)
        rows = {r.case_id: r for r in store.results("r")}
        assert (rows["c0"].label_method, rows["c0"].label_covered) == (None, None)
        assert (rows["c1"].label_method, rows["c1"].label_covered) == ("chat_top_logprobs", 0)
        assert (rows["c2"].label_method, rows["c2"].label_covered) == ("chat_top_logprobs", 0)  # the cache hit
        stats = {s.case_id: (s.label_method, s.label_covered) for s in store.result_stats("r")}
        assert stats == {"c0": (None, None), "c1": ("chat_top_logprobs", 0), "c2": ("chat_top_logprobs", 0)}
        assert store.integrity_ok()


def test_race_decisions_stored_before_0011_keep_their_model_and_mode(tmp_path: Path) -> None:
    """Migration 0011 names a race's row by model and mode: a row stored as "MODEL@MODE" (a task run in both
    modes) reads back as its parts, a plain model name as itself, each with its printed line."""
    import sqlite3

    from llamacompare.store.db import _migrations

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)")
    for version, name, sql in _migrations():
        if version < 11:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 'then')", (version, name))
    conn.execute("INSERT INTO runs VALUES ('r', 'suite', '{}', 'then', NULL, 'done')")
    for model, line in (("openai:a@logprob", "a: the best"), ("openai:a@generate", "a: worse"),
                        ("local:gemma", "gemma: not decided")):
        conn.execute("INSERT INTO run_decisions VALUES ('r', 't', ?, 'best', 60, 3, ?)", (model, line))
    conn.commit()
    conn.close()
    with Store(path) as store:
        got = [(d.model, d.mode, d.line) for d in store.decisions("r")]
    assert got == [("openai:a", "logprob", "a: the best"), ("openai:a", "generate", "a: worse"),
                   ("local:gemma", "generate", "gemma: not decided")]
