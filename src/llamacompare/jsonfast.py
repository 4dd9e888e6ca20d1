"""JSON on the hot path through orjson: several times faster than the stdlib for the small objects of every
request (measured in bench/client_overhead.py), and its sorted-keys output is the cache key's canonical form."""

from __future__ import annotations

from typing import Any

import orjson

loads = orjson.loads


def dumps_bytes(value: Any) -> bytes:
    return orjson.dumps(value)


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def canonical(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept as is: the same object always gives the same text."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
