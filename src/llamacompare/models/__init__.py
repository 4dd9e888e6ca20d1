"""Models (providers): where a request goes and how its answer comes back."""

from __future__ import annotations

from llamacompare.models.base import ModelInfo, Params, Provider, Request, Response
from llamacompare.models.registry import ModelSpec, resolve

__all__ = ["ModelInfo", "ModelSpec", "Params", "Provider", "Request", "Response", "open_provider", "resolve"]


def open_provider(
    spec: ModelSpec, *, api_key: str | None = None, timeout_s: float = 120.0, stream: bool = True
) -> Provider:
    """A provider for `spec`. Create it inside the event loop that will use it; `aclose()` it after."""
    if spec.provider == "local":
        from llamacompare.models.bundled import bundled_model_path
        from llamacompare.models.local import LocalProvider

        path = spec.path or str(bundled_model_path())
        return LocalProvider(path)
    from llamacompare.models.openai_compat import OpenAICompatProvider
    from llamacompare.settings import get_env, require_key

    key = api_key
    if key is None and spec.key_env:
        needs_key = spec.provider == "together" or "api.openai.com" in (spec.base_url or "")
        key = require_key(spec.key_env, provider=spec.provider) if needs_key else get_env(spec.key_env)
    prices = {spec.id.lower(): (spec.price_in, spec.price_out)} if spec.price_in is not None else None
    return OpenAICompatProvider(
        spec.base_url or "", key, name=spec.provider, timeout_s=timeout_s, stream=stream, prices=prices
    )
