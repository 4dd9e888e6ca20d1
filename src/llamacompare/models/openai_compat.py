"""A thin aiohttp client for OpenAI-compatible servers (Together, vLLM, Ollama, llama.cpp server, LM Studio).

Why not the `openai` SDK: on this machine, 2,000 requests at concurrency 64 against an instant loopback server ran
about 6x faster through a bare aiohttp loop than through the SDK (see bench/http_stacks.py), and the wire protocol
is a few small JSON objects. Errors map to the typed exceptions in `llamacompare.errors`.
"""

from __future__ import annotations

import asyncio
import builtins
import difflib
import time
from collections.abc import Callable
from dataclasses import replace
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

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
)
from llamacompare.models import servers
from llamacompare.models.base import BatchAPI, LabelScores, ModelInfo, Prepared, Provider, Request, Response
from llamacompare.models.capabilities import Capabilities, match_served
from llamacompare.models.catalog import PRICES_AS_OF
from llamacompare.models.deadlines import Deadlines
from llamacompare.models.logprobs import (
    NoLogprobs,
    chat_entries,
    completion_entries,
    echoed_prompt,
    label_logprob,
    top_label_logprobs,
)
from llamacompare.models.streaming import StreamedAnswer, error_field, error_message
from llamacompare.settings import redact
from llamacompare.toolcall import ToolCall, dump_tools


