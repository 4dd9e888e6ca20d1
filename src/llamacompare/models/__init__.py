"""Models (providers): where a request goes and how its answer comes back.

Every provider is a plugin (`llamacompare.models.plugins`); the runner asks a provider what it can do
(`Capabilities`), never which one it is.
"""

from __future__ import annotations

from llamacompare.models.base import LabelScores, ModelInfo, Params, Prepared, Provider, Request, Response
from llamacompare.models.capabilities import Capabilities
from llamacompare.models.plugins import ProviderPlugin, get
from llamacompare.models.registry import resolve
from llamacompare.models.spec import ModelSpec

__all__ = [
    "Capabilities", "LabelScores", "ModelInfo", "ModelSpec", "Params", "Prepared", "Provider", "ProviderPlugin",
    "Request", "Response", "open_provider", "resolve",
]


def open_provider(
    spec: ModelSpec, *, api_key: str | None = None, timeout_s: float = 120.0, stream: bool = True
) -> Provider:
    """A provider for `spec`, from the plugin that resolved it. Create it inside the event loop that will use it;
    `aclose()` it after."""

    return get(spec.provider).open(spec, api_key=api_key, timeout_s=timeout_s, stream=stream)
