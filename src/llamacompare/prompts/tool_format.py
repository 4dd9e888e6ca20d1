"""Tools offered in text, for a model whose chat template does not render them (and a base model, which has none),
and the calls read back from its answer. Pure.

The format is the one Qwen2.5's chat template writes (Qwen/Qwen2.5-7B-Instruct, tokenizer_config.json
`chat_template`, the `{%- if tools %}` block; the Hermes 2 Pro function-calling convention of
NousResearch/Hermes-Function-Calling it follows): the tools as JSON lines inside `<tools></tools>`, and each call
answered as `<tool_call>\\n{"name": ..., "arguments": {...}}\\n</tool_call>`. llama.cpp's server reads the same
tags back from a Hermes/Qwen template's answer (common/chat.cpp, `COMMON_CHAT_FORMAT_HERMES_2_PRO`). See
docs/tool-calls.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from llamacompare.prompts.chat_templates import Message
from llamacompare.toolcall import Tool, ToolCall

#: Qwen2.5's text after the system prompt, with one sentence added for the cases where no call is right (every
#: model reads the same text)
TOOLS_HEAD = ("# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with "
              "function signatures within <tools></tools> XML tags:\n<tools>")
TOOLS_TAIL = ("\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
              "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
              "<args-json-object>}\n</tool_call>\n\nIf no function fits the request, answer in plain text without "
              "<tool_call> tags.")

_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_NAME = re.compile(r'"name"\s*:\s*"([^"]*)"')
_ARGS = re.compile(r'"(?:arguments|parameters)"\s*:\s*(.*)', re.DOTALL)


def tools_prompt(tools: Sequence[Tool]) -> str:
    """The tools block of the system prompt."""
    lines = "".join("\n" + json.dumps(t.to_openai(), ensure_ascii=False) for t in tools)
    return TOOLS_HEAD + lines + TOOLS_TAIL


def with_tools(messages: Sequence[Message], tools: Sequence[Tool]) -> list[Message]:
    """The conversation with the tools block appended to its system prompt (or as one, where it has none)."""
    block = tools_prompt(tools)
    out = list(messages)
    if out and out[0]["role"] == "system":
        out[0] = {"role": "system", "content": out[0]["content"].rstrip() + "\n\n" + block}
    else:
        out.insert(0, {"role": "system", "content": block})
    return out


def parse_calls(text: str) -> tuple[ToolCall, ...]:
    """The calls in an answer: each `<tool_call>` block (an unclosed last one too: the answer may stop at its
    limit), or, without tags, an answer that is one JSON object with a name and arguments (how Llama 3.1's
    template asks for calls). Arguments that are not JSON are kept as written, to be scored as such."""
    blocks = [m.group(1) for m in _CALL.finditer(text)]
    if not blocks:
        stripped = text.strip()
        if not (stripped.startswith("{") and _NAME.search(stripped) and _ARGS.search(stripped)):
            return ()
        blocks = [stripped]
    out = []
    for i, block in enumerate(blocks):
        call = _call(block, i)
        if call is not None:
            out.append(call)
    return tuple(out)


def _call(block: str, i: int) -> ToolCall | None:
    try:
        obj = json.loads(block)
    except json.JSONDecodeError:
        obj = None
    if isinstance(obj, dict) and isinstance(obj.get("name"), str):
        args = obj.get("arguments", obj.get("parameters", {}))
        # a model may write the arguments as a JSON string (OpenAI's wire form): keep that text
        text = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
        return ToolCall(obj["name"], text, f"call_{i}")
    name = _NAME.search(block)
    if name is None:
        return None
    args_m = _ARGS.search(block)
    raw = args_m.group(1).strip() if args_m else ""
    return ToolCall(name.group(1), raw.removesuffix("}").strip() if raw.endswith("}}") else raw, f"call_{i}")
