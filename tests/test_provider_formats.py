"""Servers as they really answer: each test replays one server's published format (see tests/support/dialects.py
for the spec or source file each shape comes from) through the scripted server, and checks what we make of it."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from tests.support import fake_lm
from tests.support.scripted_server import GENERATION_PATHS, FaultPlan, ModelSpec, PromptRule, ScriptedServer

from llamacompare import errors
from llamacompare.models import servers
from llamacompare.models.base import Params, Request
from llamacompare.models.openai_compat import OpenAICompatProvider
from llamacompare.sync import run_sync

PROMPT = "Mesaj: Bu akşam pizza sipariş etmek için sabırsızlanıyorum!\nDuygu:"


def expected_label_logprob(model: str, prompt: str, label: str, answer: str) -> float:
    """What the fake model's echo gives the label's own tokens after `prompt` (tests/support/fake_lm.py)."""
    full = prompt + label
    toks = fake_lm.echo_logprobs(model, {"prompt": full}, full, lambda body: answer)
    n_label = len(fake_lm.tokenize(full)) - len(fake_lm.tokenize(prompt))
    return sum(lp for _, lp in toks[-n_label:] if lp is not None)


def provider(srv: ScriptedServer, caps: Any = servers.GENERIC, **kw: Any) -> OpenAICompatProvider:
    return OpenAICompatProvider(srv.base_url, capabilities=caps, **kw)


async def _prepared_scores(p: OpenAICompatProvider, model: str, request: Request, labels: list[str]) -> Any:
    try:
        prepared = await p.prepare(model)
        return prepared, await p.score_labels(prepared.served_id, request, labels)
    finally:
        await p.aclose()


# -- Together (togethercomputer/openapi openapi.yaml) --------------------------------------------------------


def test_together_echo_scores_come_from_the_top_level_prompt_logprobs() -> None:
    """CompletionResponse.prompt[0].logprobs (PromptPart/LogprobsPart: tokens, token_logprobs, token_ids), no
    text_offset: the label's own tokens are summed, and the cost comes from the listed prices."""
    bodies: list[dict[str, Any]] = []

    def answer(body: dict[str, Any]) -> str:
        bodies.append(body)
        return "Pozitif"

    spec = ModelSpec("meta-llama/Llama-2-7b-chat-hf", 4096, 0.2, 0.2)
    with ScriptedServer([spec], answer=answer, answers=["Pozitif", "Negatif"], dialect="together") as srv:
        prepared, scores = run_sync(_prepared_scores(provider(srv, servers.TOGETHER), spec.id,
                                                     Request(prompt=PROMPT), [" Pozitif", " Negatif"]))
    assert prepared.context_length == 4096 and prepared.capabilities.prices
    assert scores.method == "echo"
    for label in (" Pozitif", " Negatif"):
        assert scores.logprobs[label] == pytest.approx(expected_label_logprob(spec.id, PROMPT, label, "Pozitif"))
    assert scores.logprobs[" Pozitif"] > scores.logprobs[" Negatif"]
    assert scores.cost_usd is not None and scores.cost_usd > 0 and scores.cost_source == "provider"
    sent = [b for b in bodies if b.get("echo")]
    assert sent and all(b["max_tokens"] == 1 for b in sent)  # never 0: some servers read it as "no limit"


def test_together_streamed_completion_keeps_finish_reason_and_usage_from_the_top_level() -> None:
    """CompletionChunk: `token` {id, text, logprob, special}, choices[].text; finish_reason ("eos") and usage at
    the top level of the last chunk."""
    spec = ModelSpec("meta-llama/Llama-2-7b-chat-hf", 4096, 0.2, 0.4)
    with ScriptedServer([spec], answers=["Pozitif bir mesaj."], dialect="together") as srv:

        async def go() -> Any:
            p = provider(srv, servers.TOGETHER)
            try:
                await p.prepare(spec.id)
                return await p.generate(spec.id, Request(prompt="[INST] Merhaba [/INST]", params=Params(max_tokens=16)))
            finally:
                await p.aclose()

        r = run_sync(go())
    assert r.text == "Pozitif bir mesaj."
    assert r.finish_reason == "eos"
    assert r.prompt_tokens and r.completion_tokens == len(fake_lm.tokenize("Pozitif bir mesaj."))
    assert r.cost_source == "provider" and r.cost_usd == pytest.approx(
        (r.prompt_tokens * 0.2 + r.completion_tokens * 0.4) / 1e6)


