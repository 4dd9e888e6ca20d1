"""The store's write path: many rows per statement, every row kept, upserts and timestamps as before."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llamacompare.models.base import Response
from llamacompare.store.db import Store

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")


def _item(i: int, mode: str = "generate") -> tuple[object, ...]:
    return ("t", f"c{i}", "m", mode, 0, i, '{"text": "ç"}', None)


@pytest.mark.parametrize("n", [1, 3, 513, 1234])
def test_every_queued_row_is_written_once_whatever_the_batch_size(tmp_path: Path, n: int) -> None:
    with Store(tmp_path / "s.db") as store:
        store.create_run("r", "suite", {})
        store.start_writer()
        for i in range(n):
            response = Response(model="m", text=f"yanıt {i}", prompt_tokens=3, completion_tokens=1, latency_s=0.01)
            store.record("r", _item(i), key=f"k{i}", kind="generate", response=response, cached=False,
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
        store.record("r", _item(0), key="k0", kind="generate", response=None, cached=False, error="ServerError: 503")
        ok = Response(model="m", text="Pozitif")
        store.record("r", _item(0), key="k0", kind="generate", response=ok, cached=False, attempts=2)
        store.record("r", _item(0), key="k0", kind="generate", response=None, cached=False, error="late failure")
        row = store.conn.execute("SELECT status, error, attempts FROM results").fetchone()
    assert (row["status"], row["error"], row["attempts"]) == ("ok", None, 3)
