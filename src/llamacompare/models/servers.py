"""What each OpenAI-compatible server supports, as its published format says (checked against each source):

- Together (togethercomputer/openapi `openapi.yaml`): completions with `echo` + `logprobs` return the prompt's
  log-probs at the top level (`prompt[0].logprobs`); `/models` is a bare array with `pricing` and
  `context_length`; streamed completion chunks carry `token`, `choices[].text`, and `finish_reason` / `usage`
  at the top level.
- OpenAI (openai-python `types/`): `echo` with log-probs is gone from `/v1/completions`; chat answers give
  `logprobs.content[].top_logprobs`; `max_tokens` is deprecated for `max_completion_tokens`, and reasoning models
  (o-series, gpt-5) take neither `max_tokens` nor a temperature other than the default, nor log-probs.
- vLLM (`vllm/entrypoints/openai/protocol.py`, `serving_completion.py`): echo with log-probs, offsets counting
  the BOS token's text; `/models` lists `max_model_len` and `owned_by: "vllm"`; names match exactly. A model whose
  tokenizer has no chat template (and no `--chat-template`) is refused every conversation: `apply_hf_chat_template`
  (`vllm/entrypoints/chat_utils.py`; `safe_apply_chat_template` in `vllm/renderers/hf.py` later) raises "As of
  transformers v4.44, default chat template is no longer allowed, ...", a ValueError that `serving_chat.py` and
  `serving_tokenization.py` answer with `create_error_response(f"{e} {e.__cause__}")`: a 400, `{"error":
  {"message", "type": "BadRequestError", "param": null, "code": 400}}`. `POST /tokenize` (beside /v1) with
  `messages` (`TokenizeChatRequest`) applies the template and generates nothing: 200 `{count, max_model_len,
  tokens}` for a model with one, that 400 for a model without. So a base model is found before any request and
  gets plain text on /v1/completions, as in-process.
- Ollama (`openai/openai.go`): no `echo`; chat `logprobs` + `top_logprobs`; `/models` ids carry their tag
  (`llama3:latest`), no context length and no prices; `max_tokens` becomes `num_predict`. `POST /api/show`
  `{"model"}` gives the model's Go `template` (`api/types.go` `ShowResponse`, `server/routes.go` `GetModelInfo`); a
  model made from a GGUF without a chat template has no template layer and gets `{{ .Prompt }}`
  (`template/template.go` `DefaultTemplate`, `server/images.go` `GetModel`). `/v1/completions` becomes a generate
  request without `raw` (`FromCompleteRequest`), its prompt put through that template: `{{ .Prompt }}` leaves it
  as sent, while messages through it lose the system prompt and run the turns together with nothing between them
  (`template.go` `Execute`, the path for templates without `.Messages`). So such a model gets plain text on
  /v1/completions, as in-process.
- llama.cpp's `llama-server` (`tools/server`): chat `logprobs` + `top_logprobs`; `/models` says
  `owned_by: "llamacpp"` with `meta.n_ctx`; a failure mid-stream is an `error:` SSE line, then `data: [DONE]`;
  `GET /props` gives the chat template, rendered here and sent as text (its ChatML fallback: a model without one).
- llama-cpp-python's server (`llama_cpp/server/app.py`: `owned_by: "me"`): completions with echo and log-probs in
  OpenAI's legacy shape, and top log-probs of generated tokens. Its echo sorts the whole vocabulary in Python for
  every prompt token (`llama_cpp/llama.py` `_create_completion`): about a second a token for Gemma 3's 262k
  vocabulary, minutes per case. So there the first answer token's top log-probs on /completions score the
  labels (one request per case, one sort), echo only after that.

A response format (`params.response_format`, in OpenAI's shape: openai-python
`types/shared/response_format_json_schema.py`) goes where each server reads it (`format_fields`):
- OpenAI: `response_format` on /chat/completions; its legacy /completions has none (`completion_create_params.py`).
- Together (`openapi.yaml`): `response_format` on ChatCompletionRequest (ResponseFormatJsonSchema: `json_schema`
  with `name`, `schema`, `strict`), none on CompletionRequest.
- vLLM (`protocol.py`): `response_format` on both ChatCompletionRequest and CompletionRequest.
- Ollama (`openai/openai.go`): `response_format` on ChatCompletionRequest only (json_object as `format: "json"`,
  json_schema's `schema` as the format); its CompletionRequest has no such field.
- llama-server (`tools/server/server-common.cpp` `oaicompat_chat_params_parse`): `response_format` on chat;
  `oaicompat_completion_params_parse` copies /v1/completions fields through unread, and only its own `json_schema`
  field (`server-schema.cpp`: the schema, `{}` for any object) makes a grammar there.
- llama-cpp-python's server (`llama_cpp/server/types.py`): `response_format` on chat, a GBNF `grammar` on
  /completions (`CreateCompletionRequest.grammar`).
Where a server has no field, the request is refused here with the fix, before it is sent.
"""

