"""A streamed OpenAI-style answer (server-sent events) put back together, one network block at a time.

Why blocks and not `async for line in resp.content`: that is one readline with its buffer bookkeeping per line,
about ten per short answer, and an async generator per answer costs asyncio's bookkeeping too; splitting whole
blocks here is one await per block. Measured in bench/client_overhead.py.
"""

from __future__ import annotations

import time
from typing import Any

from llamacompare import jsonfast
from llamacompare.errors import BadRequestError, ServerError
from llamacompare.toolcall import ToolCall


class StreamedAnswer:
    """Feed it the bytes as they arrive; it keeps the text, finish reason, usage and time to first token."""

    __slots__ = ("url", "chat", "started", "parts", "finish", "usage", "ttft", "done", "_rest", "_calls")

    def __init__(self, url: str, *, chat: bool, started: float) -> None:
        self.url = url
        self.chat = chat
        self.started = started
        self.parts: list[str] = []
        self.finish: str | None = None
        self.usage: dict[str, Any] = {}
        self.ttft: float | None = None
        self.done = False  # `data: [DONE]` seen
        self._rest = b""  # an incomplete last line, completed by the next block
        self._calls: dict[int, list[str]] = {}  # tool calls by their `index`: [id, name, arguments so far]

    def feed(self, block: bytes) -> None:
        """Take one block: complete lines are read, a partial last line waits. Lines end in LF, CRLF or CR."""
        lines = (self._rest + block).splitlines(keepends=True) if self._rest else block.splitlines(keepends=True)
        self._rest = lines.pop() if lines and not lines[-1].endswith((b"\n", b"\r")) else b""
        for line in lines:
            if self.done:
                break
            if line.startswith(b"data:"):
                self._event(line[5:].strip())
            elif line.startswith(b"error:"):
                self._error_line(line[6:].strip())

    def close(self) -> tuple[str, str | None, dict[str, Any], float | None]:
        """The stream ended: (text, finish_reason, usage, ttft), or ServerError if the answer is incomplete."""
        if self._rest.startswith(b"data:") and self._rest[5:].strip() == b"[DONE]":
            self.done = True  # a last line without its line end; any other cut-off line is an incomplete event
        self._rest = b""
        if not self.done and self.finish is None:
            raise ServerError(f"stream from {self.url} ended before the answer was complete")
        if self.finish is None and not self.parts and not self._calls:
            raise ServerError(f"{self.url} answered with no choices")
        return "".join(self.parts), self.finish, self.usage, self.ttft

    def _event(self, payload: bytes) -> None:
        if payload == b"[DONE]":
            self.done = True
            return
        try:
            chunk = jsonfast.loads(payload)
        except ValueError:
            raise ServerError(f"{self.url} sent a malformed stream chunk", status=200) from None
        if not isinstance(chunk, dict):
            raise ServerError(f"{self.url} sent a stream chunk that is not an object", status=200)
        if chunk.get("error"):  # `"error": null` is no error
            raise ServerError(f"{self.url} stream error: {error_message(chunk)}", status=200)
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        choices = chunk.get("choices") or ()
        for choice in choices:
            delta = choice.get("delta") or {}
            piece = delta.get("content") if self.chat else choice.get("text")
            if piece:
                self._append(piece)
            if self.chat and delta.get("tool_calls"):
                self._call_deltas(delta["tool_calls"])
            if choice.get("finish_reason"):
                self.finish = choice["finish_reason"]
        if not choices and not self.chat:
            # Together's CompletionChunk: the token in `token` {id, text, logprob, special}
            token = chunk.get("token")
            if isinstance(token, dict) and not token.get("special") and token.get("text"):
                self._append(token["text"])
        if chunk.get("finish_reason"):  # Together puts it (and usage) at the top level of the last chunk
            self.finish = chunk["finish_reason"]

    def _call_deltas(self, deltas: Any) -> None:
        """openai-python's `ChoiceDeltaToolCall`s: the first delta of a call has its `index`, `id` and function
        `name`, later ones more of its `arguments` text."""
        for d in deltas if isinstance(deltas, list) else ():
            if not isinstance(d, dict):
                continue
            index = d.get("index", len(self._calls))
            call = self._calls.setdefault(index if isinstance(index, int) else len(self._calls), ["", "", ""])
            fn = d.get("function") or {}
            call[0] = call[0] or str(d.get("id") or "")
            call[1] = call[1] or str(fn.get("name") or "")  # once (OpenAI); Together repeats it in every delta
            call[2] += str(fn.get("arguments") or "")
            if self.ttft is None:
                self.ttft = time.perf_counter() - self.started

    def tool_calls(self) -> tuple[ToolCall, ...]:
        """The calls streamed, in their order."""
        return tuple(ToolCall(name, args, call_id or None)
                     for _, (call_id, name, args) in sorted(self._calls.items()))

    def _append(self, piece: str) -> None:
        if self.ttft is None:
            self.ttft = time.perf_counter() - self.started
        self.parts.append(piece)

    def _error_line(self, payload: bytes) -> None:
        """llama.cpp's server reports a failure mid-stream as an `error:` line (then `data: [DONE]`): the
        answer so far is not an answer."""
        try:
            data: Any = jsonfast.loads(payload)
        except ValueError:
            data = {"message": payload[:300].decode("utf-8", "replace")}
        message = f"{self.url} stream error: {error_message(data)}"
        code = data.get("code") if isinstance(data, dict) else None
        if isinstance(code, int) and 400 <= code < 500:
            raise BadRequestError(message, status=code, code=error_field(data, "type"))
        raise ServerError(message, status=code if isinstance(code, int) else 200)


def error_field(data: Any, name: str) -> str | None:
    """A field of an OpenAI-style error body (`param`, `code`, `type`), as text."""
    err = data.get("error", data) if isinstance(data, dict) else None
    value = err.get(name) if isinstance(err, dict) else None
    return str(value) if value is not None else None


def error_message(data: Any) -> str:
    """The human part of an OpenAI-style error body, shortened."""
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            return str(err.get("message") or err.get("detail") or err)[:300]
        return str(err)[:300]
    return str(data)[:300]
