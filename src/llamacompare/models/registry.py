"""Model names -> ModelSpec: which provider, which exact id, which chat format.

A prefix picks the provider plugin (`together:`, `openai:`, `vllm:`, `ollama:`, `local:`, or any installed
plugin's, see `plugins`); without one, the plugin that claims the name takes it (known Together names, `.gguf`
paths and the bundled model). Names are case-insensitive where the provider's are.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from typing import Literal

from llamacompare.errors import ModelNameError

_BAD_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")
_BAD_IN_PATH = re.compile(r"[\x00-\x1f\x7f]")  # a .gguf file's path may have spaces

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


def known_names() -> list[str]:
    from llamacompare.models.plugins import plugins

    return [n for plugin in plugins().values() for n in plugin.known_names()]


def resolve(name: str, *, base_url: str | None = None, label: str | None = None, api: Api | None = None
            ) -> ModelSpec:
    """Resolve a user-typed model name. Raises ModelNameError with the closest known names."""
    from llamacompare.models.plugins import plugins

    raw = name.strip()
    if not raw or (_BAD_IN_PATH if raw.lower().endswith(".gguf") else _BAD_CHARS).search(raw):
        raise ModelNameError(f"invalid model name {name!r}: names have no spaces or control characters")
    installed = plugins()
    prefix, sep, rest = raw.partition(":")
    plugin = installed.get(prefix.lower()) if sep else None
    if plugin is not None:
        if not rest:
            raise ModelNameError(f"model name {name!r} has a provider prefix but no model after it")
    else:
        rest = raw
        plugin = next((p for p in installed.values() if p.claims(raw)), None)
        if plugin is None:
            raise ModelNameError(_unknown_message(raw, sorted(installed)))
    spec = plugin.resolve(rest, base_url=base_url).with_api(api)
    return replace(spec, label=label) if label else spec


def _unknown_message(raw: str, prefixes: list[str]) -> str:
    candidates = known_names()
    lower = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(raw.lower(), list(lower), n=3, cutoff=0.4)
    hint = ", ".join(lower[c] for c in close) if close else (candidates[-1] if candidates else "")
    listed = ", ".join(f"{p}:" for p in prefixes)
    return f"unknown model {raw!r}; closest known: {hint}. Prefix a provider ({listed}) to use any other model"
