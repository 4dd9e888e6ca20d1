"""How a model's answers under one prompt variant and setting are named where one label is needed (tables, the case
matrix, human labels): `MODEL · PROMPT · SETTING`, just `MODEL` for a task with one template and no settings. A
name is made from a Contender (llamacompare.identity) and never parsed back: code that needs the parts keeps it."""

from __future__ import annotations

PROMPT_SEP = " · "


def variant_label(model: str, prompt: str = "", mode: str | None = None, setting: str = "") -> str:
    """`MODEL[@MODE][ · PROMPT][ · SETTING]`: the parts a task has one value of are left out."""
    return (model + (f"@{mode}" if mode else "") + (f"{PROMPT_SEP}{prompt}" if prompt else "")
            + (f"{PROMPT_SEP}{setting}" if setting else ""))
