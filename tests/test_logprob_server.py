"""Label scores (logprob mode) through llama-cpp-python's real OpenAI-compatible server, against the same cases
scored in-process: the first 20 of the sst2 suite's shipped English reviews (src/llamacompare/suites/data)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli


def _accuracy(db: Path) -> tuple[float, list[dict[str, Any]]]:
    res = run_cli("export", "latest", "--db", str(db), "--format", "jsonl")
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines() if line.strip()]
    assert rows and all(r["status"] == "ok" and r["mode"] == "logprob" for r in rows), rows[:3]
    return sum(r["scores"]["label"] for r in rows) / len(rows), rows


@pytest.mark.slow
def test_logprob_mode_through_the_llama_cpp_server_matches_in_process(llama_server: str, tmp_path: Path) -> None:
    args = ["run", "sst2", "--limit", "20", "--mode", "logprob", "--no-progress"]
    t0 = time.monotonic()
    res = run_cli(*args, "-m", "openai:gemma-3-270m", "--base-url", llama_server, "--db", str(tmp_path / "s.db"))
    elapsed = time.monotonic() - t0
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    # about 25 s on this machine when it is not shared; the bound is generous because test runs share its two
    # cores. Before, max_tokens 0 made this server generate to the end of its context: 5 minutes were not enough.
    assert elapsed < 150, f"20 cases in logprob mode took {elapsed:.0f} s"
    served, rows = _accuracy(tmp_path / "s.db")
    assert len(rows) == 20
    # each label question is a 1-token answer with the label's own tokens scored, never a runaway generation
    assert all(r["completion_tokens"] <= 2 for r in rows), [r["completion_tokens"] for r in rows]

    res = run_cli(*args, "-m", "local:gemma-3-270m", "--db", str(tmp_path / "l.db"))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    in_process, local_rows = _accuracy(tmp_path / "l.db")
    assert abs(served - in_process) <= 0.1, (served, in_process)
    # the same label wins for (nearly) every case
    same = sum(a["answer"] == b["answer"] for a, b in zip(sorted(rows, key=lambda r: r["case"]),
                                                         sorted(local_rows, key=lambda r: r["case"]), strict=True))
    assert same >= 18, same