def test_default_run_with_a_together_key_is_clean(tmp_path: Any) -> None:
    """`llamacompare run` with no arguments, TOGETHER_API_KEY set and TOGETHER_BASE_URL at a server that follows
    Together's spec: no failed rows, label scores for the five seed models, provider prices, finish reasons."""
    from tests.conftest import run_cli

    from llamacompare.models.catalog import SEED_MODELS

    ids = [m.split(":", 1)[1] for m in SEED_MODELS]
    specs = [ModelSpec(i, 4096 if "Llama-2" in i else 8192, 0.2, 0.3) for i in ids]
    db = tmp_path / "t.db"
    with ScriptedServer(specs, answers=["Pozitif", "Negatif"], dialect="together", api_key="tg-test-key") as srv:
        env = {"TOGETHER_API_KEY": "tg-test-key", "TOGETHER_BASE_URL": srv.base_url}
        res = run_cli("run", "--db", str(db), "--no-progress", env=env)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr
        exported = run_cli("export", "latest", "--db", str(db), "--format", "jsonl", env=env)
        asked = run_cli("ask", "Merhaba", "-m", "META-LLAMA/Llama-2-7B-CHAT-HF", env=env)
    assert asked.returncode == 0, asked.stderr
    assert "finish" in asked.stdout and "eos" in asked.stdout  # Together's finish_reason, from the last chunk
    assert exported.returncode == 0, exported.stderr
    rows = [json.loads(line) for line in exported.stdout.splitlines() if line.strip()]
    assert rows and not [r for r in rows if r.get("error") or r["status"] != "ok"]
    models = {r["model"] for r in rows}
    assert models == set(SEED_MODELS)
    logprob_rows = [r for r in rows if r["mode"] == "logprob"]
    per_model = {m: [r for r in logprob_rows if r["model"] == m] for m in SEED_MODELS}
    classify_cases = {(r["task"], r["case"]) for r in rows if r["task"] in ("sentiment_tr", "sentiment_en", "reviews")}
    assert all({(r["task"], r["case"]) for r in mine} == classify_cases for mine in per_model.values())
    labels = {"Pozitif", "Negatif", "Positive", "Negative", "positive", "negative"}
    assert all(r["answer"] in labels for r in logprob_rows)
    assert all(r["cost_source"] == "provider" for r in logprob_rows)
    generated = [r for r in rows if r["mode"] == "generate"]
    assert all(r["cost_source"] == "provider" and r["cost_usd"] > 0 for r in generated)
    assert all(r["finish_reason"] in ("eos", "length", "stop") for r in generated)
    assert "tg-test-key" not in res.stdout + res.stderr


# -- vLLM (protocol.py ModelCard, serving_completion.py _create_completion_logprobs) -------------------------


def test_vllm_echo_with_bos_sums_only_the_label_tokens() -> None:
    """vLLM's echo starts with the BOS token and its text_offset counts the BOS text: offsets never decide."""
    spec = ModelSpec("meta-llama/Llama-3.1-8B-Instruct", 8192)
    with ScriptedServer([spec], answers=["Negatif"], dialect="vllm") as srv:
        prepared, scores = run_sync(_prepared_scores(provider(srv, servers.VLLM), spec.id, Request(prompt=PROMPT),
                                                     [" Pozitif", " Negatif"]))
    assert prepared.context_length == 8192  # from max_model_len
    for label in (" Pozitif", " Negatif"):
        assert scores.logprobs[label] == pytest.approx(expected_label_logprob(spec.id, PROMPT, label, "Negatif"))
    assert scores.logprobs[" Negatif"] > scores.logprobs[" Pozitif"]


def test_vllm_gets_the_id_exactly_as_it_lists_it() -> None:
    """vLLM matches names exactly: a name that differs only in case is sent the way the server lists it."""
    with ScriptedServer([ModelSpec("meta-llama/Llama-3.1-8B-Instruct")], answers=["Merhaba"], dialect="vllm") as srv:
        from llamacompare.helpers import llama

        text = llama("Selam", model="vllm:META-LLAMA/llama-3.1-8b-instruct", base_url=srv.base_url)
        sent = {r.model for r in srv.requests if not r.path.endswith("/models")}
    assert text == "Merhaba" and sent == {"meta-llama/Llama-3.1-8B-Instruct"}


