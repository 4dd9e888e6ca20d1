"""The JSON shapes of OpenAI's chat/completions answers (whole and streamed), built from the fake model.

Pure functions, no HTTP: `build_answer` decides the text, tokens, finish reason, log-probabilities and
usage of a request; `full_body` and `chunks` lay that out as the API does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

try:
    from . import fake_lm
except ImportError:  # run as a plain script
    import fake_lm  # type: ignore[no-redef]

#: an answer function's answer that starts with this is a tool-call answer: the rest is a JSON list of
#: {"name", "arguments": TEXT} (the arguments as the model's text, so a malformed one can be scripted)
TOOL_CALLS = "\x00tool_calls:"

CHAT_PATH = "/v1/chat/completions"
COMPLETIONS_PATH = "/v1/completions"


@dataclass(slots=True)
class Piece:
    """One generated (or echoed) token with its log-probability and top alternatives."""

    text: str
    logprob: float | None = None
    top: dict[str, float] | None = None


@dataclass(slots=True)
class Choice:
    pieces: list[Piece]
    finish_reason: str
    text_offset0: int  # where the first piece starts in the prompt+answer text (OpenAI's text_offset)
    tool_calls: list[dict[str, str]] | None = None  # [{"name", "arguments"}]: the answer is these calls

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.pieces)


@dataclass(slots=True)
class Answer:
    choices: list[Choice]
    prompt_tokens: int
    completion_tokens: int
    created: int = field(default_factory=lambda: int(time.time()))


def build_answer(
    path: str, body: Mapping[str, Any], model: str, answer: fake_lm.AnswerFn, answers: Sequence[str],
    logprob: fake_lm.LogprobFn | None = None,
) -> Answer:
    """Apply `stop`, `max_tokens` (0 allowed), `n`, `echo` and `logprobs` to the model's answer(s).

    A completions `prompt` may be a list of strings: one choice per prompt (times n), as in the API.
    """
    n = body.get("n") or 1
    chat = path == CHAT_PATH
    if chat:
        prompts: list[str | None] = [None]
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        want_lp, n_top = bool(body.get("logprobs")), body.get("top_logprobs") or 0
    else:
        prompt = body["prompt"]
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        limit = body.get("max_tokens")
        lp_arg = body.get("logprobs")
        want_lp, n_top = lp_arg is not None, lp_arg if isinstance(lp_arg, int) else 0
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else [s for s in (stop or []) if isinstance(s, str) and s]
    choices: list[Choice] = []
    prompt_tokens = completion_tokens = 0
    for p in prompts:
        single = dict(body) if p is None else {**body, "prompt": p}
        full = answer(single)
        if chat and full.startswith(TOOL_CALLS) and body.get("tools"):
            calls = json.loads(full[len(TOOL_CALLS):])
            prompt_tokens += fake_lm.count_tokens(fake_lm.prompt_text(single))
            completion_tokens += sum(fake_lm.count_tokens(c["name"] + c["arguments"]) for c in calls) * n
            # OpenAI ends a turn of calls with finish_reason "tool_calls"
            choices += [Choice([], "tool_calls", 0, calls) for _ in range(n)]
            continue
        cut = min((full.find(s) for s in stops if s in full), default=-1)
        toks = fake_lm.tokenize(full if cut < 0 else full[:cut])
        finish = "stop"
        if limit is not None and (len(toks) > limit or limit == 0):
            toks, finish = toks[:limit], "length"
        pieces = [Piece(t, fake_lm.CONFIDENT_LOGPROB, {t: fake_lm.CONFIDENT_LOGPROB}) for t in toks]
        if pieces and want_lp:
            pieces[0].top = fake_lm.first_token_alternatives(full, answers, model, max(n_top, 1))
        offset0 = 0 if p is None else len(p)
        if p is not None and body.get("echo"):
            echoed = fake_lm.echo_logprobs(model, single, p, answer, logprob)
            pieces = [Piece(t, lp, None if lp is None else {t: lp}) for t, lp in echoed] + pieces
            offset0 = 0
        prompt_tokens += fake_lm.count_tokens(fake_lm.prompt_text(single))
        for _ in range(n):
            choices.append(Choice(pieces, finish, offset0))
            completion_tokens += len(toks)
    return Answer(choices, prompt_tokens, completion_tokens)


def completion_logprobs(pieces: Sequence[Piece], offset0: int) -> dict[str, Any]:
    """The legacy completions `logprobs` object."""
    offsets, pos = [], offset0
    for p in pieces:
        offsets.append(pos)
        pos += len(p.text)
    return {
        "tokens": [p.text for p in pieces],
        "token_logprobs": [p.logprob for p in pieces],
        "top_logprobs": [p.top for p in pieces],
        "text_offset": offsets,
    }


def chat_logprobs(pieces: Sequence[Piece], n_top: int) -> dict[str, Any]:
    """The chat `logprobs` object (`content` entries with bytes and top_logprobs)."""

    def entry(tok: str, lp: float) -> dict[str, Any]:
        return {"token": tok, "logprob": lp, "bytes": list(tok.encode())}

    content = []
    for p in pieces:
        e = entry(p.text, p.logprob or 0.0)
        e["top_logprobs"] = [entry(t, lp) for t, lp in list((p.top or {}).items())[:n_top]]
        content.append(e)
    return {"content": content, "refusal": None}


def usage(a: Answer) -> dict[str, int]:
    total = a.prompt_tokens + a.completion_tokens
    return {"prompt_tokens": a.prompt_tokens, "completion_tokens": a.completion_tokens, "total_tokens": total}


def _head(path: str, body: Mapping[str, Any], model: str, a: Answer, streamed: bool) -> dict[str, Any]:
    chat = path == CHAT_PATH
    obj = ("chat.completion.chunk" if streamed else "chat.completion") if chat else "text_completion"
    rid = ("chatcmpl-" if chat else "cmpl-") + fake_lm.prompt_hash(body)
    return {"id": rid, "object": obj, "created": a.created, "model": model}


def full_body(path: str, body: Mapping[str, Any], model: str, a: Answer) -> dict[str, Any]:
    """A non-streamed answer."""
    choices: list[dict[str, Any]] = []
    for i, c in enumerate(a.choices):
        if path == CHAT_PATH:
            lp = chat_logprobs(c.pieces, body.get("top_logprobs") or 0) if body.get("logprobs") else None
            msg: dict[str, Any] = {"role": "assistant", "content": c.text, "refusal": None}
            if c.tool_calls is not None:
                # openai-python src/openai/types/chat/chat_completion_message.py: `content` None beside
                # `tool_calls`, each a chat_completion_message_tool_call.py ChatCompletionMessageToolCall
                # {id, type: "function", function: {name, arguments: str}}
                msg = {"role": "assistant", "content": None, "refusal": None, "tool_calls": [
                    {"id": _call_id(body, j), "type": "function",
                     "function": {"name": t["name"], "arguments": t["arguments"]}}
                    for j, t in enumerate(c.tool_calls)]}
            choices.append({"index": i, "message": msg, "logprobs": lp, "finish_reason": c.finish_reason})
        else:
            lp = completion_logprobs(c.pieces, c.text_offset0) if body.get("logprobs") is not None else None
            choices.append({"index": i, "text": c.text, "logprobs": lp, "finish_reason": c.finish_reason})
    return {**_head(path, body, model, a, False), "choices": choices, "usage": usage(a)}


def _call_id(body: Mapping[str, Any], j: int) -> str:
    return f"call_{fake_lm.prompt_hash(body)[:12]}_{j}"


def chunks(path: str, body: Mapping[str, Any], model: str, a: Answer) -> Iterator[dict[str, Any]]:
    """The chunks of a streamed answer, in order, without the closing `[DONE]`.

    Chat: a role chunk, one chunk per token, a chunk with the finish_reason; then, with
    `stream_options.include_usage`, a chunk with `"choices": []` and the usage (others carry `usage: null`).
    """
    chat = path == CHAT_PATH
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    head = _head(path, body, model, a, True)
    extra = {"usage": None} if include_usage else {}

    def chunk(index: int, payload: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {**head, "choices": [{"index": index, **payload, "finish_reason": finish}], **extra}

    n_top = body.get("top_logprobs") or 0
    for i, c in enumerate(a.choices):
        if chat:
            yield chunk(i, {"delta": {"role": "assistant", "content": ""}, "logprobs": None}, None)
        if chat and c.tool_calls is not None:
            # openai-python chat_completion_chunk.py ChoiceDeltaToolCall {index, id, type, function: {name,
            # arguments}}: a call's first delta has its id, type and name, later ones pieces of its arguments
            for j, t in enumerate(c.tool_calls):
                head_delta = {"index": j, "id": _call_id(body, j), "type": "function",
                              "function": {"name": t["name"], "arguments": ""}}
                yield chunk(i, {"delta": {"tool_calls": [head_delta]}, "logprobs": None}, None)
                for piece in fake_lm.tokenize(t["arguments"]):
                    yield chunk(i, {"delta": {"tool_calls": [{"index": j, "function": {"arguments": piece}}]},
                                    "logprobs": None}, None)
        pos = c.text_offset0
        for p in c.pieces:
            if chat:
                lp = chat_logprobs([p], n_top) if body.get("logprobs") else None
                yield chunk(i, {"delta": {"content": p.text}, "logprobs": lp}, None)
            else:
                lp = completion_logprobs([p], pos) if body.get("logprobs") is not None else None
                yield chunk(i, {"text": p.text, "logprobs": lp}, None)
            pos += len(p.text)
        end = {"delta": {}, "logprobs": None} if chat else {"text": "", "logprobs": None}
        yield chunk(i, end, c.finish_reason)
    if include_usage:
        yield {**head, "choices": [], "usage": usage(a)}
