"""A scripted OpenAI-compatible HTTP server for tests: predictable answers, injected faults, accounting.

    with ScriptedServer(models=["m1"], faults=FaultPlan(rules=[PromptRule("429", times=2)])) as srv:
        client(base_url=srv.base_url)  # http://127.0.0.1:PORT/v1
        srv.stats()["prompts"]          # attempts and real answers per prompt hash

As a process (prints its base URL on the first stdout line, runs until SIGTERM/SIGINT):

    python -m tests.support.scripted_server --port 0 --model m1 --fault-rate 0.2 --fault-kinds 429,500

Serves GET /v1/models, POST /v1/chat/completions and /v1/completions (with and without streaming),
GET /_stats (the accounting as JSON) and POST /_reset; the "vllm" dialect also POST /tokenize, the "ollama"
dialect POST /api/show (both recorded as requests, faults applying where a plan's `paths` name them).
With `capacity=N` (`--capacity N`) a generation request that arrives while N others are in flight is answered
429 with the plan's Retry-After, as a provider at its concurrency limit does (faults then apply to the rest).
Answers come from `fake_lm`: the default picks one of `answers` by a stable hash of the prompt;
`answer=callable(body) -> str` overrides it.
The Authorization header is never stored, logged or echoed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import json
import math
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

try:
    from . import dialects, fake_lm
    from . import openai_shapes as shapes
    from .openai_shapes import CHAT_PATH, COMPLETIONS_PATH
except ImportError:  # run as a plain script: python tests/support/scripted_server.py
    import dialects  # type: ignore[no-redef]
    import fake_lm  # type: ignore[no-redef]
    import openai_shapes as shapes  # type: ignore[no-redef]
    from openai_shapes import CHAT_PATH, COMPLETIONS_PATH  # type: ignore[no-redef]

FAULT_KINDS: tuple[str, ...] = (
    "429", "429_no_retry_after", "400", "401", "404", "500", "502", "503",
    "reset", "hang", "malformed_json", "stream_cut", "empty_choices", "stream_error_line",
)  # fmt: skip
MODELS_PATH = "/v1/models"
TOKENIZE_PATH = "/tokenize"  # vLLM's, at the root
SHOW_PATH = "/api/show"  # Ollama's
GENERATION_PATHS: tuple[str, ...] = (CHAT_PATH, COMPLETIONS_PATH)

_BAD_GATEWAY_HTML = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A served model. Prices are Together-style, USD per million tokens; None leaves `pricing` out.
    `chat_template=False`: a base model, which carries no chat template, as its dialect's server shows it (see
    dialects.py: vLLM refuses conversations for it, Ollama's /api/show gives its default template)."""

    id: str
    context_length: int | None = 8192
    input_price: float | None = None
    output_price: float | None = None
    owned_by: str = "scripted"
    chat_template: bool = True
    #: Ollama: the Modelfile's MESSAGE turns (role, content) and SYSTEM prompt, as /api/show gives them
    modelfile_messages: tuple[tuple[str, str], ...] = ()
    modelfile_system: str = ""


