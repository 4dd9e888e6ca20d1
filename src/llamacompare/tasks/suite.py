"""The suite schema: what a suite YAML file may say, checked with pydantic (`extra="forbid"` everywhere).

Checks that need only the suite itself live in validators here. They raise `PydanticCustomError` with the
path of the offending field in `ctx["at"]`, so the loader can point at the exact YAML line. Checks that need
the data (columns, gold values, counts) live in `datasets.py`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictFloat,
    StrictInt,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from llamacompare.errors import UsageError
from llamacompare.models.base import Params
from llamacompare.prompts.templates import Message
from llamacompare.tasks.checks import CheckDefinitionError, TaskCheck, check_list, dump_checks, suite_error_for
from llamacompare.tasks.template import TemplateSyntaxError, few_shot_turns, placeholders, render_few_shot

#: a label in a chat model's sentence, with its preamble ("Sure! The sentiment of this review is positive."); a task's
#: `params` may say otherwise. 32 cut 6% of SmolLM2-135M-Instruct's answers to 200 SST-2 cases before the label, 64
#: cut 2.5%; a base model's answer ends at its line (`base_model_stop`) or its first token (`mode: logprob`) anyway
CLASSIFY_MAX_TOKENS = 64
ClassifyMode = Literal["generate", "logprob", "both"]
_ID_RE = re.compile(r"[A-Za-z0-9_.-]+")
Loc = tuple[str | int, ...]


class SuiteError(UsageError):
    """A bad suite or dataset, rendered as one line: `FILE:LINE: FIELD: what is wrong; what to do`."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ):
        self.path = Path(path) if path is not None else None
        self.line = line
        self.field = field
        self.detail = message
        head = ""
        if self.path is not None:
            head = display_path(self.path) + (f":{line}" if line is not None else "") + ": "
        if field:
            head += f"{field}: "
        super().__init__(one_line(head + message))


def one_line(text: str) -> str:
    """Messages are printed on one line, whatever user text they quote."""
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def format_loc(loc: Loc) -> str:
    """('tasks', 0, 'labels') -> 'tasks[0].labels'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def fail(at: Loc, msg: str) -> PydanticCustomError:
    """A validation error for the sub-field `at` of the model being validated."""
    return PydanticCustomError("suite", "{msg}", {"msg": msg, "at": at})


def fold_label(text: str) -> str:
    """Compare labels the way a reader would: case-, accent-of-i- and edge-punctuation-insensitive.

    Turkish needs care: 'POZİTİF'.casefold() keeps a combining dot and 'ı' is not 'i'; both fold to 'i' here.
    """
    s = unicodedata.normalize("NFKC", text).replace("İ", "i").replace("ı", "i")
    s = s.casefold().replace("\u0307", "")
    return s.strip(" \t\r\n.,;:!?\"'`*()[]{}<>")


def _scalar_text(value: Any) -> Any:
    # YAML reads `id: 1` as an int; numbers are fine as text. Booleans are not: `label: no` becomes False.
    if isinstance(value, bool):
        raise PydanticCustomError(
            "suite",
            "{msg}",
            {"msg": f"YAML read this value as the boolean {str(value).lower()}; put it in quotes"},
        )
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        raise PydanticCustomError(
            "suite", "{msg}", {"msg": "the value is empty; give a text or remove the key"}
        )
    return value


def _key_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            (str(k) if isinstance(k, int | float) and not isinstance(k, bool) else k): v
            for k, v in value.items()
        }
    return value


Text = Annotated[str, BeforeValidator(_scalar_text)]
Fields = Annotated[dict[str, Text], BeforeValidator(_key_text)]


def _nonblank(value: str, what: str) -> str:
    if not value.strip():
        raise PydanticCustomError(
            "suite", "{msg}", {"msg": f"{what} is empty; give a value or remove the key"}
        )
    return value


def check_model_name(name: str) -> str:
    """A model name is resolved later by the registry; here it only has to be one printable word (or a GGUF file's
    path, which may have spaces in it)."""
    spaced = name.lower().endswith(".gguf") and name == name.strip()
    if not name or any((c.isspace() and not (spaced and c == " ")) or not c.isprintable() for c in name):
        raise PydanticCustomError(
            "suite",
            "{msg}",
            {
                "msg": f"model name {name!r} is empty or has spaces/control characters; "
                "write it like `local:gemma-3-270m` or `together:meta-llama/Llama-3-8b-chat-hf`"
            },
        )
    return name


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ParamsSpec(Strict):
    """Generation parameters; those left out keep the model's (or the default) value."""

    temperature: StrictFloat | None = Field(None, ge=0)
    max_tokens: StrictInt | None = Field(None, ge=1)
    top_p: StrictFloat | None = Field(None, gt=0, le=1)
    stop: list[str] | None = None
    seed: StrictInt | None = None

    def overrides(self) -> dict[str, Any]:
        """Only the fields that were set, in `Params` form."""
        out = {k: v for k, v in self.model_dump().items() if v is not None}
        if "stop" in out:
            out["stop"] = tuple(out["stop"])
        return out

    def apply(self, base: Params | None = None) -> Params:
        """`base` with this spec's fields replacing its own."""
        base = base or Params()
        return Params(**{**base.to_dict(), "stop": base.stop, **self.overrides()})


