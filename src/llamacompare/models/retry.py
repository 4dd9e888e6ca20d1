"""Retries with exponential backoff and full jitter that honour `Retry-After`; each attempt may hold a slot of the
model's requests in flight (the runner's adaptive concurrency), given back while the retry waits."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol, TypeVar

from llamacompare.errors import ProviderError, RateLimitError

T = TypeVar("T")

_rng = random.Random()  # one per process: seeding a new Random costs more than a whole request

#: statuses that say the server is overloaded rather than that the request failed: 429, 503, and 529 (Anthropic's
#: `overloaded_error`, https://docs.anthropic.com/en/api/errors)
OVERLOAD_STATUSES = frozenset({429, 503, 529})


def is_overload(error: BaseException) -> bool:
    """Whether a failure asks the client to send less: a rate limit, an overloaded server, or a `Retry-After`."""
    if not isinstance(error, ProviderError):
        return False
    return isinstance(error, RateLimitError) or error.status in OVERLOAD_STATUSES or error.retry_after is not None


class AttemptSlots(Protocol):
    """What bounds a model's attempts in flight (`runner.concurrency.AdaptiveLimit`): each attempt runs inside
    `attempt()`, which waits for a slot and learns from how the attempt ends."""

    def attempt(self) -> AbstractAsyncContextManager[None]: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4  # the seed retried 3 times after the first try
    base_s: float = 1.0
    cap_s: float = 30.0
    retry_after_cap_s: float = 120.0

    def delay(self, attempt: int, error: ProviderError, rng: random.Random) -> float:
        if error.retry_after is not None:
            # what the server asks, plus a little jitter so that many clients told the same time (or "0") do not
            # all come back at the same instant
            wait = min(max(error.retry_after, 0.0), self.retry_after_cap_s)
            return wait + rng.uniform(0, max(wait * 0.1, self.base_s * 0.25))
        return rng.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    on_retry: Callable[[int, ProviderError, float], None] | None = None,
    rng: random.Random | None = None,
    slots: AttemptSlots | None = None,
) -> T:
    """Run `call`, retrying retryable ProviderErrors up to `policy.attempts` tries in all. With `slots`, each
    attempt holds a slot while it is sent; the wait before a retry holds none, so other requests use it."""
    rng = rng or _rng
    for attempt in range(policy.attempts):
        try:
            if slots is None:
                return await call()
            async with slots.attempt():
                return await call()
        except ProviderError as err:
            if not err.retryable or attempt + 1 >= policy.attempts:
                raise
            wait = policy.delay(attempt, err, rng)
            if on_retry is not None:
                on_retry(attempt + 1, err, wait)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