def test_a_too_long_prompt_fails_before_any_request_from_max_model_len_and_meta_n_ctx(tmp_path: Any) -> None:
    from tests.conftest import run_cli

    suite = tmp_path / "long.yaml"
    suite.write_text("name: long\ntasks:\n  - id: t\n    type: generate\n    template: '{text}'\n    cases:\n"
                     f"      - {{id: a, text: '{'kelime ' * 600}'}}\n")
    for dialect, prefix in (("vllm", "vllm"), ("llama_server", "openai")):
        with ScriptedServer([ModelSpec("m", 256)], dialect=dialect) as srv:
            res = run_cli("run", str(suite), "-m", f"{prefix}:m", "--base-url", srv.base_url, "--db",
                          str(tmp_path / f"{dialect}.db"), "--no-progress")
            generations = [r for r in srv.requests if r.path in GENERATION_PATHS]  # vLLM's /tokenize is asked too
        assert res.returncode == 2, res.stderr
        assert "256-token context" in res.stderr and res.stderr.count("\n") == 1
        assert generations == []


# -- Ollama (openai/openai.go, types/model/name.go) ----------------------------------------------------------


def test_ollama_name_without_tag_reaches_the_latest_tag() -> None:
    with ScriptedServer([ModelSpec("llama3:latest", None)], answers=["Merhaba!"], dialect="ollama") as srv:
        from llamacompare.helpers import llama

        assert llama("Selam", model="ollama:llama3", base_url=srv.base_url) == "Merhaba!"
        sent = {r.model for r in srv.requests if not r.path.endswith("/models")}
    assert sent == {"llama3:latest"}


def test_ollama_scores_labels_by_chat_top_logprobs() -> None:
    """No echo in Ollama's completions: the chat answer's top log-probs of its first token score the labels."""
    with ScriptedServer([ModelSpec("llama3:latest", None)], answers=["Pozitif", "Negatif"],
                        answer=lambda body: "Pozitif", dialect="ollama") as srv:
        messages = ({"role": "user", "content": PROMPT},)
        prepared, scores = run_sync(_prepared_scores(provider(srv, servers.OLLAMA), "llama3",
                                                     Request(messages=messages), ["Pozitif", "Negatif"]))
    assert prepared.served_id == "llama3:latest"
    assert scores.method == "chat_top_logprobs"
    assert scores.logprobs["Pozitif"] == pytest.approx(fake_lm.CONFIDENT_LOGPROB)
    assert scores.logprobs["Negatif"] == pytest.approx(fake_lm.fake_logprob("llama3:latest", "", "Negatif"))


def test_a_generic_server_without_echo_falls_back_to_chat_top_logprobs() -> None:
    """An OpenAI-compatible server we know nothing about: echo is tried; when it gives no prompt log-probs the
    chat top log-probs are used, and kept for the next label question."""
    with ScriptedServer([ModelSpec("m")], answers=["Pozitif", "Negatif"], answer=lambda body: "Negatif",
                        dialect="ollama") as srv:

        async def go() -> Any:
            p = provider(srv)
            try:
                await p.prepare("m")
                first = await p.score_labels("m", Request(prompt=PROMPT), [" Pozitif", " Negatif"])
                second = await p.score_labels("m", Request(prompt=PROMPT), [" Pozitif", " Negatif"])
                return first, second
            finally:
                await p.aclose()

        first, second = run_sync(go())
        paths = [r.path for r in srv.requests if not r.path.endswith("/models")]
    assert first.method == second.method == "chat_top_logprobs"
    assert first.logprobs[" Negatif"] > first.logprobs[" Pozitif"]
    assert paths == ["/v1/completions", "/v1/chat/completions", "/v1/chat/completions"]


# -- llama.cpp's llama-server (tools/server) -----------------------------------------------------------------


def test_llama_server_error_line_mid_stream_is_an_error_not_an_answer() -> None:
    plan = FaultPlan(rules=(PromptRule("stream_error_line", times=100),))
    with ScriptedServer([ModelSpec("m")], answers=["yarım kalan bir cevap"], dialect="llama_server",
                        faults=plan) as srv:
        from llamacompare.helpers import llama

        with pytest.raises(errors.ServerError, match="KV size"):
            llama("Selam", model="openai:m", base_url=srv.base_url, max_tries=0)


