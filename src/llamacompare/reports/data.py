"""The plain, JSON-serialisable dict every report renderer takes (built from a stored run by the caller)."""

from __future__ import annotations

from typing import Any, Literal, TypedDict


class RunInfo(TypedDict):
    id: str
    suite: str
    created_at: str  # ISO 8601
    status: str
    n_cases: int
    models: list[str]


class MetricValue(TypedDict):
    value: float
    lo: float | None
    hi: float | None


class ModelRow(TypedDict):
    model: str  # may be "gemma@logprob" when a run holds both modes
    n: int
    failed: int
    metrics: dict[str, MetricValue]
    compliance: float | None  # share answered in the required format
    latency_p50_s: float | None
    latency_p95_s: float | None
    cost_usd: float | None  # None = unknown: shown as "unknown", never as 0
    tokens: int | None
    tied_with_best: bool
    is_baseline: bool  # the majority-class baseline row


class Pairwise(TypedDict):
    a: str
    b: str
    metric: str
    diff: float
    lo: float
    hi: float
    p_value: float
    test: str


class Recommendation(TypedDict):
    model: str | None
    line: str


class Confusion(TypedDict):
    labels: list[str]
    matrix: list[list[int]]  # rows gold, columns predicted (+ "(no label)")


class TaskSummary(TypedDict):
    id: str
    type: Literal["classify", "generate"]
    mode: Literal["generate", "logprob"] | None
    primary_metric: str  # "accuracy" | "rougeL" | "judge" | ...
    models: list[ModelRow]
    pairwise: list[Pairwise]
    recommendation: Recommendation | None
    confusion: dict[str, Confusion] | None


class Answer(TypedDict):
    text: str | None
    error: str | None
    score: float | None
    correct: bool | None
    label: str | None
    latency_s: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    prompt: str
    params: dict[str, Any]


class Case(TypedDict):
    task: str
    id: str
    input: str
    reference: str | None
    answers: dict[str, Answer]  # model -> answer


class DiffRow(TypedDict):
    task: str
    metric: str
    a_value: float
    b_value: float
    diff: float
    lo: float
    hi: float
    p_value: float
    test: str


class RunDiff(TypedDict):
    a: str  # run id A
    b: str  # run id B
    rows: list[DiffRow]


class ReportData(TypedDict):
    title: str
    run: RunInfo
    generated_at: str
    tasks: list[TaskSummary]
    cases: list[Case]
    diff: RunDiff | None