class OpenAICompatProvider(Provider):
    """One server, one connection pool. Create it inside the event loop that uses it.

    `capabilities` are what the server is declared to support (per model, where they differ by model); what the
    server's model list tells and what it refuses with a 400 naming a parameter refine them as the run goes."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        name: str = "openai",
        timeout_s: float = 120.0,
        stream: bool = True,
        max_connections: int = 256,
        prices: dict[str, tuple[float | None, float | None]] | None = None,
        capabilities: Capabilities | Callable[[str], Capabilities] = servers.GENERIC,
        batch: Callable[[OpenAICompatProvider], BatchAPI] | None = None,
        prices_as_of: str | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self.timeout_s = timeout_s
        self.stream = stream
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._models: list[ModelInfo] | None = None
        self._models_fetched = False
        self._deadlines = Deadlines(timeout_s)
        self._by_id: tuple[list[ModelInfo] | None, dict[str, ModelInfo]] | None = None
        self._table_prices = prices or {}
        self._prices_as_of = prices_as_of  # the date of `prices`' table, where it is not catalog.PRICES_AS_OF
        self._declared = capabilities
        self._caps: dict[str, Capabilities] = {}
        self.capabilities = capabilities("") if callable(capabilities) else capabilities
        self._label_ids: dict[tuple[str, str], list[int]] = {}  # llama-server's tokens of each label
        self._batch_kind = batch  # the plugin's: which batch format the server speaks (models/openai_batch.py)
        self._batch: BatchAPI | None = None

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatProvider(name={self.name!r}, base_url={self.base_url!r})"

    def _sess(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=300)
            # the whole answer's time limit is ours (`Deadlines`, cheaper per request than aiohttp's timers)
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=min(self.timeout_s, 30.0))
            self._session = aiohttp.ClientSession(connector=connector, headers=self._headers, timeout=timeout)
        return self._session

    async def aclose(self) -> None:
        self._deadlines.close()
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def batch_api(self) -> BatchAPI | None:
        if self._batch is None and self._batch_kind is not None:
            self._batch = self._batch_kind(self)
        return self._batch

    def capabilities_for(self, model: str) -> Capabilities:
        caps = self._caps.get(model)
        if caps is None:
            caps = self._caps[model] = self._declared(model) if callable(self._declared) else self._declared
        return caps

    # -- models and prices ---------------------------------------------------------------------------------

    async def prepare(self, model: str) -> Prepared:
        """The served id for `model` (exactly as the server lists it), its context and what it supports. Fails
        before any request when the server lists its models and `model` is not among them."""
        notes: tuple[str, ...] = ()
        try:
            models = await self.list_models()
        except ModelListFailed as exc:
            models, notes = None, (str(exc),)
        if models is None:
            return Prepared(model, self.capabilities_for(model), notes=notes)
        by_id = self._info_by_id()
        served = match_served(model, list(by_id), self.capabilities_for(model).name_rules)
        if served is None:

            lower = {m.lower(): m for m in by_id}
            close = difflib.get_close_matches(model.lower(), list(lower), n=3, cutoff=0.5)
            hint = f"; closest served: {', '.join(lower[c] for c in close)}" if close else ""
            raise ModelNotFoundError(
                f"{model!r} is not served by {self.base_url} (retired or not deployed){hint}", status=404
            )
        info = by_id[served]
        caps = self._caps[served] = servers.discovered(self.capabilities_for(served), info)
        prepared = Prepared(served, caps, context_length=info.context_length, notes=notes)
        if caps.template_from_server == "props":
            return await self._with_server_template(prepared)
        if caps.template_from_server == "tokenize":
            return await self._with_vllm_template(prepared)
        if caps.template_from_server == "show":
            return await self._with_ollama_template(prepared)
        return prepared

    async def _with_server_template(self, prepared: Prepared) -> Prepared:
        """llama-server's chat template (GET /props, beside /v1): rendered here and sent as text, exactly as the
        in-process engine renders the same GGUF. Its ChatML fallback stands in for a model that carries none (a base
        model): that model gets plain text, as in-process. A server that does not answer keeps messages."""
        try:
            status, body, _ = await self._request("GET", self._root() + "/props", None, absolute=True)
        except ProviderError:
            return prepared
        template = body.get("chat_template") if status == 200 and isinstance(body, dict) else None
        if not isinstance(template, str):
            return prepared
        own = template if template.strip() != servers.LLAMA_SERVER_CHATML_FALLBACK.strip() else None
        return replace(prepared, chat_template=own, prompt_format="text", server_default_template=own is None)

    async def _with_vllm_template(self, prepared: Prepared) -> Prepared:
        """vLLM refuses every conversation for a model without a chat template; its /tokenize (beside /v1) applies
        the template to one without generating, so one tiny conversation there tells. Refused: a base model, sent
        plain text on /completions, as in-process. Any other answer, or none: messages, as before."""
        body = {"model": prepared.served_id, "messages": [{"role": "user", "content": "Hi"}]}
        try:
            status, data, _ = await self._request("POST", self._root() + "/tokenize", body, absolute=True)
        except ProviderError:
            return prepared
        if status != 400 or servers.VLLM_NO_TEMPLATE not in error_message(data):
            return prepared
        return replace(prepared, prompt_format="text", server_default_template=True,
                       chat_refused=servers.VLLM_NO_TEMPLATE_FIX)

    async def _with_ollama_template(self, prepared: Prepared) -> Prepared:
        """Ollama's /api/show gives the model's Go template; its default `{{ .Prompt }}` (no chat template) passes a
        /completions prompt through untouched, so such a model gets plain text there, as in-process. No answer:
        messages, as before. What its Modelfile adds to every conversation is said in a note."""
        try:
            status, data, _ = await self._request("POST", self._root() + "/api/show",
                                                  {"model": prepared.served_id}, absolute=True)
        except ProviderError:
            return prepared
        if status != 200:
            return prepared
        extras = servers.ollama_modelfile_extras(data)
        if extras:
            prepared = replace(prepared, notes=(*prepared.notes, extras))
        if not servers.ollama_without_template(data):
            return prepared
        return replace(prepared, prompt_format="text", server_default_template=True)

    def _root(self) -> str:
        """The server's own root, beside /v1: llama-server's /props, /tokenize and /completion, vLLM's /tokenize,
        Ollama's /api."""
        return self.base_url.removesuffix("/v1")

    async def check_model(self, model: str) -> ModelInfo | None:
        """The listed model `model` names, None where the server does not list models; ModelNotFoundError when
        it lists them and `model` is not among them."""
        prepared = await self.prepare(model)
        return self._info_by_id().get(prepared.served_id)

    async def list_models(self) -> list[ModelInfo] | None:
        """GET /models once; None when the server does not list models; ModelListFailed when asking failed.

        Remote lists are shared by every provider of the process for a while (Together's is large); a loopback
        server is asked each time, since it is cheap and may be restarted with other models on the same port.
        A failed attempt is never remembered: the next run asks again."""
        if self._models_fetched:
            return self._models
        shared = _model_lists.get(self.base_url)
        if shared is not None and time.monotonic() - shared[0] < _MODEL_LIST_TTL_S:
            self._models, self._models_fetched = shared[1], True
            return self._models
        self._models = await self._fetch_models()
        self._models_fetched = True
        if not _is_loopback(self.base_url):
            _model_lists[self.base_url] = (time.monotonic(), self._models)
        return self._models

    async def _fetch_models(self) -> list[ModelInfo] | None:
        failure: ProviderError | None = None
        for wait in (0.0, 0.5, 1.5):  # a short retry: this list decides the served-model check and prices
            if wait:
                await asyncio.sleep(min(wait, failure.retry_after or wait) if failure else wait)
            try:
                status, body, headers = await self._request("GET", "/models", None)
                if status in (401, 403):
                    self._raise_for(status, body, headers)
                if status == 429 or status >= 500:
                    self._raise_for(status, body, headers)
            except (ServerError, RequestTimeoutError, RateLimitError) as exc:
                if isinstance(exc, ConnectionFailedError):
                    raise  # nothing listens there: every request would fail, say so before sending any
                failure = exc
                continue
            if status != 200:
                return None  # this server does not list its models
            return _parse_models(body)
        raise ModelListFailed(
            f"{self.base_url}/models failed ({type(failure).__name__}: {failure}): the served-model check, the "
            "context check and the server's prices are off for this run"
        )

    def _info_by_id(self) -> dict[str, ModelInfo]:
        # Together lists ~200 models: a scan per answer was a visible cost at thousands of answers/s
        if self._by_id is None or self._by_id[0] is not self._models:
            self._by_id = (self._models, {m.id: m for m in self._models or ()})
        return self._by_id[1]

    def _cost(self, model: str, prompt_tokens: int | None, completion_tokens: int | None) -> tuple[float | None, str]:
        if prompt_tokens is None or completion_tokens is None:
            return None, "unknown"
        info = self._info_by_id().get(model)
        if info is not None and info.input_price is not None and info.output_price is not None:
            return (prompt_tokens * info.input_price + completion_tokens * info.output_price) / 1e6, "provider"
        table = self._table_prices.get(model.lower())
        if table and table[0] is not None and table[1] is not None:

            return (prompt_tokens * table[0] + completion_tokens * table[1]) / 1e6, \
                f"table {self._prices_as_of or PRICES_AS_OF}"
        return None, "unknown"

    # -- generation ----------------------------------------------------------------------------------------

    def payload(self, model: str, request: Request, *, stream: bool) -> dict[str, Any]:
        caps = self.capabilities_for(model)
        p = request.params
        body: dict[str, Any] = {"model": model}
        # never 0: llama-cpp-python's server and Ollama read 0 as "no limit"
        limit = max(1, p.max_tokens)
        body[caps.token_limit_param if request.prompt is None else "max_tokens"] = limit
        accepted = caps.sampling_params
        if "temperature" in accepted:
            body["temperature"] = p.temperature
        if p.top_p is not None and "top_p" in accepted:
            body["top_p"] = p.top_p
        if p.stop and "stop" in accepted:
            body["stop"] = list(p.stop)
        if p.seed is not None and "seed" in accepted:
            body["seed"] = p.seed
        if request.prompt is not None:
            body["prompt"] = request.prompt
        else:
            body["messages"] = [dict(m) for m in request.messages or ()]
            if request.tools:  # OpenAI's function tools; the server answers with `tool_calls`
                body["tools"] = dump_tools(request.tools)
        if p.response_format is not None:  # each server's own field (servers.format_fields)
            body.update(servers.format_fields(caps, p.response_format, chat=request.prompt is None, model=model))
        elif request.tools_in_text:  # a llama.cpp server holds the answer to the text format, as in-process
            body.update(servers.tool_format_fields(caps))
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    async def generate(self, model: str, request: Request) -> Response:
        while True:
            try:
                return await self._generate(model, request)
            except BadRequestError as exc:
                if not self._adapt(model, exc):
                    raise

    def _adapt(self, model: str, exc: BadRequestError) -> bool:
        """Learn from a 400 that names a parameter the model does not take (OpenAI's reasoning models refuse
        `max_tokens` and any temperature but the default): send it differently from now on. False: nothing to
        learn, the error stands."""
        caps = self.capabilities_for(model)
        if exc.param == "max_tokens" and caps.token_limit_param != "max_completion_tokens":
            self._caps[model] = caps.with_(token_limit_param="max_completion_tokens")
            return True
        if exc.param in caps.sampling_params and exc.code in ("unsupported_value", "unsupported_parameter"):
            self._caps[model] = caps.with_(sampling_params=caps.sampling_params - {exc.param})
            return True
        return False

    async def _generate(self, model: str, request: Request) -> Response:
        path = "/completions" if request.prompt is not None else "/chat/completions"
        body = self.payload(model, request, stream=self.stream)
        started = time.perf_counter()
        if self.stream:
            text, finish, usage, ttft, calls = await self._stream(path, body, started)
        else:
            status, data, headers = await self._request("POST", path, body)
            self._raise_for(status, data, headers)
            text, finish, usage, calls = _parse_full(data, chat=request.prompt is None)
            ttft = None
        latency = time.perf_counter() - started
        pt, ct = usage.get("prompt_tokens"), usage.get("completion_tokens")
        cost, source = self._cost(model, pt, ct)
        return Response(
            model=model, text=text, finish_reason=finish, prompt_tokens=pt, completion_tokens=ct,
            latency_s=latency, ttft_s=ttft, cost_usd=cost, cost_source=source, request=request.to_dict(),
            tool_calls=calls,
        )

    # -- label scores --------------------------------------------------------------------------------------

    async def score_labels(self, model: str, request: Request, labels: list[str]) -> LabelScores:
        """Label log-probs by the model's methods in order (echoed prompt log-probs, or the top log-probs of the
        first answer tokens); a method the server turns out not to support is dropped for this model, and a
        server that gives none fails here in one line."""
        caps = self.capabilities_for(model)
        reason = caps.no_label_reason or "the server gives no log-probabilities"
        for method in caps.label_methods:
            if method != "chat_top_logprobs" and request.prompt is None:
                continue
            try:
                if method == "forced_tokens":
                    return await self._score_by_forcing(model, request.prompt or "", labels)
                if method == "echo":
                    return await self._score_by_echo(model, request.prompt or "", labels)
                if method == "completion_top_logprobs":
                    return await self._score_by_top(model, labels, prompt=request.prompt)
                messages = request.messages or ({"role": "user", "content": request.prompt or ""},)
                return await self._score_by_top(model, labels, messages=messages)
            except NoLogprobs as exc:
                reason = f"{self.base_url} gave no log-probs for {method.replace('_', ' ')}: {exc}"
                current = self.capabilities_for(model)
                left = tuple(m for m in current.label_methods if m != method)
                self._caps[model] = current.with_(label_methods=left, no_label_reason=reason)
        raise BadRequestError(f"{model} gives no label scores ({reason}); use mode: generate")

    async def _score_by_forcing(self, model: str, prompt: str, labels: list[str]) -> LabelScores:
        """Exact log P(label | prompt) on llama-server, as in-process: the prompt tokenized as a completion prompt is
        (BOS, special tokens parsed), each label on its own (neither), then per label one /completion whose grammar
        admits only the label's tokens; llama-server reports each sampled token's log-prob from the raw logits,
        before sampling (tools/server/server-common.cpp `get_token_probabilities`), so forcing changes nothing."""
        root = self._root()
        prompt_ids = await self._tokenize(root, prompt, special=True)
        out: dict[str, float] = {}
        pt = ct = 0
        for label in labels:
            ids = self._label_ids.get((model, label))
            if ids is None:
                ids = self._label_ids[(model, label)] = await self._tokenize(root, label, special=False)
            body = {"prompt": prompt_ids, "n_predict": len(ids), "n_probs": 1, "temperature": 0.0,
                    "grammar": "root ::= " + " ".join(f"<[{i}]>" for i in ids), "cache_prompt": True}
            status, data, headers = await self._request("POST", root + "/completion", body, absolute=True)
            self._raise_for(status, data, headers)
            probs = data.get("completion_probabilities") if isinstance(data, dict) else None
            if not isinstance(probs, list) or [p.get("id") for p in probs if isinstance(p, dict)] != ids:
                raise NoLogprobs("/completion did not give each forced label token's log-prob")
            out[label] = sum(float(p["logprob"]) for p in probs)
            pt += len(prompt_ids)
            ct += len(ids)
        cost, source = self._cost(model, pt, ct)
        return LabelScores(out, pt, ct, cost, source, "forced_tokens")

    async def _tokenize(self, root: str, text: str, *, special: bool) -> list[int]:
        """llama-server's tokens for `text`: a prompt with BOS and special tokens parsed, as /completion reads a text
        prompt; a label alone with neither, as the in-process engine tokenizes one."""
        body = {"content": text, "add_special": special, "parse_special": special}
        status, data, headers = await self._request("POST", root + "/tokenize", body, absolute=True)
        self._raise_for(status, data, headers)
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, list) or not all(isinstance(t, int) for t in tokens):
            raise NoLogprobs("/tokenize gave no token ids")
        return tokens

    async def _score_by_echo(self, model: str, prompt: str, labels: list[str]) -> LabelScores:
        out: dict[str, float] = {}
        pt = ct = 0
        for label in labels:
            # max_tokens 1, never 0: llama-cpp-python's server reads 0 as "no limit" and generates on
            body = {"model": model, "prompt": prompt + label, "max_tokens": 1, "echo": True, "logprobs": 1,
                    "temperature": 0.0}
            status, data, headers = await self._request("POST", "/completions", body)
            self._raise_for(status, data, headers)
            try:
                out[label] = label_logprob(echoed_prompt(data, prompt + label), label)
            except NoLogprobs:
                if out:  # the server gave them for another label: this answer is broken, not the method
                    raise ServerError(f"{self.base_url} answered without prompt log-probs", status=200) from None
                raise
            usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
            pt += usage.get("prompt_tokens") or 0
            ct += usage.get("completion_tokens") or 0
        cost, source = self._cost(model, pt, ct)
        return LabelScores(out, pt, ct, cost, source, "echo")

    async def _score_by_top(self, model: str, labels: list[str], *, prompt: str | None = None,
                            messages: Any = None) -> LabelScores:
        """One answer token first; more (up to 8) only when two labels are still open after it."""
        caps = self.capabilities_for(model)
        pt = ct = 0
        n = 1
        while True:
            if prompt is not None:
                path = "/completions"
                body: dict[str, Any] = {"model": model, "prompt": prompt, "max_tokens": n, "logprobs": _TOP_LOGPROBS}
            else:
                path = "/chat/completions"
                body = {"model": model, "messages": [dict(m) for m in messages], caps.token_limit_param: n,
                        "logprobs": True, "top_logprobs": _TOP_LOGPROBS}
            if "temperature" in caps.sampling_params:
                body["temperature"] = 0.0
            status, data, headers = await self._request("POST", path, body)
            self._raise_for(status, data, headers)
            try:
                choice = data["choices"][0]
                lp = choice.get("logprobs")
                entries = completion_entries(lp) if prompt is not None else chat_entries((lp or {}).get("content"))
            except (KeyError, IndexError, TypeError, AttributeError):
                raise NoLogprobs("the answer has no choices with log-probs") from None
            top = top_label_logprobs(entries, labels)
            usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
            pt += usage.get("prompt_tokens") or 0
            ct += usage.get("completion_tokens") or 0
            if len(top.unfinished) < 2 or n >= 8 or len(entries) < n:
                break
            n = 8
        cost, source = self._cost(model, pt, ct)
        method = "completion_top_logprobs" if prompt is not None else "chat_top_logprobs"
        return LabelScores(top.logprobs, pt, ct, cost, source, method, tuple(x for x in labels if x in top.bounded))

    # -- transport -----------------------------------------------------------------------------------------

    async def _request(self, method: str, path: str, body: dict[str, Any] | None, *,
                       absolute: bool = False) -> tuple[int, Any, Any]:
        url = path if absolute else self.base_url + path
        data = jsonfast.dumps_bytes(body) if body is not None else None
        with _transport_errors(url, self.timeout_s, "no answer", "connection to"), self._deadlines.guard():
            async with self._sess().request(method, url, data=data) as resp:
                raw = await resp.read()
                status, headers = resp.status, resp.headers
        if status != 200:
            return status, _error_body(raw), headers
        try:
            parsed = jsonfast.loads(raw) if raw else None
        except ValueError:
            raise ServerError(f"{url} returned malformed JSON ({len(raw)} bytes)", status=status) from None
        return status, parsed, headers

    async def _stream(
        self, path: str, body: dict[str, Any], started: float
    ) -> tuple[str, str | None, dict[str, Any], float | None, tuple[ToolCall, ...]]:
        url = self.base_url + path
        chat = path.endswith("chat/completions")
        with _transport_errors(url, self.timeout_s, "no complete answer", "stream from"), self._deadlines.guard():
            async with self._sess().post(url, data=jsonfast.dumps_bytes(body)) as resp:
                if resp.status != 200:
                    self._raise_for(resp.status, _error_body(await resp.read()), resp.headers)
                if not resp.headers.get("Content-Type", "").startswith("text/event-stream"):
                    # The server ignored stream=true and answered in one piece.
                    raw = await resp.read()
                    try:
                        data = jsonfast.loads(raw)
                    except ValueError:
                        raise ServerError(f"{url} returned malformed JSON", status=200) from None
                    text, finish, usage, calls = _parse_full(data, chat=chat)
                    return text, finish, usage, None, calls
                answer = StreamedAnswer(url, chat=chat, started=started)
                async for block in resp.content.iter_any():
                    answer.feed(block)
                    if answer.done:
                        break
        return (*answer.close(), answer.tool_calls())

    def _raise_for(self, status: int, data: Any, headers: Any) -> None:
        if status == 200:
            return
        msg = redact(error_message(data), (self._key,) if self._key else ())
        where = f"{self.base_url} said {status}: {msg}"
        if status in (401, 403):
            raise AuthenticationError(f"{where} (check the API key)", status=status)
        if status == 404:
            raise ModelNotFoundError(where, status=status)
        if status == 429:
            raise RateLimitError(where, status=status, retry_after=_retry_after(headers))
        if status in (400, 413, 422):
            if servers.VLLM_NO_TEMPLATE in msg:  # a conversation for a model without a chat template
                where += f" ({servers.VLLM_NO_TEMPLATE_FIX})"
            param, code = error_field(data, "param"), error_field(data, "code")
            raise BadRequestError(where, status=status, param=param, code=code)
        if status >= 500 or status == 408:
            raise ServerError(where, status=status, retry_after=_retry_after(headers) if status == 503 else None)
        raise ProviderError(where, status=status)


