"""The OpenAI-compatible client against our scripted server: answers, measurements, typed errors, retries."""

from __future__ import annotations

import json
import time

import pytest
from tests.support.scripted_server import FaultPlan, ModelSpec, PromptRule, ScriptedServer

from llamacompare import errors
from llamacompare.helpers import agenerate, llama, llama_chat
from llamacompare.models.base import Request
from llamacompare.prompts.chat_templates import build_messages
from llamacompare.sync import run_sync


def ask(srv: ScriptedServer, prompt: str = "Merhaba", *, model: str = "test-model", **kw):  # type: ignore[no-untyped-def]
    return run_sync(agenerate(build_messages([prompt]), f"openai:{model}", base_url=srv.base_url, **kw))


def test_answer_with_measurements_and_provider_prices() -> None:
    models = [ModelSpec("test-model", input_price=0.2, output_price=0.6)]
    with ScriptedServer(models, answers=["Pozitif"], models_format="together") as srv:
        r = ask(srv, "Bu akşam pizza!")
    assert r.text == "Pozitif"
    assert r.model == "openai:test-model"
    assert r.prompt_tokens and r.completion_tokens
    assert r.latency_s > 0 and r.ttft_s is not None and r.ttft_s <= r.latency_s
    expected = (r.prompt_tokens * 0.2 + r.completion_tokens * 0.6) / 1e6
    assert r.cost_usd == pytest.approx(expected) and r.cost_source == "provider"
    assert r.request["messages"] == [{"role": "user", "content": "Bu akşam pizza!"}]


def test_cost_is_unknown_not_zero_without_prices() -> None:
    with ScriptedServer(["test-model"]) as srv:
        r = ask(srv)
    assert r.cost_usd is None and r.cost_source == "unknown"


def test_non_streaming_path_too() -> None:
    with ScriptedServer(["test-model"], answers=["Negatif"]) as srv:
        r = run_sync(agenerate(build_messages(["x"]), "openai:test-model", base_url=srv.base_url, max_tries=0))
        assert r.text == "Negatif"


def test_model_not_served_fails_before_any_generation_request() -> None:
    with ScriptedServer(["other-model", "test-modle"]) as srv:
        with pytest.raises(errors.ModelNotFoundError, match="test-modle"):
            ask(srv, model="test-model")
        assert all(rec.path.endswith("/models") for rec in srv.requests)


@pytest.mark.parametrize(
    "kind, exc",
    [
        ("401", errors.AuthenticationError),
        ("404", errors.ModelNotFoundError),
        ("400", errors.BadRequestError),
    ],
)
def test_client_errors_are_typed_and_not_retried(kind: str, exc: type[Exception]) -> None:
    with ScriptedServer(["test-model"], faults=FaultPlan(rules=(PromptRule(kind, times=10),))) as srv:
        with pytest.raises(exc):
            ask(srv, base=0.01)
        gens = [r for r in srv.requests if not r.path.endswith("/models")]
        assert len(gens) == 1


@pytest.mark.parametrize(
    "kind, exc",
    [
        ("500", errors.ServerError),
        ("502", errors.ServerError),
        ("503", errors.ServerError),
        ("malformed_json", errors.ServerError),
        ("empty_choices", errors.ServerError),
        ("stream_cut", errors.ServerError),
        ("reset", errors.ServerError),
        ("429_no_retry_after", errors.RateLimitError),
    ],
)
def test_server_faults_retry_then_raise_typed(kind: str, exc: type[Exception]) -> None:
    with ScriptedServer(["test-model"], faults=FaultPlan(rules=(PromptRule(kind, times=100),))) as srv:
        with pytest.raises(exc):
            ask(srv, max_tries=2, base=0.02)
        gens = [r for r in srv.requests if not r.path.endswith("/models")]
        assert len(gens) == 3  # the first try and two retries, never more


def test_transient_faults_are_retried_to_an_answer() -> None:
    plan = FaultPlan(rules=(PromptRule("503", times=1), PromptRule("reset", times=2)))
    with ScriptedServer(["test-model"], answers=["Pozitif"], faults=plan) as srv:
        r = ask(srv, max_tries=3, base=0.02)
        assert r.text == "Pozitif"


def test_retry_after_is_honoured() -> None:
    plan = FaultPlan(rules=(PromptRule("429", times=1),), retry_after=0.6)
    with ScriptedServer(["test-model"], faults=plan) as srv:
        t0 = time.perf_counter()
        ask(srv, max_tries=2, base=0.01)
        assert time.perf_counter() - t0 >= 0.55


def test_hang_becomes_a_timeout() -> None:
    plan = FaultPlan(rules=(PromptRule("hang", times=5),), hang_s=30)
    with ScriptedServer(["test-model"], faults=plan) as srv, \
            pytest.raises(errors.RequestTimeoutError, match="within 0.5 s"):
        ask(srv, timeout_s=0.5, max_tries=0)


def test_a_stream_that_trickles_past_the_timeout_becomes_a_timeout() -> None:
    """The timeout covers the whole answer, not only until the first byte: a server that starts streaming and
    then slows to a crawl must not hold a worker forever."""
    with ScriptedServer(["test-model"], answers=["bir iki üç dört beş altı yedi"], token_delay=0.3) as srv:
        t0 = time.perf_counter()
        with pytest.raises(errors.RequestTimeoutError, match="within 0.5 s"):
            ask(srv, timeout_s=0.5, max_tries=0)
        assert time.perf_counter() - t0 < 3.0



