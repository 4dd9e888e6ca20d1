"""An aiohttp app served on 127.0.0.1 from a thread of its own for the length of a `with` block: the lifecycle the
fake servers share (anthropic_server.py, batch_server.py). A subclass adds its routes in `routes`."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from typing import Self

from aiohttp import web


class ThreadedApp:
    """Serves `routes` on a free port of 127.0.0.1 (`port`, `root_url`) while the `with` block runs."""

    thread_name = "fake-server"
    client_max_size = 1024**2  # aiohttp's default; a batch upload needs more

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=self.thread_name, daemon=True)
        self._thread.start()

        async def serve() -> web.AppRunner:
            app = web.Application(client_max_size=self.client_max_size)
            self.routes(app)
            runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
            await runner.setup()
            await web.SockSite(runner, sock).start()
            return runner

        self._runner = asyncio.run_coroutine_threadsafe(serve(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._runner is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = self._thread = self._runner = None
