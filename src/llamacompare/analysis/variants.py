"""How a model's answers under one prompt variant are named where one label is needed (tables, the case matrix,
human labels, judges' pairs): `MODEL · PROMPT`, or just `MODEL` for a task with one template. Prompt ids are
letters, digits, `_ . -` (the suite schema), so the last " · " always separates the prompt."""

from __future__ import annotations

PROMPT_SEP = " · "


def variant_label(model: str, prompt: str = "", mode: str | None = None) -> str:
    """`MODEL`, `MODEL@MODE`, `MODEL · PROMPT` or `MODEL@MODE · PROMPT`."""
    return model + (f"@{mode}" if mode else "") + (f"{PROMPT_SEP}{prompt}" if prompt else "")


def split_label(label: str) -> tuple[str, str]:
    """(model, prompt) from `variant_label(model, prompt)`; prompt "" when there is none."""
    model, sep, prompt = label.rpartition(PROMPT_SEP)
    return (model, prompt) if sep and prompt and " " not in prompt else (label, "")
