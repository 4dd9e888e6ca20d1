"""A resolved model (`ModelSpec`) and how it is sent a conversation: what the registry's plugins make of a name and
what the providers, the renderer and the runner read. Below the registry and the provider interface, so that both
(and the plugins between them) can name it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

#: how a conversation is sent: as messages (the server applies its template), as text in the model family's
#: published template, or as text: in the template the model carries (a GGUF file's), else as written
PromptFormat = Literal["messages", "family_text", "text"]
#: what the user asked a server for: chat (messages, the server's template) or completions (text, rendered here)
Api = Literal["chat", "completions"]


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A resolved model. `id` is what the provider is sent; `name` is what the user sees and what is stored."""

    provider: str
    id: str
    family: str | None = None
    base_url: str | None = None
    key_env: str | None = None
    context_length: int | None = None
    path: str | None = None  # local GGUF file (resolved lazily for the bundled model)
    price_in: float | None = None  # USD per million tokens, from the dated table
    price_out: float | None = None
    label: str | None = None
    prompt_format: PromptFormat = "messages"
    api: Api | None = None  # chosen by the user (`--api`, a suite model's `api:`); None: as the server says
    prices_as_of: str | None = None  # the date of price_in/out's table where it is not catalog.PRICES_AS_OF

    def with_api(self, api: Api | None) -> ModelSpec:
        """`completions`: text on /completions, with no template (a base model's plain text); `chat`: messages for
        the server's template (an in-process model keeps its GGUF's template, which is its chat format)."""
        if api == "completions":
            return replace(self, api=api, prompt_format="text")
        if api == "chat":
            return replace(self, api=api, prompt_format="text" if self.provider == "local" else "messages")
        return self

    @property
    def name(self) -> str:
        return f"{self.provider}:{self.id}"

    @property
    def display(self) -> str:
        return self.label or self.name
