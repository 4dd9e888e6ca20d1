"""Model names short enough for a table at 80 columns: the part all of them share is said once, in a legend.

`together:meta-llama/Llama-3-8b-chat-hf@generate` and `…/Llama-3-70b-chat-hf@generate` share
`together:meta-llama/`; `local:gemma-3-270m@generate` and `@logprob` share `local:gemma-3-270m@`. The prefix is
cut only after a separator (`:`, `/`, `@`), so no name is cut inside a word.

A local model named by its path is shown by its file name (`local:/home/u/models/x.gguf` is `x.gguf`), and a
name too long for its column folds after a `/`, `-`, `:` or `@` (`fold`), never inside a piece.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence

_SEPARATORS = ":/@"
# a piece of a name: up to and including the separators after it (a fold goes there), or a run of spaces
_PIECE = re.compile(r"[^/\-:@ ]+[/\-:@]*|[/\-:@]+| +")
# `local:` and a path to a .gguf file, then what the report adds (`@mode`, ` · prompt`)
_LOCAL_PATH = re.compile(r"^local:(?P<dir>.*[/\\])(?P<file>[^/\\]+\.gguf)(?P<rest>(?:@| · |$).*)$",
                         re.IGNORECASE | re.DOTALL)


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


def file_name(name: str) -> str:
    """A local model named by a path, by its file name (with what follows it: `@mode`, ` · prompt`); any other
    name as it is."""
    m = _LOCAL_PATH.match(name)
    return m["file"] + m["rest"] if m else name


def display_names(names: Iterable[str]) -> tuple[dict[str, str], str]:
    """What a table shows for each name, and the prefix cut from all of them (said once, in a legend): local
    paths by their file names (the whole name where two files share one), then without the common prefix."""
    names = list(dict.fromkeys(names))
    files = {n: file_name(n) for n in names}
    taken: dict[str, int] = {}
    for f in files.values():
        taken[f] = taken.get(f, 0) + 1
    shown = {n: f if taken[f] == 1 else n for n, f in files.items()}
    short, prefix = shorten(list(dict.fromkeys(shown.values())))
    return {n: short[s] for n, s in shown.items()}, prefix


def pieces(text: str) -> list[str]:
    """`text` in the pieces a fold keeps whole: each ends after its separators (`meta-`, `llama/`)."""
    return _PIECE.findall(text)


def narrowest(text: str) -> int:
    """The fewest columns `fold` can put `text` in: its longest piece."""
    return max((len(p.rstrip()) for line in text.split("\n") for p in pieces(line)), default=0)


def fold(text: str, width: int, hang: str = "") -> str:
    """`text` in lines of at most `width` columns, broken only after a separator or at a space; a piece longer
    than `width` stays whole on a line of its own. `hang` starts each line a fold adds (where a cell lists
    several names, a folded one reads as one)."""
    out: list[str] = []
    for line in text.split("\n"):
        cur = ""
        for p in pieces(line):
            if cur.strip() and len((cur + p).rstrip()) > width:
                out.append(cur.rstrip())
                cur = hang + p.lstrip()
            else:
                cur += p
        out.append(cur.rstrip())
    return "\n".join(out)
