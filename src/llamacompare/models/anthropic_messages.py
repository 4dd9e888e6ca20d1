"""Anthropic's Messages API (`anthropic:MODEL`), built from Anthropic's own SDK types and API docs.

What each part follows (anthropics/anthropic-sdk-python at 009b035, 2026-08-07; https://docs.claude.com/en/api/errors):

- Request, `POST /v1/messages`: `types/message_create_params.py`: `model`, `max_tokens` (required), `messages` (user
  and assistant turns; "there is no "system" role for input messages": the system prompt is the top-level
  `system`), `temperature`, `top_p`, `stop_sequences`, `stream`. Headers (`_client.py`): `X-Api-Key`,
  `anthropic-version: 2023-06-01`, and a JSON `content-type`. The API refuses a stop sequence of whitespace alone
  ("stop_sequences: each stop sequence must contain non-whitespace", BerriAI/litellm#3286) and a last assistant
  turn that ends in whitespace ("messages: final assistant content cannot end with trailing whitespace").
  Structured output: `output_config` (`types/output_config_param.py`) whose `format` is a JSON schema
  (`types/json_output_format_param.py`: `{"type": "json_schema", "schema"}`, both required); there is no JSON mode
  without a schema, so `response_format: json_object` is refused before sending, with the fix.
- Answer: `types/message.py`: `content` blocks (text ones are `{"type": "text", "text"}`), `stop_reason`
  (`types/stop_reason.py`: end_turn, max_tokens, stop_sequence, tool_use, pause_turn, refusal,
  model_context_window_exceeded), `usage` (`types/usage.py`: `input_tokens`, `output_tokens`,
  `cache_creation_input_tokens`, `cache_read_input_tokens`, `cache_creation` by TTL; "Total input tokens in a
  request is the summation of `input_tokens`, `cache_creation_input_tokens`, and `cache_read_input_tokens`").
- Stream: `types/raw_message_stream_event.py`: `message_start` (the message, usage so far), `content_block_start`,
  `content_block_delta` (`text_delta`), `content_block_stop`, `message_delta` (`stop_reason`, cumulative
  `usage.output_tokens`: `types/message_delta_usage.py`), `message_stop`; `_streaming.py` skips `ping` and raises
  on an `error` event, whose data is an error body: a failure after the 200, never an answer.
- Errors: `types/shared/error_response.py` `{"type": "error", "error": {"type", "message"}, "request_id"}`, the
  types in `error_type.py`; status to class in `_client.py` `_make_status_error` (400, 401, 403, 404, 413, 429,
  529 overloaded, 5xx). `_base_client.py` retries 408, 409, 429 and 5xx unless `x-should-retry` says otherwise,
  waiting `retry-after-ms`, else `retry-after` (seconds or an HTTP date).
- Models: `GET /v1/models/{model_id}` (`resources/models.py`: "resolve a model alias to a model ID"), `GET
  /v1/models` (`types/model_info.py`: `id`, `display_name`, `created_at`, `max_input_tokens`), paged by
  `after_id` (`pagination.py`: `data`, `has_more`, `last_id`; `model_list_params.py`: `limit` up to 1000).

- Tools (https://docs.claude.com/en/docs/agents-and-tools/tool-use/implement-tool-use; `types/tool_param.py`: `name`,
  `description`, `input_schema`): the tools go in `tools`; a call comes back as a `tool_use` content block
  (`types/tool_use_block.py`: `id`, `name`, `input` object) with stop_reason `tool_use`, streamed as a
  `content_block_start` of that block (its `input` empty) and `content_block_delta`s of `input_json_delta`
  (`partial_json`, `types/input_json_delta.py`), the pieces of the input's JSON text.

No log-probabilities anywhere in the API: label scores are not offered (`mode: logprob` stops before sending).
"""

from __future__ import annotations

import asyncio
import difflib
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from llamacompare import jsonfast
from llamacompare.errors import (
    AuthenticationError,
    BadRequestError,
    ConnectionFailedError,
    ModelNotFoundError,
    ProviderError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    UsageError,
)
from llamacompare.models.base import BatchAPI, LabelScores, ModelInfo, Prepared, Provider, Request, Response
from llamacompare.models.capabilities import Capabilities, match_served
from llamacompare.models.catalog import ANTHROPIC_PRICES_AS_OF, anthropic_price
from llamacompare.models.deadlines import Deadlines
from llamacompare.models.openai_compat import ModelListFailed, _error_body, _retry_after, _transport_errors
from llamacompare.models.response_format import ResponseFormat
from llamacompare.settings import redact
from llamacompare.toolcall import ToolCall

