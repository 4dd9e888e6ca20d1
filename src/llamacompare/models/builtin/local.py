"""GGUF models run in-process through llama-cpp-python: the bundled Gemma 3 270M, any .gguf file, or a model Ollama
has pulled (read from its store)."""

from __future__ import annotations

from pathlib import Path

from llamacompare.errors import ModelNameError
from llamacompare.models.base import Provider
from llamacompare.models.catalog import BUNDLED_MODEL
from llamacompare.models.plugins import OfflineFacts, ProviderPlugin
from llamacompare.models.registry import ModelSpec

_BUNDLED_SPELLINGS = (BUNDLED_MODEL, "gemma3-270m", "gemma-3-270m-q4_k_m")


class LocalPlugin(ProviderPlugin):
    description = "a GGUF model in-process (no key, no network)"

    def claims(self, name: str) -> bool:
        return name.lower().endswith(".gguf") or name.lower() == BUNDLED_MODEL

    def resolve(self, rest: str, *, base_url: str | None = None) -> ModelSpec:
        key = rest.lower()
        if key in _BUNDLED_SPELLINGS:
            return ModelSpec(self.name, BUNDLED_MODEL, "gguf", context_length=32768, prompt_format="text")
        if key.startswith("ollama/"):
            from llamacompare.models.ollama_store import find_ollama_blob

            path = str(find_ollama_blob(rest.split("/", 1)[1]))
            return ModelSpec(self.name, rest, "gguf", path=path, prompt_format="text")
        file = Path(rest).expanduser()
        if file.suffix.lower() != ".gguf":
            raise ModelNameError(
                f"unknown local model {rest!r}: use local:{BUNDLED_MODEL} (bundled), local:/path/to/model.gguf, "
                "or local:ollama/NAME[:TAG] for a model Ollama has pulled"
            )
        if not file.is_file():
            raise ModelNameError(f"local model file not found: {file}; check the path")
        full = str(file.resolve())
        return ModelSpec(self.name, full, "gguf", path=full, prompt_format="text")

    def offline_facts(self, spec: ModelSpec) -> OfflineFacts:
        """The GGUF file's own tokenizer, loaded alone (vocab_only: no weights, well under a second)."""
        from llamacompare.models.bundled import bundled_model_path
        from llamacompare.models.local import PARALLEL, vocab_tokenizer

        return OfflineFacts(vocab_tokenizer(spec.path or str(bundled_model_path())), free=True, parallel=PARALLEL)

    def known_names(self) -> list[str]:
        return [f"{self.name}:{BUNDLED_MODEL}"]

    def listing(self) -> list[str]:
        return [f"{self.name}:{BUNDLED_MODEL}  (bundled, in-process, no key)",
                f"{self.name}:/path/model.gguf, {self.name}:ollama/NAME[:TAG]  {self.description}"]

    def open(self, spec: ModelSpec, *, api_key: str | None = None, timeout_s: float = 120.0,
             stream: bool = True) -> Provider:
        from llamacompare.models.bundled import bundled_model_path
        from llamacompare.models.local import LocalProvider

        return LocalProvider(spec.path or str(bundled_model_path()))


plugin = LocalPlugin()
