"""What the store hands out: typed rows, so no caller reads SQL columns by name or position."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from llamacompare.identity import AnswerKey, Contender


@dataclass(frozen=True, slots=True)
class RunRow:
    id: str
    suite: str
    config_json: str  # the RunPlan's config(): suite as run, models, options
    created_at: str
    finished_at: str | None
    status: str  # running | done | interrupted | failed

    @property
    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = json.loads(self.config_json)
        return config


@dataclass(frozen=True, slots=True)
class RunListing:
    run: RunRow
    answered: int
    failed: int


@dataclass(frozen=True, slots=True)
class CachedResponse:
    key: str
    model: str
    kind: str  # generate | logprob | calibration | judge
    request_json: str
    text: str | None
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_s: float | None
    ttft_s: float | None
    cost_usd: float | None
    cost_source: str | None
    label_logprobs: str | None
    created_at: str
    label_method: str | None = None  # how label scores were obtained; None: not a label score, or stored before
    label_covered: int | None = None  # 1: every label was among the listed alternatives; None: unknown
    tool_calls: str | None = None  # the calls the model made (toolcall.dump_calls); None: none


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One answer (or failure) of a run, with what its response measured."""

    run_id: str
    task_id: str
    case_id: str
    model: str
    prompt: str  # the prompt variant's id ("" for a task with one template)
    mode: str
    rep: int
    seq: int
    status: str  # ok | failed
    response_key: str | None
    cached: int
    error: str | None
    attempts: int
    input_json: str
    reference: str | None
    updated_at: str
    text: str | None
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_s: float | None
    ttft_s: float | None
    cost_usd: float | None
    cost_source: str | None
    label_logprobs: str | None
    request_json: str | None
    label_method: str | None = None  # as CachedResponse's
    label_covered: int | None = None
    setting: str = ""  # the setting's id ("" for a task without settings)
    tool_calls: str | None = None  # as CachedResponse's

    @property
    def answer(self) -> AnswerKey:
        """Which answer this row is: what its score rows are about."""
        return AnswerKey(self.task_id, self.case_id, Contender(self.model, self.mode, self.prompt, self.setting),
                         self.rep)

    @property
    def fields(self) -> dict[str, Any]:
        """The case's fields, as the run read them."""
        fields: dict[str, Any] = json.loads(self.input_json)
        return fields

    @property
    def request(self) -> dict[str, Any] | None:
        request: dict[str, Any] | None = json.loads(self.request_json) if self.request_json else None
        return request


@dataclass(frozen=True, slots=True)
class ResultStat:
    """What a summary needs of a result, without the texts (runs can hold 100,000s of cases)."""

    task_id: str
    case_id: str
    model: str
    prompt: str
    mode: str
    rep: int
    seq: int
    status: str
    reference: str | None
    latency_s: float | None
    cost_usd: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    label_method: str | None = None  # as CachedResponse's
    label_covered: int | None = None
    setting: str = ""

    @property
    def answer(self) -> AnswerKey:
        return AnswerKey(self.task_id, self.case_id, Contender(self.model, self.mode, self.prompt, self.setting),
                         self.rep)


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """One scorer's value for one answer; `detail` is JSON (the predicted label, the judge's verdict...)."""

    run_id: str
    task_id: str
    case_id: str
    model: str
    prompt: str  # the prompt variant ("" for a task with one template)
    mode: str
    rep: int
    scorer: str
    value: float | None
    detail: str | None = None
    setting: str = ""  # the setting's id ("" for a task without settings)

    @classmethod
    def of(cls, run_id: str, answer: AnswerKey, scorer: str, value: float | None, detail: str | None = None
           ) -> ScoreRow:
        """`scorer`'s value for `answer` of run `run_id`."""
        c = answer.contender
        return cls(run_id, answer.task, answer.case, c.model, c.prompt, c.mode, answer.repeat, scorer, value, detail,
                   c.setting)

    @property
    def answer(self) -> AnswerKey:
        """The answer this score is about."""
        return AnswerKey(self.task_id, self.case_id, Contender(self.model, self.mode, self.prompt, self.setting),
                         self.rep)

    def detail_dict(self) -> dict[str, Any]:
        detail: dict[str, Any] = json.loads(self.detail) if self.detail else {}
        return detail


@dataclass(frozen=True, slots=True)
class HumanLabelRow:
    """A person's verdict on one answer (correct / wrong), or on two answers to the same case (model against
    `versus`: a_better / b_better / tie, where A is `model`)."""

    run_id: str
    task_id: str
    case_id: str
    model: str
    mode: str
    rep: int
    versus: str  # "" unless pairwise
    label: str  # correct | wrong | a_better | b_better | tie
    reviewer: str  # "" when not given
    labelled_at: str  # ISO 8601, as the reviewer's browser wrote it

    @property
    def answer(self) -> tuple[str, str, str, str, int]:
        """(task, case, model, mode, repeat): the answer this label is about."""
        return (self.task_id, self.case_id, self.model, self.mode, self.rep)


@dataclass(frozen=True, slots=True)
class AnswerHistory:
    """What the store has seen of a model's answers, over every run: for estimates before a run."""

    n: int
    completion_tokens: float | None  # mean per answer
    latency_s: float | None  # mean per answer


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """`run --until-decided`: why a contender (a model in one mode) stopped asking a task's cases, and the
    requests that saved."""

    run_id: str
    task_id: str
    model: str
    mode: str
    verdict: str  # best | within margin | worse | undecided | tied
    cases: int
    saved: int
    line: str


@dataclass(frozen=True, slots=True)
class BatchRow:
    """`run --batch`: a provider batch of a run's model, and whether its answers are stored."""

    run_id: str
    model: str
    batch_id: str
    input_file: str | None
    requests: int
    status: str
    collected: bool = False