class ModelListFailed(ProviderError):
    """Listing the server's models failed (not: the server does not list them)."""


_TOP_LOGPROBS = 20  # the most OpenAI (and vLLM by default) return


def _parse_models(body: Any) -> list[ModelInfo] | None:
    """A model list in any of the shapes servers answer: OpenAI's {"data": [...]}, Together's bare array."""
    items = body.get("data") if isinstance(body, dict) else body
    if not isinstance(items, list):
        return None
    return [_model_info(item) for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)]


def _model_info(item: dict[str, Any]) -> ModelInfo:
    raw_pricing, raw_meta = item.get("pricing"), item.get("meta")
    pricing: dict[str, Any] = raw_pricing if isinstance(raw_pricing, dict) else {}
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    # Together: context_length; vLLM: max_model_len; llama.cpp's server: meta.n_ctx (else the trained n_ctx_train)
    context = next((v for v in (item.get("context_length"), item.get("max_model_len"), meta.get("n_ctx"),
                                meta.get("n_ctx_train")) if isinstance(v, int) and v > 0), None)
    owner = item.get("owned_by")
    return ModelInfo(item["id"], _price(pricing.get("input")), _price(pricing.get("output")), context,
                     owner if isinstance(owner, str) else None)


class _transport_errors:  # noqa: N801 - used like a function: `with _transport_errors(...):`
    """aiohttp and timeout failures as the typed errors the retry policy understands.

    A class, not @contextlib.contextmanager: entered for every request, and the generator machinery cost ~2%."""

    __slots__ = ("url", "timeout_s", "late", "broke")

    def __init__(self, url: str, timeout_s: float, late: str, broke: str) -> None:
        self.url, self.timeout_s, self.late, self.broke = url, timeout_s, late, broke

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            return
        url = self.url
        if isinstance(exc, builtins.TimeoutError):
            raise RequestTimeoutError(f"{self.late} from {url} within {self.timeout_s:g} s") from exc
        if isinstance(exc, aiohttp.ClientConnectorError):
            raise ConnectionFailedError(f"cannot reach {url}: {exc.os_error or exc}") from None
        if isinstance(exc, aiohttp.ClientError):
            raise ServerError(f"{self.broke} {url} broke: {type(exc).__name__}") from None


