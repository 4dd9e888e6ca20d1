"""The same weights on llama.cpp's own server (`llama-server`, built from the llama.cpp source of the in-process
engine) as in-process: the same prompt text, exact label scores, the same answers.

llama-server's behaviour here is from its source as vendored in llama-cpp-python 0.3.36 (vendor/llama.cpp):
`GET /props` gives `chat_template`, its ChatML fallback (common/chat.cpp `CHATML_TEMPLATE_SRC`) when the GGUF carries
none; a text prompt on /completion and /v1/completions gets BOS and its special tokens parsed
(tools/server/server-common.cpp `tokenize_mixed`); `/tokenize` takes `add_special` and `parse_special`; a grammar of
token ids (`<[ID]>`, src/llama-grammar.cpp) forces tokens whose log-probs `n_probs` reports from the raw logits
(server-common.cpp `get_token_probabilities`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli

pytestmark = pytest.mark.slow


def _export(db: Path) -> list[dict[str, Any]]:
    res = run_cli("export", "latest", "--db", str(db), "--format", "jsonl")
    assert res.returncode == 0, res.stderr
    return [json.loads(line) for line in res.stdout.splitlines()]


def _task(db: Path) -> dict[str, Any]:
    res = run_cli("show", "latest", "--db", str(db), "--json")
    assert res.returncode == 0, res.stderr
    task: dict[str, Any] = json.loads(res.stdout)["tasks"][0]
    return task


def test_a_base_model_on_llama_server_scores_as_in_process(cpp_server: Callable[[str], str], tmp_path: Path) -> None:
    """The engine check, as the README's recipe runs it: one run, the same weights in-process and on llama-server.
    Gemma 3 270M base carries no chat template: messages would get llama-server's ChatML fallback (answers "<|im_"
    and 0.00 accuracy before). It gets the in-process text on /v1/completions instead, with no flag, and exact label
    scores: the same prompts string for string, the same labels in at least 95% of cases, no difference found."""
    url = cpp_server("gemma-3-270m")
    db = tmp_path / "engines.db"
    res = run_cli("run", "sst2", "--mode", "both", "-m", "local:gemma-3-270m", "-m", "openai:gemma-3-270m",
                  "--base-url", url, "--db", str(db), "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "openai:gemma-3-270m: no chat template in the model: sent as plain text on /completions" in res.stdout

    task = _task(db)
    acc = {m["model"]: m["metrics"]["accuracy"]["value"] for m in task["models"] if not m["is_baseline"]}
    for mode in ("generate", "logprob"):
        server, local = acc[f"openai:gemma-3-270m@{mode}"], acc[f"local:gemma-3-270m@{mode}"]
        assert server >= 0.85 and abs(server - local) <= 0.03, (mode, server, local)
        [pair] = [p for p in task["pairwise"]
                  if {p["a"], p["b"]} == {f"openai:gemma-3-270m@{mode}", f"local:gemma-3-270m@{mode}"}]
        assert pair["p_value"] >= 0.05 and pair["agree"] >= 0.95 and pair["n"] == 120, pair
        assert f"same label in {100 * pair['agree']:.1f}% of 120 cases" in res.stdout

    rows = {(r["model"], r["case"], r["mode"]): r for r in _export(db)}
    assert len(rows) == 480
    for (model, case, mode), row in rows.items():
        if model.startswith("openai:"):
            local = rows[("local:gemma-3-270m", case, mode)]
            # the same text reaches the model on both engines
            assert "messages" not in row["request"] and row["request"]["prompt"] == local["request"]["prompt"]


def test_an_instruct_model_gets_its_own_template_rendered_as_in_process(cpp_server: Callable[[str], str],
                                                                      tmp_path: Path) -> None:
    """SmolLM2-135M-Instruct's GGUF carries its template: /props gives it, it is rendered here as in-process (the
    few-shot examples as turns) and sent as text, and its label scores are exact (forced tokens), not the top
    log-probs of an answer that starts "The sentiment…"."""
    url = cpp_server("smollm2-135m-instruct")
    server_db, local_db = tmp_path / "server.db", tmp_path / "local.db"
    common = ("run", "sst2", "--mode", "both", "--limit", "30", "--no-progress")
    res = run_cli(*common, "-m", "openai:smollm2-135m-instruct", "--base-url", url, "--db", str(server_db))
    assert res.returncode == 0, res.stderr
    assert "no chat template" not in res.stdout
    local = run_cli(*common, "-m", "local:smollm2-135m-instruct", "--db", str(local_db))
    assert local.returncode == 0, local.stderr
    server_rows = {(r["case"], r["mode"]): r for r in _export(server_db)}
    local_rows = {(r["case"], r["mode"]): r for r in _export(local_db)}
    assert len(server_rows) == 60
    for key, row in server_rows.items():
        assert row["request"]["prompt"] == local_rows[key]["request"]["prompt"]
        assert row["request"]["prompt"].startswith("<|im_start|>system\nClassify the sentiment")
    served = {m["model"]: m for m in _task(server_db)["models"]}
    in_process = {m["model"]: m for m in _task(local_db)["models"]}
    server_acc = served["openai:smollm2-135m-instruct@logprob"]["metrics"]["accuracy"]["value"]
    local_acc = in_process["local:smollm2-135m-instruct@logprob"]["metrics"]["accuracy"]["value"]
    assert abs(server_acc - local_acc) <= 0.07  # two cases of 30 at most: batching rounds differently


def test_chat_on_request_says_the_server_applies_its_fallback(cpp_server: Callable[[str], str],
                                                              tmp_path: Path) -> None:
    """`--api chat` sends messages anyway, and the run says in one line that the server's default template, not
    the model's, shapes them; `--api completions` is what a base model gets by default."""
    url = cpp_server("gemma-3-270m")
    res = run_cli("run", "sst2", "--limit", "3", "--api", "chat", "-m", "openai:gemma-3-270m", "--base-url", url,
                  "--db", str(tmp_path / "c.db"), "--no-progress")
    assert res.returncode == 0, res.stderr
    assert ("openai:gemma-3-270m: no chat template in the model: the server wraps its messages in a default "
            "template of its own") in res.stdout
    rows = _export(tmp_path / "c.db")
    assert rows and all("messages" in r["request"] and "prompt" not in r["request"] for r in rows)
