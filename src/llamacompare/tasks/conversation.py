"""Conversations as cases: a case's `messages:` (inline, or a JSONL column) is sent as a multi-turn chat instead of
the task's template, each model getting it in its own chat format (see models/requests.py). Like the seed's
`llama_chat(prompts, responses)`: an optional system turn, then user and assistant turns alternating, ending with
the user's turn the model answers. `{field}` placeholders in the contents are filled from the case's fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from llamacompare.prompts.chat_templates import Message
from llamacompare.tasks.errors import Loc
from llamacompare.tasks.prompt_template import TemplateSyntaxError, placeholders

MESSAGES = "messages"
_ROLES = ("system", "user", "assistant")


class ConversationError(ValueError):
    """A bad conversation; `at` is the path inside it (turn index, then `role` or `content`)."""

    def __init__(self, at: tuple[int | str, ...], message: str) -> None:
        super().__init__(message)
        self.at = at


def parse_turns(value: Any) -> tuple[Message, ...]:
    """Turns from the suite or a JSONL record (dicts), checked; raises ConversationError."""
    if not isinstance(value, list) or not value:
        raise ConversationError((), "`messages` must be a non-empty list of {role, content}; fix the value")
    turns: list[Message] = []
    for i, item in enumerate(value):
        raw = item
        if not isinstance(raw, dict) or set(raw) - {"role", "content"}:
            raise ConversationError((i,), "each message is a mapping with just `role` and `content`; fix it")
        role, content = raw.get("role"), raw.get("content")
        if role not in _ROLES:
            raise ConversationError((i, "role"), f"role {role!r} is not one of system, user, assistant; fix it")
        if not isinstance(content, str) or not content.strip():
            raise ConversationError((i, "content"), "the content is empty or not a text; write the turn")
        try:
            placeholders(content)
        except TemplateSyntaxError as e:
            raise ConversationError((i, "content"), str(e)) from None
        turns.append(cast(Message, {"role": role, "content": content}))
    check_order(turns)
    return tuple(turns)


def check_order(turns: Sequence[Message]) -> None:
    """An optional system turn first, then user/assistant alternating from the user, ending with the user."""
    start = 1 if turns and turns[0]["role"] == "system" else 0
    for i, turn in enumerate(turns[start:], start):
        expected = "user" if (i - start) % 2 == 0 else "assistant"
        if turn["role"] != expected:
            where = "only the first message may be system" if turn["role"] == "system" else (
                f"after a {turns[i - 1]['role'] if i else 'start'} turn comes a {expected} turn")
            raise ConversationError((i, "role"), f"role {turn['role']!r} here: {where}; reorder the turns")
    if len(turns) == start or turns[-1]["role"] != "user":
        raise ConversationError((len(turns) - 1, "role"),
                                "the last message must be the user's (the turn the model answers); end with a user "
                                "message")


def missing_fields(turns: Sequence[Message], fields: Mapping[str, Any]) -> tuple[int, str] | None:
    """(turn index, field) of the first placeholder the case does not have."""
    for i, turn in enumerate(turns):
        for name in placeholders(turn["content"]):
            if name not in fields:
                return i, name
    return None


def inline_conversation_problems(cases: Sequence[Mapping[str, Any]] | None) -> list[tuple[Loc, str]]:
    """Problems of a task's inline cases' conversations, visible from the suite alone."""
    probs: list[tuple[Loc, str]] = []
    for i, case in enumerate(cases or []):
        if MESSAGES not in case:
            continue
        try:
            turns = parse_turns(case[MESSAGES])
        except ConversationError as e:
            probs.append((("cases", i, MESSAGES, *e.at), str(e)))
            continue
        fields = {k: v for k, v in case.items() if isinstance(v, str)}
        gap = missing_fields(turns, fields)
        if gap is not None:
            probs.append((("cases", i, MESSAGES, gap[0], "content"),
                          f"placeholder {{{gap[1]}}} is not a field of this case (it has: "
                          f"{', '.join(fields) or 'nothing'}); add the field or fix the placeholder"))
    return probs