def test_the_time_limit_is_per_request_and_stopping_a_run_is_not_a_timeout() -> None:
    """Answers that each take well under the limit never time out however long the session lasts; cancelling a
    request that waits on a hung server is a cancellation, not a RequestTimeoutError."""
    import asyncio

    from llamacompare.models.openai_compat import OpenAICompatProvider

    plan = FaultPlan(rules=(PromptRule("hang", times=5, contains="asılı"),), hang_s=30)
    with ScriptedServer(["test-model"], faults=plan, latency=0.05) as srv:

        async def scenario() -> tuple[int, type[BaseException]]:
            provider = OpenAICompatProvider(srv.base_url, timeout_s=0.3, stream=False)
            try:
                request = Request(messages=({"role": "user", "content": "merhaba"},))
                answers = 0
                for _ in range(10):  # 0.5 s in all, 0.05 s each
                    answers += bool((await provider.generate("test-model", request)).text)
                hung = asyncio.ensure_future(
                    provider.generate("test-model", Request(messages=({"role": "user", "content": "asılı"},)))
                )
                await asyncio.sleep(0.1)
                hung.cancel()
                try:
                    await hung
                except BaseException as exc:  # noqa: BLE001 - the kind is what is asserted
                    return answers, type(exc)
                return answers, type(None)
            finally:
                await provider.aclose()

        answers, kind = run_sync(scenario())
    assert answers == 10
    assert kind is asyncio.CancelledError

def test_unreachable_server_names_the_url() -> None:
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(errors.ConnectionFailedError, match=url.replace(".", r"\.")):
        run_sync(agenerate(build_messages(["x"]), "openai:m", base_url=url, max_tries=0))


def test_missing_together_key_names_the_variable() -> None:
    with pytest.raises(errors.MissingKeyError, match="TOGETHER_API_KEY"):
        llama("x", model="META-LLAMA/Llama-2-7B-CHAT-HF")


def test_key_is_sent_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-SECRET-1234567890"
    with ScriptedServer(["test-model"], api_key=secret) as srv:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key-000000000")
        with pytest.raises(errors.AuthenticationError) as err:
            ask(srv)
        assert "sk-wrong" not in str(err.value)
        monkeypatch.setenv("OPENAI_API_KEY", secret)
        assert ask(srv).text


def test_llama_and_llama_chat_helpers_over_http() -> None:
    with ScriptedServer(["test-model"], answer=lambda body: str(len(body.get("messages", [])))) as srv:
        assert llama("tek", model="openai:test-model", base_url=srv.base_url) == "1"
        assert llama_chat(["a", "b"], ["x"], model="openai:test-model", base_url=srv.base_url) == "3"
        with pytest.raises(ValueError, match="one more prompt"):
            llama_chat(["a"], ["x"], model="openai:test-model", base_url=srv.base_url)


def test_verbose_prints_exactly_what_was_sent(capsys: pytest.CaptureFixture[str]) -> None:
    with ScriptedServer(["test-model"]) as srv:
        llama("Merhaba dünya", model="openai:test-model", base_url=srv.base_url, verbose=True)
    out = capsys.readouterr().out
    assert "model: openai:test-model" in out and "[user]\nMerhaba dünya" in out


def test_a_run_against_an_unreachable_server_fails_fast_and_writes_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import time as _time

    from tests.conftest import free_port, run_cli

    url = f"http://127.0.0.1:{free_port()}/v1"
    t0 = _time.monotonic()
    res = run_cli("run", "seed", "-m", "openai:x", "--base-url", url, "--db", str(tmp_path / "u.db"))
    assert res.returncode == 1 and url in res.stderr and "Traceback" not in res.stderr
    assert _time.monotonic() - t0 < 30
    import sqlite3

    with sqlite3.connect(tmp_path / "u.db") as c:
        assert c.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0


@pytest.mark.parametrize("cut", [1, 2, 3, 5, 7, 11, 10_000])
def test_a_stream_split_anywhere_gives_the_same_answer(cut: int) -> None:
    """Network blocks end anywhere: in the middle of `data:`, of a payload, of a UTF-8 character, between CR
    and LF; comments and other fields are ignored; the last line may lack its line end."""
    from llamacompare.models.streaming import StreamedAnswer

    def event(**chunk: object) -> bytes:
        return b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\r\n\r\n"

    stream = (
        event(choices=[{"delta": {"role": "assistant", "content": ""}}])
        + b": keep-alive comment\n\n"
        + event(choices=[{"delta": {"content": "Olumlu, "}}])
        + b"event: x\r"
        + event(choices=[{"delta": {"content": "çok güzel"}, "finish_reason": "stop"}])
        + event(choices=[], usage={"prompt_tokens": 5, "completion_tokens": 3})
        + b"data: [DONE]"
    )
    answer = StreamedAnswer("http://x/v1/chat/completions", chat=True, started=time.perf_counter())
    for i in range(0, len(stream), cut):
        answer.feed(stream[i : i + cut])
    text, finish, usage, ttft = answer.close()
    assert (text, finish, usage) == ("Olumlu, çok güzel", "stop", {"prompt_tokens": 5, "completion_tokens": 3})
    assert ttft is not None and ttft >= 0


def test_a_stream_that_stops_before_its_end_is_an_error() -> None:
    from llamacompare.models.streaming import StreamedAnswer

    answer = StreamedAnswer("http://x/v1/completions", chat=False, started=time.perf_counter())
    answer.feed(b'data: {"choices": [{"text": "Pozi"}]}\n\ndata: {"choices": [{"te')
    with pytest.raises(errors.ServerError, match="ended before the answer was complete"):
        answer.close()