_model_lists: dict[str, tuple[float, list[ModelInfo] | None]] = {}
_MODEL_LIST_TTL_S = 600.0


def _is_loopback(url: str) -> bool:

    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def _price(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and value >= 0 else None


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait, from `retry-after-ms` (OpenAI's, more precise) or `Retry-After` (seconds or an HTTP date)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _error_body(raw: bytes) -> Any:
    """An error answer's body: its JSON, or the start of its text (an HTML page from a proxy, say)."""
    try:
        return jsonfast.loads(raw) if raw else None
    except ValueError:
        return {"error": {"message": raw[:200].decode("utf-8", "replace")}}


def _parse_full(data: Any, *, chat: bool) -> tuple[str, str | None, dict[str, Any], tuple[ToolCall, ...]]:
    if not isinstance(data, dict):
        raise ServerError("answer is not a JSON object", status=200)
    choices = data.get("choices")
    if not choices:
        raise ServerError("answer has no choices", status=200)
    choice = choices[0]
    message = (choice.get("message") or {}) if chat else {}
    text = message.get("content") if chat else choice.get("text")
    calls = _tool_calls(message.get("tool_calls"))
    if text is None and not calls:
        raise ServerError("answer has no text", status=200)
    return text or "", choice.get("finish_reason"), data.get("usage") or {}, calls


def _tool_calls(items: Any) -> tuple[ToolCall, ...]:
    """A message's `tool_calls` (openai-python's `ChatCompletionMessageToolCall`: {id, type: "function",
    function: {name, arguments: JSON text}}); entries of another type (a custom tool) are not function calls."""
    out = []
    for item in items if isinstance(items, list) else ():
        fn = item.get("function") if isinstance(item, dict) else None
        if isinstance(fn, dict) and item.get("type", "function") == "function":
            args = fn.get("arguments")
            # kept as the model wrote it; a server that sends an object (not OpenAI's text) gets it as JSON text
            text = args if isinstance(args, str) else jsonfast.dumps(args) if args is not None else ""
            out.append(ToolCall(str(fn.get("name") or ""), text, item.get("id")))
    return tuple(out)