def test_llama_server_is_recognised_from_its_model_list() -> None:
    with ScriptedServer([ModelSpec("m", 2048)], dialect="llama_server") as srv:

        async def go() -> Any:
            p = provider(srv)
            try:
                return await p.prepare("m")
            finally:
                await p.aclose()

        prepared = run_sync(go())
    assert prepared.context_length == 2048
    # exact label scores by forced tokens where the text reaches /completion (tests/test_cpp_server.py, against
    # the real server); this replay has no /props, so conversations stay messages and chat top log-probs remain
    assert prepared.capabilities.label_methods == ("forced_tokens", "chat_top_logprobs")
    assert prepared.capabilities.template_from_server == "props" and prepared.prompt_format is None


# -- OpenAI (openai-python types/chat/completion_create_params.py) --------------------------------------------


def test_openai_reasoning_models_get_max_completion_tokens_and_no_temperature() -> None:
    bodies: list[dict[str, Any]] = []

    def answer(body: dict[str, Any]) -> str:
        bodies.append(body)
        return "Merhaba"

    with ScriptedServer([ModelSpec("o3-mini")], answer=answer, dialect="openai_api") as srv:
        # declared, as for api.openai.com
        r = run_sync(_generate(provider(srv, servers.openai_api), "o3-mini"))
        assert r.text == "Merhaba" and srv.stats()["by_outcome"].get("400", 0) == 0
        # discovered from OpenAI's model list (owned_by "system")
        r = run_sync(_generate(provider(srv), "o3-mini"))
        assert r.text == "Merhaba" and srv.stats()["by_outcome"].get("400", 0) == 0
        # learnt from the 400s that name the parameter, where nothing was said before
        r = run_sync(_generate(provider(srv), "o3-mini", prepare=False))
        assert r.text == "Merhaba" and srv.stats()["by_outcome"].get("400", 0) == 2
    assert all("max_tokens" not in b and "temperature" not in b and b["max_completion_tokens"] == 64 for b in bodies)


async def _generate(p: OpenAICompatProvider, model: str, *, prepare: bool = True) -> Any:
    try:
        if prepare:
            await p.prepare(model)
        return await p.generate(model, Request(messages=({"role": "user", "content": "Selam"},),
                                               params=Params(max_tokens=64)))
    finally:
        await p.aclose()


def test_openai_chat_stream_with_a_usage_only_last_chunk() -> None:
    """ChatCompletionChunk with stream_options.include_usage: every chunk has `usage: null` except a last one with
    `choices: []` and the usage."""
    with ScriptedServer([ModelSpec("gpt-4o-mini", None)], answers=["Olumlu, çok güzel."]) as srv:
        r = run_sync(_generate(provider(srv), "gpt-4o-mini"))
    assert r.text == "Olumlu, çok güzel." and r.finish_reason == "stop" and r.ttft_s is not None
    assert r.completion_tokens == len(fake_lm.tokenize("Olumlu, çok güzel.")) and r.prompt_tokens


# -- label scores and modes in a run ---------------------------------------------------------------------------


SUITE = """name: modes
tasks:
  - id: duygu
    type: classify
    mode: {mode}
    labels: {{Pozitif: [Olumlu], Negatif: [Olumsuz]}}
    template: "Mesaj: {{text}}\\nDuygu:"
    cases:
      - {{id: a, text: "Harika bir gün!", label: Pozitif}}
      - {{id: b, text: "Berbat bir gün.", label: Negatif}}
"""


def test_mode_both_on_a_model_without_label_scores_runs_generate_and_says_why_once(tmp_path: Any) -> None:
    from tests.conftest import run_cli

    suite = tmp_path / "both.yaml"
    suite.write_text(SUITE.format(mode="both"))
    with ScriptedServer([ModelSpec("o3-mini")], answers=["Pozitif"], dialect="openai_api") as srv:
        res = run_cli("run", str(suite), "-m", "openai:o3-mini", "--base-url", srv.base_url, "--db",
                      str(tmp_path / "b.db"), "--no-progress")
        paths = [r.path for r in srv.requests if not r.path.endswith("/models")]
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    assert res.stdout.count("no label scores") == 1, res.stdout
    assert "failed" not in res.stdout.split("run ")[-1].split("\n")[0]
    assert paths and all(p == "/v1/chat/completions" for p in paths)


