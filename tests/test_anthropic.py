"""The Anthropic provider (`anthropic:MODEL`) against a scripted Messages API server
(tests/support/anthropic_server.py), whose shapes come from Anthropic's SDK types (anthropics/anthropic-sdk-python:
`types/message_create_params.py`, `types/message.py`, `types/raw_message_stream_event.py`, `types/usage.py`,
`types/shared/error_response.py`, `types/model_info.py`, `pagination.py`) and API docs
(https://docs.claude.com/en/api/errors).

The request is the Messages API's: POST /v1/messages with `x-api-key` and `anthropic-version: 2023-06-01`, the
system prompt top-level (there is no "system" role), `max_tokens` always, `stop_sequences`; the answer's text blocks,
`stop_reason` (end_turn, stop_sequence -> stop; max_tokens -> length) and `usage` (input_tokens, output_tokens);
the stream's events (message_start ... message_stop, ping, and an `error` event: an error, never an answer)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli
from tests.support import fake_lm
from tests.support.anthropic_server import AnthropicModel, AnthropicServer

from llamacompare import errors
from llamacompare.models.anthropic_messages import (
    AnthropicProvider,
    MessageStream,
    conversation,
    cost,
    messages_request,
    token_counts,
)
from llamacompare.models.base import Params, Request
from llamacompare.models.catalog import ANTHROPIC_PRICES_AS_OF, anthropic_price
from llamacompare.sync import run_sync

KEY = "sk-ant-api03-scripted-0123456789abcdef"
SNAPSHOT = "claude-haiku-4-5-20251001"
ALIAS = "claude-haiku-4-5"
SYSTEM = "Yalnızca Pozitif ya da Negatif yaz."


def server(**kw: Any) -> AnthropicServer:
    kw.setdefault("api_key", KEY)
    kw.setdefault("aliases", {ALIAS: SNAPSHOT})
    return AnthropicServer([SNAPSHOT, "claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805"], **kw)


def env(srv: AnthropicServer, key: str = KEY) -> dict[str, str]:
    return {"ANTHROPIC_API_KEY": key, "ANTHROPIC_BASE_URL": srv.base_url}


def generate(srv: AnthropicServer, request: Request, *, model: str = SNAPSHOT, stream: bool = True) -> Any:
    async def go() -> Any:
        p = AnthropicProvider(srv.base_url, KEY, stream=stream)
        try:
            prepared = await p.prepare(model)
            return await p.generate(prepared.served_id, request)
        finally:
            await p.aclose()

    return run_sync(go())


# -- the request body (pure) -----------------------------------------------------------------------------------


def test_the_system_prompt_is_top_level_and_turns_of_one_role_are_merged() -> None:
    messages = ({"role": "system", "content": SYSTEM}, {"role": "user", "content": "Örnek: harika"},
                {"role": "user", "content": "Mesaj: berbat"}, {"role": "assistant", "content": "Duygu: "})
    body = messages_request(SNAPSHOT, Request(messages=messages, params=Params(stop=("###", "\n"), seed=7)),
                            stream=True)
    assert body == {
        "model": SNAPSHOT, "max_tokens": 1024, "system": SYSTEM, "temperature": 0.0,
        "messages": [{"role": "user", "content": "Örnek: harika\n\nMesaj: berbat"},
                     {"role": "assistant", "content": "Duygu:"}],  # a prefill may not end in whitespace
        "stop_sequences": ["###"],  # whitespace-only stops are refused by the API: applied to the answer instead
        "stream": True,
    }  # no seed: the Messages API has none


def test_a_raw_prompt_is_one_user_turn_and_max_tokens_is_always_sent() -> None:
    body = messages_request(SNAPSHOT, Request(prompt="Merhaba", params=Params(max_tokens=0, top_p=0.9)))
    assert body == {"model": SNAPSHOT, "max_tokens": 1, "temperature": 0.0, "top_p": 0.9,
                    "messages": [{"role": "user", "content": "Merhaba"}]}


@pytest.mark.parametrize("messages, words", [
    (({"role": "user", "content": "a"}, {"role": "system", "content": "b"}), "system message after"),
    (({"role": "system", "content": "b"},), "no user turn"),
    (({"role": "tool", "content": "b"},), "role 'tool'"),
])
def test_conversations_the_api_cannot_take_are_refused_in_words(messages: Any, words: str) -> None:
    with pytest.raises(errors.UsageError, match=words):
        conversation(Request(messages=messages))


# -- the stream (pure) -----------------------------------------------------------------------------------------

EVENTS = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":'
    b'"assistant","content":[],"model":"m","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,'
    b'"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}\n\n'
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text",'
    b'"text":""}}\n\n'
    b'event: ping\ndata: {"type": "ping"}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta",'
    b'"text":"Olumlu, "}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta",'
    b'"text":"\xc3\xa7ok g\xc3\xbczel."}}\n\n'
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},'
    b'"usage":{"output_tokens":6}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)


def _raise_for(status: int, data: Any, headers: Any, *, during: str = "") -> None:
    AnthropicProvider("http://x", None)._raise_for(status, data, headers, during=during)


@pytest.mark.parametrize("size", [1, 7, len(EVENTS)])
def test_a_stream_read_in_any_pieces_gives_the_text_stop_reason_and_usage(size: int) -> None:
    stream = MessageStream("http://x/v1/messages", time.perf_counter(), _raise_for)
    for i in range(0, len(EVENTS), size):
        stream.feed(EVENTS[i : i + size].replace(b"\n", b"\r\n") if size == 7 else EVENTS[i : i + size])
    text, stop_reason, usage, ttft = stream.close()
    assert (text, stop_reason, ttft is not None) == ("Olumlu, çok güzel.", "end_turn", True)
    assert token_counts(usage) == (25, 6)


def test_an_error_event_mid_stream_is_an_error_not_an_answer() -> None:
    cut = EVENTS.split(b"event: content_block_stop")[0]
    stream = MessageStream("http://x/v1/messages", time.perf_counter(), _raise_for)
    with pytest.raises(errors.ServerError, match="mid-stream: overloaded_error: Overloaded") as err:
        stream.feed(cut + b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", '
                          b'"message": "Overloaded"}}\n\n')
    assert err.value.status == 529 and err.value.retryable


def test_a_stream_without_message_stop_is_incomplete() -> None:
    stream = MessageStream("http://x/v1/messages", time.perf_counter(), _raise_for)
    stream.feed(EVENTS.split(b"event: message_delta")[0])
    with pytest.raises(errors.ServerError, match="ended before message_stop"):
        stream.close()


# -- prices and usage (pure) -----------------------------------------------------------------------------------


def test_a_snapshot_is_priced_as_its_alias_and_an_unlisted_model_is_unknown() -> None:
    assert anthropic_price(SNAPSHOT) == anthropic_price(ALIAS) == (1.0, 5.0)
    assert anthropic_price("claude-opus-4-20250514") == anthropic_price("claude-opus-4-0") == (15.0, 75.0)
    assert anthropic_price("claude-3-7-sonnet-latest") == (3.0, 15.0)
    assert anthropic_price("claude-opus-4-5") is None and anthropic_price("claude-unreleased-9") is None


def test_cached_input_tokens_are_counted_and_priced_by_the_pricing_page_multipliers() -> None:
    usage = {"input_tokens": 100, "output_tokens": 10, "cache_read_input_tokens": 1000,
             "cache_creation_input_tokens": 400,
             "cache_creation": {"ephemeral_5m_input_tokens": 400, "ephemeral_1h_input_tokens": 0}}
    assert token_counts(usage) == (1500, 10)
    assert cost(usage, (3.0, 15.0)) == pytest.approx((100 * 3 + 100 * 3 + 500 * 3 + 10 * 15) / 1e6)
    assert cost({**usage, "cache_creation": None}, (3.0, 15.0)) is None  # a write of unknown TTL: unknown
    assert cost({"input_tokens": 1, "output_tokens": 1}, None) is None


# -- the provider against the scripted server ------------------------------------------------------------------


@pytest.mark.parametrize("stream", [True, False])
def test_an_answer_with_its_usage_cost_and_the_headers_sent(stream: bool) -> None:
    with server(answers=["Olumlu, çok güzel."]) as srv:
        r = generate(srv, Request(messages=({"role": "system", "content": SYSTEM},
                                            {"role": "user", "content": "Harika bir gün!"})), stream=stream)
        sent = srv.messages_requests
    assert r.text == "Olumlu, çok güzel." and r.finish_reason == "stop"
    assert (r.ttft_s is not None) == stream
    assert r.prompt_tokens == fake_lm.count_tokens(SYSTEM) + fake_lm.count_tokens("Harika bir gün!")
    assert r.completion_tokens == fake_lm.count_tokens("Olumlu, çok güzel.")
    assert r.cost_usd == pytest.approx((r.prompt_tokens * 1.0 + r.completion_tokens * 5.0) / 1e6)
    assert r.cost_source == f"table {ANTHROPIC_PRICES_AS_OF}"
    (req,) = sent
    assert req.key_ok and req.headers["anthropic-version"] == "2023-06-01"
    assert req.headers["content-type"].startswith("application/json") and "authorization" not in req.headers
    assert req.body["system"] == SYSTEM and all(m["role"] != "system" for m in req.body["messages"])
    assert req.body.get("stream", False) is stream


@pytest.mark.parametrize("stream", [True, False])
def test_stop_reasons_map_to_our_finish_reasons(stream: bool) -> None:
    with server(answers=["Birinci. ### İkinci kısım burada."]) as srv:
        stopped = generate(srv, Request(prompt="x", params=Params(stop=("###",))), stream=stream)
        long = generate(srv, Request(prompt="x", params=Params(max_tokens=2)), stream=stream)
        local = generate(srv, Request(prompt="x", params=Params(stop=(" ",))), stream=stream)
    assert (stopped.text, stopped.finish_reason) == ("Birinci. ", "stop")
    assert (long.text, long.finish_reason) == ("Birinci.", "length")
    assert (local.text, local.finish_reason) == ("Birinci.", "stop")


def test_an_alias_is_sent_as_the_snapshot_anthropic_resolves_it_to() -> None:
    with server() as srv:
        r = generate(srv, Request(prompt="x"), model=ALIAS)
        sent = srv.messages_requests
    assert r.model == SNAPSHOT and sent[0].body["model"] == SNAPSHOT and r.cost_usd is not None


def test_a_retired_model_fails_before_any_request_with_the_closest_names_from_every_page() -> None:
    models = [AnthropicModel(f"claude-x-{i}") for i in range(5)] + [AnthropicModel("claude-3-5-haiku-20241022")]
    with AnthropicServer(models, api_key=KEY, page_size=2) as srv:
        with pytest.raises(errors.ModelNotFoundError, match="closest served: claude-3-5-haiku-20241022"):
            generate(srv, Request(prompt="x"), model="claude-3-haiku-20240307")
        seen = srv.requests
    assert not any(r.path == "/v1/messages" for r in seen)
    assert [r.query.get("after_id") for r in seen if r.path == "/v1/models"] == [None, "claude-x-1", "claude-x-3"]


def test_a_model_listed_with_other_case_is_sent_as_listed_and_its_context_known() -> None:
    async def go(srv: AnthropicServer) -> Any:
        p = AnthropicProvider(srv.base_url + "/v1", KEY)  # a base URL given with /v1 is taken as meant
        try:
            return await p.prepare("Claude-Sonnet-4-5-20250929")
        finally:
            await p.aclose()

    with server() as srv:
        prepared = run_sync(go(srv))
    assert prepared.served_id == "claude-sonnet-4-5-20250929" and prepared.context_length == 200000
    assert prepared.capabilities.context_check and prepared.capabilities.label_methods == ()


def test_a_model_check_that_keeps_failing_is_said_once_and_the_answers_still_come() -> None:
    async def go(srv: AnthropicServer) -> Any:
        p = AnthropicProvider(srv.base_url, KEY)
        try:
            prepared = await p.prepare(SNAPSHOT)
            return prepared, await p.generate(prepared.served_id, Request(prompt="x"))
        finally:
            await p.aclose()

    with server(models_overloaded=3) as srv:
        prepared, r = run_sync(go(srv))
        gets = [x.outcome for x in srv.requests if x.method == "GET"]
    assert gets == ["529", "529", "529"] and r.text in ("Pozitif", "Negatif")
    (note,) = prepared.notes
    assert "overloaded_error" in note and "served-model check and the context check are off" in note


@pytest.mark.parametrize("outcome, exc, retryable", [
    ("429", errors.RateLimitError, True),
    ("529", errors.ServerError, True),
    ("500", errors.ServerError, True),
    ("401", errors.AuthenticationError, False),
    ("stream_error", errors.ServerError, True),
    ("stream_cut", errors.ServerError, True),
])
def test_errors_are_typed_for_the_retry_policy(outcome: str, exc: type[Exception], retryable: bool) -> None:
    with server(retry_after="7") as srv:
        srv.script(outcome)
        with pytest.raises(exc) as err:
            generate(srv, Request(prompt="x"))
    assert err.value.retryable is retryable  # type: ignore[attr-defined]
    if outcome == "429":
        assert err.value.retry_after == 7.0  # type: ignore[attr-defined]
    if outcome == "401":
        assert "ANTHROPIC_API_KEY" in str(err.value) and KEY not in str(err.value)


def test_a_request_the_api_refuses_is_a_bad_request_naming_the_field() -> None:
    with server() as srv, pytest.raises(errors.BadRequestError, match="temperature") as err:
        generate(srv, Request(prompt="x", params=Params(temperature=1.5)))
    assert err.value.code == "invalid_request_error" and not err.value.retryable


# -- end to end through the command line -----------------------------------------------------------------------

SUITE = """name: claude
tasks:
  - id: duygu
    type: classify
    mode: {mode}
    labels: {{Pozitif: [Olumlu], Negatif: [Olumsuz]}}
    system: "{system}"
    template: "Mesaj: {{text}}"
    params: {{stop: ["###"]}}
    cases:
      - {{id: a, text: "Harika bir gün, çok sevdim!", label: Pozitif}}
      - {{id: b, text: "Berbat ve sıkıcı bir film.", label: Negatif}}
