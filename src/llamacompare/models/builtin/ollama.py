"""Ollama's OpenAI-compatible API (default http://127.0.0.1:11434/v1): `ollama:llama3` is served as the
`llama3:latest` Ollama lists."""

from __future__ import annotations

from llamacompare.models import servers
from llamacompare.models.builtin.compat import CompatPlugin
from llamacompare.models.capabilities import Capabilities
from llamacompare.models.spec import ModelSpec


class OllamaPlugin(CompatPlugin):
    description = "a model Ollama serves"
    default_url = "http://127.0.0.1:11434/v1"
    url_env = "OLLAMA_BASE_URL"

    def capabilities(self, spec: ModelSpec) -> Capabilities:
        return servers.OLLAMA


plugin = OllamaPlugin()
