"""Published chat formats, rendered string-exact.

Llama 2 chat follows Meta's reference `chat_completion` (and the Hugging Face template built from it):
`<s>[INST] <<SYS>>\\n{system}\\n<</SYS>>\\n\\n{user} [/INST] {answer} </s><s>[INST] {user} [/INST]`.
Llama 3 uses header tokens: `<|begin_of_text|><|start_header_id|>{role}<|end_header_id|>\\n\\n{content}<|eot_id|>`
and ends with an open assistant header so the model answers next. Contents are stripped, as both references do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypedDict


class Message(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


B_INST, E_INST = "[INST]", "[/INST]"
B_SYS, E_SYS = "<<SYS>>\n", "\n<</SYS>>\n\n"
LLAMA2_BOS, LLAMA2_EOS = "<s>", "</s>"

LLAMA3_BOS = "<|begin_of_text|>"
LLAMA3_EOT = "<|eot_id|>"


def _llama3_header(role: str) -> str:
    return f"<|start_header_id|>{role}<|end_header_id|>\n\n"


def build_messages(
    prompts: Sequence[str], responses: Sequence[str] = (), system: str | None = None
) -> list[Message]:
    """Interleave user prompts and assistant responses; one more prompt than responses."""
    if len(prompts) != len(responses) + 1:
        raise ValueError(
            f"llama_chat needs one more prompt than responses (got {len(prompts)} prompts and "
            f"{len(responses)} responses): the last prompt is the one to answer"
        )
    messages: list[Message] = []
    if system:
        messages.append({"role": "system", "content": system})
    for i, prompt in enumerate(prompts):
        messages.append({"role": "user", "content": prompt})
        if i < len(responses):
            messages.append({"role": "assistant", "content": responses[i]})
    return messages


def _split_system(messages: Sequence[Message]) -> tuple[str | None, list[Message]]:
    if messages and messages[0]["role"] == "system":
        return messages[0]["content"], list(messages[1:])
    return None, list(messages)


def render_llama2(messages: Sequence[Message]) -> str:
    """Llama 2 chat format. Turns must alternate user/assistant and end with a user turn."""
    system, turns = _split_system(messages)
    _check_alternation(turns)
    out: list[str] = []
    for i, msg in enumerate(turns):
        if msg["role"] == "user":
            content = msg["content"]
            if i == 0 and system is not None:
                content = B_SYS + system + E_SYS + content
            out.append(f"{LLAMA2_BOS}{B_INST} {content.strip()} {E_INST}")
        else:
            out.append(f" {msg['content'].strip()} {LLAMA2_EOS}")
    return "".join(out)


def render_llama3(messages: Sequence[Message]) -> str:
    """Llama 3 instruct format, ending with the assistant header (the generation prompt)."""
    out = [LLAMA3_BOS]
    for msg in messages:
        out.append(_llama3_header(msg["role"]) + msg["content"].strip() + LLAMA3_EOT)
    out.append(_llama3_header("assistant"))
    return "".join(out)


def _check_alternation(turns: Sequence[Message]) -> None:
    for i, msg in enumerate(turns):
        expected = "user" if i % 2 == 0 else "assistant"
        if msg["role"] != expected:
            raise ValueError(f"message {i} has role {msg['role']!r}; turns must alternate user/assistant")
    if not turns or turns[-1]["role"] != "user":
        raise ValueError("the conversation must end with a user message")


RENDERERS = {"llama2": render_llama2, "llama3": render_llama3}


def render_for_family(family: str, messages: Sequence[Message]) -> str:
    try:
        return RENDERERS[family](messages)
    except KeyError:
        raise ValueError(f"no built-in chat template for family {family!r}") from None
