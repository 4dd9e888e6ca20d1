"""Per-request time limits, enforced by one watchdog task per event loop instead of a timer per request.

Why: aiohttp's own total timeout (and asyncio.timeout) schedule and cancel a timer for every request and wrap every
read in a timer context; at thousands of requests a second that was ~7% of the client's time
(bench/client_overhead.py). A watchdog that wakes a few times a second and cancels the requests past their
deadline costs a dict insert and delete per request. Deadlines are kept to within a tick (at most 1 s, and an
eighth of the limit for short limits).
"""

from __future__ import annotations

import asyncio
import builtins


class Deadlines:
    """`with deadlines.guard():` around a request: past `timeout_s` it is cancelled and TimeoutError raised."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.tick_s = min(1.0, max(timeout_s / 8, 0.005))
        self._due: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._watchdog: asyncio.Task[None] | None = None

    def guard(self) -> _Guard:
        return _Guard(self)

    def close(self) -> None:
        if self._watchdog is not None and not self._watchdog.done():
            self._watchdog.cancel()
        self._watchdog = None

    def _start(self, task: asyncio.Task[object]) -> None:
        loop = task.get_loop()
        self._due[task] = loop.time() + self.timeout_s
        if self._watchdog is None or self._watchdog.done() or self._watchdog.get_loop() is not loop:
            self._watchdog = loop.create_task(self._watch(loop), name="llamacompare-deadlines")

    async def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        while self._due:
            await asyncio.sleep(self.tick_s)
            now = loop.time()
            for task, due in list(self._due.items()):
                if task.done() or task.get_loop() is not loop:  # left behind by a loop that was torn down
                    self._due.pop(task, None)
                elif due <= now and task not in self._expired:
                    self._expired.add(task)
                    task.cancel()


class _Guard:
    __slots__ = ("owner", "task", "cancelling")

    def __init__(self, owner: Deadlines) -> None:
        self.owner = owner

    def __enter__(self) -> None:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a request deadline needs a running task")
        self.task = task
        self.cancelling = task.cancelling()
        self.owner._start(task)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        owner, task = self.owner, self.task
        owner._due.pop(task, None)
        if task not in owner._expired:
            return
        owner._expired.discard(task)
        # ours was not the only cancellation (the run is being stopped): let that one through
        if task.uncancel() <= self.cancelling and isinstance(exc, asyncio.CancelledError):
            raise builtins.TimeoutError() from None
