"""The scripted server does what it claims: API shapes, streaming, logprobs, every fault kind, accounting."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from . import fake_lm
from .scripted_server import FAULT_KINDS, FaultPlan, ModelSpec, PromptRule, ScriptedServer, scripted_server_process

CHAT = "/chat/completions"
COMPL = "/completions"
TR_PROMPT = "Yorum: Ürün çok güzel, kargo hızlıydı! Duygu:"


def chat_body(content: str = "Merhaba dünya", model: str = "m", **kw: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}], **kw}


def run(fn: Callable[[aiohttp.ClientSession], Awaitable[Any]], timeout: float = 5.0) -> Any:
    async def main() -> Any:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as s:
            return await fn(s)

    return asyncio.run(main())


async def post(s: aiohttp.ClientSession, url: str, body: Any, **kw: Any) -> tuple[int, Any, bytes]:
    async with s.post(url, json=body, **kw) as r:
        return r.status, r.headers, await r.read()


def sse_events(raw: bytes) -> list[str]:
    """The `data:` payloads of an SSE body, checking the framing on the way."""
    text = raw.decode()
    assert text.endswith("\n\n")
    events = text[:-2].split("\n\n")
    assert all(e.startswith("data: ") for e in events), events
    return [e.removeprefix("data: ") for e in events]


@pytest.fixture(scope="module")
def srv() -> Any:
    with ScriptedServer(models=["m", ModelSpec("priced", input_price=0.2, output_price=0.6)]) as s:
        yield s


@pytest.fixture(autouse=True)
def _clean(srv: ScriptedServer) -> None:
    srv.set_faults(FaultPlan())
    srv.reset()


# -- the fake model ------------------------------------------------------------------------------------


def test_tokenize_round_trips_and_hash_is_stable() -> None:
    for text in ["", "  a", TR_PROMPT, "İstanbul'da ığdır şöyle\n\ttab  ", "x\n"]:
        assert "".join(fake_lm.tokenize(text)) == text
    assert fake_lm.tokenize(" İyi, güzel.") == [" İyi", ",", " güzel", "."]
    # A fixed value: Python's hash() would change per process and break cross-process tests.
    assert fake_lm.prompt_hash({"prompt": "Merhaba"}) == "941acb5fc8f7254a"
    assert fake_lm.prompt_hash(chat_body("a")) == fake_lm.prompt_hash(chat_body("a", model="other", temperature=1))
    assert fake_lm.prompt_hash(chat_body("a")) != fake_lm.prompt_hash(chat_body("b"))


# -- models --------------------------------------------------------------------------------------------


def test_models_openai_and_together_formats(srv: ScriptedServer) -> None:
    async def go(s: aiohttp.ClientSession) -> Any:
        async with s.get(srv.base_url + "/models") as r:
            return r.status, await r.json()

    status, data = run(go)
    assert status == 200 and data["object"] == "list"
    by_id = {m["id"]: m for m in data["data"]}
    assert by_id["m"] == {"id": "m", "object": "model", "created": 0, "owned_by": "scripted", "context_length": 8192}
    # Together's Pricing (togethercomputer/openapi openapi.yaml) requires hourly, input, output, base, finetune
    assert by_id["priced"]["pricing"] == {"hourly": 0, "input": 0.2, "output": 0.6, "base": 0, "finetune": 0}

    with ScriptedServer(models=[ModelSpec("t", 4096, 0.1, 0.3)], models_format="together") as tog:

        async def go2(s: aiohttp.ClientSession) -> Any:
            async with s.get(tog.base_url + "/models") as r:
                return await r.json()

        assert run(go2) == [
            {
                "id": "t",
                "object": "model",
                "created": 0,
                "owned_by": "scripted",
                "context_length": 4096,
                "pricing": {"hourly": 0, "input": 0.1, "output": 0.3, "base": 0, "finetune": 0},
            }
        ]


def test_a_model_without_a_chat_template_as_vllm_and_ollama_show_it() -> None:
    """vLLM (dialects.py): /tokenize applies the chat template, refused for a base model with the same 400 as its
    chat; Ollama: /api/show gives the base model the default template `{{ .Prompt }}`. Both are recorded."""
    from . import dialects

    models = [ModelSpec("inst"), ModelSpec("base", chat_template=False)]
    with ScriptedServer(models, dialect="vllm") as vllm:
        root = vllm.root_url

        async def ask_vllm(s: aiohttp.ClientSession) -> list[tuple[int, Any]]:
            out = []
            for path, body in [("/tokenize", chat_body(model="inst")), ("/tokenize", chat_body(model="base")),
                               ("/v1" + CHAT, chat_body(model="base", stream=True)),
                               ("/tokenize", {"model": "base", "prompt": "Merhaba dünya"}),
                               ("/tokenize", chat_body(model="nope"))]:
                status, _, raw = await post(s, root + path, body)
                out.append((status, json.loads(raw)))
            return out

        (ok, chat_ok), (refused, body), (chat_refused, chat_body_), (prompt, tokens), (missing, unknown) = run(ask_vllm)
        paths = [(r.path, r.model, r.outcome) for r in vllm.requests]
    assert ok == 200 and set(chat_ok) == {"count", "max_model_len", "tokens", "token_strs"}
    assert chat_ok["count"] == len(chat_ok["tokens"]) and chat_ok["max_model_len"] == 8192
    assert refused == chat_refused == 400 and body == chat_body_ == {"error": {
        "message": dialects.VLLM_NO_TEMPLATE, "type": "BadRequestError", "param": None, "code": 400}}
    assert body["error"]["message"].startswith("As of transformers v4.44, default chat template is no longer allowed")
    assert prompt == 200 and tokens["count"] == len(fake_lm.tokenize(dialects.BOS + "Merhaba dünya"))
    assert missing == 404 and unknown["error"]["type"] == "NotFoundError"
    assert paths[:2] == [("/tokenize", "inst", "ok"), ("/tokenize", "base", "ok")]
    assert ("/v1/chat/completions", "base", "400") in paths

    with ScriptedServer([ModelSpec("inst:latest"), ModelSpec("base:latest", chat_template=False)],
                        dialect="ollama") as ollama:

        async def ask_ollama(s: aiohttp.ClientSession) -> list[tuple[int, Any]]:
            out = []
            for body in [{"model": "inst:latest"}, {"name": "base"}, {"model": "nope"}, {}]:
                status, _, raw = await post(s, ollama.root_url + "/api/show", body)
                out.append((status, json.loads(raw)))
            return out

        (ok, inst), (ok2, base), (missing, unknown), (bad, empty) = run(ask_ollama)
    assert ok == ok2 == 200 and base["template"] == "{{ .Prompt }}" and ".Messages" in inst["template"]
    assert "TEMPLATE {{ .Prompt }}\n" in base["modelfile"] and base["details"]["format"] == "gguf"
    assert (missing, unknown) == (404, {"error": "model 'nope' not found"})
    assert (bad, empty) == (400, {"error": "model is required"})


def test_base_models_from_the_command_line() -> None:
    from .scripted_server import _app_from_args, _parse_args

    app = _app_from_args(_parse_args(["--model", "a", "--base-model", "b", "--dialect", "vllm"]))
    assert {m.id: m.chat_template for m in app.models.values()} == {"a": True, "b": False}


# -- answers -------------------------------------------------------------------------------------------


def test_chat_answer_is_predictable_with_usage(srv: ScriptedServer) -> None:
    bodies = [chat_body(f"yorum {i}: çok iyi") for i in range(8)]
    results = run(lambda s: asyncio.gather(*(post(s, srv.base_url + CHAT, b) for b in bodies)))
    answers = set()
    for body, (status, _, raw) in zip(bodies, results, strict=True):
        assert status == 200
        data = json.loads(raw)
        assert data["object"] == "chat.completion" and data["model"] == "m"
        choice = data["choices"][0]
        assert choice["message"] == {"role": "assistant", "content": srv.answer_for(body), "refusal": None}
        assert choice["finish_reason"] == "stop"
        assert data["usage"] == {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
        answers.add(choice["message"]["content"])
    assert answers == {"Pozitif", "Negatif"}  # 8 prompts: both answers come up (fixed hashes)


def test_max_tokens_stop_and_answer_callable() -> None:
    def answer(body: dict[str, Any]) -> str:
        return f"{body['model']} says: one two three. Four"

    with ScriptedServer(models=["a"], answer=answer) as srv:

        async def go(s: aiohttp.ClientSession) -> list[Any]:
            out = []
            for extra in [{}, {"max_tokens": 2}, {"stop": ["."]}, {"max_completion_tokens": 0}]:
                _, _, raw = await post(s, srv.base_url + CHAT, chat_body(model="a", **extra))
                out.append(json.loads(raw)["choices"][0])
            return out

        full, short, stopped, zero = run(go)
    assert (full["message"]["content"], full["finish_reason"]) == ("a says: one two three. Four", "stop")
    assert (short["message"]["content"], short["finish_reason"]) == ("a says", "length")
    assert (stopped["message"]["content"], stopped["finish_reason"]) == ("a says: one two three", "stop")
    assert (zero["message"]["content"], zero["finish_reason"]) == ("", "length")


def test_chat_stream_format_and_usage(srv: ScriptedServer) -> None:
    srv_answer = "Çok güzel bir ürün, tavsiye ederim."
    with ScriptedServer(models=["m"], answers=[srv_answer]) as one:
        body = chat_body(stream=True, stream_options={"include_usage": True})
        status, headers, raw = run(lambda s: post(s, one.base_url + CHAT, body))
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    events = sse_events(raw)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1])
    assert content == srv_answer
    assert len(chunks) - 3 == len(fake_lm.tokenize(srv_answer))  # role chunk, one per token, finish, usage
    assert [c["choices"][0]["finish_reason"] for c in chunks[:-1]] == [None] * (len(chunks) - 2) + ["stop"]
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 2, "completion_tokens": 8, "total_tokens": 10}


def test_completions_stream_without_usage(srv: ScriptedServer) -> None:
    body = {"model": "m", "prompt": TR_PROMPT, "stream": True}
    _, _, raw = run(lambda s: post(s, srv.base_url + COMPL, body))
    events = sse_events(raw)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all("usage" not in c and c["object"] == "text_completion" for c in chunks)
    assert "".join(c["choices"][0]["text"] for c in chunks) == srv.answer_for(body)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_completion_echo_logprobs_score_labels_like_the_answer(srv: ScriptedServer) -> None:
    async def score(s: aiohttp.ClientSession, prompt: str, label: str) -> float:
        body = {"model": "m", "prompt": prompt + label, "echo": True, "logprobs": 1, "max_tokens": 0}
        status, _, raw = await post(s, srv.base_url + COMPL, body)
        assert status == 200
        data = json.loads(raw)
        choice = data["choices"][0]
        lp = choice["logprobs"]
        assert choice["text"] == prompt + label and choice["finish_reason"] == "length"
        assert "".join(lp["tokens"]) == prompt + label and lp["token_logprobs"][0] is None
        assert lp["text_offset"] == [sum(len(t) for t in lp["tokens"][:i]) for i in range(len(lp["tokens"]))]
        assert data["usage"]["completion_tokens"] == 0
        assert data["usage"]["prompt_tokens"] == len(lp["tokens"])
        # Sum the label's tokens, as a client scoring a continuation does.
        return sum(x for x, off in zip(lp["token_logprobs"], lp["text_offset"], strict=True) if off >= len(prompt))

    prompts = [f"{TR_PROMPT} ({i})" for i in range(6)]

    async def go(s: aiohttp.ClientSession) -> list[tuple[float, float]]:
        return [(await score(s, p, " Pozitif"), await score(s, p, " Negatif")) for p in prompts]

    for p, (pos, neg) in zip(prompts, run(go), strict=True):
        expected = srv.answer_for({"model": "m", "prompt": p})
        assert (pos > neg) == (expected == "Pozitif")
        assert max(pos, neg) == pytest.approx(fake_lm.CONFIDENT_LOGPROB)
        assert -8 <= min(pos, neg) < -0.5


def test_logprobs_of_generated_tokens(srv: ScriptedServer) -> None:
    async def go(s: aiohttp.ClientSession) -> tuple[Any, Any]:
        _, _, c = await post(s, srv.base_url + COMPL, {"model": "m", "prompt": "Duygu:", "logprobs": 2})
        _, _, ch = await post(s, srv.base_url + CHAT, chat_body(logprobs=True, top_logprobs=2))
        return json.loads(c), json.loads(ch)

    comp, chat = run(go)
    lp = comp["choices"][0]["logprobs"]
    assert lp["tokens"] == [comp["choices"][0]["text"]] and lp["text_offset"] == [len("Duygu:")]
    assert set(lp["top_logprobs"][0]) == {"Pozitif", "Negatif"}
    assert max(lp["top_logprobs"][0], key=lp["top_logprobs"][0].get) == comp["choices"][0]["text"]
    content = chat["choices"][0]["logprobs"]["content"]
    assert [e["token"] for e in content] == [chat["choices"][0]["message"]["content"]]
    assert content[0]["bytes"] == list(content[0]["token"].encode())
    assert [t["token"] for t in content[0]["top_logprobs"]][0] == content[0]["token"]
    assert len(content[0]["top_logprobs"]) == 2 and all(t["logprob"] <= 0 for t in content[0]["top_logprobs"])


def test_list_prompt_and_n(srv: ScriptedServer) -> None:
    body = {"model": "m", "prompt": ["bir", "iki üç"], "n": 2}
    _, _, raw = run(lambda s: post(s, srv.base_url + COMPL, body))
    data = json.loads(raw)
    texts = [c["text"] for c in data["choices"]]
    a, b = (srv.answer_for({"model": "m", "prompt": p}) for p in ["bir", "iki üç"])
    assert texts == [a, a, b, b] and [c["index"] for c in data["choices"]] == [0, 1, 2, 3]
    assert data["usage"]["prompt_tokens"] == 3 and data["usage"]["completion_tokens"] == 4


# -- errors --------------------------------------------------------------------------------------------


def test_bad_requests_unknown_model_and_context_length() -> None:
    with ScriptedServer(models=[ModelSpec("small", context_length=5)]) as srv:

        async def go(s: aiohttp.ClientSession) -> list[tuple[int, Any]]:
            out = []
            async with s.post(
                srv.base_url + CHAT, data=b"{not json", headers={"Content-Type": "application/json"}
            ) as r:
                out.append((r.status, await r.json()))
            for body in [
                {"model": "small"},
                chat_body(model="nope"),
                chat_body("bir iki üç dört beş altı", model="small"),
            ]:
                status, _, raw = await post(s, srv.base_url + CHAT, body)
                out.append((status, json.loads(raw)))
            return out

        (s1, e1), (s2, e2), (s3, e3), (s4, e4) = run(go)
        assert (s1, s2, s3, s4) == (400, 400, 404, 400)
        assert e2["error"]["param"] == "messages"
        assert e3["error"] == {
            "message": "The model `nope` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        }
        assert e4["error"]["code"] == "context_length_exceeded"
        assert srv.stats()["by_outcome"] == {"400": 3, "404": 1}


def test_api_key_is_required_and_never_echoed() -> None:
    key = "sk-gizli-anahtar-123"
    with ScriptedServer(models=["m"], api_key=key) as srv:

        async def go(s: aiohttp.ClientSession) -> list[tuple[int, bytes]]:
            out = []
            for headers in [{}, {"Authorization": "Bearer sk-wrong"}, {"Authorization": f"Bearer {key}"}]:
                status, _, raw = await post(s, srv.base_url + CHAT, chat_body(), headers=headers)
                out.append((status, raw))
            async with s.get(srv.base_url + "/models", headers={"Authorization": "Bearer " + key + "x"}) as r:
                out.append((r.status, await r.read()))
            async with s.get(srv.root_url + "/_stats") as r:
                out.append((r.status, await r.read()))
            return out

        results = run(go)
    assert [st for st, _ in results] == [401, 401, 200, 401, 200]
    assert json.loads(results[0][1])["error"] == {
        "message": "Incorrect API key provided.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
    assert all(b"gizli" not in raw and b"sk-wrong" not in raw for _, raw in results)
    assert "gizli" not in repr(srv.requests) and "gizli" not in json.dumps(srv.stats(include_requests=True))


# -- faults --------------------------------------------------------------------------------------------

_STATUS_FAULTS = {"429": 429, "429_no_retry_after": 429, "400": 400, "401": 401, "404": 404, "500": 500, "503": 503}


@pytest.mark.parametrize("kind", sorted(_STATUS_FAULTS))
def test_status_faults(srv: ScriptedServer, kind: str) -> None:
    srv.set_faults(FaultPlan(script=(kind,), retry_after=0.25))

    async def go(s: aiohttp.ClientSession) -> list[tuple[int, Any, bytes]]:
        return [await post(s, srv.base_url + CHAT, chat_body()) for _ in range(2)]

    (st, headers, raw), (st2, _, _) = run(go)
    assert (st, st2) == (_STATUS_FAULTS[kind], 200)  # the script fails only the first request
    err = json.loads(raw)["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert headers.get("Retry-After") == ("0.25" if kind == "429" else None)
    assert srv.stats()["by_outcome"] == {kind: 1, "ok": 1}


def test_502_is_html(srv: ScriptedServer) -> None:
    srv.set_faults(FaultPlan(script=("502",)))
    st, headers, raw = run(lambda s: post(s, srv.base_url + CHAT, chat_body()))
    assert st == 502 and headers["Content-Type"].startswith("text/html") and b"Bad Gateway" in raw


def _one_faulted(srv: ScriptedServer, kind: str, body: dict[str, Any], path: str = CHAT, timeout: float = 5.0) -> Any:
    """Serve `kind` to one request; return the exception it raised (or its result), then check recovery."""
    srv.set_faults(FaultPlan(script=(kind,), hang_s=30))
    srv.reset()

    async def go(s: aiohttp.ClientSession) -> Any:
        try:
            async with s.post(srv.base_url + path, json=body, timeout=aiohttp.ClientTimeout(total=timeout)) as r:
                result: Any = (r.status, r.headers.get("Content-Type", ""), await r.read())
        except (TimeoutError, aiohttp.ClientError) as exc:
            result = exc
        status, _, _ = await post(s, srv.base_url + path, body)  # the server is fine afterwards
        assert status == 200
        return result

    result = run(go)
    assert srv.stats()["by_outcome"] == {kind: 1, "ok": 1}
    return result


@pytest.mark.parametrize("stream", [False, True])
def test_reset_drops_the_connection(srv: ScriptedServer, stream: bool) -> None:
    exc = _one_faulted(srv, "reset", chat_body(stream=stream))
    assert isinstance(exc, aiohttp.ClientConnectionError)  # ECONNRESET or server disconnected


def test_hang_outlasts_the_client_timeout(srv: ScriptedServer) -> None:
    t0 = time.perf_counter()
    exc = _one_faulted(srv, "hang", chat_body(), timeout=0.3)
    assert isinstance(exc, asyncio.TimeoutError)
    assert time.perf_counter() - t0 < 3
    deadline = time.monotonic() + 2
    while srv.stats()["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert srv.stats()["in_flight"] == 0  # the client's disconnect freed the handler


def test_hang_does_not_delay_shutdown() -> None:
    with ScriptedServer(models=["m"], faults=FaultPlan(script=("hang",), hang_s=60)) as srv:

        async def go() -> None:
            async with aiohttp.ClientSession() as s:
                task = asyncio.ensure_future(post(s, srv.base_url + CHAT, chat_body()))
                while srv.stats()["in_flight"] == 0:
                    await asyncio.sleep(0.01)
                t0 = time.perf_counter()
                await asyncio.get_running_loop().run_in_executor(None, srv.stop)
                assert time.perf_counter() - t0 < 3
                with pytest.raises(aiohttp.ClientConnectionError):
                    await task

        asyncio.run(go())


def test_malformed_json(srv: ScriptedServer) -> None:
    status, ctype, raw = _one_faulted(srv, "malformed_json", chat_body())
    assert status == 200 and ctype.startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    status, ctype, raw = _one_faulted(srv, "malformed_json", chat_body(stream=True))
    events = sse_events(raw)
    assert events[-1] == "[DONE]"
    with pytest.raises(json.JSONDecodeError):
        json.loads(events[0])


def test_stream_cut_stops_midway_without_done() -> None:
    answer = "bir iki üç dört beş altı yedi sekiz"
    with ScriptedServer(models=["m"], answers=[answer]) as srv:
        body = chat_body(stream=True)
        srv.set_faults(FaultPlan(script=("stream_cut",)))

        async def go(s: aiohttp.ClientSession) -> tuple[list[bytes], BaseException | None]:
            lines: list[bytes] = []
            try:
                async with s.post(srv.base_url + CHAT, json=body) as r:
                    assert r.status == 200
                    async for line in r.content:
                        lines.append(line)
            except aiohttp.ClientPayloadError as exc:
                return lines, exc
            return lines, None

        lines, exc = run(go)
        assert isinstance(exc, aiohttp.ClientPayloadError)
        data = [json.loads(ln[6:]) for ln in lines if ln.startswith(b"data: {")]
        assert b"data: [DONE]\n" not in lines and 2 <= len(data) < len(fake_lm.tokenize(answer)) + 2
        got = "".join(d["choices"][0]["delta"].get("content", "") for d in data)
        assert got and answer.startswith(got) and got != answer
        # Not streamed: the announced Content-Length is never reached.
        exc2 = _one_faulted(srv, "stream_cut", chat_body())
        assert isinstance(exc2, aiohttp.ClientPayloadError)


@pytest.mark.parametrize("stream", [False, True])
def test_empty_choices(srv: ScriptedServer, stream: bool) -> None:
    status, _, raw = _one_faulted(srv, "empty_choices", chat_body(stream=stream))
    payload = sse_events(raw)[0] if stream else raw
    assert status == 200 and json.loads(payload)["choices"] == []


def test_prompt_rules_fail_first_attempts_per_prompt(srv: ScriptedServer) -> None:
    srv.set_faults(FaultPlan(rules=(PromptRule("503", times=2, contains="kırmızı"), PromptRule("429", model="priced"))))
    red, blue = chat_body("kırmızı elma"), chat_body("mavi deniz")

    async def go(s: aiohttp.ClientSession) -> list[int]:
        out = []
        for body in [red, blue, red, red, red, {**red, "model": "priced"}, {**red, "model": "priced"}]:
            status, _, _ = await post(s, srv.base_url + CHAT, body)
            out.append(status)
        return out

    assert run(go) == [503, 200, 503, 200, 200, 503, 503]  # "priced": the 503 rule comes first, twice
    st = srv.stats()
    red_stats = st["prompts"][fake_lm.prompt_hash(red)]
    assert (red_stats["attempts"], red_stats["ok"]) == (6, 2)
    assert red_stats["outcomes"] == {"503": 4, "ok": 2}
    assert red_stats["models"] == {"m": {"attempts": 4, "ok": 2}, "priced": {"attempts": 2, "ok": 0}}
    assert st["prompts"][fake_lm.prompt_hash(blue)]["attempts"] == 1
    assert [r.attempt for r in srv.requests if r.model == "m" and r.prompt_hash == fake_lm.prompt_hash(red)] == [
        0,
        1,
        2,
        3,
    ]


def test_random_faults_are_seeded_and_timing_independent() -> None:
    bodies = [chat_body(f"soru {i}") for i in range(200)]
    plan = FaultPlan(rate=0.3, kinds=("429", "500", "empty_choices"), seed=7)

    def outcomes(order: list[int], concurrent: bool) -> dict[str, str]:
        with ScriptedServer(models=["m"], faults=plan) as srv:

            async def go(s: aiohttp.ClientSession) -> None:
                reqs = [post(s, srv.base_url + CHAT, bodies[i]) for i in order]
                if concurrent:
                    await asyncio.gather(*reqs)
                else:
                    for r in reqs:
                        await r

            run(go, timeout=60)
            return {r.prompt_hash or "": r.outcome for r in srv.requests}

    a = outcomes(list(range(200)), concurrent=False)
    b = outcomes(list(reversed(range(200))), concurrent=True)
    assert a == b
    faulted = [o for o in a.values() if o != "ok"]
    assert 40 <= len(faulted) <= 80 and set(faulted) == {"429", "500", "empty_choices"}


def test_unknown_fault_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="timeout"):
        FaultPlan(script=("timeout",))
    assert "hang" in FAULT_KINDS


# -- accounting, latency, process ----------------------------------------------------------------------


def test_stats_over_http_match_python(srv: ScriptedServer) -> None:
    srv.set_faults(FaultPlan(script=("500", "ok", "429")))

    async def go(s: aiohttp.ClientSession) -> Any:
        for i in range(4):
            await post(s, srv.base_url + CHAT, chat_body(f"p{i % 2}"))
        async with s.get(srv.root_url + "/_stats") as r:
            return await r.json()

    http = run(go)
    assert http == json.loads(json.dumps(srv.stats(include_requests=True)))
    assert http["by_outcome"] == {"500": 1, "ok": 2, "429": 1} and http["injected"] == 2
    assert [r["outcome"] for r in http["requests"]] == ["500", "ok", "429", "ok"]
    assert http["prompts"][fake_lm.prompt_hash(chat_body("p0"))] == {
        "attempts": 2,
        "ok": 0,
        "outcomes": {"500": 1, "429": 1},
        "models": {"m": {"attempts": 2, "ok": 0}},
    }
    assert http["prompts"][fake_lm.prompt_hash(chat_body("p1"))]["ok"] == 2
    run(lambda s: post(s, srv.root_url + "/_reset", {}))
    assert srv.stats()["total"] == 0


def test_latency_token_delay_and_peak_concurrency() -> None:
    with ScriptedServer(models=["m"], answers=["a b c d e"], latency=0.2, token_delay=0.02) as srv:
        t0 = time.perf_counter()
        results = run(lambda s: asyncio.gather(*(post(s, srv.base_url + CHAT, chat_body(str(i))) for i in range(10))))
        elapsed = time.perf_counter() - t0
        assert all(st == 200 for st, _, _ in results)
        assert 0.3 <= elapsed < 1.5  # 0.2 s + 5 tokens x 0.02 s, concurrently
        assert srv.stats()["max_in_flight"] == 10

        async def ttft(s: aiohttp.ClientSession) -> tuple[float, float]:
            t = time.perf_counter()
            async with s.post(srv.base_url + CHAT, json=chat_body(stream=True)) as r:
                first = None
                async for line in r.content:
                    if b'"content": "a"' in line and first is None:
                        first = time.perf_counter() - t
                return first or math.inf, time.perf_counter() - t

        first, total = run(ttft)
        assert 0.18 <= first < total and total - first >= 0.06


def test_runs_as_a_process_with_faults_from_the_command_line() -> None:
    with scripted_server_process(
        "--model", "m", "--script", "500,ok", "--rule", "429:1:üç", "--api-key-env", "SCRIPTED_KEY",
        env={"SCRIPTED_KEY": "k"},
    ) as proc:  # fmt: skip
        auth = {"Authorization": "Bearer k"}

        async def go(s: aiohttp.ClientSession) -> list[int]:
            out = []
            for content in ["bir", "iki", "üç", "üç"]:
                status, _, _ = await post(s, proc.base_url + CHAT, chat_body(content), headers=auth)
                out.append(status)
            return out

        assert run(go) == [500, 200, 429, 200]
        stats = proc.stats()
        assert stats["by_outcome"] == {"500": 1, "ok": 2, "429": 1}
        assert [r["path"] for r in stats["requests"]] == ["/v1/chat/completions"] * 4
        p = proc.proc
    assert p.returncode == 0  # SIGTERM stops it cleanly


def test_the_openai_sdk_parses_every_answer_shape() -> None:
    openai = pytest.importorskip("openai")
    with ScriptedServer(models=["m"], api_key="k", answers=["Olumlu yorum."]) as srv:
        c = openai.OpenAI(base_url=srv.base_url, api_key="k", max_retries=0)
        msgs = [{"role": "user", "content": "Merhaba"}]
        r = c.chat.completions.create(model="m", messages=msgs, logprobs=True, top_logprobs=1)
        assert r.choices[0].message.content == "Olumlu yorum." and r.usage.completion_tokens == 3
        assert [t.token for t in r.choices[0].logprobs.content] == ["Olumlu", " yorum", "."]
        stream = c.chat.completions.create(
            model="m", messages=msgs, stream=True, stream_options={"include_usage": True}
        )
        parts = list(stream)
        assert "".join(p.choices[0].delta.content or "" for p in parts if p.choices) == "Olumlu yorum."
        assert parts[-1].usage.total_tokens == 4
        comp = c.completions.create(model="m", prompt="Duygu:", echo=True, logprobs=1, max_tokens=0)
        assert comp.choices[0].logprobs.tokens == ["Duygu", ":"]
        assert [m.id for m in c.models.list()] == ["m"]
        srv.set_faults(FaultPlan(script=("429", "empty_choices")))
        with pytest.raises(openai.RateLimitError):
            c.chat.completions.create(model="m", messages=msgs)
        assert c.chat.completions.create(model="m", messages=msgs).choices == []
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=srv.base_url, api_key="bad", max_retries=0).models.list()


def test_turkish_text_is_sent_as_raw_utf8() -> None:
    with ScriptedServer(models=["m"], answers=["Işık çok güzel, ürün iyi."]) as srv:
        status, headers, raw = run(lambda s: post(s, srv.base_url + CHAT, chat_body("Şöyle mi?")))
    assert status == 200 and "charset=utf-8" in headers["Content-Type"]
    assert "Işık çok güzel, ürün iyi.".encode() in raw and b"\\u" not in raw


def test_capacity_answers_429_with_retry_after_above_n_in_flight() -> None:
    # 12 requests at once against room for 8: the 4 that arrive while 8 are being answered get OpenAI's 429
    plan = FaultPlan(retry_after=0.25, retry_after_style="ms")
    with ScriptedServer(models=["m"], latency=0.4, capacity=8, faults=plan) as srv:
        results = run(lambda s: asyncio.gather(*(post(s, srv.base_url + CHAT, chat_body(str(i))) for i in range(12))))
        stats = srv.stats()
        seen = {(r.outcome, r.in_flight > 8) for r in srv.requests}
    refused = [(h, json.loads(b)) for st, h, b in results if st == 429]
    assert sum(st == 200 for st, _, _ in results) == 8 and len(refused) == 4
    assert stats["by_outcome"] == {"ok": 8, "429": 4} and stats["max_in_flight"] <= 12
    assert seen == {("ok", False), ("429", True)}  # each request records how many were in flight, itself included
    for headers, body in refused:
        assert headers["retry-after-ms"] == "250" and headers["Retry-After"] == "1"
        assert set(body["error"]) == {"message", "type", "param", "code"}  # the API reference's `Error`
        assert body["error"]["code"] == "rate_limit_exceeded" and body["error"]["param"] is None


def test_capacity_429_is_a_rate_limit_error_for_the_openai_sdk() -> None:
    openai = pytest.importorskip("openai")
    with ScriptedServer(models=["m"], latency=0.5, capacity=1) as srv:
        c = openai.OpenAI(base_url=srv.base_url, api_key="k", max_retries=0)
        msgs = [{"role": "user", "content": "Merhaba"}]

        async def two(s: aiohttp.ClientSession) -> Any:
            first = asyncio.create_task(post(s, srv.base_url + CHAT, chat_body("bir")))
            await asyncio.sleep(0.2)  # the first is being answered: the server is full
            err = await asyncio.to_thread(lambda: pytest.raises(openai.RateLimitError,
                                                                c.chat.completions.create, model="m", messages=msgs))
            return (await first)[0], err.value

        status, err = run(two)
    assert status == 200 and err.code == "rate_limit_exceeded" and err.type == "requests"
    assert err.response.headers["Retry-After"] == "1"
