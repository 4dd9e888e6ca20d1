"""What the runner renders and scores, below the schema: one case (`Case`), one prompt variant of a task
(`PromptVariant`), and how a classify task is answered (`ClassifyMode`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from llamacompare.prompts.chat_templates import Message

ClassifyMode = Literal["generate", "logprob", "both"]


@dataclass(frozen=True, slots=True)
class PromptVariant:
    """What one variant renders: `id` is "" for a task with a single `template` (the default variant)."""

    id: str
    template: str | None
    system: str | None
    few_shot_template: str | None
    instruction: str | None


@dataclass(slots=True)
class Case:
    """One filled-in example; `reference` is the canonical gold label (classify) or the reference text.
    `messages`: a conversation to send instead of the task's template (placeholders not yet filled)."""

    id: str
    fields: dict[str, str]
    reference: str | None
    messages: tuple[Message, ...] | None = None
