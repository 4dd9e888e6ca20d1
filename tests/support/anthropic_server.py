"""A scripted Anthropic Messages API server for tests: predictable answers, scripted faults, what it was sent.

    with AnthropicServer(["claude-haiku-4-5-20251001"], api_key="sk-ant-test",
                         aliases={"claude-haiku-4-5": "claude-haiku-4-5-20251001"}) as srv:
        srv.base_url        # http://127.0.0.1:PORT (Anthropic's SDK adds /v1 itself)
        srv.script("429")   # the next POST /v1/messages is a 429 with retry-after; then answers again
        srv.requests        # what each request sent: path, body, which headers (never the key's value)

Every shape is Anthropic's, from anthropics/anthropic-sdk-python (at 009b035, 2026-08-07) and its API docs:

- POST /v1/messages: the body of `types/message_create_params.py` (`model`, `max_tokens` required, `messages` with
  roles user/assistant only, top-level `system`, `temperature` in [0, 1], `top_p`, `stop_sequences`, `stream`);
  headers `x-api-key` and `anthropic-version: 2023-06-01` (`_client.py`). Refused as the API refuses them: a
  "system" role, a whitespace-only stop sequence, a last assistant turn ending in whitespace.
- The answer: `types/message.py` (`id`, `type: "message"`, `role: "assistant"`, `content: [{"type": "text",
  "text"}]`, `model`, `stop_reason`, `stop_sequence`, `usage` as `types/usage.py`).
- The stream: `types/raw_message_stream_event.py`: `event: message_start` (the message with empty content,
  `stop_reason: null`), `content_block_start`, a `ping`, `content_block_delta` (`text_delta`) per token,
  `content_block_stop`, `message_delta` (`stop_reason`, `stop_sequence`, `usage.output_tokens`), `message_stop`.
- Errors: `types/shared/error_response.py` `{"type": "error", "error": {"type", "message"}, "request_id"}` with the
  statuses of https://docs.claude.com/en/api/errors (401 authentication_error, 404 not_found_error, 429
  rate_limit_error with `retry-after`, 500 api_error, 529 overloaded_error); mid-stream, an `event: error` after
  part of the answer (`_streaming.py`).
- GET /v1/models/{id} (resolves an alias, `resources/models.py`) and GET /v1/models paged by `limit`/`after_id`
  (`pagination.py`: `data`, `has_more`, `first_id`, `last_id`), items as `types/model_info.py`.
- Message Batches (`resources/messages/batches.py`, `types/messages/`): POST /v1/messages/batches with
  `batch_create_params.py`'s `{requests: [{custom_id, params}]}` (each custom_id unique, 1-64 of `[a-zA-Z0-9_-]`,
  each params a Messages body, refused as above) -> `message_batch.py` (`id`, `type: "message_batch"`,
  `processing_status` in_progress, then ended; `request_counts` of `message_batch_request_counts.py`, zero but
  `processing` until it ends; `created_at`, `expires_at` 24 hours later, `ended_at`, `results_url` once ended);
  GET /v1/messages/batches/{id}; GET its `results_url`: JSONL of `message_batch_individual_response.py`
  `{custom_id, result}`, `result` one of `message_batch_succeeded_result.py` `{type: "succeeded", message}`,
  `..._errored_result.py`, `..._canceled_result.py`, `..._expired_result.py` `{type: "expired"}`. The test sets how
  many polls find it in progress (`batch_polls`) and after how many answers it expires (`batch_expire_after`).

Tokens are `fake_lm`'s (words and punctuation), so usage is predictable: `fake_lm.count_tokens` of the system prompt
and the turns' texts in, of the answer out.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import fake_lm
from .threaded import ThreadedApp

API_VERSION = "2023-06-01"
FAULTS = ("429", "529", "500", "401", "stream_error", "stream_cut")


@dataclass(frozen=True, slots=True)
class AnthropicModel:
    """A served model, as GET /v1/models lists it."""

    id: str
    display_name: str = ""
    created_at: str = "2025-10-01T00:00:00Z"
    max_input_tokens: int | None = 200000


@dataclass(slots=True)
class Seen:
    """One request as the server saw it. `headers` holds header names (lower case) and the `anthropic-version`
    and `content-type` values; `key_ok` says whether `x-api-key` matched, the key itself is never kept."""

    time: float
    method: str
    path: str
    body: Any
    headers: dict[str, str]
    key_ok: bool
    outcome: str = "ok"
    query: dict[str, str] = field(default_factory=dict)


def error(status: int, kind: str, message: str, **headers: str) -> web.Response:
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011scripted"}
    return web.json_response(body, status=status, headers=headers or None, dumps=_dumps)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _invalid(body: Any) -> str | None:
    """The message of the 400 the Messages API gives this body, or None if it takes it."""
    if not isinstance(body, dict):
        return "body: must be a JSON object"
    if not isinstance(body.get("model"), str):
        return "model: Field required"
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        return "max_tokens: Field required"
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "messages: Field required"
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            role = m.get("role") if isinstance(m, dict) else None
            return (f'messages.{i}.role: Unexpected role "{role}". The Messages API accepts a top-level `system` '
                    "parameter, not \"system\" as an input message role.")
    if msgs[-1]["role"] == "assistant" and fake_lm.content_text(msgs[-1].get("content")) != \
            fake_lm.content_text(msgs[-1].get("content")).rstrip():
        return "messages: final assistant content cannot end with trailing whitespace"
    if "system" in body and not isinstance(body["system"], str | list):
        return "system: Input should be a valid string"
    temperature = body.get("temperature")
    if temperature is not None and not (isinstance(temperature, int | float) and 0 <= temperature <= 1):
        return "temperature: Input should be less than or equal to 1"
    stops = body.get("stop_sequences", [])
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        return "stop_sequences: Input should be a valid list"
    if any(not s.strip() for s in stops):
        return "stop_sequences: each stop sequence must contain non-whitespace"
    if "output_config" in body:  # types/output_config_param.py; its format: types/json_output_format_param.py
        fmt = body["output_config"].get("format") if isinstance(body["output_config"], dict) else None
        if fmt is not None and (not isinstance(fmt, dict) or fmt.get("type") != "json_schema"
                                or not isinstance(fmt.get("schema"), dict) or set(fmt) != {"type", "schema"}):
            return "output_config.format: Input should be {type: json_schema, schema: {...}}"
    for i, tool in enumerate(body.get("tools", [])):  # types/tool_param.py: name and input_schema are required
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            return f"tools.{i}.name: Field required"
        if not isinstance(tool.get("input_schema"), dict) or tool["input_schema"].get("type") != "object":
            return f"tools.{i}.input_schema: Field required"
    return None


#: an answer function's answer that starts with this is tool use: the rest is a JSON list of {"name", "input"}
TOOL_USE = "\x00tool_use:"


class AnthropicServer(ThreadedApp):
    """Served on 127.0.0.1 from a background thread with its own event loop; use as a context manager."""

    def __init__(
        self,
        models: Sequence[str | AnthropicModel] = ("claude-haiku-4-5-20251001",),
        *,
        answers: Sequence[str] = ("Pozitif", "Negatif"),
        answer: Callable[[dict[str, Any]], str] | None = None,
        api_key: str | None = None,
        aliases: dict[str, str] | None = None,
        page_size: int = 20,
        retry_after: str = "1",
        models_overloaded: int = 0,
        batch_polls: int = 1,
        batch_expire_after: int | None = None,
    ) -> None:
        self.batch_polls = batch_polls
        self.batch_expire_after = batch_expire_after
        self.batches: dict[str, dict[str, Any]] = {}  # id -> {"requests", "polls", "view", "results"}
        self.models = [AnthropicModel(m) if isinstance(m, str) else m for m in models]
        self.answers = tuple(answers)
        self._answer = answer
        self._key = api_key
        self.aliases = dict(aliases or {})
        self.page_size = page_size
        self.retry_after = retry_after
        self.models_overloaded = models_overloaded  # the first N GETs of /v1/models... answer 529
        self._lock = threading.Lock()
        self._seen: list[Seen] = []
        self._script: deque[str] = deque()
        super().__init__()

    # -- for tests ---------------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    @property
    def messages_requests(self) -> list[Seen]:
        return [r for r in self.requests if r.path == "/v1/messages"]

    def script(self, *outcomes: str) -> None:
        """The outcomes of the next POST /v1/messages, in arrival order ("ok" answers normally)."""
        unknown = [o for o in outcomes if o != "ok" and o not in FAULTS]
        if unknown:
            raise ValueError(f"unknown outcomes {unknown}; known: ok, {', '.join(FAULTS)}")
        with self._lock:
            self._script.extend(outcomes)

    def answer_for(self, body: dict[str, Any]) -> str:
        return self._answer(body) if self._answer is not None else fake_lm.pick_answer(body, self.answers)

    # -- lifecycle ---------------------------------------------------------------------------------------------

    thread_name = "anthropic-server"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_get("/v1/models", self._list)
        app.router.add_get("/v1/models/{model_id}", self._retrieve)
        app.router.add_post("/v1/messages/batches", self._create_batch)
        app.router.add_get("/v1/messages/batches/{batch_id}", self._batch)
        app.router.add_get("/v1/messages/batches/{batch_id}/results", self._batch_results)

    # -- handlers ----------------------------------------------------------------------------------------------

    async def _see(self, request: web.Request) -> Seen:
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): "" for k in request.headers}
        for name in ("anthropic-version", "content-type"):
            if name in request.headers:
                headers[name] = request.headers[name]
        sent = request.headers.get("x-api-key", "")
        key_ok = self._key is None or hmac.compare_digest(sent.encode(), self._key.encode())
        seen = Seen(time.monotonic(), request.method, request.path, body, headers, key_ok,
                    query=dict(request.query))
        with self._lock:
            self._seen.append(seen)
        return seen

    def _refused(self, seen: Seen) -> web.Response | None:
        if not seen.key_ok:
            seen.outcome = "401"
            return error(401, "authentication_error", "invalid x-api-key")
        if seen.headers.get("anthropic-version") != API_VERSION:
            seen.outcome = "400"
            return error(400, "invalid_request_error", "anthropic-version: header is required")
        if seen.method == "GET" and self.models_overloaded > 0:
            with self._lock:
                self.models_overloaded -= 1
            seen.outcome = "529"
            return error(529, "overloaded_error", "Overloaded")
        return None

    def _info(self, m: AnthropicModel) -> dict[str, Any]:
        item: dict[str, Any] = {"id": m.id, "type": "model", "display_name": m.display_name or m.id,
                                "created_at": m.created_at}
        if m.max_input_tokens is not None:
            item["max_input_tokens"] = m.max_input_tokens
        return item

    async def _retrieve(self, request: web.Request) -> web.Response:
        seen = await self._see(request)
        refused = self._refused(seen)
        if refused is not None:
            return refused
        wanted = request.match_info["model_id"]
        wanted = self.aliases.get(wanted, wanted)
        found = next((m for m in self.models if m.id == wanted), None)
        if found is None:
            seen.outcome = "404"
            return error(404, "not_found_error", f"model: {request.match_info['model_id']}")
        return web.json_response(self._info(found), dumps=_dumps)

    async def _list(self, request: web.Request) -> web.Response:
        seen = await self._see(request)
        refused = self._refused(seen)
        if refused is not None:
            return refused
        limit = min(int(request.query.get("limit", "20")), self.page_size)
        ids = [m.id for m in self.models]
        after = request.query.get("after_id")
        start = ids.index(after) + 1 if after in ids else 0
        page = self.models[start : start + limit]
        return web.json_response({"data": [self._info(m) for m in page], "has_more": start + limit < len(ids),
                                  "first_id": page[0].id if page else None, "last_id": page[-1].id if page else None},
                                 dumps=_dumps)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        seen = await self._see(request)
        refused = self._refused(seen)
        if refused is not None:
            return refused
        with self._lock:
            outcome = self._script.popleft() if self._script else "ok"
        body = seen.body
        if outcome in ("429", "529", "500", "401"):
            seen.outcome = outcome
            return {
                "429": lambda: error(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute "
                                     "rate limit", **{"retry-after": self.retry_after}),
                "529": lambda: error(529, "overloaded_error", "Overloaded"),
                "500": lambda: error(500, "api_error", "Internal server error"),
                "401": lambda: error(401, "authentication_error", "invalid x-api-key"),
            }[outcome]()
        problem = _invalid(body)
        if problem is not None:
            seen.outcome = "400"
            return error(400, "invalid_request_error", problem)
        model = self.aliases.get(body["model"], body["model"])
        if model not in {m.id for m in self.models}:
            seen.outcome = "404"
            return error(404, "not_found_error", f"model: {body['model']}")
        text, stop_reason, stop_sequence = self._generate(body)
        usage = {"input_tokens": self._input_tokens(body), "output_tokens": max(1, fake_lm.count_tokens(text)),
                 "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        if text.startswith(TOOL_USE) and body.get("tools"):
            # the docs' tool use answer: tool_use blocks (types/tool_use_block.py: id, name, input), stop_reason
            # tool_use (https://docs.claude.com/en/docs/agents-and-tools/tool-use/implement-tool-use)
            content = [{"type": "tool_use", "id": f"toolu_01scripted{i}", "name": c["name"], "input": c["input"]}
                       for i, c in enumerate(json.loads(text[len(TOOL_USE):]))]
            stop_reason, stop_sequence = "tool_use", None
        message = {"id": "msg_01scripted", "type": "message", "role": "assistant", "model": model,
                   "content": content, "stop_reason": stop_reason,
                   "stop_sequence": stop_sequence, "usage": usage}
        seen.outcome = outcome
        if not body.get("stream"):
            return web.json_response(message, dumps=_dumps)
        return await self._stream(request, message, outcome)

    def _message(self, body: dict[str, Any]) -> dict[str, Any]:
        model = self.aliases.get(body["model"], body["model"])
        text, stop_reason, stop_sequence = self._generate(body)
        usage = {"input_tokens": self._input_tokens(body), "output_tokens": max(1, fake_lm.count_tokens(text)),
                 "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        return {"id": "msg_01scripted", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}], "stop_reason": stop_reason,
                "stop_sequence": stop_sequence, "usage": usage}

    # -- Message Batches ---------------------------------------------------------------------------------------

    async def _create_batch(self, request: web.Request) -> web.Response:
        import re

        seen = await self._see(request)
        refused = self._refused(seen)
        if refused is not None:
            return refused
        requests = seen.body.get("requests") if isinstance(seen.body, dict) else None
        if not isinstance(requests, list) or not requests:
            return error(400, "invalid_request_error", "requests: Field required")
        ids: set[str] = set()
        for i, r in enumerate(requests):
            cid = r.get("custom_id") if isinstance(r, dict) else None
            if not isinstance(cid, str) or not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", cid) or cid in ids:
                return error(400, "invalid_request_error", f"requests.{i}.custom_id: invalid or repeated")
            ids.add(cid)
            params = r.get("params")
            problem = _invalid(params) or ("stream: not allowed in a batch" if params.get("stream") else None)
            if problem is not None:
                return error(400, "invalid_request_error", f"requests.{i}.params.{problem}")
            if self.aliases.get(params["model"], params["model"]) not in {m.id for m in self.models}:
                return error(400, "invalid_request_error", f"requests.{i}.params.model: {params['model']}")
        now = time.time()
        with self._lock:
            batch_id = f"msgbatch_{len(self.batches) + 1:04d}"
            view = {"id": batch_id, "type": "message_batch", "processing_status": "in_progress",
                    "request_counts": {"processing": len(requests), "succeeded": 0, "errored": 0, "canceled": 0,
                                       "expired": 0},
                    "ended_at": None, "created_at": _iso(now), "expires_at": _iso(now + 86400), "archived_at": None,
                    "cancel_initiated_at": None, "results_url": None}
            self.batches[batch_id] = {"requests": requests, "polls": 0, "view": view, "results": b""}
        return web.json_response(view, dumps=_dumps)

    async def _batch(self, request: web.Request) -> web.Response:
        seen = await self._see(request)
        refused = self._refused(seen)
        if refused is not None:
            return refused
        with self._lock:
            batch = self.batches.get(request.match_info["batch_id"])
            if batch is None:
                return error(404, "not_found_error", "message batch not found")
            batch["polls"] += 1
            view = batch["view"]
            if view["processing_status"] == "in_progress" and batch["polls"] > self.batch_polls:
                self._end(batch, request.match_info["batch_id"])
            return web.json_response(view, dumps=_dumps)

    def _end(self, batch: dict[str, Any], batch_id: str) -> None:
        lines, counts = [], {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        for n, r in enumerate(batch["requests"]):
            if self.batch_expire_after is not None and n >= self.batch_expire_after:
                result: dict[str, Any] = {"type": "expired"}
                counts["expired"] += 1
            else:
                result = {"type": "succeeded", "message": self._message(r["params"])}
                counts["succeeded"] += 1
            lines.append(_dumps({"custom_id": r["custom_id"], "result": result}))
        batch["results"] = ("\n".join(lines) + "\n").encode()
        batch["view"].update(processing_status="ended", request_counts=counts, ended_at=_iso(time.time()),
                             results_url=f"{self.base_url}/v1/messages/batches/{batch_id}/results")

    async def _batch_results(self, request: web.Request) -> web.Response:
        seen = await self._see(request)
        refused = self._refused(seen)
        if refused is not None:
            return refused
        batch = self.batches.get(request.match_info["batch_id"])
        if batch is None or batch["view"]["processing_status"] != "ended":
            return error(404, "not_found_error", "no results for this message batch yet")
        return web.Response(body=batch["results"], content_type="application/binary")

    @property
    def batch_sizes(self) -> list[int]:
        with self._lock:
            return [len(b["requests"]) for b in self.batches.values()]

    def _generate(self, body: dict[str, Any]) -> tuple[str, str, str | None]:
        text = self.answer_for(body)
        if text.startswith(TOOL_USE):
            return text, "tool_use", None
        stops = [(i, s) for s in body.get("stop_sequences", []) if (i := text.find(s)) >= 0]
        stop_reason, stop_sequence = "end_turn", None
        if stops:
            at, stop_sequence = min(stops)
            text, stop_reason = text[:at], "stop_sequence"
        tokens = fake_lm.tokenize(text)
        if len(tokens) > body["max_tokens"]:
            text, stop_reason, stop_sequence = "".join(tokens[: body["max_tokens"]]), "max_tokens", None
        return text, stop_reason, stop_sequence

    @staticmethod
    def _input_tokens(body: dict[str, Any]) -> int:
        system = body.get("system")
        texts = [system if isinstance(system, str) else fake_lm.content_text(system)]
        texts += [fake_lm.content_text(m.get("content")) for m in body["messages"]]
        return sum(fake_lm.count_tokens(t or "") for t in texts)

    @staticmethod
    async def _stream_tool_use(resp: web.StreamResponse, message: dict[str, Any]) -> None:
        """Each tool_use block streamed: its start with an empty `input`, then `input_json_delta`s of its JSON
        text (`partial_json`, types/input_json_delta.py), then its stop."""
        for i, block in enumerate(message["content"]):
            await resp.write(_sse("content_block_start", {"type": "content_block_start", "index": i,
                                                          "content_block": {**block, "input": {}}}))
            for piece in fake_lm.tokenize(json.dumps(block["input"], ensure_ascii=False)):
                await resp.write(_sse("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {
                    "type": "input_json_delta", "partial_json": piece}}))
            await resp.write(_sse("content_block_stop", {"type": "content_block_stop", "index": i}))
        await resp.write(_sse("message_delta", {
            "type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": message["usage"]["output_tokens"]}}))
        await resp.write(_sse("message_stop", {"type": "message_stop"}))
        await resp.write_eof()

    async def _stream(self, request: web.Request, message: dict[str, Any], outcome: str) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        usage = message["usage"]
        start = {**message, "content": [], "stop_reason": None, "stop_sequence": None,
                 "usage": {**usage, "output_tokens": 1}}
        await resp.write(_sse("message_start", {"type": "message_start", "message": start}))
        if message["content"][0]["type"] == "tool_use":
            await self._stream_tool_use(resp, message)
            return resp
        await resp.write(_sse("content_block_start", {"type": "content_block_start", "index": 0,
                                                      "content_block": {"type": "text", "text": ""}}))
        await resp.write(_sse("ping", {"type": "ping"}))
        pieces = fake_lm.tokenize(message["content"][0]["text"])
        for n, piece in enumerate(pieces):
            if outcome in ("stream_error", "stream_cut") and n >= max(1, len(pieces) // 2):
                break
            await resp.write(_sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                          "delta": {"type": "text_delta", "text": piece}}))
        if outcome == "stream_error":
            await resp.write(_sse("error", {"type": "error", "error": {"type": "overloaded_error",
                                                                       "message": "Overloaded"}}))
            await resp.write_eof()
            return resp
        if outcome == "stream_cut":
            if request.transport is not None:
                request.transport.close()
            return resp
        await resp.write(_sse("content_block_stop", {"type": "content_block_stop", "index": 0}))
        await resp.write(_sse("message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]},
            "usage": {"output_tokens": usage["output_tokens"]}}))
        await resp.write(_sse("message_stop", {"type": "message_stop"}))
        await resp.write_eof()
        return resp
