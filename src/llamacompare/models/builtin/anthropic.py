"""Anthropic's Messages API (`anthropic:MODEL`; the key in ANTHROPIC_API_KEY; `--base-url` or ANTHROPIC_BASE_URL,
default https://api.anthropic.com, as Anthropic's SDK reads them). The client is `models/anthropic_messages.py`."""

from __future__ import annotations

import os

from llamacompare.models.anthropic_batch import AnthropicBatch
from llamacompare.models.anthropic_messages import AnthropicProvider
from llamacompare.models.base import Provider
from llamacompare.models.catalog import ANTHROPIC_PRICES, ANTHROPIC_PRICES_AS_OF, anthropic_price
from llamacompare.models.plugins import OfflineFacts, ProviderPlugin
from llamacompare.models.spec import ModelSpec
from llamacompare.settings import get_env, require_key

DEFAULT_URL = "https://api.anthropic.com"
URL_ENV = "ANTHROPIC_BASE_URL"
KEY_ENV = "ANTHROPIC_API_KEY"


class AnthropicPlugin(ProviderPlugin):
    description = "any model Anthropic serves (Messages API)"

    def url(self, base_url: str | None) -> str:
        return (base_url or os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")

    def claims(self, name: str) -> bool:
        return name.lower() in ANTHROPIC_PRICES

    def resolve(self, rest: str, *, base_url: str | None = None) -> ModelSpec:
        price = anthropic_price(rest)
        return ModelSpec(self.name, rest, None, self.url(base_url), KEY_ENV, price_in=price[0] if price else None,
                         price_out=price[1] if price else None, prompt_format="messages",
                         prices_as_of=ANTHROPIC_PRICES_AS_OF if price else None)

    def offline_facts(self, spec: ModelSpec) -> OfflineFacts:

        return OfflineFacts(batch=AnthropicBatch.limits)

    def known_names(self) -> list[str]:
        return [f"{self.name}:{alias}" for alias in ANTHROPIC_PRICES]

    def listing(self) -> list[str]:
        lines = [f"{self.name}:{alias}  ${p_in:.2f}/${p_out:.2f} per M tokens ({ANTHROPIC_PRICES_AS_OF})"
                 for alias, (p_in, p_out) in ANTHROPIC_PRICES.items()]
        return [*lines, f"{self.name}:NAME  {self.description} ({KEY_ENV}; --base-url or {URL_ENV}, default "
                        f"{DEFAULT_URL})"]

    def open(self, spec: ModelSpec, *, api_key: str | None = None, timeout_s: float = 120.0,
             stream: bool = True) -> Provider:

        url = spec.base_url or DEFAULT_URL
        key = api_key
        if key is None:  # Anthropic itself needs a key; a proxy or a local server may not
            key = require_key(KEY_ENV, provider=self.name) if "api.anthropic.com" in url else get_env(KEY_ENV)
        return AnthropicProvider(url, key, key_env=KEY_ENV, timeout_s=timeout_s, stream=stream, batch=AnthropicBatch)


plugin = AnthropicPlugin()
