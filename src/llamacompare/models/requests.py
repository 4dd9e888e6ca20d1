"""Turn a conversation into what a given model is sent: rendered text or chat messages.

The policy: a server that applies chat templates itself (OpenAI-compatible chat completions) gets messages;
Together's Llama chat models get the published template as text on /completions, as the seed notebook did;
a local GGUF file gets its own embedded template, or plain text when it has none (a base model).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from llamacompare.models.base import Params, Request
from llamacompare.models.spec import ModelSpec
from llamacompare.prompts.chat_templates import RENDERERS, Message
from llamacompare.prompts.tool_format import with_tools
from llamacompare.toolcall import Tool, dump_tools


def to_request(
    spec: ModelSpec,
    messages: Sequence[Message],
    params: Params,
    *,
    add_inst: bool = True,
    gguf_template: str | None = None,
    bos_token: str = "",
    eos_token: str = "",
    prefix: str | None = None,
    cue: str | None = None,
    base_stop: Sequence[str] = (),
    chat: Sequence[Message] | None = None,
    tools: Sequence[Tool] = (),
) -> Request:
    """`messages` is what a model without a chat format reads as text; `chat`, when given, what a model with one is
    sent instead (a task's few-shot examples as turns). `cue` is appended only where a model gets plain text (a
    local model without a chat template: a base model), to frame the prompt as a document whose continuation is
    the answer; `base_stop` is added to its stop sequences there only, to end the answer where a base model would
    go on writing the document.

    `tools` (a tool_call task): a server that takes messages gets them natively; text is rendered with the model's
    own template where it renders `tools`, else with the tools in the system prompt in the documented text format
    (prompts/tool_format.py), whose calls the client reads back from the answer."""
    request = _to_request(spec, messages, params, add_inst=add_inst, gguf_template=gguf_template,
                          bos_token=bos_token, eos_token=eos_token, prefix=prefix, cue=cue, base_stop=base_stop,
                          chat=chat, tools=tuple(tools))
    if not tools:
        return request
    head = request.prefix
    if request.prompt is not None and head is None:
        # the tools block is the same for every case of the task: a local model keeps it in its KV cache
        head = _turns_head(request.prompt, chat or messages)
    own_template = bool(gguf_template and renders_tools(gguf_template))
    return replace(request, tools=tuple(tools), prefix=head,
                   tools_in_text=request.prompt is not None and not own_template)


def _to_request(
    spec: ModelSpec,
    messages: Sequence[Message],
    params: Params,
    *,
    add_inst: bool,
    gguf_template: str | None,
    bos_token: str,
    eos_token: str,
    prefix: str | None,
    cue: str | None,
    base_stop: Sequence[str],
    chat: Sequence[Message] | None,
    tools: tuple[Tool, ...] = (),
) -> Request:
    if tools and spec.prompt_format == "family_text":
        # a hosted chat model sent its published template as text (Together's Llama): with tools, its chat endpoint
        # applies that template itself with the tools, and answers `tool_calls` (togethercomputer/openapi
        # openapi.yaml: ChatCompletionRequest.tools, ToolChoice)
        spec = replace(spec, prompt_format="messages")
    if tools and spec.prompt_format != "messages" and not (gguf_template and renders_tools(gguf_template)):
        # the tools in text: the same block for every model that reads text (fairness), before its template
        messages = with_tools(messages, tools)
        chat = with_tools(chat, tools) if chat else None
        prefix = None  # the few-shot block's cached prefix no longer starts the prompt
    if not add_inst:
        # The caller's text goes out exactly as written (the seed's add_inst=False).
        return Request(prompt=plain_text(messages), params=_turn_ends(messages, params), prefix=prefix)
    if spec.prompt_format == "text":
        if gguf_template:
            prompt = render_jinja(gguf_template, chat or messages, bos_token, eos_token, tools)
            return Request(prompt=prompt, params=params, prefix=_turns_head(prompt, chat) if chat else prefix)
        params = _turn_ends(messages, params)
        if base_stop:
            params = replace(params, stop=(*params.stop, *(s for s in base_stop if s not in params.stop)))
        return Request(prompt=plain_text(messages) + (cue or ""), params=params, prefix=prefix)
    messages = chat or messages
    if spec.prompt_format == "family_text" and spec.family in RENDERERS:
        return Request(prompt=RENDERERS[spec.family](messages), params=params, prefix=prefix)
    return Request(messages=tuple({"role": m["role"], "content": m["content"]} for m in messages), params=params,
                   prefix=prefix)


def _turns_head(prompt: str, chat: Sequence[Message]) -> str | None:
    """The rendered conversation up to the last user turn's content: the same for every case of a task (its system
    turn and few-shot turns), so an in-process model keeps it in its KV cache."""
    at = prompt.rfind(chat[-1]["content"])
    return prompt[:at] if at > 0 else None


#: where the answer to a plain transcript ends: a base model goes on to write the user's next turn itself
TURN_END = "\nUser:"


def plain_text(messages: Sequence[Message]) -> str:
    """No template: a single user turn is sent verbatim (after the system prompt); anything longer becomes a simple
    transcript."""
    users = [m for m in messages if m["role"] == "user"]
    system = next((m["content"] for m in messages if m["role"] == "system"), None)
    if not _is_transcript(messages):
        return f"{system}\n\n{users[0]['content']}" if system else users[0]["content"]
    lines = [system, ""] if system else []
    for m in messages:
        if m["role"] == "user":
            lines.append(f"User: {m['content']}")
        elif m["role"] == "assistant":
            lines.append(f"Assistant: {m['content']}")
    lines.append("Assistant:")
    return "\n".join(lines)


def _is_transcript(messages: Sequence[Message]) -> bool:
    turns = [m for m in messages if m["role"] != "system"]
    return not (len(turns) == 1 and turns[0]["role"] == "user")


def _turn_ends(messages: Sequence[Message], params: Params) -> Params:
    """A transcript's answer stops where the model starts the next "User:" turn, unless the caller chose stops."""
    return replace(params, stop=(TURN_END,)) if _is_transcript(messages) and not params.stop else params


def render_jinja(template: str, messages: Sequence[Message], bos_token: str, eos_token: str,
                 tools: Sequence[Tool] = ()) -> str:
    """Render a Hugging Face style chat template (as embedded in GGUF files) in a sandbox; `tools` as the
    template's `tools` variable (OpenAI's function-tool objects, as transformers' apply_chat_template passes them)."""
    extra = {"tools": dump_tools(tools)} if tools else {}
    return _compiled(template).render(
        messages=list(messages), bos_token=bos_token, eos_token=eos_token, add_generation_prompt=True, **extra
    )


def renders_tools(template: str) -> bool:
    """Whether a chat template renders the `tools` variable (Qwen2.5's, Llama 3.1's, Hermes' do; SmolLM2's and
    Gemma 3's do not)."""
    return re.search(r"\btools\b", template) is not None


@lru_cache(maxsize=16)
def _compiled(template: str) -> Any:
    """Compiled once per template: compiling took milliseconds, rendering takes microseconds, and a run renders
    every case with the same template."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment  # jinja2: only where a chat template is rendered

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)

    def raise_exception(message: str) -> None:
        raise ValueError(f"chat template: {message}")

    env.globals["raise_exception"] = raise_exception
    return env.from_string(template)