class ModelConfig(Strict):
    """A model to compare, with its limits. `name` is resolved later by the model registry."""

    name: str
    params: ParamsSpec = Field(default_factory=ParamsSpec)
    concurrency: StrictInt | None = Field(None, ge=1)
    rpm: StrictFloat | None = Field(None, gt=0)
    tpm: StrictInt | None = Field(None, gt=0)
    timeout_s: StrictFloat | None = Field(None, gt=0)
    label: str | None = None
    # chat: messages, for the server's chat template; completions: plain text on /completions, no template (what
    # a base model reads); unset: as the server says (llama-server: text rendered here, plain for a base model)
    api: Literal["chat", "completions"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data  # `models: [local:gemma-3-270m]`

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        return check_model_name(v)

    @property
    def display(self) -> str:
        return self.label or self.name


class HubSource(Strict):
    """A dataset on the Hugging Face Hub (`ref`: NAME[:CONFIG]/SPLIT), with its own column names."""

    ref: str
    columns: dict[str, str] = Field(default_factory=dict)
    id_column: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_ref(cls, data: Any) -> Any:
        return {"ref": data} if isinstance(data, str) else data  # `hf: nyu-mll/glue:sst2/validation`

    @field_validator("ref")
    @classmethod
    def _check_ref(cls, v: str) -> str:
        from llamacompare.tasks.hub import parse_hub_ref

        try:
            return str(parse_hub_ref(v))
        except ValueError as e:
            raise PydanticCustomError("suite", "{msg}", {"msg": str(e)}) from None

    def hub_ref(self) -> Any:
        from llamacompare.tasks.hub import parse_hub_ref

        return parse_hub_ref(self.ref)


class DatasetSpec(Strict):
    """Cases from a CSV/TSV/JSONL file (`path`, relative to the suite file; see loader for the search), or from
    a Hugging Face Hub dataset (`hf`), used when the file is not found or with `--data hf`.

    `where` keeps only the rows of `path` whose columns have these values (a file holding several languages);
    `columns` and `id_column` apply to files, `hf.columns` and `hf.id_column` to the Hub dataset."""

    path: str | None = None
    format: Literal["auto", "csv", "tsv", "jsonl"] = "auto"
    columns: dict[str, str] = Field(default_factory=dict)
    id_column: str | None = None
    where: dict[str, str] = Field(default_factory=dict)
    limit: StrictInt | None = Field(None, ge=1)
    hf: HubSource | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_path(cls, data: Any) -> Any:
        if isinstance(data, str):  # `dataset: sst2_dev.tsv` or `dataset: hf:NAME/SPLIT`
            return {"hf": data} if data.startswith("hf:") else {"path": data}
        return data

    @field_validator("path")
    @classmethod
    def _check_path(cls, v: str | None) -> str | None:
        return v if v is None else _nonblank(v, "the dataset path")

    @model_validator(mode="after")
    def _needs_a_source(self) -> DatasetSpec:
        if self.path is None and self.hf is None:
            raise fail(("path",), "a dataset needs a `path` (a file) or `hf` (NAME[:CONFIG]/SPLIT); add one")
        return self

    def resolved_format(self, path: Path) -> Literal["csv", "tsv", "jsonl"]:
        if self.format != "auto":
            return self.format
        ext = path.suffix.lower()
        formats: tuple[tuple[Literal["csv", "tsv", "jsonl"], set[str]], ...] = (
            ("csv", {".csv"}), ("tsv", {".tsv", ".tab"}), ("jsonl", {".jsonl", ".ndjson"}))
        for fmt, exts in formats:
            if ext in exts:
                return fmt
        raise UsageError(
            f"cannot tell the format of {path.name} from its extension; set format: csv, tsv or jsonl"
        )


class JudgeSpec(Strict):
    model: str
    rubric: str | None = None
    max_tokens: StrictInt = Field(256, ge=1)  # room for a short justification before the verdict line

    @field_validator("model")
    @classmethod
    def _check_model(cls, v: str) -> str:
        return check_model_name(v)


def _case_fields(value: Any) -> Any:
    """An inline case: text fields, and optionally `messages`, a list of {role, content} turns sent instead of the
    template (checked by tasks/conversation.py)."""
    if not isinstance(value, dict):
        return value  # the dict type reports it
    out: dict[Any, Any] = {}
    for key, v in _key_text(value).items():
        if key == "messages" and isinstance(v, list):
            out[key] = v
            continue
        try:
            v = _scalar_text(v)
        except PydanticCustomError as e:
            raise fail((key,), e.message()) from None
        if not isinstance(v, str):
            kind = "a list" if isinstance(v, list) else "a mapping" if isinstance(v, dict) else type(v).__name__
            raise fail((key,), f"expected a text, got {kind}; fix the value (only `messages` may be a list of "
                               "{role, content} turns)")
        out[key] = v
    return out


CaseFields = Annotated[dict[str, Any], BeforeValidator(_case_fields)]


class PromptSpec(Strict):
    """One prompt variant of a task (`prompts:`): its template, and optionally its own system prompt, few-shot
    template and instruction (those left out are the task's)."""

    id: str
    template: str
    system: str | None = None
    few_shot_template: str | None = None
    instruction: str | None = None


class SettingSpec(Strict):
    """One generation setting of a task (`settings:`): its id and the parameters it sets over the task's (e.g.
    temperature 0 and 0.7). Every case runs under every setting, each compared like a prompt variant."""

    id: str
    params: ParamsSpec


@dataclass(frozen=True, slots=True)
class PromptVariant:
    """What one variant renders: `id` is "" for a task with a single `template` (the default variant)."""

    id: str
    template: str | None
    system: str | None
    few_shot_template: str | None
    instruction: str | None


class Task(Strict):
    """One task: a prompt template (or several, `prompts`) and the cases it is filled with, plus how answers are
    scored."""

    id: str
    type: Literal["classify", "generate"]
    mode: ClassifyMode | None = None
    # logprob mode: how label scores are calibrated (batch: Zhou et al. 2023; content_free: Zhao et al. 2021)
    calibration: Literal["batch", "content_free", "none"] = "batch"
    labels: dict[str, list[str]] | None = None
    label_map: dict[str, str] | None = None
    system: str | None = None
    template: str | None = None
    prompts: list[PromptSpec] | None = None
    settings: list[SettingSpec] | None = None
    few_shot: list[Fields] | None = None
    few_shot_template: str | None = None
    # how a model with a chat format gets the examples: as user/assistant turns (what chat models are trained on), or
    # as text inside the one user turn, as a base model always gets them (the seed's tasks: the notebook's prompt)
    few_shot_format: Literal["turns", "text"] = "turns"
    instruction: str | None = None
    # appended for base models only (plain text, no chat template): e.g. "\nSummary:\n" after a document, which a
    # base model otherwise continues as a document (blank lines) instead of answering
    base_model_cue: str | None = None
    # stop sequences for base models only: a base model goes on writing the document (the next few-shot example) where
    # a chat model ends its turn, and a chat model's preamble ("Sure! The sentiment is:\n\nPositive") must not be cut
    base_model_stop: list[str] | None = None
    cases: list[CaseFields] | None = None
    dataset: DatasetSpec | None = None
    reference: str | None = None
    scorers: list[str] | None = None  # names in the scorers registry (llamacompare.scorers)
    judge: JudgeSpec | None = None
    params: ParamsSpec | None = None
    checks: list[TaskCheck] | None = None  # each a metric; a case's own `checks` add to these

    # memos of values derived from the fields above (what loading learns lives in tasks.loaded.LoadedSuite)
    _prefix_cache: dict[str, str] = PrivateAttr(default_factory=dict)  # prompt variant -> its few-shot block
    _turns_cache: dict[str, tuple[Message, ...]] = PrivateAttr(default_factory=dict)  # ... -> its few-shot turns
    _aliases: dict[str, str] | None = PrivateAttr(None)

    @field_validator("labels", mode="before")
    @classmethod
    def _labels_lists(cls, v: Any) -> Any:
        # `Pozitif: olumlu` or `Pozitif:` (no synonyms) are fine shorthands.
        if isinstance(v, dict):
            return {k: ([] if s is None else [s] if isinstance(s, str) else s) for k, s in v.items()}
        return v

    @field_validator("cases", mode="before")
    @classmethod
    def _case_checks(cls, v: Any) -> Any:
        # a case's `checks:` list is kept as its canonical text, like a dataset file's `checks` column
        if not isinstance(v, list):
            return v
        out = []
        for i, case in enumerate(v):
            if isinstance(case, dict) and case.get("checks") is not None:
                try:
                    case = {**case, "checks": dump_checks(check_list(case["checks"]))}
                except CheckDefinitionError as e:
                    raise suite_error_for(e, (i, "checks")) from None
            out.append(case)
        return out

    @field_validator("label_map", mode="before")
    @classmethod
    def _label_map_keys(cls, v: Any) -> Any:
        return _key_text(v)

    @field_validator("scorers")
    @classmethod
    def _known_scorers(cls, v: list[str] | None) -> list[str] | None:
        from llamacompare.errors import describe_value
        from llamacompare.scorers import names

        known = names()
        for i, s in enumerate(v or []):
            if s not in known:
                shown = [repr(n) for n in known]
                raise fail((i,), f"{describe_value(s)} is not allowed; use {', '.join(shown[:-1])} or {shown[-1]}")
        return v

    @model_validator(mode="after")
    def _check(self) -> Task:
        for at, msg in task_problems(self):
            raise fail(at, msg)
        return self

    # -- what the runner and scorers read -------------------------------------------------------------
    @property
    def classify_mode(self) -> str:
        """generate | logprob | both (classify tasks; "generate" otherwise)."""
        return self.mode or "generate"

    def label_names(self) -> list[str]:
        return list(self.labels or {})

    def label_aliases(self) -> dict[str, str]:
        """fold_label(name or synonym) -> canonical label."""
        if self._aliases is None:
            out: dict[str, str] = {}
            for label, syns in (self.labels or {}).items():
                for s in (label, *syns):
                    out.setdefault(fold_label(s), label)
            self._aliases = out
        return self._aliases

    def gold_label(self, value: str) -> str | None:
        """The canonical label for a gold value from the data (label_map first, then names/synonyms)."""
        v = value.strip()
        if self.label_map is not None and v in self.label_map:
            return self.label_map[v]
        return self.label_aliases().get(fold_label(v))

    def few_shot_block(self, variant: PromptVariant | None = None) -> str:
        """The rendered few-shot examples of a prompt variant (the first by default; "" without), once: thousands
        of cases share it."""
        variant = variant or self.variants()[0]
        cached = self._prefix_cache.get(variant.id)
        if cached is None:
            cached = self._prefix_cache[variant.id] = render_few_shot(self, variant)
        return cached

    def few_shot_turns(self, variant: PromptVariant | None = None) -> tuple[Message, ...]:
        """The few-shot examples of a prompt variant as user/assistant turns (tasks.template.few_shot_turns), once."""
        variant = variant or self.variants()[0]
        cached = self._turns_cache.get(variant.id)
        if cached is None:
            cached = self._turns_cache[variant.id] = few_shot_turns(self, variant)
        return cached

    def variants(self) -> list[PromptVariant]:
        """The prompt variants every case is run with: one per `prompts` entry, or the task's own template."""
        if not self.prompts:
            return [PromptVariant("", self.template, self.system, self.few_shot_template, self.instruction)]
        return [
            PromptVariant(
                p.id, p.template, p.system if p.system is not None else self.system,
                p.few_shot_template if p.few_shot_template is not None else self.few_shot_template,
                p.instruction if p.instruction is not None else self.instruction,
            )
            for p in self.prompts
        ]

    def template_fields(self) -> list[str]:
        """Case fields the templates use (every variant's), each once, in order of first use."""
        seen: dict[str, None] = {}
        for v in self.variants():
            for name in placeholders(v.template or ""):
                seen.setdefault(name, None)
        return list(seen)

    def used_fields(self) -> list[str]:
        """Case fields the task needs: template placeholders, then the reference field."""
        out = self.template_fields()
        if self.reference and self.reference not in out:
            out.append(self.reference)
        return out

    def setting_ids(self) -> list[str]:
        """The settings every case runs under: their ids, or "" (the task's own parameters) when there are none."""
        return [st.id for st in self.settings] if self.settings else [""]

    def generation_params(self, base: Params | None = None, setting: str = "") -> Params:
        """The task's parameters over the model's (`base`). A classify task's answer is a label: unless the task
        or the model sets `max_tokens`, it gets CLASSIFY_MAX_TOKENS, not the 1024 a free answer gets (a base
        model would otherwise write on for 1024 tokens after the label, every case)."""
        params = self.params.apply(base) if self.params else (base or Params())
        unset = (self.params is None or self.params.max_tokens is None) and params.max_tokens == Params().max_tokens
        if self.type == "classify" and unset:
            params = replace(params, max_tokens=CLASSIFY_MAX_TOKENS)
        spec = next((st.params for st in self.settings or () if st.id == setting), None) if setting else None
        return spec.apply(params) if spec is not None else params


def task_problems(task: Task) -> list[tuple[Loc, str]]:
    """Problems visible from the task alone, as (sub-field, message). Also fills the defaults."""
    probs: list[tuple[Loc, str]] = []
    if not _ID_RE.fullmatch(task.id):
        probs.append((("id",), f"task id {task.id!r} may only use letters, digits, '_', '.', '-'; rename it"))
    probs += _template_problems(task)
    if (task.cases is None) == (task.dataset is None):
        probs.append(((), "a task needs exactly one of `cases` (inline) or `dataset` (a file); keep one"))
    if task.cases is not None and not task.cases:
        probs.append((("cases",), "no cases; add at least one case or use `dataset`"))
    probs += _few_shot_problems(task)
    if task.type == "classify":
        probs += _classify_problems(task)
    else:
        probs += _generate_problems(task)
    if task.judge is not None and not {"judge", "pairwise"} & set(task.scorers or []):
        probs.append(
            (("judge",), "judge is set but neither `judge` nor `pairwise` is in scorers; add one or remove judge")
        )
    return probs


def _template_problems(task: Task) -> list[tuple[Loc, str]]:
    """`template` or `prompts` (exactly one, unless every inline case is a conversation); each template valid."""
    from llamacompare.tasks.conversation import inline_conversation_problems

    probs: list[tuple[Loc, str]] = []
    texts: list[tuple[Loc, str | None]] = [(("template",), task.template),
                                           (("few_shot_template",), task.few_shot_template)]
    if task.template is not None and task.prompts is not None:
        probs.append((("prompts",), "give either `template` (one prompt) or `prompts` (variants), not both; "
                                    "move the template into prompts as {id: ..., template: ...}"))
    if task.prompts is not None:
        if not task.prompts:
            probs.append((("prompts",), "no prompt variants; add at least one {id: ..., template: ...}"))
        seen: dict[str, int] = {}
        for i, p in enumerate(task.prompts):
            if not _ID_RE.fullmatch(p.id):
                probs.append((("prompts", i, "id"), f"prompt id {p.id!r} may only use letters, digits, '_', '.', "
                                                    "'-'; rename it"))
            elif p.id in seen:
                probs.append((("prompts", i, "id"), f"duplicate prompt id {p.id!r} (also prompts[{seen[p.id]}]); "
                                                    "give each variant its own id"))
            seen.setdefault(p.id, i)
            texts += [(("prompts", i, "template"), p.template),
                      (("prompts", i, "few_shot_template"), p.few_shot_template)]
    if task.settings is not None:
        if not task.settings:
            probs.append((("settings",), "no settings; add at least one {id: ..., params: {...}}, or leave them out"))
        ids: dict[str, int] = {}
        for i, st in enumerate(task.settings):
            if not _ID_RE.fullmatch(st.id):
                probs.append((("settings", i, "id"), f"setting id {st.id!r} may only use letters, digits, '_', '.', "
                                                     "'-'; rename it"))
            elif st.id in ids:
                probs.append((("settings", i, "id"), f"duplicate setting id {st.id!r} (also settings[{ids[st.id]}]); "
                                                     "give each setting its own id"))
            ids.setdefault(st.id, i)
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
    probs += inline_conversation_problems(task)
    return probs


def _few_shot_problems(task: Task) -> list[tuple[Loc, str]]:
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


def _classify_problems(task: Task) -> list[tuple[Loc, str]]:
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


def _generate_problems(task: Task) -> list[tuple[Loc, str]]:
    probs: list[tuple[Loc, str]] = []
    for key in ("mode", "labels", "label_map"):
        if getattr(task, key) is not None:
            probs.append(((key,), f"`{key}` is only for classify tasks; remove it or set type: classify"))
    if task.scorers is None:
        task.scorers = ["rouge"] if task.reference else ["length"]
    probs += _scorer_problems(task)
    return probs


def _scorer_problems(task: Task) -> list[tuple[Loc, str]]:
    """Each scorer named serves the task's type and has what it needs, as the scorers registry declares them."""
    from llamacompare.scorers import get, names

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


class Suite(Strict):
    """A suite: tasks (and optionally the models) of one comparison."""

    name: str | None = None
    description: str | None = None
    models: list[ModelConfig] = Field(default_factory=list)
    tasks: list[Task]

    @model_validator(mode="after")
    def _check_ids(self) -> Suite:
        if not self.tasks:
            raise fail(("tasks",), "the suite has no tasks; add at least one")
        seen: dict[str, int] = {}
        for i, t in enumerate(self.tasks):
            if t.id in seen:
                raise fail(
                    ("tasks", i, "id"),
                    f"duplicate task id {t.id!r} (also tasks[{seen[t.id]}]); give each task its own id",
                )
            seen[t.id] = i
        return self

    def task(self, task_id: str) -> Task:
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise UsageError(
            f"no task {task_id!r} in suite {self.name!r} (tasks: {', '.join(t.id for t in self.tasks)})"
        )


@dataclass(slots=True)
class Case:
    """One filled-in example; `reference` is the canonical gold label (classify) or the reference text.
    `messages`: a conversation to send instead of the task's template (placeholders not yet filled)."""

    id: str
    fields: dict[str, str]
    reference: str | None
    messages: tuple[Message, ...] | None = None
