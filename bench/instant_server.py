"""The leanest loopback OpenAI-compatible server, for measuring HTTP clients rather than the server.

    python bench/instant_server.py --port 0        # first stdout line: http://127.0.0.1:PORT/v1

Answers POST /v1/chat/completions, POST /v1/completions and GET /v1/models at once with fixed, small
JSON bodies (usage included; a request containing `"stream": true` gets a fixed SSE answer instead).
The model in the answer is always "instant": reading the request body would cost server CPU.

Implementations (--impl), by server CPU per request on a 2-core box (see bench/README.md):
- `protocol` (default): a bare asyncio.Protocol that parses only the request head and Content-Length,
  with keep-alive and pipelining; on uvloop when it is installed (--no-uvloop to turn that off).
- `aiohttp`: aiohttp's low-level web.Server, kept to compare against.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

_USAGE = {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
_CHAT = {
    "id": "chatcmpl-instant",
    "object": "chat.completion",
    "created": 0,
    "model": "instant",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Pozitif"},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": _USAGE,
}
_COMPLETION = {
    "id": "cmpl-instant",
    "object": "text_completion",
    "created": 0,
    "model": "instant",
    "choices": [{"index": 0, "text": "Pozitif", "logprobs": None, "finish_reason": "stop"}],
    "usage": _USAGE,
}
_MODELS = {"object": "list", "data": [{"id": "instant", "object": "model", "created": 0, "owned_by": "bench"}]}
_NOT_FOUND = {"error": {"message": "Not found", "type": "invalid_request_error", "param": None, "code": None}}


def _sse(chunk: dict) -> bytes:
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


def _stream_body(whole: dict, chat: bool) -> bytes:
    head = {k: whole[k] for k in ("id", "created", "model")}
    head["object"] = "chat.completion.chunk" if chat else "text_completion"
    if chat:
        deltas = [{"role": "assistant", "content": ""}, {"content": "Pozitif"}, {}]
        parts = [{"index": 0, "delta": d, "finish_reason": None} for d in deltas]
    else:
        parts = [{"index": 0, "text": t, "finish_reason": None} for t in ("Pozitif", "")]
    parts[-1]["finish_reason"] = "stop"
    body = b"".join(_sse({**head, "choices": [p]}) for p in parts)
    return body + _sse({**head, "choices": [], "usage": _USAGE}) + b"data: [DONE]\n\n"


def _response(status: bytes, body: bytes, ctype: bytes = b"application/json") -> bytes:
    head = b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: keep-alive\r\n\r\n"
    return head % (status, ctype, len(body)) + body


def _json(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


# Everything is computed once: answering is a dict lookup and one transport.write().
BODIES: dict[tuple[bytes, bytes], tuple[bytes, bytes]] = {
    (b"POST", b"/v1/chat/completions"): (_json(_CHAT), _stream_body(_CHAT, chat=True)),
    (b"POST", b"/v1/completions"): (_json(_COMPLETION), _stream_body(_COMPLETION, chat=False)),
    (b"GET", b"/v1/models"): (_json(_MODELS), _json(_MODELS)),
}
_RESPONSES = {
    key: (_response(b"200 OK", plain), _response(b"200 OK", sse, b"text/event-stream"))
    for key, (plain, sse) in BODIES.items()
}
_RESP_404 = _response(b"404 Not Found", _json(_NOT_FOUND))
_RESP_400 = _response(b"400 Bad Request", b'{"error":{"message":"bad request"}}').replace(b"keep-alive", b"close")


class InstantProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive: reads heads and Content-Length (or a chunked body), answers from _RESPONSES."""

    __slots__ = ("transport", "buf")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        out: list[bytes] = []
        close = False
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buf[:end]
            start = end + 4
            lower = head.lower()
            i = lower.find(b"\r\ncontent-length:")
            if i >= 0:
                j = lower.find(b"\r\n", i + 2)
                try:
                    stop = start + int(head[i + 17 : j if j >= 0 else len(head)])
                except ValueError:
                    out.append(_RESP_400)
                    close, buf = True, b""
                    break
            elif b"\r\ntransfer-encoding: chunked" in lower:
                # A JSON body never holds a bare CRLF 0 CRLF CRLF, so the terminator is enough here.
                k = buf.find(b"\r\n0\r\n\r\n", start - 2)
                if k < 0:
                    break
                stop = k + 7
            else:
                stop = start
            if len(buf) < stop:
                break
            method, _, rest = head.partition(b" ")
            path = rest.partition(b" ")[0].partition(b"?")[0]
            pair = _RESPONSES.get((method, path))
            if pair is None:
                out.append(_RESP_404)
            else:
                body = buf[start:stop]
                streamed = b'"stream":true' in body or b'"stream": true' in body
                out.append(pair[1] if streamed else pair[0])
            close = close or b"\r\nconnection: close" in lower
            buf = buf[stop:]
        self.buf = buf
        if out:
            self.transport.write(b"".join(out) if len(out) > 1 else out[0])
        if close:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.buf = b""


async def _serve_protocol(host: str, port: int) -> asyncio.base_events.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(InstantProtocol, host, port, backlog=1024, reuse_address=True)


async def _serve_aiohttp(host: str, port: int) -> asyncio.base_events.Server:
    from aiohttp import web

    async def handler(request: web.BaseRequest) -> web.Response:
        key = (request.method.encode(), request.path.encode())
        if key not in BODIES:
            return web.Response(status=404, body=_json(_NOT_FOUND), content_type="application/json")
        raw = await request.read()
        if b'"stream":true' in raw or b'"stream": true' in raw:
            return web.Response(body=BODIES[key][1], content_type="text/event-stream")
        return web.Response(body=BODIES[key][0], content_type="application/json")

    server = web.Server(handler, access_log=None)
    loop = asyncio.get_running_loop()
    return await loop.create_server(server, host, port, backlog=1024, reuse_address=True)


async def _main(host: str, port: int, impl: str) -> None:
    server = await (_serve_aiohttp if impl == "aiohttp" else _serve_protocol)(host, port)
    bound = server.sockets[0].getsockname()[1]
    print(f"http://{host}:{bound}/v1", flush=True)
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)
    await done.wait()
    server.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Instant OpenAI-compatible server for client benchmarks.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--impl", choices=("protocol", "aiohttp"), default="protocol")
    ap.add_argument("--no-uvloop", action="store_true", help="use the stdlib event loop even if uvloop is installed")
    ns = ap.parse_args(argv)
    runner: object = asyncio.run
    if not ns.no_uvloop:
        with contextlib.suppress(ImportError):
            import uvloop

            runner = uvloop.run
    runner(_main(ns.host, ns.port, ns.impl))  # type: ignore[operator]


@contextlib.contextmanager
def start_instant_server(
    *, impl: str = "protocol", uvloop: bool = True, timeout: float = 15.0
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run the instant server in a child process; yield (process, base_url ending in /v1); stop it after."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--port", "0", "--impl", impl]
    if not uvloop:
        cmd.append("--no-uvloop")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        stdout = proc.stdout
        assert stdout is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        url = line[0].strip() if line else ""
        if not url.startswith("http://"):
            raise RuntimeError(f"instant server did not start (exit code {proc.poll()})")
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


if __name__ == "__main__":
    main()