@dataclass(frozen=True, slots=True)
class PromptRule:
    """Fail the first `times` attempts of each matching prompt (per model) with `kind`.

    A prompt matches when `contains` is None or a substring of its text (messages joined by newlines)
    and `model` is None or the requested model. Attempt n of a (model, prompt) counts every earlier
    request for it, whatever their outcome.
    """

    kind: str
    times: int = 1
    contains: str | None = None
    model: str | None = None

    def matches(self, model: str | None, text: str) -> bool:
        return (self.model is None or self.model == model) and (self.contains is None or self.contains in text)


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Which requests fail and how. Precedence: `script`, then `rules`, then the random `rate`.

    - script: the outcomes of the next requests, in arrival order ("ok" = answer normally).
    - rules: PromptRules, the first one that matches and still has attempts to fail wins.
    - rate/kinds/seed: each attempt fails with probability `rate` with a kind from `kinds`; the draw
      is a hash of (seed, model, prompt hash, attempt number), so it does not depend on timing.
    Faults apply only to requests on `paths`.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = ("429", "500", "502", "503", "reset")
    seed: int = 0
    script: tuple[str, ...] = ()
    rules: tuple[PromptRule, ...] = ()
    retry_after: float = 1.0
    #: how a 429 says when to come back: "seconds" (Retry-After: N), "ms" (OpenAI's retry-after-ms, with
    #: Retry-After rounded up, as openai-python's _base_client reads them) or "http-date" (RFC 9110 HTTP-date)
    retry_after_style: str = "seconds"
    hang_s: float = 600.0
    paths: tuple[str, ...] = GENERATION_PATHS

    def __post_init__(self) -> None:
        used = [*self.kinds, *(k for k in self.script if k != "ok"), *(r.kind for r in self.rules)]
        unknown = sorted({k for k in used if k not in FAULT_KINDS})
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; known: {', '.join(FAULT_KINDS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("fault rate must be within [0, 1]")
        if self.rate > 0 and not self.kinds:
            raise ValueError("a fault rate needs at least one fault kind")


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as the server saw it. `outcome` is "ok" or the fault kind / error status served."""

    time: float
    path: str
    model: str | None
    prompt_hash: str | None
    attempt: int
    stream: bool
    outcome: str
    injected: bool
    in_flight: int = 0  # generation requests being handled when it was recorded, itself included


def _dumps(obj: Any) -> str:
    # Real servers send UTF-8, not \u escapes: keep Turkish text raw so clients' decoding is exercised.
    return json.dumps(obj, ensure_ascii=False)


def _fmt_seconds(s: float) -> str:
    return str(int(s)) if float(s).is_integer() else f"{s:g}"


def _retry_headers(plan: FaultPlan) -> dict[str, str]:
    if plan.retry_after_style == "ms":
        return {"retry-after-ms": str(int(plan.retry_after * 1000)), "Retry-After": str(math.ceil(plan.retry_after))}
    if plan.retry_after_style == "http-date":
        from email.utils import formatdate

        return {"Retry-After": formatdate(time.time() + plan.retry_after, usegmt=True)}
    return {"Retry-After": _fmt_seconds(plan.retry_after)}


def _error(
    status: int, message: str, type_: str, code: str | None, param: str | None = None, **headers: str
) -> web.Response:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return web.json_response(body, status=status, headers=headers or None, dumps=_dumps)


def _auth_error() -> web.Response:
    # Like OpenAI, but never echoes (even masked) the key that was sent.
    return _error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")


def _model_error(model: str | None) -> web.Response:
    msg = f"The model `{model}` does not exist or you do not have access to it."
    return _error(404, msg, "invalid_request_error", "model_not_found")


def _reset_connection(request: web.BaseRequest) -> None:
    """Drop the TCP connection with a RST (SO_LINGER 0), the way a crashing proxy does."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _validate(path: str, body: Any) -> tuple[str, str | None] | None:
    """(message, param) for a request body the real API would refuse with 400, else None."""
    if not isinstance(body, dict):
        return "The request body must be a JSON object.", None
    if not isinstance(body.get("model"), str):
        return "You must provide a model parameter.", "model"
    if path == CHAT_PATH:
        msgs = body.get("messages")
        if not isinstance(msgs, list) or not msgs or not all(isinstance(m, dict) for m in msgs):
            return "'messages' must be a non-empty array of message objects.", "messages"
    else:
        prompt = body.get("prompt")
        ok = isinstance(prompt, str) or (
            isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt)
        )
        if not ok:
            return "'prompt' must be a string or a non-empty array of strings.", "prompt"
    for name in ("max_tokens", "max_completion_tokens", "n"):
        value = body.get(name)
        if value is not None and (not isinstance(value, int) or value < (1 if name == "n" else 0)):
            return f"Invalid value for '{name}'.", name
    if "response_format" in body:
        problem = _response_format_problem(body["response_format"])
        if problem is not None:
            return problem, "response_format"
    return None


_FORMAT_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def _response_format_problem(rf: Any) -> str | None:
    """What the API says of a malformed `response_format`, from openai-python's types (`types/shared/`:
    `response_format_text.py` {type: text}, `response_format_json_object.py` {type: json_object},
    `response_format_json_schema.py` {type: json_schema, json_schema: {name (a-z, A-Z, 0-9, _ and -, at most 64),
    description?, schema?, strict?}})."""
    if not isinstance(rf, dict) or rf.get("type") not in ("text", "json_object", "json_schema"):
        return "Invalid value for 'response_format.type': expected 'text', 'json_object' or 'json_schema'."
    if rf["type"] != "json_schema":
        return None if set(rf) == {"type"} else "Unrecognized request argument supplied: response_format"
    spec = rf.get("json_schema")
    if not isinstance(spec, dict):
        return "Missing required parameter: 'response_format.json_schema'."
    if not isinstance(spec.get("name"), str) or not _FORMAT_NAME.fullmatch(spec["name"]):
        return "Invalid 'response_format.json_schema.name': a-z, A-Z, 0-9, underscores and dashes, at most 64."
    if set(spec) - {"name", "description", "schema", "strict"}:
        return "Unrecognized request argument supplied: response_format.json_schema"
    if "schema" in spec and not isinstance(spec["schema"], dict):
        return "Invalid type for 'response_format.json_schema.schema': expected an object."
    if "strict" in spec and not isinstance(spec["strict"], bool | None):
        return "Invalid type for 'response_format.json_schema.strict': expected a boolean."
    return None


class ScriptedApp:
    """The server's state and aiohttp handlers, independent of how it is run (thread or process)."""

    def __init__(
        self,
        models: Sequence[str | ModelSpec] = ("test-model",),
        *,
        answers: Sequence[str] = ("Pozitif", "Negatif"),
        answer: fake_lm.AnswerFn | None = None,
        logprob: fake_lm.LogprobFn | None = None,
        faults: FaultPlan | None = None,
        api_key: str | None = None,
        latency: float | Callable[[dict[str, Any]], float] = 0.0,
        capacity: int | None = None,
        token_delay: float = 0.0,
        models_format: str = "openai",
        dialect: str = "openai",
    ) -> None:
        if not answers and answer is None:
            raise ValueError("give answers or an answer callable")
        if models_format not in ("openai", "together"):
            raise ValueError("models_format is 'openai' or 'together'")
        if dialect not in dialects.DIALECTS:
            raise ValueError(f"dialect is one of {', '.join(dialects.DIALECTS)} (see tests/support/dialects.py)")
        self.dialect = dialect
        self.models = {m.id: m for m in (ModelSpec(m) if isinstance(m, str) else m for m in models)}
        self.answers = tuple(answers)
        self._answer_fn = answer
        self._logprob_fn = logprob  # echoed prompt log-probs where it gives them (fake_lm.echo_logprobs)
        self._api_key = api_key
        self.latency = latency
        if capacity is not None and capacity < 1:
            raise ValueError("capacity is at least 1")
        self.capacity = capacity
        self.token_delay = token_delay
        self.models_format = models_format
        self._lock = threading.Lock()  # state is read from test threads while the loop thread writes it
        self._records: list[RequestRecord] = []
        self._attempts: Counter[tuple[str | None, str | None]] = Counter()
        self._in_flight = 0
        self._max_in_flight = 0
        self._plan = faults or FaultPlan()
        self._script: deque[str] = deque(self._plan.script)
        self._stopping: asyncio.Event | None = None

    # -- public, thread-safe ------------------------------------------------------------------------

    def answer_for(self, body: Mapping[str, Any]) -> str:
        """The full answer the server gives to a request body (before max_tokens/stop are applied)."""
        if self._answer_fn is not None:
            return self._answer_fn(dict(body))
        return fake_lm.pick_answer(body, self.answers)

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def set_faults(self, plan: FaultPlan) -> None:
        """Replace the fault plan (its script starts afresh; attempt counts are kept)."""
        with self._lock:
            self._plan, self._script = plan, deque(plan.script)

    def reset(self) -> None:
        """Forget recorded requests and attempt counts, and restart the fault plan's script."""
        with self._lock:
            self._records.clear()
            self._attempts.clear()
            self._max_in_flight = self._in_flight
            self._script = deque(self._plan.script)

    def stats(self, include_requests: bool = False) -> dict[str, Any]:
        """Counts per outcome, path and model; per prompt hash its attempts and real answers; peak concurrency."""
        with self._lock:
            records = list(self._records)
            in_flight, peak = self._in_flight, self._max_in_flight
        prompts: dict[str, dict[str, Any]] = {}
        for r in records:
            if r.prompt_hash is None:
                continue
            p = prompts.setdefault(r.prompt_hash, {"attempts": 0, "ok": 0, "outcomes": {}, "models": {}})
            m = p["models"].setdefault(r.model, {"attempts": 0, "ok": 0})
            p["attempts"] += 1
            m["attempts"] += 1
            p["ok"] += r.outcome == "ok"
            m["ok"] += r.outcome == "ok"
            p["outcomes"][r.outcome] = p["outcomes"].get(r.outcome, 0) + 1
        out: dict[str, Any] = {
            "total": len(records),
            "by_outcome": dict(Counter(r.outcome for r in records)),
            "by_path": dict(Counter(r.path for r in records)),
            "by_model": dict(Counter(r.model for r in records if r.model is not None)),
            "injected": sum(r.injected for r in records),
            "prompts": prompts,
            "in_flight": in_flight,
            "max_in_flight": peak,
        }
        if include_requests:
            out["requests"] = [asdict(r) for r in records]
        return out

    # -- wiring -------------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_get(MODELS_PATH, self._handle_models)
        app.router.add_post(CHAT_PATH, self._handle_generation)
        app.router.add_post(COMPLETIONS_PATH, self._handle_generation)
        if self.dialect == "vllm":
            app.router.add_post(TOKENIZE_PATH, self._handle_tokenize)
        if self.dialect == "ollama":
            app.router.add_post(SHOW_PATH, self._handle_show)
        app.router.add_get("/_stats", self._handle_stats)
        app.router.add_post("/_reset", self._handle_reset)
        return app

    def bind_loop(self) -> None:
        """Create loop-bound state; call from inside the server's event loop."""
        self._stopping = asyncio.Event()

    def begin_stop(self) -> None:
        """Wake handlers that hang, so that shutdown does not wait for them."""
        if self._stopping is not None:
            self._stopping.set()

    # -- internals ----------------------------------------------------------------------------------

    def _authorized(self, request: web.BaseRequest) -> bool:
        if self._api_key is None:
            return True
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self._api_key.encode())

    def _record(
        self,
        path: str,
        model: str | None,
        phash: str | None,
        attempt: int,
        stream: bool,
        outcome: str,
        injected: bool = False,
        t: float | None = None,
    ) -> None:
        with self._lock:
            rec = RequestRecord(time.time() if t is None else t, path, model, phash, attempt, stream, outcome, injected,
                                self._in_flight)
            self._records.append(rec)

    def _next_attempt(self, model: str | None, phash: str | None) -> int:
        with self._lock:
            n = self._attempts[(model, phash)]
            self._attempts[(model, phash)] = n + 1
            return n

    def _choose_fault(self, path: str, model: str | None, phash: str, text: str, attempt: int) -> str | None:
        with self._lock:
            plan = self._plan
            if path not in plan.paths:
                return None
            if self._script:
                kind = self._script.popleft()
                return None if kind == "ok" else kind
        for rule in plan.rules:
            if attempt < rule.times and rule.matches(model, text):
                return rule.kind
        if plan.rate > 0:
            key = (str(plan.seed), str(model), phash, str(attempt))
            if fake_lm.unit_hash(*key, "rate") < plan.rate:
                return plan.kinds[int(fake_lm.unit_hash(*key, "kind") * len(plan.kinds))]
        return None

    @contextlib.contextmanager
    def _counting(self) -> Iterator[None]:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    async def _handle_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats(include_requests=True), dumps=_dumps)

    async def _handle_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"reset": True}, dumps=_dumps)

    async def _handle_models(self, request: web.Request) -> web.StreamResponse:
        t0 = time.time()
        if not self._authorized(request):
            self._record(request.path, None, None, -1, False, "401", t=t0)
            return _auth_error()
        attempt = self._next_attempt(None, None)
        fault = self._choose_fault(request.path, None, "", "", attempt)
        self._record(request.path, None, None, attempt, False, fault or "ok", fault is not None, t0)
        if fault:
            return await self._serve_fault(fault, request, {}, None, False)
        data = []
        for m in self.models.values():
            item: dict[str, Any] = {"id": m.id, "object": "model", "created": 0, "owned_by": m.owned_by}
            if m.context_length is not None:
                item["context_length"] = m.context_length
            if m.input_price is not None or m.output_price is not None:
                item["pricing"] = {"hourly": 0, "input": m.input_price or 0.0, "output": m.output_price or 0.0,
                                   "base": 0, "finetune": 0}
            data.append(dialects.model_entry(self.dialect, item, m.context_length))
        # Together answers a bare JSON array; OpenAI an object with "data".
        return web.json_response(dialects.models_body(self.dialect, data, self.models_format), dumps=_dumps)

    async def _probe(self, request: web.Request) -> tuple[Any, web.StreamResponse | None]:
        """The JSON body of a request beside generation (/tokenize, /api/show), recorded, or the answer it gets
        instead: a 401, or the fault the plan gives its path."""
        t0 = time.time()
        try:
            body: Any = json.loads(await request.read())
        except ValueError:
            body = None
        name = (body.get("model") or body.get("name")) if isinstance(body, dict) else None
        model = name if isinstance(name, str) else None
        if not self._authorized(request):
            self._record(request.path, model, None, -1, False, "401", t=t0)
            return body, _auth_error()
        attempt = self._next_attempt(model, request.path)
        fault = self._choose_fault(request.path, model, request.path, "", attempt)
        self._record(request.path, model, None, attempt, False, fault or "ok", fault is not None, t0)
        if fault:
            return body, await self._serve_fault(fault, request, {}, model, False)
        return body, None

    async def _handle_tokenize(self, request: web.Request) -> web.StreamResponse:
        body, answered = await self._probe(request)
        if answered is not None:
            return answered
        model = body.get("model") if isinstance(body, dict) else None
        spec = self.models.get(model) if model is not None else next(iter(self.models.values()))
        if spec is None:  # serving_engine.py `_check_model`
            return web.json_response(dialects.vllm_error(404, f"The model `{model}` does not exist.", "NotFoundError"),
                                     status=404, dumps=_dumps)
        status, out = dialects.vllm_tokenize(body, spec.chat_template, spec.context_length)
        return web.json_response(out, status=status, dumps=_dumps)

    async def _handle_show(self, request: web.Request) -> web.StreamResponse:
        body, answered = await self._probe(request)
        if answered is not None:
            return answered
        name = (body.get("model") or body.get("name")) if isinstance(body, dict) else None
        if not isinstance(name, str) or not name:
            return web.json_response({"error": "model is required"}, status=400, dumps=_dumps)
        spec = self.models.get(name) or (self.models.get(name + ":latest") if ":" not in name else None)
        if spec is None:
            return web.json_response({"error": f"model '{name}' not found"}, status=404, dumps=_dumps)
        return web.json_response(dialects.ollama_show(spec.id, spec.chat_template, spec.modelfile_messages,
                                                      spec.modelfile_system), dumps=_dumps)

    async def _handle_generation(self, request: web.Request) -> web.StreamResponse:
        t0 = time.time()
        path = request.path
        with self._counting():
            try:
                body: Any = json.loads(await request.read())
            except ValueError:
                body = None
            ok_body = isinstance(body, dict)
            model = body.get("model") if ok_body and isinstance(body.get("model"), str) else None
            phash = fake_lm.prompt_hash(body) if ok_body else None
            stream = bool(body.get("stream")) if ok_body else False
            if not self._authorized(request):
                self._record(path, model, phash, -1, stream, "401", t=t0)
                return _auth_error()
            problem = _validate(path, body)
            if problem is not None:
                self._record(path, model, phash, -1, stream, "400", t=t0)
                return _error(400, problem[0], "invalid_request_error", None, problem[1])
            assert model is not None and phash is not None and isinstance(body, dict)
            spec = self.models.get(model)
            if spec is None:
                self._record(path, model, phash, -1, stream, "404", t=t0)
                return _model_error(model)
            no_template = dialects.template_refusal(self.dialect, path, spec.chat_template)
            if no_template is not None:
                self._record(path, model, phash, -1, stream, "400", t=t0)
                return web.json_response(no_template, status=400, dumps=_dumps)
            refused = dialects.refusal(self.dialect, path, body)
            if refused is not None:
                self._record(path, model, phash, -1, stream, "400", t=t0)
                return _error(400, refused[0], "invalid_request_error", refused[2], refused[1])
            body = dialects.request_as_served(self.dialect, path, body)
            text = fake_lm.prompt_text(body)
            n_prompt = fake_lm.count_tokens(text) if path == CHAT_PATH else self._prompt_tokens(body)
            if spec.context_length is not None and n_prompt > spec.context_length:
                self._record(path, model, phash, -1, stream, "400", t=t0)
                msg = (
                    f"This model's maximum context length is {spec.context_length} tokens. "
                    f"However, your prompt resulted in {n_prompt} tokens."
                )
                param = "messages" if path == CHAT_PATH else "prompt"
                return _error(400, msg, "invalid_request_error", "context_length_exceeded", param)
            attempt = self._next_attempt(model, phash)
            with self._lock:
                over = self.capacity is not None and self._in_flight > self.capacity
            if over:
                self._record(path, model, phash, attempt, stream, "429", True, t0)
                return self._over_capacity()
            fault = self._choose_fault(path, model, phash, text, attempt)
            self._record(path, model, phash, attempt, stream, fault or "ok", fault is not None, t0)
            if fault:
                return await self._serve_fault(fault, request, body, model, stream)
            answer = shapes.build_answer(path, body, model, self.answer_for, self.answers, self._logprob_fn)
            delay = self.latency(body) if callable(self.latency) else self.latency
            if stream:
                await asyncio.sleep(delay)
                return await self._stream(request, path, body, model, answer)
            await asyncio.sleep(delay + self.token_delay * answer.completion_tokens)
            return web.json_response(dialects.full_body(self.dialect, path, body, model, answer), dumps=_dumps)

    def _over_capacity(self) -> web.Response:
        """A 429 as OpenAI answers one: the body is the API reference's `ErrorResponse` ({"error": {message, type,
        param, code}}, all four required: openai/openai-python api_reference/openapi.transformed.yml, schema
        `Error`), which openai-python reads as `RateLimitError` (src/openai/_client.py `_make_status_error`: 429,
        `body.get("error", body)`; src/openai/_exceptions.py `APIError` reads code/param/type), retrying after
        `retry-after-ms` or `retry-after` (src/openai/_base_client.py `_parse_retry_after_header`)."""
        return _error(429, f"Rate limit reached: at most {self.capacity} requests in flight. Please try again in "
                      f"{_fmt_seconds(self._plan.retry_after)}s.", "requests", "rate_limit_exceeded",
                      **_retry_headers(self._plan))

    @staticmethod
    def _prompt_tokens(body: Mapping[str, Any]) -> int:
        prompt = body["prompt"]
        prompts = [prompt] if isinstance(prompt, str) else prompt
        return max(fake_lm.count_tokens(p) for p in prompts)

    async def _open_sse(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        return resp

    async def _stream(
        self, request: web.Request, path: str, body: Mapping[str, Any], model: str, a: shapes.Answer, cut: bool = False
    ) -> web.StreamResponse:
        resp = await self._open_sse(request)
        chunks = list(dialects.chunks(self.dialect, path, body, model, a))
        # stream_cut keeps the role chunk and about half of the content, then closes the connection.
        keep = max(2, len(chunks) // 2) if cut else len(chunks)
        for i, ch in enumerate(chunks[:keep]):
            if i and self.token_delay:
                await asyncio.sleep(self.token_delay)
            await resp.write(b"data: " + json.dumps(ch, ensure_ascii=False).encode() + b"\n\n")
        if cut:
            if request.transport is not None:
                request.transport.close()  # flushes what was written, then FIN: no [DONE], no chunk end
            return resp
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    # -- faults -------------------------------------------------------------------------------------

    async def _serve_fault(
        self, kind: str, request: web.Request, body: dict[str, Any], model: str | None, stream: bool
    ) -> web.StreamResponse:
        plan = self._plan
        simple = {
            "429": lambda: _error(
                429,
                "Rate limit reached for requests.",
                "requests",
                "rate_limit_exceeded",
                **_retry_headers(plan),
            ),
            "429_no_retry_after": lambda: _error(
                429, "Rate limit reached for requests.", "requests", "rate_limit_exceeded"
            ),
            "400": lambda: _error(400, "Invalid request (injected).", "invalid_request_error", None),
            "401": _auth_error,
            "404": lambda: _model_error(model),
            "500": lambda: _error(500, "The server had an error while processing your request.", "server_error", None),
            "502": lambda: web.Response(status=502, text=_BAD_GATEWAY_HTML, content_type="text/html"),
            "503": lambda: _error(
                503, "The engine is currently overloaded, please try again later.", "server_error", None
            ),
        }
        if kind in simple:
            return simple[kind]()
        if kind == "hang":
            assert self._stopping is not None
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), plan.hang_s)
            kind = "reset"
        if kind == "reset":
            _reset_connection(request)
            return web.Response(status=500)  # never sent: the connection is gone
        path = request.path
        if kind == "empty_choices":
            a = shapes.Answer([], 0, 0)
            if stream:
                resp = await self._open_sse(request)
                chunk = shapes.full_body(path, body, model or "", a)
                chunk["object"] = "chat.completion.chunk" if path == CHAT_PATH else "text_completion"
                await resp.write(b"data: " + json.dumps(chunk).encode() + b"\n\ndata: [DONE]\n\n")
                await resp.write_eof()
                return resp
            return web.json_response(shapes.full_body(path, body, model or "", a), dumps=_dumps)
        if kind == "stream_error_line":
            # llama.cpp's server: part of the answer, then `error: {...}` and `data: [DONE]` (tools/server/server.cpp)
            a = shapes.build_answer(path, body, model or "", self.answer_for, self.answers)
            resp = await self._open_sse(request)
            for ch in list(shapes.chunks(path, body, model or "", a))[:2]:
                await resp.write(b"data: " + json.dumps(ch, ensure_ascii=False).encode() + b"\n\n")
            err = {"code": 500, "message": "Input prompt is too big compared to KV size.", "type": "server_error"}
            await resp.write(b"error: " + json.dumps(err).encode() + b"\n\ndata: [DONE]\n\n")
            await resp.write_eof()
            return resp
        if kind == "malformed_json":
            broken = '{"id": "chatcmpl-x", "object": "chat.completion", "choices": [{"index": 0, "message": {"con'
            if stream:
                resp = await self._open_sse(request)
                await resp.write(b"data: " + broken.encode() + b"\n\ndata: [DONE]\n\n")
                await resp.write_eof()
                return resp
            return web.Response(status=200, text=broken, content_type="application/json")
        assert kind == "stream_cut", kind
        if path not in GENERATION_PATHS:
            data = json.dumps({"object": "list", "data": [{"id": m} for m in self.models]}).encode()
        else:
            a = shapes.build_answer(path, body, model or "", self.answer_for, self.answers)
            if stream:
                return await self._stream(request, path, body, model or "", a, cut=True)
            data = json.dumps(shapes.full_body(path, body, model or "", a)).encode()
        # Announce the full length, send half of it, then close: an incomplete body.
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.content_length = len(data)
        await resp.prepare(request)
        await resp.write(data[: len(data) // 2])
        if request.transport is not None:
            request.transport.close()
        return resp


async def _serve(app: ScriptedApp, sock: socket.socket) -> web.AppRunner:
    app.bind_loop()
    # handler_cancellation: a client that gives up on a hung request frees its handler at once.
    runner = web.AppRunner(
        app.make_app(), access_log=None, handle_signals=False, handler_cancellation=True, shutdown_timeout=1.0
    )
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


class ScriptedServer(ScriptedApp):
    """A ScriptedApp served on 127.0.0.1 from a background thread with its own event loop.

    Use as a context manager, or call start()/stop(). `base_url` ends in /v1 (what OpenAI clients want).
    Keyword arguments other than host/port are ScriptedApp's (answers, answer, faults, api_key, latency, ...).
    """

    def __init__(
        self,
        models: Sequence[str | ModelSpec] = ("test-model",),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(models, **kwargs)
        self.host = host
        self._requested_port = port
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + "/v1"

    def start(self) -> ScriptedServer:
        if self._thread is not None:
            raise RuntimeError("server already started")
        sock = _bind(self.host, self._requested_port)
        self.port = sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="scripted-server", daemon=True)
        self._thread.start()
        self._runner = asyncio.run_coroutine_threadsafe(_serve(self, sock), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        loop, runner = self._loop, self._runner

        async def _shutdown() -> None:
            self.begin_stop()
            if runner is not None:
                await runner.cleanup()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        loop.close()
        self._loop = self._thread = self._runner = None

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- as a process --------------------------------------------------------------------------------------


@dataclass(slots=True)
class ScriptedProcess:
    """A scripted server running in a child process (it outlives clients that tests kill)."""

    proc: Any
    root_url: str

    @property
    def base_url(self) -> str:
        return self.root_url + "/v1"

    def stats(self) -> dict[str, Any]:
        """GET /_stats from the child (includes the list of requests)."""
        import urllib.request

        with urllib.request.urlopen(self.root_url + "/_stats", timeout=10) as r:
            return json.loads(r.read())


@contextlib.contextmanager
def scripted_server_process(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 15.0
) -> Iterator[ScriptedProcess]:
    """Run `python -m tests.support.scripted_server --port 0 *args` and yield it once it listens."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]  # the repository root, so that -m finds tests.support
    cmd = [sys.executable, "-m", "tests.support.scripted_server", "--port", "0", *args]
    proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    try:
        assert proc.stdout is not None
        line = _readline_with_timeout(proc.stdout, timeout)
        if not line.startswith("http://"):
            raise RuntimeError(f"scripted server did not start (exit code {proc.poll()}): {line!r}")
        yield ScriptedProcess(proc, line.strip().removesuffix("/v1"))
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _readline_with_timeout(stream: Any, timeout: float) -> str:
    result: list[str] = []
    t = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    t.start()
    t.join(timeout)
    return result[0] if result else ""


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m tests.support.scripted_server",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--model", action="append", default=[], help="a served model id (repeatable)")
    ap.add_argument("--base-model", action="append", default=[],
                    help="a served model id that carries no chat template (repeatable; see dialects.py)")
    ap.add_argument(
        "--pricing",
        action="append",
        default=[],
        metavar="ID=IN,OUT",
        help="USD per million input/output tokens for a model (repeatable)",
    )
    ap.add_argument("--models-format", choices=("openai", "together"), default="openai")
    ap.add_argument("--dialect", choices=dialects.DIALECTS, default="openai",
                    help="answer the way this server does (see tests/support/dialects.py)")
    ap.add_argument("--answer", action="append", default=[], help="a possible answer (repeatable)")
    ap.add_argument("--api-key-env", metavar="VAR", help="require this environment variable's value as bearer key")
    ap.add_argument("--fault-rate", type=float, default=0.0)
    ap.add_argument("--fault-kinds", default="429,500,502,503,reset", help="comma-separated")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--script", default="", help="comma-separated outcomes of the next requests (ok = answer)")
    ap.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="KIND:TIMES[:CONTAINS]",
        help="fail the first TIMES attempts of prompts containing CONTAINS (repeatable)",
    )
    ap.add_argument("--retry-after", type=float, default=1.0)
    ap.add_argument("--hang-s", type=float, default=600.0)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--capacity", type=int, default=None,
                    help="answer 429 (with --retry-after) to a request that arrives while this many are in flight")
    ap.add_argument("--token-delay", type=float, default=0.0)
    return ap.parse_args(argv)


def _app_from_args(ns: argparse.Namespace) -> ScriptedApp:
    prices: dict[str, tuple[float, float]] = {}
    for item in ns.pricing:
        mid, _, pair = item.rpartition("=")
        inp, _, outp = pair.partition(",")
        prices[mid] = (float(inp), float(outp))
    models = [
        ModelSpec(m, input_price=prices.get(m, (None, None))[0], output_price=prices.get(m, (None, None))[1],
                  chat_template=m not in ns.base_model)
        for m in [*ns.model, *(b for b in ns.base_model if b not in ns.model)] or ["test-model"]
    ]
    rules = []
    for r in ns.rule:
        kind, _, rest = r.partition(":")
        times, _, contains = rest.partition(":")
        rules.append(PromptRule(kind, int(times or 1), contains or None))
    plan = FaultPlan(
        rate=ns.fault_rate,
        kinds=tuple(k for k in ns.fault_kinds.split(",") if k),
        seed=ns.seed,
        script=tuple(k for k in ns.script.split(",") if k),
        rules=tuple(rules),
        retry_after=ns.retry_after,
        hang_s=ns.hang_s,
    )
    api_key = os.environ.get(ns.api_key_env) if ns.api_key_env else None
    if ns.api_key_env and not api_key:
        raise SystemExit(f"environment variable {ns.api_key_env} is not set")
    return ScriptedApp(
        models,
        answers=ns.answer or ("Pozitif", "Negatif"),
        faults=plan,
        api_key=api_key,
        latency=ns.latency,
        capacity=ns.capacity,
        token_delay=ns.token_delay,
        models_format=ns.models_format,
        dialect=ns.dialect,
    )


async def _run_process(app: ScriptedApp, host: str, port: int) -> None:
    sock = _bind(host, port)
    runner = await _serve(app, sock)
    print(f"http://{host}:{sock.getsockname()[1]}/v1", flush=True)
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)
    await done.wait()
    app.begin_stop()
    await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> None:
    ns = _parse_args(argv)
    try:
        app = _app_from_args(ns)
    except ValueError as exc:
        raise SystemExit(f"scripted_server: {exc}") from None
    asyncio.run(_run_process(app, ns.host, ns.port))


if __name__ == "__main__":
    main()
