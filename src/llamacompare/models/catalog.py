"""Known hosted models: canonical names, aliases, chat family, context and a dated price table.

Prices are USD per million tokens (input, output) as Together published them; used only when the server does not
return its own prices in `GET /v1/models`. Anthropic's, which its API never returns, have a table and date of their
own (`ANTHROPIC_PRICES`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PRICES_AS_OF = "2024-07"


@dataclass(frozen=True, slots=True)
class KnownModel:
    name: str  # the canonical spelling sent to the provider
    family: str | None  # chat template family: "llama2", "llama3", or None (server applies it)
    context_length: int
    price_in: float | None = None  # USD per million input tokens
    price_out: float | None = None
    aliases: tuple[str, ...] = ()


TOGETHER_MODELS: tuple[KnownModel, ...] = (
    KnownModel("meta-llama/Llama-2-7b-chat-hf", "llama2", 4096, 0.20, 0.20, ("togethercomputer/llama-2-7b-chat",)),
    KnownModel(
        "meta-llama/Llama-2-13b-chat-hf", "llama2", 4096, 0.22, 0.22, ("togethercomputer/llama-2-13b-chat",)
    ),
    KnownModel(
        "meta-llama/Llama-2-70b-chat-hf", "llama2", 4096, 0.90, 0.90, ("togethercomputer/llama-2-70b-chat",)
    ),
    KnownModel("meta-llama/Llama-3-8b-chat-hf", "llama3", 8192, 0.20, 0.20, ("meta-llama/Meta-Llama-3-8B-Instruct",)),
    KnownModel(
        "meta-llama/Llama-3-70b-chat-hf", "llama3", 8192, 0.90, 0.90, ("meta-llama/Meta-Llama-3-70B-Instruct",)
    ),
    KnownModel("meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", "llama3", 131072, 0.18, 0.18),
    KnownModel("meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo", "llama3", 131072, 0.88, 0.88),
    KnownModel("meta-llama/Llama-3.3-70B-Instruct-Turbo", "llama3", 131072, 0.88, 0.88),
)

#: the serverless models Together bills at half price in a batch ("Discounted models" of
#: https://docs.together.ai/docs/inference/batch/overview, read from a stored copy in 2026-12); the others run at
#: the live price
TOGETHER_BATCH_DISCOUNTED: frozenset[str] = frozenset(m.lower() for m in (
    "meta-llama/Llama-3.3-70B-Instruct-Turbo", "meta-llama/Llama-3-70b-chat-hf", "Qwen/Qwen2.5-7B-Instruct-Turbo",
    "mistralai/Mixtral-8x7B-Instruct-v0.1", "zai-org/GLM-4.5-Air-FP8",
))

#: the notebook's five models, in its order
SEED_MODELS: tuple[str, ...] = (
    "together:meta-llama/Llama-2-7b-chat-hf",
    "together:meta-llama/Llama-2-13b-chat-hf",
    "together:meta-llama/Llama-2-70b-chat-hf",
    "together:meta-llama/Llama-3-8b-chat-hf",
    "together:meta-llama/Llama-3-70b-chat-hf",
)

#: the bundled base model (Gemma 3 270M, no chat template): `local:gemma-3-270m`
BUNDLED_MODEL = "gemma-3-270m"
#: the bundled instruction-tuned model (SmolLM2-135M-Instruct, its GGUF's own chat template)
BUNDLED_INSTRUCT = "smollm2-135m-instruct"
#: both, base first: what the default run compares when no key is set
BUNDLED_MODELS: tuple[str, ...] = (BUNDLED_MODEL, BUNDLED_INSTRUCT)


def find_together(name: str) -> KnownModel | None:
    key = name.lower()
    for m in TOGETHER_MODELS:
        if key == m.name.lower() or key in (a.lower() for a in m.aliases):
            return m
    return None


def family_from_name(name: str) -> str | None:
    """Guess a chat family from a model name (for servers that take raw prompts)."""
    key = name.lower()
    if "llama-2" in key and "chat" in key:
        return "llama2"
    if ("llama-3" in key or "llama3" in key) and ("chat" in key or "instruct" in key):
        return "llama3"
    return None


#: Anthropic's prices, USD per million tokens (input, output): "Base Input Tokens" and "Output Tokens" of the model
#: pricing table of https://platform.claude.com/docs/en/about-claude/pricing as of ANTHROPIC_PRICES_AS_OF (read from
#: stored copies of that page in 2026-12). Keyed by alias; a snapshot id is priced as its alias (`anthropic_price`).
#: Models that table did not list (Opus 4.5 and later among them) are left out: their cost is unknown, never 0.
#: Sonnet's higher price past 200K input tokens applies only with the 1M-context beta, which is never requested.
ANTHROPIC_PRICES_AS_OF = "2025-11-15"
ANTHROPIC_PRICES: dict[str, tuple[float, float]] = {
    "claude-opus-4-1": (15.0, 75.0),
    "claude-opus-4": (15.0, 75.0),
    "claude-sonnet-4-5": (3.0, 15.0),
    "claude-sonnet-4": (3.0, 15.0),
    "claude-3-7-sonnet": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
    "claude-3-5-haiku": (0.80, 4.0),
    "claude-3-haiku": (0.25, 1.25),
}

_SNAPSHOT = re.compile(r"-\d{8}$")  # `claude-sonnet-4-5-20250929`: the alias and its snapshot's date
_ALIAS_SUFFIX = re.compile(r"-(0|latest)$")  # `claude-opus-4-0`, `claude-3-7-sonnet-latest`


def anthropic_price(model: str) -> tuple[float, float] | None:
    """The table's price for an Anthropic model id, snapshot or alias; None where the table has none."""
    key = model.lower()
    return ANTHROPIC_PRICES.get(key) or ANTHROPIC_PRICES.get(_ALIAS_SUFFIX.sub("", _SNAPSHOT.sub("", key)))


#: OpenAI's prices, USD per million tokens (input, output), "Standard" tier of https://developers.openai.com/api/docs/pricing
#: as of OPENAI_PRICES_AS_OF (read from stored copies of that page and pages quoting it); its Batch tier is half of
#: each (`models/openai_batch.py`). OpenAI's model list gives no prices; a model not listed here costs unknown.
OPENAI_PRICES_AS_OF = "2026-03"
OPENAI_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
}
