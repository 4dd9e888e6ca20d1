"""Model names -> ModelSpec: which provider, which exact id, which chat format.

A prefix picks the provider (`together:`, `openai:`, `vllm:`, `ollama:`, `local:`); without one, known Together
names go to Together and `.gguf` paths / the bundled model run locally. Names are case-insensitive where the
provider's are.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from llamacompare.errors import ModelNameError
from llamacompare.models.catalog import BUNDLED_MODEL, TOGETHER_MODELS, family_from_name, find_together

PROVIDERS = ("together", "openai", "vllm", "ollama", "local")

#: provider -> (default base URL, env var for the base URL, env var for the key)
ENDPOINTS: dict[str, tuple[str, str | None, str | None]] = {
    "together": ("https://api.together.xyz/v1", "TOGETHER_BASE_URL", "TOGETHER_API_KEY"),
    "openai": ("https://api.openai.com/v1", "OPENAI_BASE_URL", "OPENAI_API_KEY"),
    "vllm": ("http://127.0.0.1:8000/v1", "VLLM_BASE_URL", "VLLM_API_KEY"),
    "ollama": ("http://127.0.0.1:11434/v1", "OLLAMA_BASE_URL", None),
}

_BAD_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")


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

    @property
    def name(self) -> str:
        return f"{self.provider}:{self.id}"

    @property
    def display(self) -> str:
        return self.label or self.name


def known_names() -> list[str]:
    names = [f"together:{m.name}" for m in TOGETHER_MODELS]
    names += [a for m in TOGETHER_MODELS for a in m.aliases]
    names += [m.name for m in TOGETHER_MODELS]
    names.append(f"local:{BUNDLED_MODEL}")
    return names


def resolve(name: str, *, base_url: str | None = None, label: str | None = None) -> ModelSpec:
    """Resolve a user-typed model name. Raises ModelNameError with the closest known names."""
    raw = name.strip()
    if not raw or _BAD_CHARS.search(raw):
        raise ModelNameError(f"invalid model name {name!r}: names have no spaces or control characters")
    prefix, sep, rest = raw.partition(":")
    if sep and prefix.lower() in PROVIDERS:
        provider = prefix.lower()
        if not rest:
            raise ModelNameError(f"model name {name!r} has a provider prefix but no model after it")
    elif raw.lower().endswith(".gguf") or raw.lower() == BUNDLED_MODEL:
        provider, rest = "local", raw
    elif find_together(raw) is not None:
        provider, rest = "together", raw
    else:
        raise ModelNameError(_unknown_message(raw))
    spec = _resolve_in(provider, rest, base_url)
    return replace(spec, label=label) if label else spec


def _resolve_in(provider: str, rest: str, base_url: str | None) -> ModelSpec:
    if provider == "local":
        return _resolve_local(rest)
    default_url, url_env, key_env = ENDPOINTS[provider]
    url = (base_url or (os.environ.get(url_env) if url_env else None) or default_url).rstrip("/")
    if provider == "together":
        known = find_together(rest)
        if known is not None:
            return ModelSpec(
                "together", known.name, known.family, url, key_env, known.context_length, None,
                known.price_in, known.price_out,
            )
        # Together serves many models we do not list; the server's own model list decides before any request.
        return ModelSpec("together", rest, family_from_name(rest), url, key_env)
    return ModelSpec(provider, rest, None, url, key_env)


def _resolve_local(rest: str) -> ModelSpec:
    key = rest.lower()
    if key in (BUNDLED_MODEL, "gemma3-270m", "gemma-3-270m-q4_k_m"):
        return ModelSpec("local", BUNDLED_MODEL, "gguf", context_length=32768)
    if key.startswith("ollama/"):
        from llamacompare.models.ollama_store import find_ollama_blob

        return ModelSpec("local", rest, "gguf", path=str(find_ollama_blob(rest.split("/", 1)[1])))
    path = Path(rest).expanduser()
    if path.suffix.lower() != ".gguf":
        raise ModelNameError(
            f"unknown local model {rest!r}: use local:{BUNDLED_MODEL} (bundled), local:/path/to/model.gguf, "
            "or local:ollama/NAME[:TAG] for a model Ollama has pulled"
        )
    if not path.is_file():
        raise ModelNameError(f"local model file not found: {path}; check the path")
    return ModelSpec("local", str(path.resolve()), "gguf", path=str(path.resolve()))


def _unknown_message(raw: str) -> str:
    candidates = known_names()
    lower = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(raw.lower(), list(lower), n=3, cutoff=0.4)
    hint = ", ".join(lower[c] for c in close) if close else f"local:{BUNDLED_MODEL}"
    return (
        f"unknown model {raw!r}; closest known: {hint}. Prefix a provider (together:, openai:, vllm:, "
        "ollama:, local:) to use any other model"
    )
