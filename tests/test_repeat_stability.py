"""`--repeats k` at temperature > 0: per model the agreement of its repeats, the cases that flip, pass^k, and the
metric with an interval that counts a case's repeats once, in the JSON report and the terminal summary."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli
from tests.support.scripted_server import ScriptedServer

N = 30
SUITE = """
name: repeats
tasks:
  - id: sentiment
    type: classify
    labels: {Pozitif: [olumlu], Negatif: [olumsuz]}
    template: "Mesaj: {text}\\nDuygu:"
    params: {temperature: 0.8, max_tokens: 4}
    cases:
"""


def _gold(i: int) -> str:
    return "Pozitif" if i % 2 else "Negatif"


def _answerer() -> Any:
    """Every third case flips: its second answer is wrong. The others are right every time."""
    calls: Counter[int] = Counter()
    lock = threading.Lock()

    def answer(body: dict[str, Any]) -> str:
        text = body.get("prompt") or body["messages"][-1]["content"]
        i = int(re.search(r"#(\d+)", text).group(1))  # type: ignore[union-attr]
        with lock:
            calls[i] += 1
            nth = calls[i]
        wrong = "Pozitif" if _gold(i) == "Negatif" else "Negatif"
        return wrong if i % 3 == 0 and nth == 2 else _gold(i)

    return answer


def test_repeats_show_agreement_flips_pass_k_and_clustered_intervals(tmp_path: Path) -> None:
    cases = "\n".join(f"      - {{id: c{i}, text: 'mesaj #{i}', label: {_gold(i)}}}" for i in range(N))
    suite = tmp_path / "r.yaml"
    suite.write_text(SUITE + cases + "\n", encoding="utf-8")
    db = str(tmp_path / "r.db")
    with ScriptedServer(["m"], answer=_answerer()) as srv:
        res = run_cli("run", str(suite), "-m", "openai:m", "--base-url", srv.base_url, "--db", db, "--repeats", "3",
                      "--json")
        assert res.returncode == 0, res.stderr
        assert srv.stats()["by_model"] == {"m": 3 * N}
    task = json.loads(res.stdout)["report"]["tasks"][0]
    (st,) = task["stability"]
    assert st["model"] == "openai:m" and st["repeats"] == 3 and st["cases"] == N
    assert st["flipped"] == N // 3
    assert st["pass_k"]["value"] == pytest.approx(20 / 30)
    assert st["agreement"]["value"] == pytest.approx((20 + 10 * 2 / 3) / 30)
    assert st["mean"]["value"] == pytest.approx(80 / 90)
    assert st["mean"]["lo"] < st["mean"]["value"] < st["mean"]["hi"]
    shown = run_cli("show", "latest", "--db", db, env={"COLUMNS": "80"})
    assert shown.returncode == 0, shown.stderr
    assert "pass^3" in shown.stdout and "10 flip(s)" in shown.stdout
    assert all(len(line) <= 80 for line in shown.stdout.splitlines())
    for fmt, name in (("markdown", "r.md"), ("html", "r.html")):
        rep = run_cli("report", "latest", "--db", db, "--format", fmt, "-o", str(tmp_path / name))
        assert rep.returncode == 0, rep.stderr
        text = (tmp_path / name).read_text("utf-8").replace("\\", "")  # Markdown escapes ^ ( ) [ ]
        assert "Stability across repeats" in text and "pass^3" in text and "10 flip(s)" in text


def test_one_answer_per_case_shows_no_stability(tmp_path: Path) -> None:
    cases = "\n".join(f"      - {{id: c{i}, text: 'mesaj #{i}', label: {_gold(i)}}}" for i in range(6))
    suite = tmp_path / "r.yaml"
    suite.write_text(SUITE + cases + "\n", encoding="utf-8")
    with ScriptedServer(["m"], answer=_answerer()) as srv:
        res = run_cli("run", str(suite), "-m", "openai:m", "--base-url", srv.base_url, "--db",
                      str(tmp_path / "r.db"), "--json")
        assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["report"]["tasks"][0]["stability"] == []
