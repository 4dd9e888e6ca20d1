"""A `tool_call` task's tools and its cases' expected calls, checked before anything is sent.

`tools:` is a list of OpenAI function tools (`{type: function, function: {name, description, parameters}}`,
https://platform.openai.com/docs/api-reference/chat/create#chat-create-tools), inline or in a JSON/YAML file beside
the suite. Each tool's `parameters` must be a valid JSON Schema (jsonschema's meta-schema check); a case's
`expected_call` (one call, a list, or null when no call is right) must name a tool and give arguments that its
schema accepts. Errors are `ToolSpecError`s with the place inside the value; the caller adds the file and line.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from llamacompare.tasks.errors import Loc, SuiteError
from llamacompare.toolcall import ExpectedCall, Tool

#: OpenAI's rule for a function's name
_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_FUNCTION_KEYS = {"name", "description", "parameters", "strict"}


class ToolSpecError(Exception):
    def __init__(self, message: str, at: Loc = ()):
        super().__init__(message)
        self.message = message
        self.at = at


def parse_tools(value: Any) -> tuple[Tool, ...]:
    """Tools from their OpenAI objects (a list, or `{tools: [...]}` as a file may hold them), each checked."""
    if isinstance(value, Mapping) and "tools" in value:
        value = value["tools"]
    if not isinstance(value, list) or not value:
        raise ToolSpecError("tools must be a non-empty list of {type: function, function: {name, parameters}}")
    out: list[Tool] = []
    seen: set[str] = set()
    for i, obj in enumerate(value):
        tool = _tool(obj, i)
        if tool.name in seen:
            raise ToolSpecError(f"two tools are named {tool.name!r}; give each its own name", (i, "function", "name"))
        seen.add(tool.name)
        out.append(tool)
    return tuple(out)


def _tool(obj: Any, i: int) -> Tool:
    if not isinstance(obj, Mapping) or obj.get("type") != "function" or not isinstance(obj.get("function"), Mapping):
        raise ToolSpecError("a tool is {type: function, function: {name, description, parameters}} (OpenAI's "
                            "function-tool format); fix this entry", (i,))
    fn = obj["function"]
    if extra := sorted(set(fn) - _FUNCTION_KEYS):
        raise ToolSpecError(f"unknown key {extra[0]!r} in the function; use name, description, parameters",
                            (i, "function", extra[0]))
    name = fn.get("name")
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ToolSpecError(f"function name {name!r} must be 1-64 letters, digits, '_' or '-'", (i, "function", "name"))
    params = fn.get("parameters", {"type": "object", "properties": {}})
    if not isinstance(params, Mapping):
        raise ToolSpecError("parameters must be a JSON Schema object", (i, "function", "parameters"))
    problem = schema_problem(params)
    if problem is not None:
        raise ToolSpecError(f"parameters of {name!r} are not a valid JSON Schema: {problem}",
                            (i, "function", "parameters"))
    description = fn.get("description", "")
    if not isinstance(description, str):
        raise ToolSpecError("description must be a text", (i, "function", "description"))
    return Tool(name, description, dict(params))


def schema_problem(schema: Mapping[str, Any]) -> str | None:
    """Why `schema` is not a valid JSON Schema (checked against its meta-schema), or None."""
    from jsonschema.exceptions import SchemaError  # jsonschema (about 0.1 s): only where a schema is checked
    from jsonschema.validators import validator_for  # jsonschema (about 0.1 s): only where a schema is checked

    try:
        validator_for(schema).check_schema(dict(schema))
    except SchemaError as e:
        where = "/".join(str(p) for p in e.path)
        return f"{e.message}" + (f" (at {where})" if where else "")
    return None


def read_tools_file(path: Path) -> tuple[Tool, ...]:
    """Tools from a JSON or YAML file; errors are SuiteErrors naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SuiteError(f"cannot read the tools file ({e.strerror}); check the path", path=path) from None
    if path.suffix.lower() == ".json":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            raise SuiteError(f"not valid JSON ({e.msg} at column {e.colno}); fix the tools file",
                             path=path, line=e.lineno) from None
    else:
        import yaml  # PyYAML: only where YAML is read or written

        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            raise SuiteError(f"not valid YAML ({getattr(e, 'problem', e)}); fix the tools file", path=path,
                             line=mark.line + 1 if mark is not None else None) from None
    try:
        return parse_tools(value)
    except ToolSpecError as e:
        raise SuiteError(e.message, path=path, line=_line_of(text, value, e.at)) from None


