"""Label log-probabilities out of what servers answer: echoed prompt log-probs in each documented shape, or the top
log-probs of a chat answer's first tokens. Pure functions of the parsed JSON.

Echo: the label is appended to the prompt and the server scores the whole text. Shapes:
- OpenAI legacy completions (and llama-cpp-python): `choices[0].logprobs` = {tokens, token_logprobs, text_offset},
  prompt tokens then the generated ones;
- vLLM: the same, but `text_offset` counts the BOS token's text, so offsets are shifted against the prompt;
- Together: the prompt's own log-probs at the top level, `prompt[0].logprobs` = {tokens, token_logprobs,
  token_ids}, with no offsets at all.
So the label's tokens are found from the end of the prompt's tokens by their lengths (tokens align at the end,
whatever the start holds), never by offsets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class PromptTokens:
    """The echoed prompt (prompt + label), one entry per token; the first token's log-prob is usually None."""

    tokens: list[str]
    logprobs: list[float | None]


class NoLogprobs(ValueError):
    """The answer carries no usable log-probabilities."""


def echoed_prompt(data: Any, sent: str) -> PromptTokens:
    """The echoed prompt's tokens and log-probs from a /completions answer to the prompt `sent`, without any
    generated tokens."""
    if not isinstance(data, dict):
        raise NoLogprobs("answer is not a JSON object")
    prompt = data.get("prompt")
    if isinstance(prompt, list) and prompt and isinstance(prompt[0], dict):  # Together: prompt only
        found = _token_lists(prompt[0].get("logprobs"))
        if found is not None:
            return PromptTokens(*found)
    choices = data.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    found = _token_lists(choice.get("logprobs"))
    if found is None:
        raise NoLogprobs("no prompt log-probs in the answer (the server does not echo them)")
    tokens, logprobs = found
    generated = _generated_count(data, choice, tokens, sent)
    if generated:
        tokens, logprobs = tokens[:-generated], logprobs[:-generated]
    return PromptTokens(tokens, logprobs)


def _token_lists(lp: Any) -> tuple[list[str], list[float | None]] | None:
    if not isinstance(lp, dict):
        return None
    tokens, values = lp.get("tokens"), lp.get("token_logprobs")
    if not isinstance(tokens, list) or not isinstance(values, list) or len(tokens) != len(values) or not tokens:
        return None
    if not all(isinstance(t, str) for t in tokens):
        return None
    return tokens, [float(v) if isinstance(v, int | float) else None for v in values]


def _generated_count(data: dict[str, Any], choice: dict[str, Any], tokens: list[str], sent: str) -> int:
    """How many of the trailing tokens were generated rather than echoed.

    The usage's completion tokens say it: each generated token is listed once. (The prompt count is no guide:
    llama-cpp-python counts the BOS token it leaves out of the list, vLLM lists it.) Without usage, the tokens
    that spell the answer's text after the echoed prompt are the generated ones."""
    raw_usage = data.get("usage")
    usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
    ct = usage.get("completion_tokens")
    if isinstance(ct, int) and 0 <= ct < len(tokens):
        return ct
    text = choice.get("text")
    if not isinstance(text, str) or not text.startswith(sent):
        return 0
    generated, covered, n = len(text) - len(sent), 0, 0
    while n < len(tokens) - 1 and covered < generated:
        n += 1
        covered += len(tokens[-n])
    return n


def label_logprob(prompt: PromptTokens, label: str) -> float:
    """Sum of the log-probs of the tokens that cover the label at the end of the echoed prompt.

    Walks back from the last token until the label's characters are covered: a token that straddles the
    boundary (a space merged into the label's first token) counts with the label, as it does for every label."""
    need = len(label)
    if need == 0:
        raise NoLogprobs("empty label")
    total, covered, i = 0.0, 0, len(prompt.tokens)
    while covered < need and i > 0:
        i -= 1
        value = prompt.logprobs[i]
        if value is None:
            raise NoLogprobs("the label reaches the first token, which has no log-prob")
        total += value
        covered += max(1, len(prompt.tokens[i]))
    if covered < need:
        raise NoLogprobs("the echoed prompt is shorter than the label")
    return total


# -- top log-probs of the first answer tokens ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopScores:
    """Label log-probs read off an answer's top log-probs; `unfinished` labels were still being followed when the
    answer's tokens ran out (ask for more tokens when two of them compete); `bounded` labels were not among the
    listed alternatives somewhere along the way, so their value is a bound, not their log-prob."""

    logprobs: dict[str, float]
    unfinished: frozenset[str]
    bounded: frozenset[str] = frozenset()