def test_mode_logprob_on_a_model_without_label_scores_fails_before_sending(tmp_path: Any) -> None:
    """OpenAI's model list names OpenAI as the owner; its reasoning models give no log-probabilities."""
    from tests.conftest import run_cli

    suite = tmp_path / "lp.yaml"
    suite.write_text(SUITE.format(mode="logprob"))
    with ScriptedServer([ModelSpec("o3-mini")], dialect="openai_api") as srv:
        res = run_cli("run", str(suite), "-m", "openai:o3-mini", "--base-url", srv.base_url, "--db",
                      str(tmp_path / "l.db"), "--no-progress")
        generations = [r for r in srv.requests if not r.path.endswith("/models")]
    assert res.returncode == 2, res.stdout[-2000:] + res.stderr
    assert res.stderr.count("\n") == 1 and "no label scores" in res.stderr and "Traceback" not in res.stderr
    assert generations == []


# -- streams and retries ---------------------------------------------------------------------------------------


def test_a_chunk_with_error_null_is_not_an_error() -> None:
    """JSON null is no error: some servers put `"error": null` in every chunk."""
    from llamacompare.models.streaming import StreamedAnswer

    answer = StreamedAnswer("http://x/v1/chat/completions", chat=True, started=time.perf_counter())
    answer.feed(b'data: {"error": null, "choices": [{"delta": {"content": "Tamam"}, "finish_reason": "stop"}]}\n\n'
                b"data: [DONE]\n\n")
    assert answer.close()[:2] == ("Tamam", "stop")


@pytest.mark.parametrize("style", ["ms", "http-date"])
def test_retry_after_ms_and_http_date_are_honoured(style: str) -> None:
    plan = FaultPlan(rules=(PromptRule("429", times=1),), retry_after=1.2, retry_after_style=style)
    with ScriptedServer(["test-model"], faults=plan) as srv:
        from llamacompare.helpers import llama

        t0 = time.perf_counter()
        llama("Selam", model="openai:test-model", base_url=srv.base_url, max_tries=2, base=0.01)
        waited = time.perf_counter() - t0
    if style == "ms":  # the exact 1.2 s, not the Retry-After rounded up to 2 s sent alongside
        assert 1.15 <= waited < 1.8, waited
    else:  # an HTTP date has whole seconds: between 0.2 and 1.2 s of it remain
        assert 0.15 <= waited < 2.0, waited


def test_retry_after_zero_gets_jitter() -> None:
    import random

    from llamacompare.models.retry import RetryPolicy

    policy = RetryPolicy(base_s=1.0)
    err = errors.RateLimitError("429", status=429, retry_after=0.0)
    waits = {round(policy.delay(0, err, random.Random(seed)), 6) for seed in range(20)}
    assert len(waits) > 10 and all(0.0 <= w <= 0.25 for w in waits)
    told = errors.RateLimitError("429", status=429, retry_after=10.0)
    assert all(10.0 <= policy.delay(0, told, random.Random(s)) <= 11.0 for s in range(20))


def test_a_failed_model_list_is_retried_said_and_not_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    from llamacompare.models import openai_compat

    # a remote server's list is shared for 10 minutes; a failed one must not be
    monkeypatch.setattr(openai_compat, "_is_loopback", lambda url: False)
    monkeypatch.setattr(openai_compat, "_model_lists", {})
    plan = FaultPlan(rules=(PromptRule("503", times=3),), paths=("/v1/models",))
    with ScriptedServer([ModelSpec("priced", 4096, 0.2, 0.6)], faults=plan) as srv:

        async def prepare() -> Any:
            p = provider(srv)
            try:
                return await p.prepare("priced")
            finally:
                await p.aclose()

        failed = run_sync(prepare())
        assert failed.notes and "prices" in failed.notes[0] and "503" in failed.notes[0]
        assert srv.base_url not in openai_compat._model_lists
        again = run_sync(prepare())  # the 4th attempt succeeds: asked again, not the cached failure
    assert again.notes == () and again.context_length == 4096 and again.capabilities.prices