from __future__ import annotations

import re
from typing import Any

from llamacompare.errors import UsageError
from llamacompare.models.base import ModelInfo
from llamacompare.models.capabilities import ALL_SAMPLING, Capabilities, FormatField
from llamacompare.models.grammar import TOOL_CALLS, gbnf
from llamacompare.models.response_format import ResponseFormat

#: an OpenAI-compatible server we know nothing more about: try echo, then chat top log-probs
GENERIC = Capabilities(label_methods=("echo", "chat_top_logprobs"))

TOGETHER = Capabilities(label_methods=("echo",), prices=True, format_on_completions="")

VLLM = Capabilities(label_methods=("echo", "chat_top_logprobs"), template_from_server="tokenize")

#: the words of vLLM's refusal of a conversation for a model without a chat template (above)
VLLM_NO_TEMPLATE = "default chat template is no longer allowed"
VLLM_NO_TEMPLATE_FIX = ("vLLM refuses chat for a model without a chat template: use --api completions, or start "
                        "vLLM with --chat-template")

OLLAMA = Capabilities(
    label_methods=("chat_top_logprobs",), name_rules=("exact", "casefold", "ollama_tag"), template_from_server="show",
    format_on_completions="",
)

_OLLAMA_DEFAULT_TEMPLATE = re.compile(r"\{\{-?\s*\.Prompt\s*-?\}\}")
_OLLAMA_RENDERER = re.compile(r"^RENDERER ", re.MULTILINE)

#: what llama-server's /props says a model's chat template is when the GGUF carries none: its ChatML fallback
#: (common/chat.cpp `CHATML_TEMPLATE_SRC`, llama.cpp as vendored in llama-cpp-python 0.3.36); nothing else in /props
#: tells the fallback from a model's own template
LLAMA_SERVER_CHATML_FALLBACK = (
    "{%- for message in messages -%}\n"
    "  {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "  {{- '<|im_start|>assistant\n' -}}\n"
    "{%- endif -%}"
)

LLAMA_SERVER = Capabilities(label_methods=("forced_tokens", "chat_top_logprobs"), template_from_server="props",
                            format_on_completions="json_schema")

LLAMA_CPP_PYTHON = Capabilities(label_methods=("completion_top_logprobs", "echo", "chat_top_logprobs"),
                                format_on_completions="grammar")

OPENAI_CHAT = Capabilities(label_methods=("chat_top_logprobs",), token_limit_param="max_completion_tokens",
                           format_on_completions="")

OPENAI_REASONING = OPENAI_CHAT.with_(
    label_methods=(),
    no_label_reason="OpenAI reasoning models give no log-probabilities",
    sampling_params=ALL_SAMPLING - {"temperature", "top_p"},
)

_REASONING = re.compile(r"^(o\d|gpt-5)", re.IGNORECASE)

#: servers that write their own name into `owned_by` (vLLM's ModelCard default, llama.cpp's server), and
#: llama-cpp-python's fixed "me"
_SELF_NAMED = {"vllm": VLLM, "llamacpp": LLAMA_SERVER, "me": LLAMA_CPP_PYTHON}
#: OpenAI lists its own models as owned by "system" or "openai"
_OPENAI_OWNERS = ("system", "openai", "openai-internal")


