"""How real servers differ from OpenAI's shapes, replayed by the scripted server (`ScriptedServer(dialect=...)`).

Each dialect is built from the server's published spec or source, never from our client:

- "openai": OpenAI's legacy completions and chat shapes (openai-python `src/openai/types/completion_choice.py`,
  `types/chat/chat_completion_chunk.py`), as llama-cpp-python's server also answers them.
- "together": togethercomputer/openapi `openapi.yaml`: `ModelInfoList` (a bare array, `pricing`, `context_length`),
  `CompletionResponse` with echoed prompt log-probs at the top level (`PromptPart`: `prompt[0].logprobs` =
  `LogprobsPart` {tokens, token_logprobs, token_ids}, no `text_offset`), `CompletionChunk` (`token` {id, text,
  logprob, special}, `choices[].text`, `finish_reason` and `usage` at the top level), `FinishReason` "eos".
- "vllm": vllm-project/vllm `vllm/entrypoints/openai/protocol.py` (`ModelCard`: `max_model_len`, `owned_by:
  "vllm"`) and `serving_completion.py` `_create_completion_logprobs` (echo: the BOS token first, with no
  log-prob, and `text_offset` the running sum of token lengths, so it counts the BOS text). A model without a chat
  template (`ModelSpec(chat_template=False)`): every conversation is refused, on /v1/chat/completions and on
  `POST /tokenize` (served at the root, `TokenizeChatRequest` {model, messages, add_generation_prompt, ...} or
  `TokenizeCompletionRequest` {model, prompt, add_special_tokens}; `TokenizeResponse` {count, max_model_len,
  tokens, token_strs}): `vllm/entrypoints/chat_utils.py` `apply_hf_chat_template` raises
  `ChatTemplateResolutionError` (a ValueError), which `serving_chat.py` / `serving_tokenization.py` turn into
  `create_error_response(f"{e} {e.__cause__}")`, i.e. `ErrorResponse` {"error": `ErrorInfo` {message, type:
  "BadRequestError", param: null, code: 400}} with HTTP 400 (`serving_engine.py`); an unknown model is a 404
  "NotFoundError" (`_check_model`).
- "ollama": ollama/ollama `openai/openai.go` (`CompletionRequest` has no `echo`; `logprobs` gives the generated
  tokens' `ChoiceLogprobs` {content}; `max_tokens` becomes `num_predict`, 0 meaning no limit) and
  `types/model/name.go` (ids keep their tag: `llama3:latest`). `POST /api/show` {"model"} (or the deprecated
  "name") answers `api/types.go` `ShowResponse` (modelfile, template, details, model_info, capabilities,
  modified_at; empty fields left out) from `server/routes.go` `GetModelInfo`; a model made from a GGUF without a
  chat template has Ollama's default template `{{ .Prompt }}` (`template/template.go` `DefaultTemplate`,
  `server/images.go` `GetModel`); no model: 400 {"error": "model is required"}; unknown: 404 {"error": "model
  'NAME' not found"} (`ShowHandler`).
- "llama_server": ggml-org/llama.cpp `tools/server` (`/v1/models`: `owned_by: "llamacpp"`, `meta` with `n_ctx`;
  no echo on completions; an error mid-stream is `error: {...}` then `data: [DONE]`, server.cpp
  `server_sent_event(sink, "error", ...)`).
- "llama_cpp_python": abetlen/llama-cpp-python `llama_cpp/server` (`owned_by: "me"`; `max_tokens` 0 or less
  means "until the context is full").
- "openai_api": api.openai.com for a reasoning model: `max_tokens` refused with param "max_tokens", code
  "unsupported_parameter"; a temperature other than 1 refused with code "unsupported_value"
  (openai-python `types/chat/completion_create_params.py`: max_tokens "is not compatible with o-series models").
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

try:
    from . import fake_lm
    from . import openai_shapes as shapes
except ImportError:  # run as a plain script
    import fake_lm  # type: ignore[no-redef]
    import openai_shapes as shapes  # type: ignore[no-redef]

DIALECTS = ("openai", "together", "vllm", "ollama", "llama_server", "llama_cpp_python", "openai_api")
BOS = "<s>"
#: the generation limit a server uses for "no limit" in the fake (enough to show a runaway answer)
UNLIMITED = 400


def model_entry(dialect: str, item: dict[str, Any], context_length: int | None) -> dict[str, Any]:
    """One entry of GET /v1/models as the server lists it."""
    if dialect == "together":
        return {**item, "type": "chat", "display_name": item["id"], "organization": item["id"].split("/")[0]}
    base = {k: v for k, v in item.items() if k != "context_length"}
    if dialect == "vllm":
        return {**base, "owned_by": "vllm", "root": item["id"], "parent": None, "max_model_len": context_length,
                "permission": []}
    if dialect == "ollama":
        return {**base, "owned_by": "library"}
    if dialect == "llama_server":
        meta = {"vocab_type": 1, "n_vocab": 32000, "n_ctx": context_length, "n_ctx_train": 131072, "n_embd": 640}
        return {**base, "owned_by": "llamacpp", "meta": meta}
    if dialect == "llama_cpp_python":
        return {"id": item["id"], "object": "model", "owned_by": "me", "permissions": []}
    if dialect == "openai_api":
        return {**base, "owned_by": "system"}  # OpenAI's own models (openai-python types/model.py: owned_by)
    return item


def models_body(dialect: str, data: list[dict[str, Any]], models_format: str) -> Any:
    if dialect == "together" or models_format == "together":
        return data
    return {"object": "list", "data": data}


#: vLLM's refusal of a conversation for a model without a chat template: the ChatTemplateResolutionError's text,
#: then its `__cause__`, None (serving_chat.py `create_error_response(f"{e} {e.__cause__}")`)
VLLM_NO_TEMPLATE = ("As of transformers v4.44, default chat template is no longer allowed, so you must provide a chat "
                    "template if the tokenizer does not define one. None")
#: Ollama's template for a model that carries none (template/template.go `DefaultTemplate`)
OLLAMA_DEFAULT_TEMPLATE = "{{ .Prompt }}"
#: a Go template with the conversation in it, as a model with a chat template has one (ChatML turns)
OLLAMA_CHAT_TEMPLATE = ("{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
                        "<|im_start|>assistant\n")


def vllm_error(status: int, message: str, type_: str) -> dict[str, Any]:
    """vLLM's `ErrorResponse`: the HTTP status is also the error's `code`."""
    return {"error": {"message": message, "type": type_, "param": None, "code": status}}


def template_refusal(dialect: str, path: str, chat_template: bool) -> dict[str, Any] | None:
    """The 400 body a server answers a conversation with when the model has no chat template, else None."""
    if dialect == "vllm" and path == shapes.CHAT_PATH and not chat_template:
        return vllm_error(400, VLLM_NO_TEMPLATE, "BadRequestError")
    return None


def vllm_tokenize(body: Any, chat_template: bool, max_model_len: int | None) -> tuple[int, dict[str, Any]]:
    """POST /tokenize: a conversation through the model's chat template (refused without one), or a prompt with BOS
    (`add_special_tokens`, true by default for a prompt)."""
    if isinstance(body, dict) and isinstance(body.get("messages"), list):
        if not chat_template:
            return 400, vllm_error(400, VLLM_NO_TEMPLATE, "BadRequestError")
        text = fake_lm.prompt_text(body)
    elif isinstance(body, dict) and isinstance(body.get("prompt"), str):
        text = (BOS if body.get("add_special_tokens", True) else "") + body["prompt"]
    else:
        return 400, vllm_error(400, "Field required: 'prompt' or 'messages'", "BadRequestError")
    tokens = [_token_id(t) for t in fake_lm.tokenize(text)]
    return 200, {"count": len(tokens), "max_model_len": max_model_len or 0, "tokens": tokens, "token_strs": None}


def ollama_show(model: str, chat_template: bool, messages: tuple[tuple[str, str], ...] = (),
                system: str = "") -> dict[str, Any]:
    """POST /api/show for a served model: its template is its own, or Ollama's default; a Modelfile's MESSAGE turns
    and SYSTEM prompt are its `messages` and `system` (api/types.go `ShowResponse`), each also a Modelfile line
    (parser/parser.go: `SYSTEM`, `MESSAGE role content`)."""
    template = OLLAMA_CHAT_TEMPLATE if chat_template else OLLAMA_DEFAULT_TEMPLATE
    blob = "sha256-" + hashlib.sha256(model.encode()).hexdigest()
    quoted = template  # parser/parser.go `quote`
    if "\n" in template or template.startswith(" ") or template.endswith(" "):
        quoted = f'"""{template}"""' if '"' in template else f'"{template}"'
    modelfile = ('# Modelfile generated by "ollama show"\n'
                 "# To build a new Modelfile based on this, replace FROM with:\n"
                 f"# FROM {model}\n\nFROM /root/.ollama/models/blobs/{blob}\nTEMPLATE {quoted}\n"
                 + (f'SYSTEM "{system}"\n' if system else "")
                 + "".join(f"MESSAGE {role} {content}\n" for role, content in messages))
    details = {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
               "parameter_size": "1.2B", "quantization_level": "Q4_K_M"}
    return {"modelfile": modelfile, "template": template, "details": details,
            "model_info": {"general.architecture": "llama", "llama.context_length": 8192},
            "capabilities": ["completion"], "modified_at": "2025-01-01T00:00:00Z",
            **({"system": system} if system else {}),
            **({"messages": [{"role": r, "content": c} for r, c in messages]} if messages else {})}


def refusal(dialect: str, path: str, body: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(message, param, code) of a 400 the server answers this body with, else None."""
    if dialect != "openai_api":
        return None
    if path == shapes.CHAT_PATH and body.get("max_tokens") is not None:
        return ("Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                "'max_completion_tokens' instead.", "max_tokens", "unsupported_parameter")
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1:
        return (f"Unsupported value: 'temperature' does not support {temperature} with this model. Only the "
                "default (1) value is supported.", "temperature", "unsupported_value")
    if body.get("logprobs"):
        return ("This model does not support logprobs.", "logprobs", "unsupported_parameter")
    return None


def request_as_served(dialect: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The body as the server reads it: fields it ignores dropped, limits as it understands them."""
    out = dict(body)
    if dialect in ("ollama", "llama_server") and path == shapes.COMPLETIONS_PATH:
        out.pop("echo", None)  # not in their completions request
    if dialect in ("ollama", "llama_cpp_python") and out.get("max_tokens") == 0:
        out["max_tokens"] = UNLIMITED  # 0 means "no limit" there
    return out


def full_body(dialect: str, path: str, body: Mapping[str, Any], model: str, a: shapes.Answer) -> dict[str, Any]:
    if dialect == "vllm" and _echoing(path, body):
        a = _with_bos(a, model)
    out = shapes.full_body(path, body, model, a)
    if dialect == "vllm" and _echoing(path, body):
        out["usage"]["prompt_tokens"] += 1
        out["usage"]["total_tokens"] += 1
    if dialect == "ollama" and path == shapes.COMPLETIONS_PATH and body.get("logprobs"):
        for choice, c in zip(out["choices"], a.choices, strict=True):
            n_top = body.get("logprobs") if isinstance(body.get("logprobs"), int) else 0
            choice["logprobs"] = {"content": shapes.chat_logprobs(c.pieces, n_top)["content"]}
    if dialect == "together" and path == shapes.COMPLETIONS_PATH:
        out = _together_completion(body, model, a, out)
    if dialect == "together" and path == shapes.CHAT_PATH:
        # Together's ToolChoice (openapi.yaml) requires `index` in each of a message's tool_calls
        for choice in out["choices"]:
            for j, call in enumerate(choice["message"].get("tool_calls") or []):
                call["index"] = j
    return out


def _echoing(path: str, body: Mapping[str, Any]) -> bool:
    return path == shapes.COMPLETIONS_PATH and bool(body.get("echo")) and body.get("logprobs") is not None


def _with_bos(a: shapes.Answer, model: str) -> shapes.Answer:
    """vLLM's echo starts with the BOS token (no log-prob); the first text token then has one."""
    choices = []
    for c in a.choices:
        pieces = list(c.pieces)
        if pieces and pieces[0].logprob is None:
            first = pieces[0]
            lp = fake_lm.fake_logprob(model, "", first.text)
            pieces[0] = shapes.Piece(first.text, lp, {first.text: lp})
        choices.append(shapes.Choice([shapes.Piece(BOS, None, None), *pieces], c.finish_reason, 0))
    return shapes.Answer(choices, a.prompt_tokens, a.completion_tokens, a.created)


def _together_completion(body: Mapping[str, Any], model: str, a: shapes.Answer, out: dict[str, Any]) -> dict[str, Any]:
    """CompletionResponse: choices carry the generated text; with echo + logprobs the prompt's own tokens are in
    the top-level `prompt` list; LogprobsPart has token_ids and no text_offset."""
    echo = bool(body.get("echo"))
    prompt_text = body["prompt"] if isinstance(body.get("prompt"), str) else ""
    n_prompt = len(fake_lm.tokenize(prompt_text)) if echo else 0
    choices = []
    for c in a.choices:
        generated = c.pieces[n_prompt:]
        entry: dict[str, Any] = {"text": "".join(p.text for p in generated), "finish_reason":
                                 "eos" if c.finish_reason == "stop" else c.finish_reason, "seed": 0}
        if body.get("logprobs") is not None:
            entry["logprobs"] = _logprobs_part(generated)
        choices.append(entry)
    prompt: list[dict[str, Any]] = []
    if echo:
        part: dict[str, Any] = {"text": prompt_text}
        if body.get("logprobs") is not None:
            part["logprobs"] = _logprobs_part(a.choices[0].pieces[:n_prompt])
        prompt.append(part)
    return {"id": out["id"], "object": "text.completion", "created": out["created"], "model": model,
            "prompt": prompt, "choices": choices, "usage": out["usage"]}


def _logprobs_part(pieces: list[shapes.Piece]) -> dict[str, Any]:
    return {"tokens": [p.text for p in pieces], "token_logprobs": [p.logprob for p in pieces],
            "token_ids": [_token_id(p.text) for p in pieces]}


def _token_id(text: str) -> int:
    return int(fake_lm.unit_hash("token-id", text) * 32000)


def chunks(dialect: str, path: str, body: Mapping[str, Any], model: str, a: shapes.Answer) -> Iterator[dict[str, Any]]:
    if dialect == "together" and path == shapes.COMPLETIONS_PATH:
        yield from _together_chunks(body, model, a)
        return
    yield from shapes.chunks(path, body, model, a)


def _together_chunks(body: Mapping[str, Any], model: str, a: shapes.Answer) -> Iterator[dict[str, Any]]:
    """CompletionChunk: one token per chunk in `token` and `choices[0].text`; the last one has finish_reason and
    usage at the top level (usage is sent whatever stream_options say)."""
    head = {"id": "cmpl-" + fake_lm.prompt_hash(body), "object": "completion.chunk", "created": a.created,
            "model": model}
    c = a.choices[0]
    pieces = c.pieces
    for i, p in enumerate(pieces):
        last = i == len(pieces) - 1
        yield {**head, "token": {"id": _token_id(p.text), "text": p.text, "logprob": p.logprob, "special": False},
               "choices": [{"index": 0, "text": p.text}],
               "finish_reason": ("eos" if c.finish_reason == "stop" else c.finish_reason) if last else None,
               "usage": shapes.usage(a) if last else None, "seed": 0 if last else None}
    if not pieces:
        yield {**head, "token": {"id": 2, "text": "", "logprob": 0.0, "special": True},
               "choices": [{"index": 0, "text": ""}], "finish_reason": "length", "usage": shapes.usage(a)}
