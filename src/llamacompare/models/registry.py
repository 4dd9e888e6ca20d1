"""Model names -> ModelSpec: which provider, which exact id, which chat format.

A prefix picks the provider plugin (`together:`, `openai:`, `vllm:`, `ollama:`, `local:`, or any installed
plugin's, see `plugins`); without one, the plugin that claims the name takes it (known Together names, `.gguf`
paths and the bundled model). Names are case-insensitive where the provider's are.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import replace

from llamacompare.errors import ModelNameError
from llamacompare.models.plugins import plugins
from llamacompare.models.spec import Api, ModelSpec

_BAD_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")
_BAD_IN_PATH = re.compile(r"[\x00-\x1f\x7f]")  # a .gguf file's path may have spaces


def known_names() -> list[str]:
    return [n for plugin in plugins().values() for n in plugin.known_names()]


def resolve(name: str, *, base_url: str | None = None, label: str | None = None, api: Api | None = None
            ) -> ModelSpec:
    """Resolve a user-typed model name. Raises ModelNameError with the closest known names."""
    raw = name.strip()
    if not raw or (_BAD_IN_PATH if raw.lower().endswith(".gguf") else _BAD_CHARS).search(raw):
        raise ModelNameError(f"invalid model name {name!r}: names have no spaces or control characters")
    installed = plugins()
    prefix, sep, rest = raw.partition(":")
    plugin = installed.get(prefix.lower()) if sep else None
    if plugin is not None:
        if not rest:
            raise ModelNameError(f"model name {name!r} has a provider prefix but no model after it")
    else:
        rest = raw
        plugin = next((p for p in installed.values() if p.claims(raw)), None)
        if plugin is None:
            raise ModelNameError(_unknown_message(raw, sorted(installed)))
    spec = plugin.resolve(rest, base_url=base_url).with_api(api)
    return replace(spec, label=label) if label else spec


def _unknown_message(raw: str, prefixes: list[str]) -> str:
    candidates = known_names()
    lower = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(raw.lower(), list(lower), n=3, cutoff=0.4)
    hint = ", ".join(lower[c] for c in close) if close else (candidates[-1] if candidates else "")
    listed = ", ".join(f"{p}:" for p in prefixes)
    return f"unknown model {raw!r}; closest known: {hint}. Prefix a provider ({listed}) to use any other model"
