"""vLLM's OpenAI-compatible server (default http://127.0.0.1:8000/v1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llamacompare.models import servers
from llamacompare.models.base import BatchAPI
from llamacompare.models.builtin.compat import CompatPlugin
from llamacompare.models.capabilities import Capabilities
from llamacompare.models.openai_batch import VLLMOfflineBatch
from llamacompare.models.spec import ModelSpec


class VLLMPlugin(CompatPlugin):
    description = "a vLLM server"
    default_url = "http://127.0.0.1:8000/v1"
    url_env = "VLLM_BASE_URL"
    key_env = "VLLM_API_KEY"

    def capabilities(self, spec: ModelSpec) -> Capabilities:
        return servers.VLLM

    def batch_format(self, spec: ModelSpec) -> Callable[[Any], BatchAPI] | None:

        return VLLMOfflineBatch


plugin = VLLMPlugin()
