"""Run a coroutine from synchronous code, also inside Jupyter where an event loop is already running."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on uvloop where it is installed: measured faster for the many small requests of a run."""
    try:
        import uvloop  # uvloop: only where an event loop starts
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run(coro)
    # A loop is running in this thread (Jupyter): run ours in a helper thread and wait for it.
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=target, name="llamacompare-sync")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]
