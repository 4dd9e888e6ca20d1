"""GGUF models run in-process through llama-cpp-python: the bundled Gemma 3 270M (base) and SmolLM2-135M-Instruct,
any .gguf file, or a model Ollama has pulled (read from its store)."""

from __future__ import annotations

from pathlib import Path

from llamacompare.errors import ModelNameError
from llamacompare.models.base import Provider
from llamacompare.models.bundled import SMOLLM2, bundled_model_path, is_installed
from llamacompare.models.catalog import BUNDLED_INSTRUCT, BUNDLED_MODEL
from llamacompare.models.local import PARALLEL, LocalProvider, vocab_tokenizer
from llamacompare.models.ollama_store import find_ollama_blob
from llamacompare.models.plugins import OfflineFacts, ProviderPlugin
from llamacompare.models.spec import ModelSpec

#: each bundled model's accepted spellings (lower case) and its training context
_BUNDLED = {
    BUNDLED_MODEL: (("gemma3-270m", "gemma-3-270m-q4_k_m"), 32768),
    BUNDLED_INSTRUCT: (("smollm2", "smollm2-135m", "smollm2-135m-instruct-q4_1"), 8192),
}


def _bundled(key: str) -> str | None:
    return next((name for name, (spellings, _) in _BUNDLED.items() if key == name or key in spellings), None)


class LocalPlugin(ProviderPlugin):
    description = "a GGUF model in-process (no key, no network)"

    def claims(self, name: str) -> bool:
        return name.lower().endswith(".gguf") or name.lower() in _BUNDLED

    def resolve(self, rest: str, *, base_url: str | None = None) -> ModelSpec:
        key = rest.lower()
        bundled = _bundled(key)
        if bundled is not None:
            return ModelSpec(self.name, bundled, "gguf", context_length=_BUNDLED[bundled][1], prompt_format="text")
        if key.startswith("ollama/"):

            path = str(find_ollama_blob(rest.split("/", 1)[1]))
            return ModelSpec(self.name, rest, "gguf", path=path, prompt_format="text")
        file = Path(rest).expanduser()
        if file.suffix.lower() != ".gguf":
            raise ModelNameError(
                f"unknown local model {rest!r}: use local:{BUNDLED_MODEL} or local:{BUNDLED_INSTRUCT} (bundled), "
                "local:/path/to/model.gguf, "
                "or local:ollama/NAME[:TAG] for a model Ollama has pulled"
            )
        if not file.is_file():
            raise ModelNameError(f"local model file not found: {file}; check the path")
        full = str(file.resolve())
        return ModelSpec(self.name, full, "gguf", path=full, prompt_format="text")

    def offline_facts(self, spec: ModelSpec) -> OfflineFacts:
        """The GGUF file's own tokenizer, loaded alone (vocab_only: no weights, well under a second)."""

        return OfflineFacts(vocab_tokenizer(spec.path or str(bundled_model_path(spec.id))), free=True,
                            parallel=PARALLEL)

    def known_names(self) -> list[str]:
        return [f"{self.name}:{name}" for name in _BUNDLED]

    def listing(self) -> list[str]:

        missing = "" if is_installed(BUNDLED_INSTRUCT) else f"; not installed: {SMOLLM2.install}"
        return [f"{self.name}:{BUNDLED_MODEL}  (bundled base model, Gemma 3 270M; in-process, no key)",
                f"{self.name}:{BUNDLED_INSTRUCT}  (bundled instruct model, SmolLM2-135M-Instruct, its own chat "
                f"template; in-process, no key{missing})",
                f"{self.name}:/path/model.gguf, {self.name}:ollama/NAME[:TAG]  {self.description}"]

    def open(self, spec: ModelSpec, *, api_key: str | None = None, timeout_s: float = 120.0,
             stream: bool = True) -> Provider:

        return LocalProvider(spec.path or str(bundled_model_path(spec.id)))


plugin = LocalPlugin()