def openai_api(model: str) -> Capabilities:
    """api.openai.com: chat models score labels by top log-probs; reasoning models cannot."""
    return OPENAI_REASONING if _REASONING.match(model) else OPENAI_CHAT


def ollama_without_template(show: Any) -> bool:
    """An /api/show answer for a model that carries no chat template: its template is Ollama's default
    `{{ .Prompt }}`, and neither a renderer of Ollama's own (a Modelfile's RENDERER) nor a cloud host renders its
    conversations instead."""
    if not isinstance(show, dict) or show.get("renderer") or show.get("remote_host") or show.get("remote_model"):
        return False
    template, modelfile = show.get("template"), show.get("modelfile")
    if isinstance(modelfile, str) and _OLLAMA_RENDERER.search(modelfile):
        return False
    return isinstance(template, str) and _OLLAMA_DEFAULT_TEMPLATE.fullmatch(template.strip()) is not None


def tool_format_fields(caps: Capabilities) -> dict[str, object]:
    """For tools offered in the text format on /completions: llama.cpp's servers (llama-server, llama-cpp-python's)
    take a GBNF `grammar` there (tools/server/README.md; llama_cpp/server/types.py), so their answers are held to
    the format as an in-process model's are (`grammar.TOOL_CALLS`); other servers take none."""
    if caps.format_on_completions in ("json_schema", "grammar"):
        return {"grammar": gbnf(TOOL_CALLS)}
    return {}


def ollama_modelfile_extras(show: Any) -> str:
    """What an Ollama model's Modelfile adds to every conversation, as a note ("": nothing): its MESSAGE turns go
    before the case's own and its SYSTEM prompt stands in where a case gives none (api/types.go `ShowResponse`:
    `messages`, `system`; server/prompt.go `chatPrompt` puts the model's messages first). No other engine is sent
    them, so a comparison with such a model compares the model and its Modelfile."""
    if not isinstance(show, dict):
        return ""
    parts = []
    messages = show.get("messages")
    if isinstance(messages, list) and messages:
        parts.append(f"{len(messages)} MESSAGE turn(s) before each case's own")
    system = show.get("system")
    if isinstance(system, str) and system.strip():
        parts.append("its SYSTEM prompt where a case gives none")
    if not parts:
        return ""
    return (f"its Ollama Modelfile adds {' and '.join(parts)}, which no other engine is sent: the comparison is of "
            "the model with its Modelfile (a Modelfile of FROM and TEMPLATE alone compares the weights)")


def discovered(declared: Capabilities, info: ModelInfo | None) -> Capabilities:
    """A generic server that names itself in its model list gets that server's capabilities; what the list
    tells (a context length, prices) is known from then on."""
    caps = declared
    if info is None:
        return caps
    if caps is GENERIC and info.owned_by in _SELF_NAMED:
        caps = _SELF_NAMED[info.owned_by]
    elif caps is GENERIC and info.owned_by in _OPENAI_OWNERS:
        caps = openai_api(info.id)
    if info.context_length:
        caps = caps.with_(context_check=True)
    if info.input_price is not None and info.output_price is not None:
        caps = caps.with_(prices=True)
    return caps


def format_fields(caps: Capabilities, fmt: ResponseFormat, *, chat: bool, model: str) -> dict[str, object]:
    """The request fields that carry a response format to this server on this endpoint (see the module's notes);
    a UsageError, with the fix, where the server takes none there."""
    field: FormatField = caps.format_on_chat if chat else caps.format_on_completions
    if field == "response_format":
        return {"response_format": fmt.to_openai()}
    if field == "json_schema":
        return {"json_schema": fmt.enforced_schema()}
    if field == "grammar":
        return {"grammar": gbnf(fmt)}
    endpoint = "/chat/completions" if chat else "/completions"
    raise UsageError(f"{model}: the server takes no response_format on {endpoint}, where this model is sent its "
                     "text; use --api chat (api: chat on the model), or leave response_format out for it")
