"""What a provider can do for a model: declared by each provider, refined by what the server says about itself.

The runner and the scorers ask these questions of the provider; they never test its class or its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

#: how label log-probabilities are obtained, in the order a provider prefers them
LabelMethod = Literal["in_process", "forced_tokens", "echo", "completion_top_logprobs", "chat_top_logprobs"]

LABEL_METHOD_WORDS: dict[str, str] = {
    "in_process": "computed in-process",
    "forced_tokens": "each label's tokens forced after the prompt, their log-probs read (exact)",
    "echo": "echoed prompt log-probs",
    "completion_top_logprobs": "top log-probs of the first answer tokens of a completion",
    "chat_top_logprobs": "top log-probs of the first answer tokens of a chat answer",
}

#: methods that give log P(label | prompt) itself; the top log-probs methods give it only for labels listed among
#: the alternatives, and a bound for the others
EXACT_LABEL_METHODS = frozenset({"in_process", "forced_tokens", "echo"})
APPROXIMATE_LABEL_METHODS = frozenset({"completion_top_logprobs", "chat_top_logprobs"})

ALL_SAMPLING = frozenset({"temperature", "top_p", "stop", "seed"})

#: where a server tells whether a model carries a chat template (`servers.py` says what each source answers):
#: llama-server's /props gives it, vLLM's /tokenize of a conversation refuses a model without one, Ollama's
#: /api/show gives the model's Go template; "" where the server does not say
TemplateSource = Literal["", "props", "tokenize", "show"]

#: how a server takes a response format (`params.response_format`) on an endpoint (`servers.py` says which takes
#: what): "response_format", OpenAI's field as is; "json_schema", llama-server's own field, the schema itself;
#: "grammar", llama-cpp-python's server's GBNF grammar; "": not there (refused before anything is sent)
FormatField = Literal["response_format", "json_schema", "grammar", ""]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """One model on one server. `label_methods` empty means no label scores; `no_label_reason` says why."""

    chat: bool = True
    completions: bool = True
    label_methods: tuple[LabelMethod, ...] = ()
    no_label_reason: str = ""
    #: the request field that limits the answer's length (`max_completion_tokens` on OpenAI)
    token_limit_param: str = "max_tokens"
    #: the sampling parameters the server takes; others are left out of requests
    sampling_params: frozenset[str] = field(default=ALL_SAMPLING)
    streaming: bool = True
    #: the server's model list carries per-token prices
    prices: bool = False
    #: a prompt that is too long is caught before any request (the context length is known)
    context_check: bool = False
    #: how a requested name finds the served id: exact, then case-insensitive, then (Ollama) with `:latest`
    name_rules: tuple[str, ...] = ("exact", "casefold")
    #: counts tokens exactly (in-process) rather than estimating them from characters
    exact_tokens: bool = False
    #: answers cost nothing per token (in-process)
    free: bool = False
    #: a server that may refuse work when it is overloaded (429, 503): the runner adapts the requests it keeps in
    #: flight to it; an in-process model computes as many answers at once as its batch holds, and refuses none
    hosted: bool = True
    #: the server tells a model's chat template (llama-server's /props: conversations are rendered here, as
    #: in-process, and sent as text on /completions), or whether it has one (vLLM, Ollama): a model without one
    #: gets plain text on /completions, as in-process, so every engine reads the same text
    template_from_server: TemplateSource = ""
    #: where a response format goes in a request on /chat/completions and on /completions (`FormatField`)
    format_on_chat: FormatField = "response_format"
    format_on_completions: FormatField = "response_format"

    def with_(self, **changes: object) -> Capabilities:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def label_method(self) -> LabelMethod | None:
        return self.label_methods[0] if self.label_methods else None


def match_served(requested: str, served: list[str], rules: tuple[str, ...]) -> str | None:
    """The served id that `requested` names under `rules`, or None. Ambiguous case-folded matches count as none:
    the id is sent exactly as the server lists it (vLLM, for one, matches names exactly)."""
    if requested in served:
        return requested
    if "casefold" in rules:
        folded = [s for s in served if s.casefold() == requested.casefold()]
        if len(folded) == 1:
            return folded[0]
    if "ollama_tag" in rules and ":" not in requested.rsplit("/", 1)[-1]:
        # Ollama lists every model with its tag and never hides `:latest` (types/model/name.go)
        return match_served(requested + ":latest", served, ("exact", "casefold"))
    return None
