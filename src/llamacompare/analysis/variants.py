"""How a model's answers under one prompt variant are named where one label is needed (tables, the case matrix,
human labels): `MODEL · PROMPT`, or just `MODEL` for a task with one template. A name is made from a Contender
(llamacompare.identity) and never parsed back: code that needs the parts keeps the Contender."""

from __future__ import annotations

PROMPT_SEP = " · "


def variant_label(model: str, prompt: str = "", mode: str | None = None) -> str:
    """`MODEL`, `MODEL@MODE`, `MODEL · PROMPT` or `MODEL@MODE · PROMPT`."""
    return model + (f"@{mode}" if mode else "") + (f"{PROMPT_SEP}{prompt}" if prompt else "")
