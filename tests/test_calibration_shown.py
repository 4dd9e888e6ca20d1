"""Calibration shown as what it is (issue 31, items 3 and 4): a label-scored row says its accuracy before and after
calibration, how far calibration moved it and what it rests on, in every view; the export carries every label's
log-prob, raw and calibrated. A scripted model whose label scores lean to one label, so calibration matters."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from tests.conftest import run_cli
from tests.support.scripted_server import ScriptedServer

SUITE = """
name: cal
tasks:
  - id: sentiment
    type: classify
    mode: logprob
    calibration: {how}
    labels: {{Pozitif: [olumlu], Negatif: [olumsuz]}}
    template: "Mesaj: {{text}}\\nDuygu:"
    dataset: cases.jsonl
"""


def _gold(i: int) -> str:
    return "Pozitif" if i % 2 else "Negatif"


def _leaning(model: str, prefix: str, token: str) -> float | None:
    """Informative scores leaning hard to Pozitif: raw argmax says Pozitif nearly always, calibration undoes it."""
    found = re.search(r"#(\d+)", prefix)
    if token.strip() not in ("Pozitif", "Negatif") or found is None:
        return None
    i = int(found.group(1))
    margin = 3.0 + (1.0 if _gold(i) == "Pozitif" else -1.0) + 0.5 * math.sin(i)
    pos, neg = margin - math.log1p(math.exp(margin)), -math.log1p(math.exp(margin))
    return pos if token.strip() == "Pozitif" else neg


def _run(tmp_path: Path, n: int, how: str = "batch") -> Path:
    lines = [json.dumps({"id": f"c{i}", "text": f"mesaj #{i}", "label": _gold(i)}) for i in range(n)]
    (tmp_path / "cases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    suite = tmp_path / "cal.yaml"
    suite.write_text(SUITE.format(how=how), encoding="utf-8")
    db = tmp_path / "r.db"
    with ScriptedServer(["leaning"], answers=["Pozitif"], logprob=_leaning) as srv:
        res = run_cli("run", str(suite), "-m", "openai:leaning", "--base-url", srv.base_url, "--db", str(db),
                      "--no-progress")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    return db


def _show(db: Path) -> dict:  # type: ignore[type-arg]
    res = run_cli("show", "latest", "--db", str(db), "--json")
    assert res.returncode == 0, res.stderr
    row: dict = json.loads(res.stdout)["tasks"][0]["models"][0]  # type: ignore[type-arg]
    return row


def test_every_view_shows_both_accuracies_and_the_move(tmp_path: Path) -> None:
    db = _run(tmp_path, 60)
    cal = _show(db)["calibration"]
    assert cal["how"] == "batch" and cal["cases"] == 60 and not cal["few"]
    assert cal["uncalibrated"] == 0.5 and cal["calibrated"] == 1.0  # every case said Pozitif before
    line = "leaning: calibrated accuracy 1.00, uncalibrated 0.50 (calibration +0.50; batch, over 60 answers)"
    shown = run_cli("show", "latest", "--db", str(db), env={"COLUMNS": "200"})
    assert line in shown.stdout
    md = run_cli("report", "latest", "--db", str(db), "--format", "markdown", "-o", str(tmp_path / "r.md"))
    assert md.returncode == 0, md.stderr
    assert line in (tmp_path / "r.md").read_text("utf-8").replace("\\", "")  # Markdown escapes + and (
    html = run_cli("report", "latest", "--db", str(db), "-o", str(tmp_path / "r.html"))
    assert html.returncode == 0, html.stderr
    assert line in (tmp_path / "r.html").read_text("utf-8")


def test_a_calibration_on_few_answers_says_so(tmp_path: Path) -> None:
    db = _run(tmp_path, 12)
    assert _show(db)["calibration"]["few"]
    shown = run_cli("show", "latest", "--db", str(db), env={"COLUMNS": "200"})
    assert ("task sentiment, openai:leaning: batch calibration rests on 12 answers: a rough correction, run more "
            "cases") in shown.stdout


def test_content_free_calibration_names_its_prompt(tmp_path: Path) -> None:
    db = _run(tmp_path, 20, "content_free")
    cal = _show(db)["calibration"]
    assert cal["how"] == "content_free" and cal["cases"] == 1 and not cal["few"]
    shown = run_cli("show", "latest", "--db", str(db), env={"COLUMNS": "200"})
    assert "content-free, from one N/A prompt" in shown.stdout


def test_the_export_carries_every_labels_log_prob_raw_and_calibrated(tmp_path: Path) -> None:
    db = _run(tmp_path, 30)
    res = run_cli("export", "latest", "--db", str(db), "--format", "jsonl")
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(rows) == 30
    for row in rows:
        i = int(row["input"]["text"].split("#")[1])
        lp = row["label_logprobs"]
        assert set(lp["raw"]) == set(lp["calibrated"]) == {"Pozitif", "Negatif"}
        assert lp["raw"]["Pozitif"] == pytest.approx(_leaning("leaning", f"mesaj #{i}", " Pozitif"))
        assert sum(math.exp(v) for v in lp["calibrated"].values()) == pytest.approx(1.0)
        assert max(lp["calibrated"], key=lp["calibrated"].get) == _gold(i)
        assert row["scores"]["label"] == 1.0 and row["scores"]["label_uncalibrated"] == float(_gold(i) == "Pozitif")
    csv = run_cli("export", "latest", "--db", str(db), "--format", "csv")
    assert csv.returncode == 0 and "label_logprobs" in csv.stdout.splitlines()[0]
