"""Any OpenAI-compatible server (`--base-url` or OPENAI_BASE_URL): llama.cpp's server, llama-cpp-python's, LM
Studio, vLLM, OpenAI itself. What the server is, where it says (its model list), decides what it can do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from llamacompare.models import servers
from llamacompare.models.base import BatchAPI
from llamacompare.models.builtin.compat import CompatPlugin
from llamacompare.models.capabilities import Capabilities
from llamacompare.models.catalog import OPENAI_PRICES, OPENAI_PRICES_AS_OF
from llamacompare.models.openai_batch import OpenAIBatch
from llamacompare.models.spec import ModelSpec

OPENAI_API = "api.openai.com"


class OpenAIPlugin(CompatPlugin):
    description = "any OpenAI-compatible server (llama.cpp server, LM Studio, vLLM, OpenAI)"
    default_url = "https://api.openai.com/v1"
    url_env = "OPENAI_BASE_URL"
    key_env = "OPENAI_API_KEY"

    def capabilities(self, spec: ModelSpec) -> Capabilities | Callable[[str], Capabilities]:
        return servers.openai_api if OPENAI_API in (spec.base_url or "") else servers.GENERIC

    def batch_format(self, spec: ModelSpec) -> Callable[[Any], BatchAPI] | None:

        return OpenAIBatch

    def resolve(self, rest: str, *, base_url: str | None = None) -> ModelSpec:

        spec = super().resolve(rest, base_url=base_url)
        price = OPENAI_PRICES.get(rest.lower())
        if price is None:
            return spec
        return replace(spec, price_in=price[0], price_out=price[1], prices_as_of=OPENAI_PRICES_AS_OF)

    def key_required(self, spec: ModelSpec) -> bool:
        return OPENAI_API in (spec.base_url or "")


plugin = OpenAIPlugin()
