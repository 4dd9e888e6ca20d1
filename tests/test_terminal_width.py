"""Summaries read at 80 columns with nothing but a pipe (CI logs, notebooks): model names lose the prefix they
all share (said once, below the table), and each table row stays on one or two lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import run_cli
from tests.support.scripted_server import ScriptedServer

from llamacompare.reports.names import common_prefix, shorten


@pytest.mark.parametrize(
    ("names", "prefix"),
    [
        (["local:gemma-3-270m@generate", "local:gemma-3-270m@logprob"], "local:gemma-3-270m@"),
        (["together:meta-llama/Llama-2-7b-chat-hf@generate", "together:meta-llama/Llama-3-8b-chat-hf@logprob"],
         "together:meta-llama/"),
        (["together:meta-llama/Llama-2-7b-chat-hf", "together:meta-llama/Llama-2-13b-chat-hf"],
         "together:meta-llama/"),  # cut at a separator, never inside "Llama-2-"
        (["openai:alpha", "openai:beta"], "openai:"),
        (["local:x", "local:x@a"], "local:"),  # every name keeps something to show
        (["a", "b"], ""),
        (["local:gemma-3-270m"], ""),  # one name: nothing to save
    ],
)
def test_common_prefix_ends_at_a_separator(names: list[str], prefix: str) -> None:
    assert common_prefix(names) == prefix
    short, p = shorten(names)
    assert p == prefix and all(p + short[n] == n and short[n] for n in names)


SUITE = """
name: wide
tasks:
  - id: sentiment
    type: classify
    mode: both
    labels: {Pozitif: [olumlu], Negatif: [olumsuz]}
    template: "Mesaj: {text}\\nDuygu:"
    cases:
      - {id: a, text: "Bu akşam pizza sipariş etmek için sabırsızlanıyorum!", label: Pozitif}
      - {id: b, text: "Piyano resitalime geç kaldın!", label: Negatif}
      - {id: c, text: "İstanbul'da güneşli bir gün.", label: Pozitif}
"""
MODELS = ["meta-llama/Llama-2-7b-chat-hf", "meta-llama/Llama-2-13b-chat-hf", "meta-llama/Llama-3-70b-chat-hf"]


def test_show_piped_at_80_columns_is_legible(tmp_path: Path) -> None:
    suite = tmp_path / "wide.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    db = str(tmp_path / "w.db")
    args = [a for m in MODELS for a in ("-m", f"openai:{m}")]
    with ScriptedServer(MODELS, answers=["Pozitif"]) as srv:
        # the scripted server has no echo logprobs: generate mode only, as a hosted chat model would
        res = run_cli("run", str(suite), *args, "--mode", "generate", "--base-url", srv.base_url, "--db", db,
                      "--json")
        assert res.returncode == 0, res.stderr
    run_id = json.loads(res.stdout)["outcome"]["run_id"]
    out = run_cli("show", run_id, "--db", db, env={"COLUMNS": "80"}).stdout
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(line for line in lines if len(line) > 80)
    assert "model names start with openai:meta-llama/" in out  # the legend, once per table
    for m in MODELS:
        short = m.split("/", 1)[1]
        rows = [line for line in lines if short in line]
        assert rows, out
        assert any(f"openai:{m}" not in line for line in rows)  # the table shows the short name, whole
    table = out[: out.index("model names start with")]
    assert "Llama-2-13b-chat-hf" in table and "Llama-3-70b-chat-hf" in table  # not folded inside the name
    body = [line for line in table.splitlines()[2:] if line.strip()]
    assert len(body) == 1 + 1 + 3 + 1  # header, rule, one line per model, the baseline: no row wraps
    side = out[out.index("answers side by side"):]
    assert "Llama-2-13b-chat-hf" in side and "Llama-2-7b-chat-hf" in side  # stacked, whole names


def test_a_lone_model_named_by_a_long_path_leaves_the_case_column_legible(tmp_path: Path) -> None:
    from llamacompare.models.bundled import bundled_model_path

    suite = tmp_path / "wide.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    db = str(tmp_path / "w.db")
    model = f"local:{bundled_model_path()}"  # one model: no shared prefix to cut, the whole path is its name
    res = run_cli("run", str(suite), "-m", model, "--mode", "generate", "--db", db, "--json")
    assert res.returncode == 0, res.stderr
    out = run_cli("show", "latest", "--db", db, env={"COLUMNS": "80"}).stdout
    side = out[out.index("answers side by side"):]
    assert max(len(line) for line in side.splitlines()) <= 80
    assert "expected:" in side and "Pozitif" in side, side  # not folded a letter a line
    assert side.count("expected:") == 3