"""


def suite(tmp_path: Path, mode: str = "generate") -> Path:
    path = tmp_path / f"claude-{mode}.yaml"
    path.write_text(SUITE.format(mode=mode, system=SYSTEM), encoding="utf-8")
    return path


def exported(db: Path, srv: AnthropicServer) -> list[dict[str, Any]]:
    res = run_cli("export", "latest", "--db", str(db), "--format", "jsonl", env=env(srv))
    assert res.returncode == 0, res.stderr
    return [json.loads(line) for line in res.stdout.splitlines() if line.strip()]


def answer(body: dict[str, Any]) -> str:
    text = fake_lm.content_text(body["messages"][-1]["content"])
    return ("Pozitif" if "Harika" in text else "Negatif") + " ### gerekçe"


@pytest.mark.parametrize("stream", [True, False])
def test_a_suite_runs_end_to_end_with_usage_cost_and_no_key_anywhere(tmp_path: Path, stream: bool) -> None:
    db = tmp_path / "a.db"
    with server(answer=answer) as srv:
        res = run_cli("run", str(suite(tmp_path)), "-m", f"anthropic:{ALIAS}", "--db", str(db), "--no-progress",
                      *(() if stream else ("--no-stream",)), env=env(srv))
        rows = exported(db, srv)
        sent = srv.messages_requests
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    assert {r["case"]: r["answer"] for r in rows} == {"a": "Pozitif ", "b": "Negatif "}
    for r in rows:
        assert r["status"] == "ok" and r["model"] == f"anthropic:{ALIAS}" and r["finish_reason"] == "stop"
        assert r["prompt_tokens"] and r["completion_tokens"] and (r["ttft_s"] is not None) == stream
        assert r["cost_usd"] == pytest.approx((r["prompt_tokens"] * 1.0 + r["completion_tokens"] * 5.0) / 1e6)
        assert r["cost_source"] == f"table {ANTHROPIC_PRICES_AS_OF}"
    assert len(sent) == 2
    for req in sent:
        assert req.key_ok and req.headers["anthropic-version"] == "2023-06-01" and "x-api-key" in req.headers
        assert req.body["system"] == SYSTEM and [m["role"] for m in req.body["messages"]] == ["user"]
        assert req.body["model"] == SNAPSHOT and req.body["stop_sequences"] == ["###"]
        assert req.body["max_tokens"] >= 1 and req.body.get("stream", False) is stream
    assert KEY not in res.stdout + res.stderr and KEY.encode() not in db.read_bytes()
    assert all(KEY not in (p.read_bytes().decode("latin-1")) for p in tmp_path.glob("a.db*"))


def test_429_with_retry_after_and_529_are_retried_to_an_answer(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with server(answer=answer, retry_after="1") as srv:
        srv.script("429", "ok", "529")
        res = run_cli("run", str(suite(tmp_path)), "-m", f"anthropic:{SNAPSHOT}", "--db", str(db), "--no-progress",
                      "--concurrency", "1", "--retry-base", "0.01", env=env(srv))
        rows = exported(db, srv)
        sent = srv.messages_requests
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    assert [r.outcome for r in sent] == ["429", "ok", "529", "ok"]
    assert sent[1].time - sent[0].time >= 1.0  # the server's retry-after, not the 0.01 s backoff
    assert all(r["status"] == "ok" and r["attempts"] == 2 for r in rows)


def test_an_error_event_mid_stream_fails_the_answer_instead_of_storing_part_of_it(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    with server(answer=lambda body: "Pozitif olumlu bir mesaj bu") as srv:
        srv.script("stream_error")
        res = run_cli("run", str(suite(tmp_path)), "-m", f"anthropic:{SNAPSHOT}", "--db", str(db), "--no-progress",
                      "--concurrency", "1", "--retries", "0", env=env(srv))
        rows = {r["case"]: r for r in exported(db, srv)}
    assert res.returncode == 1 and "1 failed (ServerError: 1)" in res.stdout, res.stdout[-2000:] + res.stderr
    assert rows["a"]["status"] == "failed" and not rows["a"]["answer"]
    assert "529 mid-stream: overloaded_error" in rows["a"]["error"]
    assert rows["b"]["status"] == "ok" and rows["b"]["answer"] == "Pozitif olumlu bir mesaj bu"


def test_a_wrong_key_fails_in_one_line_naming_the_variable_as_other_auth_failures_do(tmp_path: Path) -> None:
    from tests.support.scripted_server import ScriptedServer

    with server() as srv:
        res = run_cli("run", str(suite(tmp_path)), "-m", f"anthropic:{SNAPSHOT}", "--db", str(tmp_path / "k.db"),
                      "--no-progress", env=env(srv, key="sk-ant-wrong-key-000000"))
        sent = srv.messages_requests
    with ScriptedServer(["m"], api_key="right-key-123") as other:
        openai = run_cli("run", str(suite(tmp_path)), "-m", "openai:m", "--base-url", other.base_url, "--db",
                         str(tmp_path / "o.db"), "--no-progress", env={"OPENAI_API_KEY": "wrong-key-456"})
    assert res.returncode == openai.returncode != 0, res.stderr + openai.stderr
    assert res.stderr.count("\n") == 1 and "ANTHROPIC_API_KEY" in res.stderr and "Traceback" not in res.stderr
    assert "sk-ant-wrong-key-000000" not in res.stderr + res.stdout
    assert sent == []  # the model check (GET /v1/models/...) failed first


def test_mode_logprob_fails_before_any_request_in_one_line(tmp_path: Path) -> None:
    with server() as srv:
        res = run_cli("run", str(suite(tmp_path, "logprob")), "-m", f"anthropic:{SNAPSHOT}", "--db",
                      str(tmp_path / "l.db"), "--no-progress", env=env(srv))
        sent = srv.messages_requests
    assert res.returncode == 2, res.stdout[-2000:] + res.stderr
    assert res.stderr.count("\n") == 1 and "no label scores" in res.stderr and "log-probabilities" in res.stderr
    assert sent == []


def test_models_lists_the_plugin_with_its_dated_prices() -> None:
    res = run_cli("models")
    assert res.returncode == 0, res.stderr
    assert f"anthropic:{ALIAS}  $1.00/$5.00 per M tokens ({ANTHROPIC_PRICES_AS_OF})" in res.stdout
    assert "anthropic:NAME  any model Anthropic serves" in res.stdout and "ANTHROPIC_API_KEY" in res.stdout
