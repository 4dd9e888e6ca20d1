"""Providers as plugins: each kind of provider is a `ProviderPlugin` registered under the Python entry-point group
`llamacompare.providers`, the built-in ones too (see pyproject.toml). A new provider is one module and one entry
point in its package's metadata:

    [project.entry-points."llamacompare.providers"]
    myapi = "my_package.provider:plugin"

The entry point's name is the model-name prefix (`myapi:MODEL`); it loads a ProviderPlugin instance (or class).
"""

from __future__ import annotations

import abc
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING

from llamacompare.errors import UsageError

if TYPE_CHECKING:
    from llamacompare.models.base import BatchLimits, Provider
    from llamacompare.models.spec import ModelSpec

GROUP = "llamacompare.providers"

#: the built-in providers, as pyproject.toml registers them. Read only when the installed metadata predates the
#: entry points (an editable install not reinstalled since): the same plugins, found the same way once reinstalled.
BUILTIN = {
    "together": "llamacompare.models.builtin.together:plugin",
    "openai": "llamacompare.models.builtin.openai:plugin",
    "vllm": "llamacompare.models.builtin.vllm:plugin",
    "ollama": "llamacompare.models.builtin.ollama:plugin",
    "local": "llamacompare.models.builtin.local:plugin",
    "anthropic": "llamacompare.models.builtin.anthropic:plugin",
}

log = logging.getLogger("llamacompare")


@dataclass(frozen=True, slots=True)
class OfflineFacts:
    """What is known of a model without sending it anything, for `run --plan`: its own token count (None: not
    known offline), whether it costs nothing per token (in-process), and how many requests it answers at once."""

    count_tokens: Callable[[str], int] | None = None
    free: bool = False
    parallel: int | None = None
    #: the provider's batch API: its limits, window and discount (None: it has none)
    batch: BatchLimits | None = None


class ProviderPlugin(abc.ABC):
    """A kind of provider: the names it takes, what a name resolves to, and the provider that answers it."""

    #: the model-name prefix; set from the entry point's name when the plugin is loaded
    name: str = ""
    #: one line for `llamacompare models`
    description: str = ""

    @abc.abstractmethod
    def resolve(self, rest: str, *, base_url: str | None = None) -> ModelSpec:
        """The ModelSpec for `PREFIX:rest` (raise ModelNameError with a hint when `rest` names nothing)."""

    @abc.abstractmethod
    def open(self, spec: ModelSpec, *, api_key: str | None = None, timeout_s: float = 120.0,
             stream: bool = True) -> Provider:
        """A provider for `spec`, created inside the event loop that will use it."""

    def claims(self, name: str) -> bool:
        """Whether this plugin takes `name` written without a prefix (a known hosted name, a .gguf path)."""
        return False

    def offline_facts(self, spec: ModelSpec) -> OfflineFacts:
        """What `run --plan` may know of `spec` without a request (a hosted model: nothing but the price table)."""
        return OfflineFacts()

    def known_names(self) -> list[str]:
        """Names to suggest when a name resolves to nothing."""
        return []

    def listing(self) -> list[str]:
        """Lines for `llamacompare models`: the models this plugin knows, or how to name one."""
        return [f"{self.name}:MODEL  {self.description}".rstrip()]


_lock = threading.Lock()
_plugins: dict[str, ProviderPlugin] | None = None


def plugins() -> dict[str, ProviderPlugin]:
    """Every registered provider plugin by prefix, loaded once per process."""
    global _plugins
    with _lock:
        if _plugins is None:
            _plugins = _load()
        return _plugins


def get(prefix: str) -> ProviderPlugin:
    found = plugins().get(prefix.lower())
    if found is None:
        raise UsageError(f"no provider {prefix!r} is installed; installed: {', '.join(sorted(plugins()))}")
    return found


def reload() -> None:
    """Forget the loaded plugins (after installing a package in this process)."""
    global _plugins
    with _lock:
        _plugins = None


def _load() -> dict[str, ProviderPlugin]:
    found: dict[str, ProviderPlugin] = {}
    entries = {ep.name: ep.value for ep in metadata.entry_points(group=GROUP)}
    if not set(BUILTIN) <= set(entries):
        log.debug("llamacompare's installed metadata lacks its provider entry points; reinstall it (pip install -e .)")
        entries = {**BUILTIN, **entries}
    for name, target in entries.items():
        plugin = _instantiate(name, target)
        if plugin is not None:
            found[name.lower()] = plugin
    return found


def _instantiate(name: str, target: str) -> ProviderPlugin | None:
    try:
        obj = metadata.EntryPoint(name, target, GROUP).load()
        plugin = obj() if isinstance(obj, type) else obj
    except Exception as exc:  # noqa: BLE001 - one broken third-party plugin must not take the others down
        log.warning("provider plugin %s (%s) could not be loaded: %s: %s", name, target, type(exc).__name__, exc)
        return None
    if not isinstance(plugin, ProviderPlugin):
        log.warning("provider plugin %s (%s) is not a ProviderPlugin; skipped", name, target)
        return None
    plugin.name = name.lower()
    return plugin
