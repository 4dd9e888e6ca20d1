"""How a tool_call answer is scored against the case's expected calls: the right function (or rightly no call), the
right call (the functions and their arguments, compared as JSON values: key order, 1 vs 1.0 and "3" vs 3 do not
matter; strings equal after Unicode normalisation, or folded as labels are, Turkish İ/ı included, where the task
says `argument_match: fold`), and arguments that the tool's own schema accepts. Each with its reason in words."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from llamacompare.scorers import Value
from llamacompare.tasks.labels import fold_label
from llamacompare.tasks.tools import arguments_problem
from llamacompare.toolcall import ExpectedCall, Tool, ToolCall, load_expected


def score_calls(calls: Sequence[ToolCall], reference: str, tools: Sequence[Tool], *,
                fold: bool = False) -> dict[str, Value | None]:
    """`tool_call`, `tool_name` and `tool_args_valid` (None where no call was made) for one answer."""
    expected = load_expected(reference)
    name = _name_score(calls, expected)
    valid = _valid_score(calls, tools)
    if not name.value:
        call = Value(0.0, name.reason)
    else:
        call = _args_score(calls, expected, fold)
    return {"tool_call": call, "tool_name": name, "tool_args_valid": valid}


def _names(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "no call"


def _name_score(calls: Sequence[ToolCall], expected: Sequence[ExpectedCall]) -> Value:
    made, want = [c.name for c in calls], [e.name for e in expected]
    if sorted(made) == sorted(want):  # parallel calls may come in any order
        return Value(1.0)
    if not made:
        return Value(0.0, f"no call, expected {_names(want)}")
    return Value(0.0, f"called {_names(made)}, expected {_names(want)}")


def _valid_score(calls: Sequence[ToolCall], tools: Sequence[Tool]) -> Value | None:
    if not calls:
        return None
    by_name = {t.name: t for t in tools}
    for c in calls:
        args, problem = c.parsed()
        if problem is None:
            tool = by_name.get(c.name)
            problem = f"no tool named {c.name!r}" if tool is None else arguments_problem(args, tool)
        if problem is not None:
            return Value(0.0, f"{c.name}: {problem}" if len(calls) > 1 else problem)
    return Value(1.0)


def _args_score(calls: Sequence[ToolCall], expected: Sequence[ExpectedCall], fold: bool) -> Value:
    """Each expected call matched by a made call of the same function with equal arguments."""
    left = list(calls)
    for e in expected:
        same = [c for c in left if c.name == e.name]
        match = next((c for c in same if _equal(c.parsed()[0], dict(e.arguments), fold)), None)
        if match is None:
            return Value(0.0, _difference(same[0], e, fold))
        left.remove(match)
    return Value(1.0)


def _difference(call: ToolCall, e: ExpectedCall, fold: bool) -> str:
    """The first way the made call's arguments differ from the expected ones."""
    args, problem = call.parsed()
    if problem is not None:
        return problem
    for key, want in e.arguments.items():
        if key not in args:
            return f"missing {key}"
        if not _equal(args[key], want, fold):
            return f"{key}: {_show(args[key])} ≠ {_show(want)}"
    extra = sorted(set(args) - set(e.arguments))
    return f"unexpected argument {extra[0]}" if extra else "arguments differ"


def _show(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _equal(a: Any, b: Any, fold: bool) -> bool:
    """JSON values equal after normalising: mappings by key (order ignored), numbers by value (a numeric string
    counts as its number), strings after NFC (and folding, where asked)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_equal(a[k], b[k], fold) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y, fold) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None and (isinstance(a, int | float) or isinstance(b, int | float)):
        return na == nb
    if isinstance(a, str) and isinstance(b, str):
        return _text(a, fold) == _text(b, fold)
    return bool(a == b)


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            return None
    return None


def _text(s: str, fold: bool) -> str:
    return fold_label(s) if fold else unicodedata.normalize("NFC", s).strip()
