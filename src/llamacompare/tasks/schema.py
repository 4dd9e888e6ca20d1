"""The suite schema: what a suite YAML file may say, checked with pydantic (`extra="forbid"` everywhere), and what
the runner and scorers read of a task (its prompt variants, labels, generation parameters).

A field's own checks live in validators here; a task's checks across its fields (and the defaults they fill) in
`validation.py`, which `Task` runs as it is validated. They raise `PydanticCustomError` with the path of the
offending field in `ctx["at"]` (`errors.fail`), so the loader can point at the exact YAML line. Checks that need
the data (columns, gold values, counts) live in `datasets.py`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictFloat,
    StrictInt,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from llamacompare.errors import UsageError, describe_value
from llamacompare.models.base import Params
from llamacompare.models.response_format import ResponseFormat
from llamacompare.prompts.chat_templates import Message
from llamacompare.scorers import names
from llamacompare.tasks.case import ClassifyMode, PromptVariant
from llamacompare.tasks.checks import (
    CheckDefinitionError,
    TaskCheck,
    check_list,
    dump_checks,
    load_schema,
    schema_problem,
    suite_error_for,
)
from llamacompare.tasks.errors import fail
from llamacompare.tasks.hub import HubRef, parse_hub_ref
from llamacompare.tasks.labels import fold_label
from llamacompare.tasks.prompt_template import few_shot_turns, placeholders, render_few_shot
from llamacompare.tasks.tools import ToolSpecError, parse_tools
from llamacompare.tasks.validation import task_problems
from llamacompare.toolcall import Tool

#: a label in a chat model's sentence, with its preamble ("Sure! The sentiment of this review is positive."); a task's
#: `params` may say otherwise. 32 cut 6% of SmolLM2-135M-Instruct's answers to 200 SST-2 cases before the label, 64
#: cut 2.5%; a base model's answer ends at its line (`base_model_stop`) or its first token (`mode: logprob`) anyway
CLASSIFY_MAX_TOKENS = 64


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


_FORMAT_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # OpenAI's rule for json_schema.name (openai-python types)


class JsonSchemaSpec(Strict):
    """`response_format.json_schema`, as OpenAI shapes it: `schema` is a JSON Schema, inline or the path of a
    .json/.yaml file relative to the suite (read when the suite is loaded, `LoadedSuite`); `name` defaults to the
    file's name, else "response"."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True)

    name: str | None = None
    description: str | None = None
    schema_: dict[str, Any] | str = Field(alias="schema")
    strict: bool | None = None

    _file_schema: dict[str, Any] | None = PrivateAttr(None)  # a schema file's content, once loaded

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str | None) -> str | None:
        if v is not None and not _FORMAT_NAME.fullmatch(v):
            raise PydanticCustomError("suite", "{msg}", {"msg": f"name {v!r}: use letters, digits, _ and - only, "
                                                                "at most 64 (OpenAI's rule); fix the name"})
        return v

    @field_validator("schema_")
    @classmethod
    def _check_schema(cls, v: dict[str, Any] | str) -> dict[str, Any] | str:
        if isinstance(v, dict):
            try:
                schema_problem(v, ())
            except CheckDefinitionError as e:
                raise PydanticCustomError("suite", "{msg}", {"msg": e.message}) from None
            return v
        return _nonblank(v, "the schema file's path")

    @property
    def file(self) -> str | None:
        """The schema file's path (relative to the suite), or None for an inline schema."""
        return self.schema_ if isinstance(self.schema_, str) else None

    def load(self, base_dir: Path | None) -> None:
        """Read the schema file (relative to `base_dir`); raises CheckDefinitionError for a missing or bad one."""
        if self.file is not None:
            self._file_schema = load_schema((base_dir or Path.cwd()) / self.file)

    def schema_value(self) -> dict[str, Any]:
        """The schema: inline, or the file's as loaded."""
        if isinstance(self.schema_, dict):
            return self.schema_
        if self._file_schema is None:
            raise UsageError(f"response_format: the schema file {self.file} is read with the suite file; load the "
                             "suite from its file (or give the schema inline)")
        return self._file_schema

    def format_name(self) -> str:
        if self.name is not None:
            return self.name
        stem = re.sub(r"[^A-Za-z0-9_-]", "_", Path(self.file).stem)[:64] if self.file else ""
        return stem or "response"


def _format_shorthand(value: Any) -> Any:
    return {"type": value} if isinstance(value, str) else value  # `response_format: json_object`


class ResponseFormatSpec(Strict):
    """`params.response_format`, as OpenAI shapes it: `json_object` (any JSON object), or `{type: json_schema,
    json_schema: {name, schema, strict}}`. Servers that take it get it (each in its own field), in-process models
    a grammar built from the schema."""

    type: Literal["json_object", "json_schema"]
    json_schema: JsonSchemaSpec | None = None

    @model_validator(mode="after")
    def _fits_type(self) -> ResponseFormatSpec:
        if self.type == "json_schema" and self.json_schema is None:
            raise fail(("json_schema",), "type json_schema needs `json_schema: {name, schema}`; add it")
        if self.type == "json_object" and self.json_schema is not None:
            raise fail(("json_schema",), "type json_object takes no schema; use type: json_schema")
        return self

    def label(self) -> str:
        """In words, as `ResponseFormat.label` (without reading a schema file): `json_schema person`."""
        return f"json_schema {self.json_schema.format_name()}" if self.json_schema is not None else "json_object"

    def value(self) -> ResponseFormat:
        if self.json_schema is None:
            return ResponseFormat("json_object")
        spec = self.json_schema
        return ResponseFormat.json_schema(spec.schema_value(), spec.format_name(), description=spec.description,
                                          strict=spec.strict)