DEFAULT_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
KEY_ENV = "ANTHROPIC_API_KEY"

NO_LOGPROBS = "Anthropic's Messages API gives no log-probabilities"

CAPABILITIES = Capabilities(
    chat=True, completions=False, label_methods=(), no_label_reason=NO_LOGPROBS, token_limit_param="max_tokens",
    sampling_params=frozenset({"temperature", "top_p", "stop"}),  # no seed in the Messages API
)

#: stop_reason -> our finish_reason; the others (tool_use, pause_turn, refusal) are kept as Anthropic names them
FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
          "model_context_window_exceeded": "length"}

#: an error event's `error.type` -> the HTTP status the same error has as an answer (docs: "HTTP errors")
ERROR_STATUS = {
    "invalid_request_error": 400, "authentication_error": 401, "billing_error": 402, "permission_error": 403,
    "not_found_error": 404, "request_too_large": 413, "rate_limit_error": 429, "api_error": 500,
    "timeout_error": 504, "overloaded_error": 529,
}


# -- the request: pure, so that a Message Batches line (`{"custom_id", "params"}`) can reuse it -----------------


def messages_request(model: str, request: Request, *, stream: bool = False) -> dict[str, Any]:
    """The `POST /v1/messages` body for one Request. A raw `prompt` is one user turn."""
    p = request.params
    system, turns = conversation(request)
    body: dict[str, Any] = {"model": model, "max_tokens": max(1, p.max_tokens), "messages": turns}
    if system is not None:
        body["system"] = system
    body["temperature"] = p.temperature
    if p.top_p is not None:
        body["top_p"] = p.top_p
    sent = [s for s in p.stop if s.strip()]  # whitespace-only ones are refused: applied here (`cut_at_stops`)
    if sent:
        body["stop_sequences"] = sent
    if p.response_format is not None:
        body["output_config"] = {"format": output_format(p.response_format)}
    if request.tools:
        body["tools"] = [{"name": t.name, **({"description": t.description} if t.description else {}),
                          "input_schema": dict(t.parameters)} for t in request.tools]
    if stream:
        body["stream"] = True
    return body


def output_format(fmt: ResponseFormat) -> dict[str, Any]:
    """`output_config.format` for a response format: its JSON schema (Anthropic takes no other kind)."""
    if fmt.schema is None:
        raise UsageError("response_format json_object: Anthropic's Messages API takes a JSON schema "
                         "(output_config.format), not JSON without one; use type: json_schema with a schema")
    return {"type": "json_schema", "schema": fmt.schema}


def conversation(request: Request) -> tuple[str | None, list[dict[str, str]]]:
    """(system, turns): system messages before the first turn become the top-level system prompt; consecutive turns
    of one role are merged (the API would combine them too), so turns alternate as the API documents."""
    if request.messages is None:
        return None, [{"role": "user", "content": request.prompt or ""}]
    system: list[str] = []
    turns: list[dict[str, str]] = []
    for m in request.messages:
        role, content = m.get("role"), m.get("content") or ""
        if role == "system":
            if turns:
                raise UsageError("a system message after the conversation has started: Anthropic's Messages API "
                                 "takes one system prompt, before the turns (put it first)")
            system.append(content)
        elif role in ("user", "assistant"):
            if turns and turns[-1]["role"] == role:
                turns[-1] = {"role": role, "content": turns[-1]["content"] + "\n\n" + content}
            else:
                turns.append({"role": role, "content": content})
        else:
            raise UsageError(f"message role {role!r}: Anthropic's Messages API takes user and assistant turns "
                             "and a system prompt")
    if not turns:
        raise UsageError("a conversation with no user turn: Anthropic's Messages API needs at least one")
    if turns[-1]["role"] == "assistant":  # a prefilled answer may not end in whitespace
        turns[-1] = {"role": "assistant", "content": turns[-1]["content"].rstrip()}
    return ("\n\n".join(system) if system else None), turns


def cut_at_stops(text: str, stops: tuple[str, ...]) -> str | None:
    """The answer up to the first whitespace-only stop sequence (which the API does not take), or None if none
    occurs."""
    at = min((i for s in stops if s and not s.strip() and (i := text.find(s)) >= 0), default=-1)
    return text[:at] if at >= 0 else None


