"""Adaptive concurrency for a hosted model: how many requests it may have in flight, learned from its answers.

AIMD, as TCP's congestion control: the limit starts at the model's concurrency (its ceiling); an overload answer
(429, 503, or any answer with a `Retry-After`) halves it, and a window's worth of successes (as many answers as
the limit, sent while the window was full) adds one back, never past the ceiling nor below 1. One overload is
usually many answers: the requests already in flight when the server filled up all come back refused. So the limit
is halved at most once per round trip, counted in requests rather than seconds (as TCP NewReno's recovery point):
an overload answer to a request sent before the last halving says nothing about the new limit and is ignored.

`Aimd` is the rule alone (no clock, no event loop: unit-tested on its own); `AdaptiveLimit` makes the runner's
attempts wait for a free slot under it. A retried request waits out its backoff holding no slot (see
`models.retry.with_retries`), so the slots go to requests that can be answered.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from enum import Enum

from llamacompare.models.retry import is_overload


class Outcome(Enum):
    OK = "ok"  # an answer: counts toward growing the limit
    OVERLOAD = "overload"  # 429, 503 or Retry-After: halves the limit (once per round trip)
    OTHER = "other"  # any other failure (a timeout, a 500, a cancelled request): changes nothing


@dataclass(frozen=True, slots=True)
class Ticket:
    """One admitted attempt: the round trip it was sent in and whether it filled the window."""

    epoch: int
    full: bool


@dataclass(frozen=True, slots=True)
class LimitState:
    """A model's limit as the progress bar and the run's summary show it."""

    limit: int
    ceiling: int
    in_flight: int
    lowest: int  # the lowest limit so far
    halvings: int
    overloads: int  # overload answers seen, counted or not


class Aimd:
    """The additive-increase, multiplicative-decrease rule over requests in flight (pure: no clock, no I/O)."""

    def __init__(self, ceiling: int, *, start: int | None = None) -> None:
        if ceiling < 1:
            raise ValueError("the ceiling is at least 1")
        self.ceiling = ceiling
        self.limit = min(max(start or ceiling, 1), ceiling)
        self.in_flight = 0
        self.epoch = 0  # halvings so far: a ticket from an older epoch was sent under a larger limit
        self.lowest = self.limit
        self.overloads = 0
        self._successes = 0  # window-filling successes since the limit last changed

    def can_admit(self) -> bool:
        return self.in_flight < self.limit

    def admit(self) -> Ticket:
        if not self.can_admit():
            raise RuntimeError("no free slot: wait until can_admit()")
        self.in_flight += 1
        # a request sent while fewer are in flight than allowed proves nothing about the limit (RFC 7661: an
        # application-limited window does not grow)
        return Ticket(self.epoch, self.in_flight >= self.limit)

    def release(self, ticket: Ticket, outcome: Outcome) -> None:
        self.in_flight -= 1
        if outcome is Outcome.OVERLOAD:
            self.overloads += 1
            if ticket.epoch == self.epoch:  # the first overload of this round trip
                self.limit = (self.limit + 1) // 2  # rounded up: 9 -> 5 (4 would idle a slot the server had)
                self.lowest = min(self.lowest, self.limit)
                self.epoch += 1
                self._successes = 0
        elif outcome is Outcome.OK and ticket.full:  # sent under a larger limit, it was answered: the server has room
            self._successes += 1
            if self._successes >= self.limit and self.limit < self.ceiling:
                self.limit += 1
                self._successes = 0

    def state(self) -> LimitState:
        return LimitState(self.limit, self.ceiling, self.in_flight, self.lowest, self.epoch, self.overloads)


class AdaptiveLimit:
    """A model's attempts in flight under an `Aimd` limit: `async with limit.attempt(): ...` waits for a slot,
    holds it while the request is out and reads the outcome from how the block ends. Fair: slots go to the
    attempts in the order they asked."""

    def __init__(self, ceiling: int, *, start: int | None = None) -> None:
        self.rule = Aimd(ceiling, start=start)
        self._waiters: deque[asyncio.Future[Ticket]] = deque()

    @property
    def limit(self) -> int:
        return self.rule.limit

    def state(self) -> LimitState:
        return self.rule.state()

    async def acquire(self) -> Ticket:
        if not self._waiters and self.rule.can_admit():
            return self.rule.admit()
        waiter: asyncio.Future[Ticket] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():  # admitted, then cancelled before it ran: give it back
                self.release(waiter.result(), Outcome.OTHER)
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def release(self, ticket: Ticket, outcome: Outcome) -> None:
        self.rule.release(ticket, outcome)
        # a freed slot (or a grown limit) goes to the longest waiting attempt, admitted here so that no later
        # arrival can take it first
        while self._waiters and self.rule.can_admit():
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(self.rule.admit())

    def attempt(self) -> _Attempt:
        return _Attempt(self)


class _Attempt:
    """One attempt holding a slot: `async with` waits for it, gives it back with the attempt's outcome. A class
    rather than `@asynccontextmanager`, whose generator costs more than the rest of the slot's bookkeeping."""

    __slots__ = ("_limit", "_ticket")

    def __init__(self, limit: AdaptiveLimit) -> None:
        self._limit = limit
        self._ticket: Ticket | None = None

    async def __aenter__(self) -> None:
        self._ticket = await self._limit.acquire()

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> None:
        assert self._ticket is not None
        if error is None:
            outcome = Outcome.OK
        elif is_overload(error):
            outcome = Outcome.OVERLOAD
        else:
            outcome = Outcome.OTHER
        self._limit.release(self._ticket, outcome)
