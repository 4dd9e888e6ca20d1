"""What each OpenAI-compatible server supports, as its published format says (checked against each source):

- Together (togethercomputer/openapi `openapi.yaml`): completions with `echo` + `logprobs` return the prompt's
  log-probs at the top level (`prompt[0].logprobs`); `/models` is a bare array with `pricing` and
  `context_length`; streamed completion chunks carry `token`, `choices[].text`, and `finish_reason` / `usage`
  at the top level.
- OpenAI (openai-python `types/`): `echo` with log-probs is gone from `/v1/completions`; chat answers give
  `logprobs.content[].top_logprobs`; `max_tokens` is deprecated for `max_completion_tokens`, and reasoning models
  (o-series, gpt-5) take neither `max_tokens` nor a temperature other than the default, nor log-probs.
- vLLM (`vllm/entrypoints/openai/protocol.py`, `serving_completion.py`): echo with log-probs, offsets counting
  the BOS token's text; `/models` lists `max_model_len` and `owned_by: "vllm"`; names match exactly.
- Ollama (`openai/openai.go`): no `echo`; chat `logprobs` + `top_logprobs`; `/models` ids carry their tag
  (`llama3:latest`), no context length and no prices; `max_tokens` becomes `num_predict`.
- llama.cpp's `llama-server` (`tools/server`): chat `logprobs` + `top_logprobs`; `/models` says
  `owned_by: "llamacpp"` with `meta.n_ctx`; a failure mid-stream is an `error:` SSE line, then `data: [DONE]`.
- llama-cpp-python's server (`llama_cpp/server/app.py`: `owned_by: "me"`): completions with echo and log-probs in
  OpenAI's legacy shape, and top log-probs of generated tokens. Its echo sorts the whole vocabulary in Python for
  every prompt token (`llama_cpp/llama.py` `_create_completion`): about a second a token for Gemma 3's 262k
  vocabulary, minutes per case. So there the first answer token's top log-probs on /completions score the
  labels (one request per case, one sort), echo only after that.
"""

from __future__ import annotations

import re

from llamacompare.models.base import ModelInfo
from llamacompare.models.capabilities import ALL_SAMPLING, Capabilities

#: an OpenAI-compatible server we know nothing more about: try echo, then chat top log-probs
GENERIC = Capabilities(label_methods=("echo", "chat_top_logprobs"))

TOGETHER = Capabilities(label_methods=("echo",), prices=True)

VLLM = Capabilities(label_methods=("echo", "chat_top_logprobs"))

OLLAMA = Capabilities(
    label_methods=("chat_top_logprobs",), name_rules=("exact", "casefold", "ollama_tag"),
)

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

LLAMA_SERVER = Capabilities(label_methods=("forced_tokens", "chat_top_logprobs"), template_from_server=True)

LLAMA_CPP_PYTHON = Capabilities(label_methods=("completion_top_logprobs", "echo", "chat_top_logprobs"))

OPENAI_CHAT = Capabilities(label_methods=("chat_top_logprobs",), token_limit_param="max_completion_tokens")

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