# -- the answer ------------------------------------------------------------------------------------------------


def token_counts(usage: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(prompt tokens, completion tokens): the prompt's are every input token, cached or not."""
    inp = usage.get("input_tokens")
    if not isinstance(inp, int):
        return None, _int(usage.get("output_tokens"))
    cached = (_int(usage.get("cache_creation_input_tokens")) or 0) + (_int(usage.get("cache_read_input_tokens")) or 0)
    return inp + cached, _int(usage.get("output_tokens"))


def cost(usage: Mapping[str, Any], price: tuple[float, float] | None) -> float | None:
    """USD from `usage` at `price` (input, output per million). Cache reads cost 0.1x the input price and writes
    1.25x (5 minutes) or 2x (1 hour), as the pricing page's multipliers say; a write without its TTL breakdown is
    unknown, so the whole cost is."""
    inp, out = _int(usage.get("input_tokens")), _int(usage.get("output_tokens"))
    if price is None or inp is None or out is None:
        return None
    p_in, p_out = price
    tokens_in = inp + 0.1 * (_int(usage.get("cache_read_input_tokens")) or 0)
    written = _int(usage.get("cache_creation_input_tokens")) or 0
    if written:
        ttl = usage.get("cache_creation")
        if not isinstance(ttl, dict):
            return None
        tokens_in += 1.25 * (_int(ttl.get("ephemeral_5m_input_tokens")) or 0)
        tokens_in += 2.0 * (_int(ttl.get("ephemeral_1h_input_tokens")) or 0)
    return (tokens_in * p_in + out * p_out) / 1e6


def parse_message(data: Any, url: str) -> tuple[str, str | None, dict[str, Any], tuple[ToolCall, ...]]:
    """A whole answer (`types/message.py`): (text of its text blocks, stop_reason, usage, its tool_use blocks as
    calls)."""
    if not isinstance(data, dict) or not isinstance(data.get("content"), list):
        raise ServerError(f"{url} answered without a message's content blocks", status=200)
    text = "".join(b["text"] for b in data["content"]
                   if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str))
    usage = data.get("usage")
    calls = tuple(ToolCall(str(b.get("name") or ""), jsonfast.dumps(b.get("input") or {}), b.get("id"))
                  for b in data["content"] if isinstance(b, dict) and b.get("type") == "tool_use")
    return text, data.get("stop_reason"), usage if isinstance(usage, dict) else {}, calls


def finished(text: str, stop_reason: str | None, stops: tuple[str, ...]) -> tuple[str, str | None]:
    """The answer and its finish reason as a live one reads: cut at a whitespace stop the API could not take."""
    finish = FINISH.get(stop_reason, stop_reason) if stop_reason is not None else None
    cut = cut_at_stops(text, stops)
    return (cut, "stop") if cut is not None else (text, finish)


def priced(model: str, usage: Mapping[str, Any]) -> tuple[int | None, int | None, float | None, str]:
    """(prompt tokens, completion tokens, live cost, where the price comes from)."""
    pt, ct = token_counts(usage)
    usd = cost(usage, anthropic_price(model))
    return pt, ct, usd, "unknown" if usd is None else f"table {ANTHROPIC_PRICES_AS_OF}"


