"""When a model's answers failed for a reason worth saying (they stopped at `max_tokens`, they loop): pure rules
on counts, so every view says it under the same condition. The sentences are the views' (`formatting.py`)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

__all__ = ["NOTE_SHARE", "excerpt", "matters", "usual"]

# A diagnosis is said when it concerns at least this share of a model's answers (and at least one): 1 answer in 20.
# Below it a stray long answer would add a line to every summary without changing what anyone should do.
NOTE_SHARE = 0.05


def matters(k: int, n: int, share: float = NOTE_SHARE) -> bool:
    """Whether `k` affected answers of `n` are worth a line."""
    return n > 0 and k > 0 and k / n >= share


def usual(values: Iterable[int | None]) -> int | None:
    """The most common known value (the max_tokens most of the answers were asked with), None when none is."""
    counts = Counter(v for v in values if v is not None)
    return counts.most_common(1)[0][0] if counts else None


def excerpt(text: str, limit: int = 160) -> str:
    """`text` on one line, shortened in the middle to `limit` characters: how it starts and how it ends (where a
    verdict line was asked for) both show."""
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= limit:
        return flat
    tail = limit // 3
    head = limit - tail - 3
    return flat[:head].rstrip() + " … " + flat[-tail:].lstrip()
