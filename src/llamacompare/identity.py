"""What is compared, and which answer a row is about: one type each, carried by every layer (the engine's work,
the store's results and scores, the summary, judges, human labels). Names for people ("MODEL@MODE · PROMPT") are
made from these by the views, never parsed back.

Imports nothing else of ours, so any layer may use it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AnswerKey", "Contender"]


@dataclass(frozen=True, slots=True, order=True)
class Contender:
    """One model in one mode under one prompt variant and one setting: a row of a report. `prompt` is "" for a task
    with one template, `setting` "" for a task without settings. A new axis is one more field here, and every layer
    that carries a Contender carries it."""

    model: str
    mode: str = "generate"
    prompt: str = ""
    setting: str = ""


@dataclass(frozen=True, slots=True, order=True)
class AnswerKey:
    """One answer of a run: a contender's answer to one case of one task, repeat `repeat` (0 for the first)."""

    task: str
    case: str
    contender: Contender
    repeat: int = 0

    @property
    def model(self) -> str:
        return self.contender.model

    @property
    def mode(self) -> str:
        return self.contender.mode

    @property
    def prompt(self) -> str:
        return self.contender.prompt

    @property
    def setting(self) -> str:
        return self.contender.setting
