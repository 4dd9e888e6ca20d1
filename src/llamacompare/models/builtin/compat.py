"""The shared part of the plugins for OpenAI-compatible servers: a default URL, the environment variables for the
URL and the key, and the capabilities the server is declared to have."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from llamacompare.models import servers
from llamacompare.models.base import BatchAPI, Provider
from llamacompare.models.capabilities import Capabilities
from llamacompare.models.openai_compat import OpenAICompatProvider
from llamacompare.models.plugins import OfflineFacts, ProviderPlugin
from llamacompare.models.spec import ModelSpec
from llamacompare.settings import get_env, require_key


class CompatPlugin(ProviderPlugin):
    """An OpenAI-compatible server reached over HTTP."""

    default_url: str = ""
    url_env: str | None = None
    key_env: str | None = None

    def capabilities(self, spec: ModelSpec) -> Capabilities | Callable[[str], Capabilities]:
        return servers.GENERIC

    def key_required(self, spec: ModelSpec) -> bool:
        return False

    def batch_format(self, spec: ModelSpec) -> Callable[[Any], BatchAPI] | None:
        """The server's batch endpoints (models/openai_batch.py), or None where it has none."""
        return None

    def offline_facts(self, spec: ModelSpec) -> OfflineFacts:
        kind = self.batch_format(spec)
        return OfflineFacts(batch=getattr(kind, "limits", None))

    def url(self, base_url: str | None) -> str:
        return (base_url or (os.environ.get(self.url_env) if self.url_env else None) or self.default_url).rstrip("/")

    def resolve(self, rest: str, *, base_url: str | None = None) -> ModelSpec:
        return ModelSpec(self.name, rest, None, self.url(base_url), self.key_env)

    def listing(self) -> list[str]:
        where = f" (--base-url or {self.url_env}, default {self.default_url})" if self.url_env else ""
        return [f"{self.name}:NAME  {self.description}{where}"]

    def open(self, spec: ModelSpec, *, api_key: str | None = None, timeout_s: float = 120.0,
             stream: bool = True) -> Provider:

        key = api_key
        if key is None and spec.key_env:
            key = require_key(spec.key_env, provider=self.name) if self.key_required(spec) else get_env(spec.key_env)
        prices: dict[str, tuple[float | None, float | None]] | None = None
        if spec.price_in is not None:
            prices = {spec.id.lower(): (spec.price_in, spec.price_out)}
        return OpenAICompatProvider(spec.base_url or "", key, name=self.name, timeout_s=timeout_s, stream=stream,
                                    prices=prices, capabilities=self.capabilities(spec),
                                    batch=self.batch_format(spec), prices_as_of=spec.prices_as_of)
