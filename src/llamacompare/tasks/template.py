"""Prompt templating: `{name}` placeholders filled from a case's fields, `{{` / `}}` for literal braces.

Values are inserted verbatim: a case whose text contains `{x}` or braces is never formatted a second time,
so rendering cannot fail on user data and the model sees exactly what the dataset holds.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llamacompare.tasks.suite import Case, Task

#: A compiled template: (literal text, field name or None) pairs, in order.
Compiled = tuple[tuple[str, str | None], ...]


class TemplateSyntaxError(ValueError):
    """A template that is not made of literal text and plain `{name}` placeholders."""


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    """One case's prompt: `prefix` is shared by all cases of a task (the few-shot block), `text` is the full
    user prompt (prefix + rendered template + instruction)."""

    system: str | None
    prefix: str
    text: str

    def messages(self) -> list[dict[str, str]]:
        """Chat messages for providers that take them: an optional system turn, then the user turn."""
        out = [{"role": "system", "content": self.system}] if self.system else []
        out.append({"role": "user", "content": self.text})
        return out


@lru_cache(maxsize=512)
def compile_template(template: str) -> Compiled:
    """Split a template into literal/placeholder pieces; raise TemplateSyntaxError where it is not valid."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:  # "Single '}' encountered", "unmatched '{'", ...
        raise TemplateSyntaxError(
            f"bad braces ({e}); write {{{{ or }}}} for a literal brace, {{name}} for a field"
        ) from None
    pieces: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in parsed:
        if name is None:
            pieces.append((literal, None))
            continue
        if name == "" or name.isdigit():
            raise TemplateSyntaxError(
                f"placeholder {{{name}}} has no field name; name the field, e.g. {{text}} "
                "(write {{ or }} for a literal brace)"
            )
        if spec or conversion or not _plain_name(name):
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise TemplateSyntaxError(
                f"placeholder {{{shown}}} is not a plain field name; only {{name}} is supported "
                "(write {{ or }} for a literal brace)"
            )
        pieces.append((literal, name))
    return tuple(pieces)


def _plain_name(name: str) -> bool:
    # The field names of CSV headers can hold spaces or dashes; attribute/index syntax is what we refuse.
    return not any(c in name for c in ".[]{}!:") and name.strip() == name and name.isprintable()


def placeholders(template: str) -> list[str]:
    """The field names a template uses, each once, in order of first use."""
    seen: dict[str, None] = {}
    for _, name in compile_template(template):
        if name is not None:
            seen.setdefault(name, None)
    return list(seen)


def input_text(task: Task, fields: Mapping[str, object]) -> str:
    """What a case asks, for people and judges to read: the fields its template uses (all of them when it uses
    none of them), one a line."""
    names = [n for n in placeholders(task.template) if n in fields] or [n for n in fields if n != "checks"]
    return "\n".join(str(fields[n]) for n in names)


def render(template: str, fields: Mapping[str, str]) -> str:
    """Fill a template; a field missing from `fields` raises KeyError (the loader checks this up front)."""
    out: list[str] = []
    for literal, name in compile_template(template):
        out.append(literal)
        if name is not None:
            out.append(fields[name])
    return "".join(out)


def render_few_shot(task: Task) -> str:
    """The few-shot block: each example rendered with few_shot_template, concatenated."""
    if not task.few_shot or task.few_shot_template is None:
        return ""
    return "".join(render(task.few_shot_template, ex) for ex in task.few_shot)


def render_case(task: Task, case: Case, prefix: str | None = None) -> RenderedPrompt:
    """The prompt for one case. Parts are concatenated as written: put newlines in the templates.

    `prefix` is the task's few-shot block when the caller already has it (the runner, once per task)."""
    if prefix is None:
        prefix = task.few_shot_block()
    text = prefix + render(task.template, case.fields) + (task.instruction or "")
    return RenderedPrompt(system=task.system, prefix=prefix, text=text)