def _line_of(text: str, value: Any, at: Loc) -> int | None:
    """The line of the tool an error is about: where its name is written (a good enough anchor in JSON and YAML)."""
    tools = value.get("tools") if isinstance(value, Mapping) else value
    if not at or not isinstance(tools, list) or not isinstance(at[0], int) or at[0] >= len(tools):
        return 1
    fn = tools[at[0]].get("function") if isinstance(tools[at[0]], Mapping) else None
    name = fn.get("name") if isinstance(fn, Mapping) else None
    if isinstance(name, str):
        for n, line in enumerate(text.splitlines(), 1):
            if re.search(r"""["']?name["']?\s*:\s*["']?""" + re.escape(name) + r"""\b""", line):
                return n
    return 1


def expected_calls(value: Any, tools: Sequence[Tool]) -> tuple[ExpectedCall, ...]:
    """A case's `expected_call`: one call `{name, arguments}`, a list of them, or null (no call is right); a
    JSON text of these from a CSV/TSV column. Each names a tool and gives arguments its schema accepts."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else None
        except json.JSONDecodeError as e:
            raise ToolSpecError(f"not valid JSON ({e.msg}); write {{name, arguments}}, a list of them, or null") \
                from None
    calls = [] if value is None else value if isinstance(value, list) else [value]
    by_name = {t.name: t for t in tools}
    out = []
    for i, call in enumerate(calls):
        at: Loc = (i,) if isinstance(value, list) else ()
        if not isinstance(call, Mapping) or not isinstance(call.get("name"), str):
            raise ToolSpecError("an expected call is {name: TOOL, arguments: {...}}", at)
        if extra := sorted(set(call) - {"name", "arguments"}):
            raise ToolSpecError(f"unknown key {extra[0]!r} in expected_call; use name and arguments", at)
        tool = by_name.get(call["name"])
        if tool is None:
            raise ToolSpecError(f"unknown tool {call['name']!r} in expected_call; the task's tools are "
                                f"{', '.join(by_name)}", (*at, "name"))
        args = call.get("arguments") or {}
        if not isinstance(args, Mapping):
            raise ToolSpecError("arguments must be a mapping of parameter: value", (*at, "arguments"))
        problem = arguments_problem(args, tool)
        if problem is not None:
            raise ToolSpecError(f"expected arguments break {tool.name}'s parameters: {problem}", (*at, "arguments"))
        out.append(ExpectedCall(tool.name, dict(args)))
    return tuple(out)


@functools.lru_cache(maxsize=256)
def _validator(schema_json: str) -> Any:
    """A tool's parameters validator, built once per schema: scoring checks every call of every answer."""
    return _build_validator(json.loads(schema_json))


def _build_validator(schema: dict[str, Any]) -> Any:
    from jsonschema.validators import validator_for  # jsonschema (about 0.1 s): only where a schema is checked

    return validator_for(schema)(schema)


def arguments_problem(args: Any, tool: Tool) -> str | None:
    """Why `args` do not satisfy the tool's parameters schema (the most relevant error), or None."""
    from jsonschema.exceptions import best_match  # jsonschema (about 0.1 s): only where a schema is checked

    try:
        validator = _validator(json.dumps(tool.parameters, sort_keys=True))
    except TypeError:  # a YAML value JSON has no form for (a date): built for this call alone
        validator = _build_validator(dict(tool.parameters))
    error = best_match(validator.iter_errors(args))
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required":  # "'day' is a required property" says less than the parameter's name
        missing = [k for k in error.validator_value if isinstance(error.instance, Mapping) and k not in error.instance]
        message = "missing required " + ", ".join(missing)
    else:
        message = error.message
    return f"{where}: {message}" if where else message
