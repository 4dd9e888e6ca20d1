"""Prompt templating: `{name}` placeholders filled from a case's fields, `{{` / `}}` for literal braces.

Values are inserted verbatim: a case whose text contains `{x}` or braces is never formatted a second time,
so rendering cannot fail on user data and the model sees exactly what the dataset holds.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, cast

from llamacompare.prompts.chat_templates import Message
from llamacompare.tasks.case import Case, PromptVariant

#: A compiled template: (literal text, field name or None) pairs, in order.
Compiled = tuple[tuple[str, str | None], ...]


class TemplatedTask(Protocol):
    """What rendering reads of a task (the schema's `Task`, which renders its few-shot block and turns here)."""

    @property
    def few_shot(self) -> Sequence[Mapping[str, str]] | None: ...
    @property
    def few_shot_format(self) -> str: ...
    def variants(self) -> Sequence[PromptVariant]: ...
    def template_fields(self) -> list[str]: ...
    def few_shot_block(self, variant: PromptVariant | None = None) -> str: ...
    def few_shot_turns(self, variant: PromptVariant | None = None) -> tuple[Message, ...]: ...


class TemplateSyntaxError(ValueError):
    """A template that is not made of literal text and plain `{name}` placeholders."""


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    """One case's prompt: `prefix` is the start shared by all cases of a prompt variant (the few-shot block and the
    template's text before its first field), `text` is the full user prompt (few-shot block + rendered template +
    instruction). A conversation case has its `turns` instead (filled), and `text` is their contents, for
    estimates of its length."""

    system: str | None
    prefix: str
    text: str
    turns: tuple[Message, ...] | None = None
    #: for a model with a chat format: the few-shot examples as user/assistant turns, then `query` as the user turn
    #: (empty: the task has no examples, or asks for them as text)
    shots: tuple[Message, ...] = ()
    query: str = ""

    def messages(self) -> list[Message]:
        """The prompt as one user turn (the few-shot block inside it), after an optional system turn, or the case's
        conversation: what a model without a chat format (a base model) reads as text."""
        if self.turns is not None:
            return [*self._system(), *self.turns]
        return [*self._system(), {"role": "user", "content": self.text}]

    def chat_messages(self) -> list[Message]:
        """What a model with a chat format is sent: the few-shot examples as turns of the conversation when there
        are any (as chat models are shown examples: lm-eval's `--fewshot_as_multiturn`), else `messages()`."""
        if not self.shots:
            return self.messages()
        return [*self._system(), *self.shots, {"role": "user", "content": self.query}]

    def _system(self) -> list[Message]:
        return [{"role": "system", "content": self.system}] if self.system else []


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


def input_text(task: TemplatedTask, fields: Mapping[str, object]) -> str:
    """What a case asks, for people and judges to read: the fields its templates use (all of them when they use
    none of them), one a line; a conversation case's turns, one a line."""
    messages = fields.get("messages")
    if isinstance(messages, list):
        texts = {k: str(v) for k, v in fields.items() if isinstance(v, str)}
        return "\n".join(f"[{m['role']}] {render(m['content'], texts)}" for m in messages)
    names = [n for n in task.template_fields() if n in fields] or [n for n in fields if n != "checks"]
    return "\n".join(str(fields[n]) for n in names)


def render(template: str, fields: Mapping[str, str]) -> str:
    """Fill a template; a field missing from `fields` raises KeyError (the loader checks this up front)."""
    return _fill(compile_template(template), fields)


def _fill(pieces: Sequence[tuple[str, str | None]], fields: Mapping[str, str]) -> str:
    out: list[str] = []
    for literal, name in pieces:
        out.append(literal)
        if name is not None:
            out.append(fields[name])
    return "".join(out)


def render_few_shot(task: TemplatedTask, variant: PromptVariant | None = None) -> str:
    """The few-shot block: each example rendered with (the variant's) few_shot_template, concatenated."""
    template = (variant or task.variants()[0]).few_shot_template
    if not task.few_shot or template is None:
        return ""
    return "".join(render(template, ex) for ex in task.few_shot)


def render_case(task: TemplatedTask, case: Case, prefix: str | None = None, variant: PromptVariant | None = None
                ) -> RenderedPrompt:
    """The prompt for one case in one prompt variant (the task's first, or only, by default). Parts are
    concatenated as written: put newlines in the templates. A case with `messages` is that conversation, filled
    from its fields, after the variant's system prompt unless it has its own.

    `prefix` is the variant's few-shot block when the caller already has it (the runner, once per variant)."""
    variant = variant or task.variants()[0]
    if case.messages is not None:
        turns = fill_turns(case.messages, case.fields)
        system = None if turns[0]["role"] == "system" else variant.system
        return RenderedPrompt(system=system, prefix="", text="\n\n".join(t["content"] for t in turns), turns=turns)
    if prefix is None:
        prefix = task.few_shot_block(variant)
    assert variant.template is not None  # a task without a template has only conversation cases (checked)
    asked = render(variant.template, case.fields) + (variant.instruction or "")
    shots = task.few_shot_turns(variant)
    return RenderedPrompt(system=variant.system, prefix=prefix + template_lead(variant.template), text=prefix + asked,
                          shots=shots, query=asked.strip() if shots else "")


def few_shot_turns(task: TemplatedTask, variant: PromptVariant) -> tuple[Message, ...]:
    """The few-shot examples as a conversation: each example's `few_shot_template` up to its last field is a user
    turn, that field and what follows it the assistant's answer, both stripped ("Review: {text}\nSentiment:
    {label}\n\n" gives "Review: …\nSentiment:" and "positive"). () for a task that asks for its examples as text
    (`few_shot_format: text`), or whose template has no field before the answer's."""
    template = variant.few_shot_template
    if not task.few_shot or template is None or task.few_shot_format == "text":
        return ()
    pieces = compile_template(template)
    fields = [i for i, (_, name) in enumerate(pieces) if name is not None]
    if len(fields) < 2:
        return ()
    # the template split before its last field: the user's part, and the answer's (that field and what follows)
    last = fields[-1]
    user_part, answer_part = (*pieces[:last], (pieces[last][0], None)), (("", pieces[last][1]), *pieces[last + 1:])
    turns: list[Message] = []
    for ex in task.few_shot:
        turns += [{"role": "user", "content": _fill(user_part, ex).strip()},
                  {"role": "assistant", "content": _fill(answer_part, ex).strip()}]
    return tuple(turns)


def template_lead(template: str) -> str:
    """The template's text before its first field: the same in every case, so part of the shared prefix ("Review: "
    is 2 of the ~28 tokens an SST-2 case adds; a zero-shot instruction before `{email}` is all of its prefix)."""
    lead: list[str] = []
    for literal, name in compile_template(template):  # a literal brace splits the text into pieces
        lead.append(literal)
        if name is not None:
            return "".join(lead)
    return ""


def fill_turns(turns: Sequence[Message], fields: Mapping[str, str]) -> tuple[Message, ...]:
    """A conversation's turns with `{field}` placeholders filled from the case."""
    return tuple(cast("Message", {"role": t["role"], "content": render(t["content"], fields)}) for t in turns)
