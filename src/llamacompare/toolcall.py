"""Function tools and the calls a model makes to them: what a `tool_call` task offers (`Tool`, OpenAI's function-tool
format), what a model answered (`ToolCall`) and what a case expects (`ExpectedCall`). Every layer reads them (the
schema, the providers, the store's JSON, the scorers, the reports), so this module imports nothing else of ours, as
`identity.py` does.

The wire format is OpenAI's, which Together, vLLM, Ollama and llama-server share: a tool is
`{"type": "function", "function": {"name", "description", "parameters": JSON Schema}}` and a call is
`{"id", "type": "function", "function": {"name", "arguments": JSON TEXT}}` (openai-python's
`ChatCompletionMessageToolCall`). A provider with another format (Anthropic's `tool_use` blocks) converts in its
own module.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: the metrics a tool_call task's answers are scored on (`scoring.tool_calls.score_calls`), whose reasons the
#: views show
TOOL_METRICS = ("tool_call", "tool_name", "tool_args_valid")

@dataclass(frozen=True, slots=True)
class Tool:
    """One function a model may call: its name, what it does, and its parameters' JSON Schema."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    def to_openai(self) -> dict[str, Any]:
        """OpenAI's function-tool object (`tools: [...]` of a chat completion request)."""
        function: dict[str, Any] = {"name": self.name}
        if self.description:
            function["description"] = self.description
        function["parameters"] = dict(self.parameters)
        return {"type": "function", "function": function}

    @classmethod
    def from_openai(cls, obj: Mapping[str, Any]) -> Tool:
        """From `{"type": "function", "function": {...}}` (as checked by tasks/tools.py)."""
        fn = obj["function"]
        return cls(str(fn["name"]), str(fn.get("description") or ""),
                   dict(fn.get("parameters") or {"type": "object", "properties": {}}))


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call a model made: the function's name and its arguments as the JSON text the model wrote (kept as
    written: text that is not JSON is an answer to score, not an error), with the provider's call id."""

    name: str
    arguments: str
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments, "id": self.id}

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> ToolCall:
        return cls(str(obj.get("name") or ""), str(obj.get("arguments") or ""), obj.get("id"))

    def parsed(self) -> tuple[Any, str | None]:
        """(the arguments as a JSON value, None), or (None, why they are not a JSON object)."""
        try:
            value = json.loads(self.arguments) if self.arguments.strip() else {}
        except json.JSONDecodeError as e:
            return None, f"arguments are not JSON ({e.msg})"
        if not isinstance(value, dict):
            return None, f"arguments are a JSON {type(value).__name__}, not an object"
        return value, None


@dataclass(frozen=True, slots=True)
class ExpectedCall:
    """A call a case expects: the function's name and its arguments as a JSON object."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": dict(self.arguments)}


def dump_calls(calls: Iterable[ToolCall]) -> str | None:
    """A response's calls as stored (JSON text); None for an answer without calls."""
    out = [c.to_dict() for c in calls]
    return json.dumps(out, ensure_ascii=False) if out else None


def load_calls(text: str | None) -> tuple[ToolCall, ...]:
    """The calls stored by `dump_calls`."""
    return tuple(ToolCall.from_dict(c) for c in json.loads(text)) if text else ()


def dump_expected(calls: Sequence[ExpectedCall]) -> str:
    """A case's expected calls as its reference text: a JSON list, `[]` where no call is right."""
    return json.dumps([c.to_dict() for c in calls], ensure_ascii=False, sort_keys=True)


def load_expected(text: str) -> tuple[ExpectedCall, ...]:
    """The expected calls of a case's reference (`dump_expected`)."""
    return tuple(ExpectedCall(str(c["name"]), c.get("arguments") or {}) for c in json.loads(text))


def dump_tools(tools: Iterable[Tool]) -> list[dict[str, Any]]:
    return [t.to_openai() for t in tools]


def load_tools(objs: Iterable[Mapping[str, Any]] | None) -> tuple[Tool, ...]:
    """Tools from their OpenAI objects (a stored request's `tools`)."""
    return tuple(Tool.from_openai(o) for o in objs or ())
