"""Model names short enough for a table at 80 columns: the part all of them share is said once, in a legend.

`together:meta-llama/Llama-3-8b-chat-hf@generate` and `…/Llama-3-70b-chat-hf@generate` share
`together:meta-llama/`; `local:gemma-3-270m@generate` and `@logprob` share `local:gemma-3-270m@`. The prefix is
cut only after a separator (`:`, `/`, `@`), so no name is cut inside a word.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

_SEPARATORS = ":/@"


def common_prefix(names: Sequence[str]) -> str:
    """The longest prefix all names share that ends at a separator and leaves every name something to show."""
    if len(names) < 2:
        return ""
    prefix = os.path.commonprefix(list(names))
    cut = max(prefix.rfind(c) for c in _SEPARATORS) + 1
    prefix = prefix[:cut]
    while prefix and any(len(n) == len(prefix) for n in names):
        cut = max(prefix[:-1].rfind(c) for c in _SEPARATORS) + 1
        prefix = prefix[:cut]
    return prefix


def shorten(names: Sequence[str]) -> tuple[dict[str, str], str]:
    """Each name without the common prefix, and the prefix (empty when there is none)."""
    prefix = common_prefix(names)
    return {n: n[len(prefix):] for n in names}, prefix