class ParamsSpec(Strict):
    """Generation parameters; those left out keep the model's (or the default) value."""

    temperature: StrictFloat | None = Field(None, ge=0)
    max_tokens: StrictInt | None = Field(None, ge=1)
    top_p: StrictFloat | None = Field(None, gt=0, le=1)
    stop: list[str] | None = None
    seed: StrictInt | None = None
    response_format: Annotated[ResponseFormatSpec | None, BeforeValidator(_format_shorthand)] = None

    def overrides(self) -> dict[str, Any]:
        """Only the fields that were set, in `Params` form."""
        out = {k: v for k in type(self).model_fields if (v := getattr(self, k)) is not None}
        if "stop" in out:
            out["stop"] = tuple(out["stop"])
        if "response_format" in out:
            out["response_format"] = out["response_format"].value()
        return out

    def apply(self, base: Params | None = None) -> Params:
        """`base` with this spec's fields replacing its own."""
        return replace(base or Params(), **self.overrides())


class ModelConfig(Strict):
    """A model to compare, with its limits. `name` is resolved later by the model registry."""

    name: str
    params: ParamsSpec = Field(default_factory=ParamsSpec)
    concurrency: StrictInt | None = Field(None, ge=1)
    # true: keep `concurrency` requests in flight whatever the server answers; unset: a hosted model's limit adapts
    # (halved on 429/503, grown back on answers) up to `concurrency`, unless the run says --fixed-concurrency
    fixed_concurrency: StrictBool | None = None
    rpm: StrictFloat | None = Field(None, gt=0)
    tpm: StrictInt | None = Field(None, gt=0)
    timeout_s: StrictFloat | None = Field(None, gt=0)
    label: str | None = None
    # chat: messages, for the server's chat template; completions: plain text on /completions, no template (what
    # a base model reads); unset: as the server says (llama-server: text rendered here, plain for a base model)
    api: Literal["chat", "completions"] | None = None
    # true: this model's cases go out through its provider's batch API (half the price, answers within a window);
    # as `run --batch` does for every model
    batch: StrictBool | None = None

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
        try:
            return str(parse_hub_ref(v))
        except ValueError as e:
            raise PydanticCustomError("suite", "{msg}", {"msg": str(e)}) from None

    def hub_ref(self) -> HubRef:
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
        if (key == "messages" and isinstance(v, list)) or key == EXPECTED_CALL:
            out[key] = v  # a tool_call case's expected call is structured (tasks/tools.py checks it)
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


#: a tool_call case's field with the call(s) it expects: {name, arguments}, a list of them, or null
EXPECTED_CALL = "expected_call"

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



class Task(Strict):
    """One task: a prompt template (or several, `prompts`) and the cases it is filled with, plus how answers are
    scored."""

    id: str
    type: Literal["classify", "generate", "tool_call"]
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
    # tool_call tasks: the functions the model may call (OpenAI's function-tool objects), inline or a JSON/YAML
    # file beside the suite (tasks/tools.py); how string arguments are compared with the expected ones ("fold":
    # case- and Turkish-i-insensitive, as labels are)
    tools: list[dict[str, Any]] | str | None = None
    argument_match: Literal["exact", "fold"] = "exact"

    # memos of values derived from the fields above (what loading learns lives in tasks.loaded.LoadedSuite)
    _prefix_cache: dict[str, str] = PrivateAttr(default_factory=dict)  # prompt variant -> its few-shot block
    _turns_cache: dict[str, tuple[Message, ...]] = PrivateAttr(default_factory=dict)  # ... -> its few-shot turns
    _aliases: dict[str, str] | None = PrivateAttr(None)
    _tools: tuple[Tool, ...] | None = PrivateAttr(None)  # tools read from the `tools:` file (LoadedSuite)

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

    @field_validator("tools", mode="before")
    @classmethod
    def _tools_spec(cls, v: Any) -> Any:
        if isinstance(v, list):
            try:
                parse_tools(v)
            except ToolSpecError as e:
                raise fail(e.at, e.message) from None
        elif isinstance(v, str):
            _nonblank(v, "the tools file")
        return v

    # -- what the runner and scorers read -------------------------------------------------------------
    def tool_list(self) -> tuple[Tool, ...]:
        """The tools a tool_call task offers (none for other tasks). A file's are read by the loader
        (`LoadedSuite.read_tools`)."""
        if isinstance(self.tools, list):
            if self._tools is None:
                self._tools = parse_tools(self.tools)
            return self._tools
        if self.tools is None:
            return ()
        if self._tools is None:
            raise UsageError(f"task {self.id}: the tools file {self.tools!r} was not read; load the suite with "
                             "load_suite or LoadedSuite.of")
        return self._tools

    def set_tools(self, tools: tuple[Tool, ...]) -> None:
        self._tools = tools

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
        """The few-shot examples of a prompt variant as user/assistant turns (tasks.prompt_template.few_shot_turns),
        made once."""
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

    def response_format(self, setting: str = "", model: ParamsSpec | None = None) -> ResponseFormatSpec | None:
        """The response format a model's answers under `setting` are held to (the setting's, else the task's, else
        the model's), as the suite says it: no schema file is read."""
        spec = next((st.params for st in self.settings or () if st.id == setting), None) if setting else None
        for p in (spec, self.params, model):
            if p is not None and p.response_format is not None:
                return p.response_format
        return None


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