class MessageStream:
    """A streamed answer put back together from its server-sent events, one network block at a time."""

    __slots__ = ("url", "started", "parts", "stop_reason", "usage", "ttft", "done", "_rest", "_event", "_data",
                 "raise_for", "_calls")

    def __init__(self, url: str, started: float, raise_for: Any) -> None:
        self.url = url
        self.started = started
        self.parts: list[str] = []
        self.stop_reason: str | None = None
        self.usage: dict[str, Any] = {}
        self.ttft: float | None = None
        self.done = False  # message_stop seen
        self.raise_for = raise_for  # (status, body, headers) -> raises the typed error
        self._rest = b""
        self._event = ""
        self._data: list[bytes] = []
        self._calls: dict[int, list[str]] = {}  # tool_use blocks by index: [id, name, input JSON so far]

    def feed(self, block: bytes) -> None:
        """Complete lines are read (LF, CRLF or CR), a partial last one waits; a blank line ends an event."""
        lines = (self._rest + block).splitlines(keepends=True)
        self._rest = lines.pop() if lines and not lines[-1].endswith((b"\n", b"\r")) else b""
        for raw in lines:
            line = raw.rstrip(b"\r\n")
            if not line:
                self._dispatch()
            elif line.startswith(b"event:"):
                self._event = line[6:].strip().decode("utf-8", "replace")
            elif line.startswith(b"data:"):
                self._data.append(line[5:].removeprefix(b" "))
            if self.done:
                return

    def close(self) -> tuple[str, str | None, dict[str, Any], float | None]:
        if not self.done:
            self._dispatch()  # a last event without its blank line
        if not self.done:
            raise ServerError(f"stream from {self.url} ended before message_stop: the answer is incomplete")
        return "".join(self.parts), self.stop_reason, self.usage, self.ttft

    def tool_calls(self) -> tuple[ToolCall, ...]:
        """The tool_use blocks streamed, in order; an input sent whole in the start block stands where no delta
        came."""
        return tuple(ToolCall(name, text or "{}", call_id or None) for _, (call_id, name, text)
                     in sorted(self._calls.items()))

    def _dispatch(self) -> None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return
        try:
            payload = jsonfast.loads(b"\n".join(data))
        except ValueError:
            raise ServerError(f"{self.url} sent a malformed stream event", status=200) from None
        if not isinstance(payload, dict):
            raise ServerError(f"{self.url} sent a stream event that is not an object", status=200)
        kind = payload.get("type") or event
        if kind == "content_block_delta":
            delta = payload.get("delta")
            if isinstance(delta, dict) and delta.get("type") == "text_delta" and delta.get("text"):
                self._append(delta["text"])
            elif isinstance(delta, dict) and delta.get("type") == "input_json_delta":
                call = self._calls.setdefault(_int(payload.get("index")) or 0, ["", "", ""])
                call[2] += str(delta.get("partial_json") or "")
        elif kind == "content_block_start":
            block = payload.get("content_block")
            if isinstance(block, dict) and block.get("type") == "text" and block.get("text"):
                self._append(block["text"])
            elif isinstance(block, dict) and block.get("type") == "tool_use":
                given = block.get("input")
                self._calls[_int(payload.get("index")) or 0] = [
                    str(block.get("id") or ""), str(block.get("name") or ""),
                    jsonfast.dumps(given) if given else ""]
                if self.ttft is None:
                    self.ttft = time.perf_counter() - self.started
        elif kind == "message_start":
            message = payload.get("message")
            usage = message.get("usage") if isinstance(message, dict) else None
            if isinstance(usage, dict):
                self.usage = dict(usage)
        elif kind == "message_delta":
            delta, usage = payload.get("delta"), payload.get("usage")
            if isinstance(delta, dict) and delta.get("stop_reason"):
                self.stop_reason = delta["stop_reason"]
            if isinstance(usage, dict):  # cumulative counts: the latest win
                self.usage.update({k: v for k, v in usage.items() if v is not None})
        elif kind == "message_stop":
            self.done = True
        elif kind == "error":
            err = payload.get("error")
            status = ERROR_STATUS.get(str(err.get("type")), 500) if isinstance(err, dict) else 500
            self.raise_for(status, payload, None, during="stream")
        # ping and event types added later carry no text

    def _append(self, piece: str) -> None:
        if self.ttft is None:
            self.ttft = time.perf_counter() - self.started
        self.parts.append(piece)


# -- the provider ----------------------------------------------------------------------------------------------