def chat_entries(content: Any) -> list[dict[str, Any]]:
    """The per-token entries of a chat answer's `logprobs.content` (OpenAI's ChatCompletionTokenLogprob: token,
    logprob, top_logprobs[{token, logprob}]; Ollama, vLLM and llama.cpp's server answer the same shape)."""
    if not isinstance(content, list) or not content:
        raise NoLogprobs("the chat answer has no log-probs")
    return [e for e in content if isinstance(e, dict)]


def completion_entries(logprobs: Any) -> list[dict[str, Any]]:
    """The same entries from a legacy completion's `logprobs` {tokens, token_logprobs, top_logprobs[{tok: lp}]}."""
    if not isinstance(logprobs, dict):
        raise NoLogprobs("the completion has no log-probs")
    if "content" in logprobs:  # Ollama answers completions in the chat shape (openai/openai.go ChoiceLogprobs)
        return chat_entries(logprobs["content"])
    tokens, values, tops = logprobs.get("tokens"), logprobs.get("token_logprobs"), logprobs.get("top_logprobs")
    if not isinstance(tokens, list) or not isinstance(values, list) or not isinstance(tops, list) or not tokens:
        raise NoLogprobs("the completion has no top log-probs")
    return [{"token": t, "logprob": v, "top_logprobs": [{"token": k, "logprob": x} for k, x in (top or {}).items()]}
            for t, v, top in zip(tokens, values, tops, strict=False)]


def top_label_logprobs(entries: list[dict[str, Any]], labels: Sequence[str]) -> TopScores:
    """Label log-probs from the top log-probs of an answer's first tokens.

    A label is followed along the answer's own tokens: at each position, the alternatives that continue the
    label (case-insensitively; leading spaces ignored) add their probability; where the answer leaves the label,
    or the label ends, its score is complete. A label none of the listed alternatives starts gets at most the
    probability mass the list leaves over (and no more than the least likely listed token): a bound, not zero, and
    the label is named in `bounded`."""
    steps = [_alternatives(entry) for entry in entries]
    chosen = [str(entry.get("token", "")) for entry in entries]
    # leading tokens that are only whitespace are the same for every label
    start = 0
    while start < len(chosen) - 1 and not chosen[start].strip():
        start += 1
    if not steps or not steps[start] or len(steps[start]) < 2:
        raise NoLogprobs("the answer lists no top log-probs (ask with logprobs and top_logprobs)")
    out: dict[str, float] = {}
    unfinished: set[str] = set()
    bounded: set[str] = set()
    for label in labels:
        target = label.strip().casefold()
        done = ""
        total = 0.0
        for pos in range(start, len(steps)):
            rest = target[len(done):]
            alts = steps[pos]
            matching = [lp for tok, lp in alts.items() if _continues(_piece(tok, first=not done), rest)]
            if not matching:
                total += _unlisted_bound(alts)
                bounded.add(label)
                break
            total += _logsumexp(matching)
            piece = _piece(chosen[pos], first=not done)
            if piece and rest.startswith(piece) and len(piece) < len(rest):
                done += piece  # the answer goes on inside this label: the next token decides more
                if pos == len(steps) - 1:
                    unfinished.add(label)
                continue
            break
        out[label] = total
    return TopScores(out, frozenset(unfinished), frozenset(bounded))


def chat_label_logprobs(content: Any, labels: Sequence[str]) -> dict[str, float]:
    """Label log-probs from a chat answer's `logprobs.content` (see `top_label_logprobs`)."""
    return top_label_logprobs(chat_entries(content), labels).logprobs


def _alternatives(entry: dict[str, Any]) -> dict[str, float]:
    alts: dict[str, float] = {}
    for alt in entry.get("top_logprobs") or ():
        if isinstance(alt, dict) and isinstance(alt.get("token"), str) and isinstance(alt.get("logprob"), int | float):
            alts[alt["token"]] = max(alts.get(alt["token"], -math.inf), float(alt["logprob"]))
    if isinstance(entry.get("token"), str) and isinstance(entry.get("logprob"), int | float):
        alts.setdefault(entry["token"], float(entry["logprob"]))
    return alts


def _piece(token: str, *, first: bool) -> str:
    return (token.lstrip() if first else token).casefold()


def _continues(piece: str, rest: str) -> bool:
    """The token goes on with the label: it is a start of what is left of it, or all of it followed by no more
    of a word ("positive." is the label, "positively" is not)."""
    if not piece or not rest:
        return False
    return rest.startswith(piece) or (piece.startswith(rest) and not piece[len(rest):][:1].isalnum())


def _unlisted_bound(alts: dict[str, float]) -> float:
    listed = sum(math.exp(v) for v in alts.values())
    left = math.log(max(1.0 - listed, 1e-12))
    return min(left, min(alts.values())) if alts else left


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))
