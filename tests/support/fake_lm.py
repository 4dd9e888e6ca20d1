"""The scripted server's fake "language model": tokens, hashes, answers and log-probabilities.

Everything here is a pure, deterministic function of its input so that tests can predict what the
server says. Tokens are words (with their leading whitespace) and single punctuation marks:
`"".join(tokenize(t)) == t` for any text, Turkish included (`\\w` is Unicode-aware).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

_TOKEN_RE = re.compile(r"\s*(?:\w+|[^\w\s])|\s+")

#: log-probability of a token the fake model "wants" to say; any other token gets one in [-8, -0.5)
CONFIDENT_LOGPROB = -0.05

AnswerFn = Callable[[dict[str, Any]], str]
#: a scripted model's own log-prob of `token` after `prefix` (model, prefix, token), None: the default rule
LogprobFn = Callable[[str, str, str], "float | None"]


def tokenize(text: str) -> list[str]:
    """Split text into fake tokens: a word or one punctuation mark, each with its leading whitespace."""
    return _TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    """How many fake tokens `text` has (roughly its number of words and punctuation marks)."""
    return len(tokenize(text))


def unit_hash(*parts: str) -> float:
    """A stable number in [0, 1) from strings (Python's hash() is salted per process, so not usable)."""
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def content_text(content: Any) -> str:
    """The text of a chat message's content: a string, or a list of parts of which text ones count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def prompt_key(body: Mapping[str, Any]) -> Any:
    """The part of a request body that identifies its prompt: `prompt`, or the messages' roles and texts."""
    if "messages" in body:
        msgs = body.get("messages") or []
        return [[m.get("role"), content_text(m.get("content"))] for m in msgs if isinstance(m, dict)]
    return body.get("prompt")


def prompt_hash(body: Mapping[str, Any]) -> str:
    """A stable 16-hex-digit hash of a request's prompt or messages (model and parameters left out)."""
    canon = json.dumps(prompt_key(body), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:16]


def prompt_text(body: Mapping[str, Any]) -> str:
    """All prompt text of a request on one string (messages joined by newlines), for rule matching."""
    key = prompt_key(body)
    if isinstance(key, str):
        return key
    if isinstance(key, list):
        return "\n".join(p[1] if isinstance(p, list) else str(p) for p in key)
    return ""


def pick_answer(body: Mapping[str, Any], answers: Sequence[str]) -> str:
    """The default answer: one of `answers`, chosen by the prompt hash (same prompt, same answer)."""
    return answers[int(prompt_hash(body), 16) % len(answers)]


def fake_logprob(model: str, prefix: str, token: str) -> float:
    """Log-probability of an unexpected `token` after `prefix`: hash-derived, in [-8, -0.5)."""
    return -(0.5 + 7.5 * unit_hash(model, prefix, token))


def echo_logprobs(model: str, body: Mapping[str, Any], prompt: str, answer: AnswerFn,
                  logprob: LogprobFn | None = None) -> list[tuple[str, float | None]]:
    """Per-token log-probabilities of an echoed `prompt`, consistent with what the model would answer.

    A token gets CONFIDENT_LOGPROB when it continues the answer the model gives to the text before it
    (so scoring the labels "Pozitif"/"Negatif" after a prompt ranks first the one the server would
    generate for that prompt); any other token gets `fake_logprob`. The first token has None, as in
    OpenAI's API. `logprob`, where it gives a value, is the model's own log-prob of a token instead.
    """
    out: list[tuple[str, float | None]] = []
    offset = 0
    pending: str | None = None  # what is left of the answer being echoed, if any
    for i, tok in enumerate(tokenize(prompt)):
        core = tok.strip()
        lp: float | None
        own = logprob(model, prompt[:offset], tok) if logprob is not None and i else None
        if i == 0:
            lp = None
        elif own is not None:
            lp, pending = own, None
        elif pending is not None and core and pending.lstrip().startswith(core):
            lp, pending = CONFIDENT_LOGPROB, pending.lstrip()[len(core) :]
        else:
            expected = answer({**body, "prompt": prompt[:offset]}).lstrip()
            if core and expected.startswith(core):
                lp, pending = CONFIDENT_LOGPROB, expected[len(core) :]
            else:
                lp, pending = fake_logprob(model, prompt[:offset], tok), None
        out.append((tok, lp))
        offset += len(tok)
    return out


def first_token_alternatives(answer_text: str, answers: Sequence[str], model: str, n: int) -> dict[str, float]:
    """top_logprobs of the first generated token: the answer's own token, then other answers' first tokens."""
    toks = tokenize(answer_text)
    alts: dict[str, float] = {}
    if toks:
        alts[toks[0]] = CONFIDENT_LOGPROB
    for other in answers:
        other_toks = tokenize(other)
        if other_toks and other_toks[0] not in alts:
            alts[other_toks[0]] = fake_logprob(model, "", other_toks[0])
    return dict(list(alts.items())[: max(n, 0)])
