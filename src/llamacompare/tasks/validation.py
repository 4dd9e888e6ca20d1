"""The load-time checks of one task that need only the suite: `task_problems` lists them as (field, message), and
fills the defaults that depend on the task's type (`mode`, `reference`, `scorers`). The schema's `Task` runs them as
it is validated; the checks that need the data (columns, gold values, counts) live in `datasets.py`.

They read a task through `TaskFields`, what they need of the schema's `Task`, so that the schema can call them
without this module importing it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

from llamacompare.scorers import get, names
from llamacompare.tasks.case import ClassifyMode, PromptVariant
from llamacompare.tasks.conversation import inline_conversation_problems
from llamacompare.tasks.errors import Loc
from llamacompare.tasks.labels import fold_label
from llamacompare.tasks.prompt_template import TemplateSyntaxError, placeholders

_ID_RE = re.compile(r"[A-Za-z0-9_.-]+")


class PromptFields(Protocol):
    """What the checks read of a prompt variant (`PromptSpec`)."""

    @property
    def id(self) -> str: ...
    @property
    def template(self) -> str: ...
    @property
    def few_shot_template(self) -> str | None: ...


class SettingFields(Protocol):
    """What the checks read of a setting (`SettingSpec`)."""

    @property
    def id(self) -> str: ...


class TaskFields(Protocol):
    """What the checks read of a task (the schema's `Task`); the three plain attributes are the defaults they fill."""

    mode: ClassifyMode | None
    reference: str | None
    scorers: list[str] | None
    template: str | None

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> Literal["classify", "generate", "tool_call"]: ...
    @property
    def tools(self) -> object | None: ...
    @property
    def calibration(self) -> str: ...
    @property
    def prompts(self) -> Sequence[PromptFields] | None: ...
    @property
    def settings(self) -> Sequence[SettingFields] | None: ...
    @property
    def few_shot(self) -> Sequence[Mapping[str, str]] | None: ...
    @property
    def few_shot_template(self) -> str | None: ...
    @property
    def labels(self) -> Mapping[str, Sequence[str]] | None: ...
    @property
    def label_map(self) -> Mapping[str, str] | None: ...
    @property
    def cases(self) -> Sequence[Mapping[str, Any]] | None: ...
    @property
    def dataset(self) -> object | None: ...
    @property
    def judge(self) -> object | None: ...
    def variants(self) -> Sequence[PromptVariant]: ...


def task_problems(task: TaskFields) -> list[tuple[Loc, str]]:
    """Problems visible from the task alone, as (sub-field, message). Also fills the defaults."""
    probs: list[tuple[Loc, str]] = []
    if not _ID_RE.fullmatch(task.id):
        probs.append((("id",), f"task id {task.id!r} may only use letters, digits, '_', '.', '-'; rename it"))
    if task.type == "tool_call" and task.template is None and task.prompts is None:
        task.template = "{text}"  # the case's user turn, as the examples give it
    probs += _template_problems(task)
    if (task.cases is None) == (task.dataset is None):
        probs.append(((), "a task needs exactly one of `cases` (inline) or `dataset` (a file); keep one"))
    if task.cases is not None and not task.cases:
        probs.append((("cases",), "no cases; add at least one case or use `dataset`"))
    probs += _few_shot_problems(task)
    if task.type == "classify":
        probs += _classify_problems(task)
    elif task.type == "tool_call":
        probs += _tool_call_problems(task)
    else:
        probs += _generate_problems(task)
    if task.judge is not None and not {"judge", "pairwise"} & set(task.scorers or []):
        probs.append(
            (("judge",), "judge is set but neither `judge` nor `pairwise` is in scorers; add one or remove judge")
        )
    return probs


def _id_problems(field: str, noun: str, each: str, ids: list[str]) -> list[tuple[Loc, str]]:
    """The ids of a task's `prompts` or `settings`: each well formed and unique."""
    probs: list[tuple[Loc, str]] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(ids):
        if not _ID_RE.fullmatch(name):
            probs.append(((field, i, "id"), f"{noun} id {name!r} may only use letters, digits, '_', '.', '-'; "
                                            "rename it"))
        elif name in seen:
            probs.append(((field, i, "id"), f"duplicate {noun} id {name!r} (also {field}[{seen[name]}]); give each "
                                            f"{each} its own id"))
        seen.setdefault(name, i)
    return probs


def _template_problems(task: TaskFields) -> list[tuple[Loc, str]]:
    """`template` or `prompts` (exactly one, unless every inline case is a conversation); each template valid."""
    probs: list[tuple[Loc, str]] = []
    texts: list[tuple[Loc, str | None]] = [(("template",), task.template),
                                           (("few_shot_template",), task.few_shot_template)]
    if task.template is not None and task.prompts is not None:
        probs.append((("prompts",), "give either `template` (one prompt) or `prompts` (variants), not both; "
                                    "move the template into prompts as {id: ..., template: ...}"))
    if task.prompts is not None:
        if not task.prompts:
            probs.append((("prompts",), "no prompt variants; add at least one {id: ..., template: ...}"))
        probs += _id_problems("prompts", "prompt", "variant", [p.id for p in task.prompts])
        for i, p in enumerate(task.prompts):
            texts += [(("prompts", i, "template"), p.template),
                      (("prompts", i, "few_shot_template"), p.few_shot_template)]
    if task.settings is not None:
        if not task.settings:
            probs.append((("settings",), "no settings; add at least one {id: ..., params: {...}}, or leave them out"))
        probs += _id_problems("settings", "setting", "setting", [st.id for st in task.settings])
    for at, text in texts:
        if text is None:
            continue
        try:
            placeholders(text)
        except TemplateSyntaxError as e:
            probs.append((at, str(e)))
        if at[-1] == "template" and not text.strip():
            probs.append((at, "the template is empty; write the prompt, with {field} placeholders"))
    # conversation cases need no template: inline ones are seen here, a dataset's are checked as it is read
    inline = task.cases or []
    all_conversations = task.dataset is not None or (bool(inline) and all("messages" in c for c in inline))
    if task.template is None and task.prompts is None and task.calibration == "content_free":
        probs.append((("calibration",), "content_free calibration fills the template with N/A, and this task has "
                                        "none (its cases are conversations); use calibration: batch"))
    elif task.template is None and task.prompts is None and not all_conversations:
        probs.append((("template",), "required field 'template' is missing; add it (the prompt, with {field} "
                                     "placeholders), or `prompts:` for variants, each {id: ..., template: ...}"))
    probs += inline_conversation_problems(task.cases)
    return probs


def _few_shot_problems(task: TaskFields) -> list[tuple[Loc, str]]:
    own = [(("prompts", i, "few_shot_template"), p.few_shot_template) for i, p in enumerate(task.prompts or [])]
    given = [(at, t) for at, t in [(("few_shot_template",), task.few_shot_template), *own] if t is not None]
    if task.few_shot is None:
        if given:
            return [(given[0][0], "few_shot_template without few_shot examples; add few_shot or remove it")]
        return []
    for i, v in enumerate(task.variants()):
        if v.few_shot_template is None:
            at: Loc = ("prompts", i) if task.prompts else ("few_shot",)
            return [(at, "few_shot examples need a few_shot_template; add one, "
                         'e.g. "Text: {text}\\nLabel: {label}\\n"')]
    for _, template in given:
        try:
            names = placeholders(template)
        except TemplateSyntaxError:
            return []  # already reported
        for i, ex in enumerate(task.few_shot):
            missing = [n for n in names if n not in ex]
            if missing:
                return [
                    (
                        ("few_shot", i),
                        f"example lacks field {missing[0]!r} used by few_shot_template "
                        f"(it has: {', '.join(ex) or 'nothing'}); add it",
                    )
                ]
    return []


def _classify_problems(task: TaskFields) -> list[tuple[Loc, str]]:
    probs: list[tuple[Loc, str]] = []
    if task.mode is None:
        task.mode = "generate"
    if task.reference is None:
        task.reference = "label"
    if task.scorers is None:
        task.scorers = ["accuracy"]
    probs += _scorer_problems(task)
    if not task.labels or len(task.labels) < 2:
        probs.append(
            (
                ("labels",),
                "a classify task needs at least 2 labels; list them like "
                "{Pozitif: [olumlu], Negatif: [olumsuz]}",
            )
        )
        return probs
    seen: dict[str, str] = {}
    for label, syns in task.labels.items():
        for name in (label, *syns):
            f = fold_label(name)
            if not f:
                probs.append((("labels", label), f"label or synonym {name!r} is empty; give it a text"))
            elif seen.setdefault(f, label) != label:
                probs.append(
                    (
                        ("labels", label),
                        f"{name!r} is also a name/synonym of label {seen[f]!r}; "
                        "each answer must map to one label",
                    )
                )
    for key, value in (task.label_map or {}).items():
        if value not in task.labels:
            probs.append(
                (
                    ("label_map", key),
                    f"{value!r} is not one of the labels ({', '.join(task.labels)}); "
                    "map gold values to a label name",
                )
            )
    for i, v in enumerate(task.variants()):
        try:
            if task.reference in placeholders(v.template or ""):
                probs.append(
                    (
                        ("prompts", i, "template") if task.prompts else ("template",),
                        f"the template shows the gold field {{{task.reference}}}: the model would "
                        "see the answer; remove it from the template",
                    )
                )
        except TemplateSyntaxError:
            pass
    return probs


def _tool_call_problems(task: TaskFields) -> list[tuple[Loc, str]]:
    probs: list[tuple[Loc, str]] = []
    for key in ("mode", "labels", "label_map"):
        if getattr(task, key) is not None:
            probs.append(((key,), f"`{key}` is only for classify tasks; remove it or set type: classify"))
    if task.tools is None:
        probs.append(((), "a tool_call task needs `tools:` (a list of OpenAI function tools, or a JSON/YAML file "
                          "of them); add it"))
    if task.reference is None:
        task.reference = "expected_call"
    if task.scorers is None:
        task.scorers = []  # the tool_call scorer runs on every tool_call task (`always`)
    probs += _scorer_problems(task)
    return probs


def _generate_problems(task: TaskFields) -> list[tuple[Loc, str]]:
    probs: list[tuple[Loc, str]] = []
    for key in ("mode", "labels", "label_map"):
        if getattr(task, key) is not None:
            probs.append(((key,), f"`{key}` is only for classify tasks; remove it or set type: classify"))
    if task.tools is not None:
        probs.append((("tools",), "`tools` is only for tool_call tasks; remove it or set type: tool_call"))
    if task.scorers is None:
        task.scorers = ["rouge"] if task.reference else ["length"]
    probs += _scorer_problems(task)
    return probs


def _scorer_problems(task: TaskFields) -> list[tuple[Loc, str]]:
    """Each scorer named serves the task's type and has what it needs, as the scorers registry declares them."""
    probs: list[tuple[Loc, str]] = []
    own = names(task.type)
    for i, s in enumerate(task.scorers or []):
        spec = get(s)
        if spec is None:
            continue  # not a scorer at all: the field's validator said so
        if s not in own:
            probs.append((("scorers", i), f"scorer {s!r} is for {' or '.join(spec.types)} tasks; {task.type} tasks "
                                          "use: " + ", ".join(own)))
        elif spec.needs_reference and not task.reference:
            probs.append((("scorers", i), f"{s} needs a reference; set `reference:` to the field with the reference "
                                          "text, or use length/judge"))
        elif spec.needs_judge and task.judge is None:
            probs.append((("scorers", i), f"the {s} scorer needs `judge: {{model: NAME}}`; add it"))
    return probs
