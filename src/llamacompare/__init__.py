"""llamacompare: send the same prompts to several LLMs and compare the answers, side by side, with numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Heavy modules load on first use so that `import llamacompare` and `llamacompare --help` stay fast.
_LAZY = {
    "llama": "llamacompare.helpers",
    "llama_chat": "llamacompare.helpers",
    "agenerate": "llamacompare.helpers",
    "compare": "llamacompare.comparison",
    "Comparison": "llamacompare.comparison",
    "Response": "llamacompare.models.base",
    "Params": "llamacompare.models.base",
    "resolve": "llamacompare.models.registry",
}

__all__ = ["Comparison", "Params", "Response", "agenerate", "compare", "llama", "llama_chat", "resolve"]

if TYPE_CHECKING:
    from llamacompare.comparison import Comparison, compare
    from llamacompare.helpers import agenerate, llama, llama_chat
    from llamacompare.models.base import Params, Response
    from llamacompare.models.registry import resolve


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'llamacompare' has no attribute {name!r}")
    import importlib  # start-up: `import llamacompare` and `llamacompare --help` load nothing more

    loaded = importlib.import_module(module)
    # Bind every name this module provides at once (`from llamacompare import Comparison, compare`). No lazy name
    # is also a submodule's: importing that submodule would set the package attribute and hide the name.
    for lazy_name, lazy_module in _LAZY.items():
        if lazy_module == module:
            globals()[lazy_name] = getattr(loaded, lazy_name)
    return globals()[name]