class AnthropicProvider(Provider):
    """One Anthropic endpoint, one connection pool. Create it inside the event loop that uses it."""

    name = "anthropic"
    capabilities = CAPABILITIES

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        api_key: str | None = None,
        *,
        key_env: str = KEY_ENV,
        timeout_s: float = 120.0,
        stream: bool = True,
        max_connections: int = 256,
        batch: Callable[[AnthropicProvider], BatchAPI] | None = None,
    ) -> None:
        self._batch_kind = batch  # the plugin's: Message Batches (models/anthropic_batch.py)
        self._batch: BatchAPI | None = None
        # the SDK's base URL has no /v1 (`_client.py`); one given with it is taken as meant
        self.base_url = base_url.rstrip("/").removesuffix("/v1")
        self._key = api_key
        self.key_env = key_env
        self.timeout_s = timeout_s
        self.stream = stream
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._headers = {"content-type": "application/json", "anthropic-version": API_VERSION}
        if api_key:
            self._headers["x-api-key"] = api_key
        self._deadlines = Deadlines(timeout_s)

    def __repr__(self) -> str:  # never show the key
        return f"AnthropicProvider(base_url={self.base_url!r})"

    def batch_api(self) -> BatchAPI | None:
        if self._batch is None and self._batch_kind is not None:
            self._batch = self._batch_kind(self)
        return self._batch

    def _sess(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=300)
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=min(self.timeout_s, 30.0))  # `Deadlines` ends it
            self._session = aiohttp.ClientSession(connector=connector, headers=self._headers, timeout=timeout)
        return self._session

    async def aclose(self) -> None:
        self._deadlines.close()
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    # -- models and prices -----------------------------------------------------------------------------------

    async def prepare(self, model: str) -> Prepared:
        """The model id to send (an alias resolved to its snapshot, so every answer of the run comes from the same
        one) and its context. A model Anthropic does not serve fails here, with the closest names it serves."""
        try:
            info = await self._retrieve(model)
        except ModelListFailed as exc:
            return Prepared(model, CAPABILITIES, notes=(str(exc),))
        notes: tuple[str, ...] = ()
        if info is None:  # not found under that name: the list says whether it is served under another spelling
            served = await self.list_models()
            if served is None:
                return Prepared(model, CAPABILITIES)  # this server does not list models: nothing to check
            ids = [m.id for m in served]
            found = match_served(model, ids, ("exact", "casefold"))
            if found is None:
                raise ModelNotFoundError(f"{model!r} is not served by {self.base_url} (retired or unknown)"
                                         f"{_closest(model, ids)}", status=404)
            info = next(m for m in served if m.id == found)
        if info.id != model:
            notes = (f"{model} is sent as {info.id}, the model Anthropic resolves it to",)
        caps = CAPABILITIES.with_(context_check=True) if info.context_length else CAPABILITIES
        return Prepared(info.id, caps, context_length=info.context_length, notes=notes)

    async def _retrieve(self, model: str) -> ModelInfo | None:
        """GET /v1/models/{model}: the model an id or alias names; None when not found. 429, 5xx and timeouts are
        retried twice, then ModelListFailed (the check is off, said once)."""
        status, body, headers = await self._retrying_get("/v1/models/" + quote(model, safe=""))
        if status == 404:
            return None
        self._raise_for(status, body, headers)
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            return None
        return _model_info(body)

    async def list_models(self) -> list[ModelInfo] | None:
        """Every model served (GET /v1/models, 1000 a page); None where the server does not list models."""
        out: list[ModelInfo] = []
        after: str | None = None
        for _ in range(100):  # a bound on a server that never says has_more: false
            path = "/v1/models?limit=1000" + (f"&after_id={quote(after, safe='')}" if after else "")
            status, body, headers = await self._retrying_get(path)
            if status in (401, 403):
                self._raise_for(status, body, headers)
            if status != 200 or not isinstance(body, dict) or not isinstance(body.get("data"), list):
                return None
            out += [_model_info(m) for m in body["data"] if isinstance(m, dict) and isinstance(m.get("id"), str)]
            after = body.get("last_id")
            if not body.get("has_more") or not isinstance(after, str):
                break
        return out

    async def _retrying_get(self, path: str) -> tuple[int, Any, Any]:
        failure: ProviderError | None = None
        for wait in (0.0, 0.5, 1.5):
            if wait:
                await asyncio.sleep(min(wait, failure.retry_after or wait) if failure else wait)
            try:
                status, body, headers = await self._request("GET", path, None)
                if status in (408, 409, 429) or status >= 500:
                    self._raise_for(status, body, headers)
                return status, body, headers
            except (ServerError, RequestTimeoutError, RateLimitError) as exc:
                if isinstance(exc, ConnectionFailedError):
                    raise  # nothing listens there: every request would fail, say so before sending any
                failure = exc
        raise ModelListFailed(f"{self.base_url}/v1/models failed ({type(failure).__name__}: {failure}): the "
                              "served-model check and the context check are off for this run")

    # -- generation ------------------------------------------------------------------------------------------

    async def generate(self, model: str, request: Request) -> Response:
        body = messages_request(model, request, stream=self.stream)
        started = time.perf_counter()
        if self.stream:
            text, stop_reason, usage, ttft, calls = await self._stream(body, started)
        else:
            status, data, headers = await self._request("POST", "/v1/messages", body)
            self._raise_for(status, data, headers)
            text, stop_reason, usage, calls = parse_message(data, self.base_url + "/v1/messages")
            ttft = None
        latency = time.perf_counter() - started
        text, finish = finished(text, stop_reason, request.params.stop)
        pt, ct, usd, source = priced(model, usage)
        return Response(model=model, text=text, finish_reason=finish, prompt_tokens=pt, completion_tokens=ct,
                        latency_s=latency, ttft_s=ttft, cost_usd=usd, cost_source=source,
                        request=request.to_dict(), tool_calls=calls)

    async def score_labels(self, model: str, request: Request, labels: list[str]) -> LabelScores:
        raise BadRequestError(f"{model} gives no label scores ({NO_LOGPROBS}); use mode: generate")

    # -- transport -------------------------------------------------------------------------------------------

    async def _request(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any, Any]:
        url = self.base_url + path
        data = jsonfast.dumps_bytes(body) if body is not None else None
        with _transport_errors(url, self.timeout_s, "no answer", "connection to"), self._deadlines.guard():
            async with self._sess().request(method, url, data=data) as resp:
                raw = await resp.read()
                status, headers = resp.status, resp.headers
        if status != 200:
            return status, _error_body(raw), headers
        try:
            return status, (jsonfast.loads(raw) if raw else None), headers
        except ValueError:
            raise ServerError(f"{url} returned malformed JSON ({len(raw)} bytes)", status=status) from None

    async def _stream(self, body: dict[str, Any], started: float
                      ) -> tuple[str, str | None, dict[str, Any], float | None, tuple[ToolCall, ...]]:
        url = self.base_url + "/v1/messages"
        with _transport_errors(url, self.timeout_s, "no complete answer", "stream from"), self._deadlines.guard():
            async with self._sess().post(url, data=jsonfast.dumps_bytes(body)) as resp:
                if resp.status != 200:
                    self._raise_for(resp.status, _error_body(await resp.read()), resp.headers)
                if not resp.headers.get("Content-Type", "").startswith("text/event-stream"):
                    text, stop_reason, usage, calls = parse_message(_loads(await resp.read(), url), url)
                    return text, stop_reason, usage, None, calls
                answer = MessageStream(url, started, self._raise_for)
                async for block in resp.content.iter_any():
                    answer.feed(block)
                    if answer.done:
                        break
        return (*answer.close(), answer.tool_calls())

    def _raise_for(self, status: int, data: Any, headers: Any, *, during: str = "") -> None:
        """An error answer (or a stream's error event) as the typed error the retry policy understands."""
        if status == 200:
            return
        err = data.get("error") if isinstance(data, dict) else None
        kind = err.get("type") if isinstance(err, dict) else None
        message = str(err.get("message") if isinstance(err, dict) else data)[:300]
        request_id = data.get("request_id") if isinstance(data, dict) else None
        text = redact(f"{kind}: {message}" if kind else message, (self._key,) if self._key else ())
        where = f"{self.base_url} said {status}{' mid-stream' if during else ''}: {text}"
        if request_id:
            where += f" (request_id {request_id})"
        wait = _retry_after(headers)
        should = headers.get("x-should-retry") if headers is not None else None
        if status in (401, 403):
            what = "is not valid" if status == 401 else "lacks access to this model or resource"
            raise AuthenticationError(f"{where}: the key in {self.key_env} {what}", status=status)
        if status == 404:
            raise ModelNotFoundError(where, status=status)
        if should == "false":
            raise ProviderError(where, status=status)  # the server says a retry would not help
        if status == 429:
            raise RateLimitError(where, status=status, retry_after=wait)
        if status in (408, 409) or status >= 500 or should == "true":
            raise ServerError(where, status=status, retry_after=wait)
        if status in (400, 413, 422):
            raise BadRequestError(where, status=status, code=kind)
        raise ProviderError(where, status=status)


def _loads(raw: bytes, url: str) -> Any:
    try:
        return jsonfast.loads(raw)
    except ValueError:
        raise ServerError(f"{url} returned malformed JSON", status=200) from None


def _model_info(item: dict[str, Any]) -> ModelInfo:
    context = item.get("max_input_tokens")
    return ModelInfo(item["id"], context_length=context if isinstance(context, int) and context > 0 else None,
                     owned_by="anthropic")


def _closest(model: str, ids: list[str]) -> str:

    lower = {m.lower(): m for m in ids}
    close = difflib.get_close_matches(model.lower(), list(lower), n=3, cutoff=0.5)
    return f"; closest served: {', '.join(lower[c] for c in close)}" if close else ""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
