"""The typed result of analysing a run: what analysis hands to every view (terminal, Jupyter, HTML, Markdown,
JUnit, gates, JSON). Views read these objects and format their figures with `llamacompare.formatting`; none
computes a figure of its own. `Report.model_dump(mode="json")` is the documented JSON of `show --json`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llamacompare.identity import Contender


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="null")


class RunInfo(_Model):
    id: str
    suite: str
    created_at: str  # ISO 8601
    status: str
    n_cases: int
    models: list[str]


class Metric(_Model):
    """An estimate with its 95% interval; lo/hi are None when no interval applies (a single value)."""

    value: float | None
    lo: float | None = None
    hi: float | None = None


class LabelScoring(_Model):
    """How a label-scored row's log P(label | prompt) were obtained, over its cases (first repeat): exactly
    (in-process, forced label tokens, echoed prompt log-probs), or approximately from the top log-probs of the first
    answer tokens, where a label none of the listed alternatives starts gets a bound, not its log-prob."""

    exactness: Literal["exact", "approximate", "unknown"]  # approximate: some case by an approximate method
    methods: list[str] = Field(default_factory=list)  # models.capabilities.LabelMethod values, most cases first
    n: int  # cases whose method is known
    covered: int  # of them, cases where every label was listed (always so by an exact method)
    coverage: float | None = None  # covered / n
    unknown: int = 0  # cases stored before llamacompare recorded the method: neither exact nor approximate


class Calibration(_Model):
    """What calibration did to a label-scored row's accuracy: both figures, how far it moved, what it rests on."""

    how: Literal["batch", "content_free", "none"]
    cases: int  # the answers batch calibration averaged over (content-free: 1, its prompt)
    uncalibrated: float  # accuracy of the highest raw label score
    calibrated: float  # accuracy after calibration: the row's accuracy
    few: bool = False  # batch calibration on fewer than `scoring.calibration.FEW_CASES` answers: a rough correction

    @property
    def moved(self) -> float:
        return self.calibrated - self.uncalibrated


class ModelRow(_Model):
    model: str  # may be "gemma@logprob" when a run holds both modes
    n: int
    failed: int = 0
    metrics: dict[str, Metric] = Field(default_factory=dict)
    compliance: float | None = None  # share answered in the required format
    latency_p50_s: float | None = None
    latency_p95_s: float | None = None
    cost_usd: float | None = None  # None = unknown: shown as "unknown", never as $0
    tokens: int | None = None
    tied_with_best: bool = False
    is_baseline: bool = False  # the majority-class baseline row
    # a task with prompt variants has a row per model x prompt: `model` is then "MODEL · PROMPT"
    prompt: str | None = None  # the prompt variant's id
    setting: str | None = None  # the setting's id (a task with `settings:`)
    # the structured output its answers were asked for (`params.response_format`: "json_schema person",
    # "json_object"), enforced by the server or, in-process, by a grammar; None: free text
    response_format: str | None = None
    base_model: str | None = None  # the model (with @mode where a run holds both) this row is a variant of
    label_scores: LabelScoring | None = None  # label-scored rows (mode logprob) only
    calibration: Calibration | None = None  # label-scored rows of a classify task with gold labels


class PairwiseRow(_Model):
    """A paired comparison of two models on the cases both answered: diff = a - b."""

    a: str
    b: str
    metric: str
    diff: float
    lo: float
    hi: float
    p_value: float
    test: str
    n: int | None = None  # cases both answered
    needed_cases: int | None = None  # about how many would separate the two (None: not applicable)
    # classify: the share of those cases where both gave the same label (first repeat), the check that two engines
    # (or quantizations) of one model behave alike; None for other tasks
    agree: float | None = None


class Recommendation(_Model):
    model: str | None  # the row to choose: "MODEL · PROMPT" for a task with prompt variants
    line: str
    prompt: str | None = None  # the prompt variant of the chosen row
    # one line where the rows it weighs mix approximate label scores with exact ones (views show it below `line`)
    caveat: str | None = None


class PromptTau(_Model):
    """Kendall's τ-b between the models' scores under prompt `a` and under prompt `b` (None: undefined)."""

    a: str
    b: str
    tau: float | None
    n_models: int


class RankSwap(_Model):
    """Two models whose order differs between prompts: `a` is ahead under `a_ahead`, `b` under `b_ahead`."""

    a: str
    b: str
    a_ahead: list[str]
    b_ahead: list[str]


class RankStability(_Model):
    """Whether the models' order (by the primary metric) holds across a task's prompt variants."""

    stable: bool
    rankings: dict[str, list[str]]  # prompt -> models, best first
    taus: list[PromptTau]
    swaps: list[RankSwap] = Field(default_factory=list)
    line: str


class Confusion(_Model):
    labels: list[str]
    matrix: list[list[int]]  # rows gold, columns predicted (+ "(no label)")


class Share(_Model):
    """k of n as a share, with its 95% interval."""

    value: float | None
    lo: float | None = None
    hi: float | None = None
    k: int
    n: int


class Correlation(_Model):
    """Spearman's rank correlation of a judge's verdicts with answer length, with its 95% interval."""

    rho: float | None
    lo: float | None = None
    hi: float | None = None
    p_value: float | None = None
    n: int
    against: str  # "answer length" (words, rubric scores) or "length difference" (A - B in words, pairwise)


class Agreement(_Model):
    """Cohen's kappa between the judge and human labels of the same answers (or pairs), with its 95% interval."""

    kappa: float | None
    lo: float | None = None
    hi: float | None = None
    observed: float | None = None  # share of items where judge and people agree
    n: int
    categories: list[str]


class SelfPreference(_Model):
    """The judge is also a candidate: its mean verdict for its own answers against the other candidates' on the
    same cases; diff = own - others, with its 95% interval."""

    model: str
    own: float | None
    others: float | None
    diff: float | None
    lo: float | None = None
    hi: float | None = None
    n: int


class JudgeReliability(_Model):
    """How far one task's judge can be trusted (`scoring/judge_reliability.py` says how each figure is made)."""

    judge: str  # the judge model
    scorer: Literal["judge", "pairwise"]
    verdicts: int  # verdicts read
    unparsed: int = 0  # judge answers with no verdict in them
    # with unparsed > 0: the verdict line the judge was asked to end with ("Winner: A | Winner: B | Winner: tie",
    # "Score: N (1-5)"), and up to two of its answers with no verdict, shortened in the middle
    asked_for: str | None = None
    unparsed_examples: list[str] = Field(default_factory=list)
    unparsed_stopped: int = 0  # of the unparsed, those cut at the judge's `max_tokens` (before any verdict line)
    max_tokens: int | None = None  # the judge's max_tokens (its `judge: {max_tokens: N}`)
    flip_rate: Share | None = None  # pairwise: pairs whose verdict changes when the answers swap places
    first_position: Share | None = None  # pairwise: decisive verdicts for the answer shown first
    longer_wins: Share | None = None  # pairwise: decisive verdicts won by the longer answer
    length: Correlation | None = None
    self_preference: SelfPreference | None = None
    human: Agreement | None = None


class RepeatStability(_Model):
    """With `--repeats k`: how stable a model's answers are. Intervals resample cases with all their repeats."""

    model: str
    repeats: int  # k
    cases: int  # cases with all k repeats
    agreement: Metric  # mean share of a case's repeats giving its most common answer
    flipped: int  # cases right in some repeats and wrong in others
    pass_k: Metric  # share of cases right in all k repeats (pass^k)
    mean: Metric  # the metric over every answer, clustered by case


class StopDecision(_Model):
    """`run --until-decided`: why a model stopped asking the task's cases, and the requests that saved."""

    model: str
    verdict: Literal["best", "within margin", "worse", "undecided", "tied"]
    cases: int  # the cases the decision rests on
    saved: int  # requests not sent
    line: str


class MaxTokensStop(_Model):
    """A model whose answers stopped at `max_tokens` before they were done, in at least
    `scoring.diagnostics.NOTE_SHARE` of its answers: on a classify task before any label was in them (`before`
    "label"), on a generate task before the text ended (`before` "end")."""

    model: str
    max_tokens: int | None  # what the stored requests asked for (the most common value where they differ)
    before: Literal["label", "end"]
    k: int  # answers that stopped there
    n: int  # the model's answers
    share: float  # k / n
    looping: int = 0  # of the k, those caught in a loop (scoring.repetition): a higher max_tokens would not end them


class Looping(_Model):
    """A model whose generated answers loop, in at least `scoring.diagnostics.NOTE_SHARE` of them: an answer loops
    when its `repetition` (share of repeated word 4-grams, `scoring/repetition.py`) is at least `threshold`."""

    model: str
    threshold: float
    k: int  # answers that loop
    n: int  # the model's answers
    share: float  # k / n


class TaskSummary(_Model):
    id: str
    type: Literal["classify", "generate"]
    mode: str | None = None  # "generate" | "logprob" | "both" for classify tasks
    primary_metric: str  # "accuracy" | "rougeL" | "judge" | ...
    models: list[ModelRow]
    pairwise: list[PairwiseRow] = Field(default_factory=list)
    recommendation: Recommendation | None = None
    confusion: dict[str, Confusion] | None = None
    judges: list[JudgeReliability] = Field(default_factory=list)  # one per judging scorer that scored
    stability: list[RepeatStability] = Field(default_factory=list)  # with repeats > 1
    decided: list[StopDecision] = Field(default_factory=list)  # with --until-decided
    prompts: list[str] = Field(default_factory=list)  # prompt variant ids; empty for a task with one template
    settings: list[str] = Field(default_factory=list)  # setting ids; empty for a task without settings
    # for each model, its prompt variants compared on the same cases (a subset of `pairwise`)
    prompt_pairs: list[PairwiseRow] = Field(default_factory=list)
    rank_stability: RankStability | None = None
    # why answers failed, only where it concerns enough of a model's answers (views say it in one line each)
    max_tokens_stops: list[MaxTokensStop] = Field(default_factory=list)
    looping: list[Looping] = Field(default_factory=list)

    def row(self, model: str) -> ModelRow | None:
        return next((r for r in self.models if r.model == model), None)

    def model_pairs(self) -> list[PairwiseRow]:
        """The comparisons between models: all of `pairwise`, or with prompt variants those under the same
        prompt (a model under one prompt against another under another says little)."""
        if not self.prompts and not self.settings:
            return self.pairwise
        axes = {r.model: (r.prompt, r.setting) for r in self.models}
        return [p for p in self.pairwise if axes.get(p.a) == axes.get(p.b)]


class CheckOutcome(_Model):
    """One check on one answer: value 1 passed, 0 failed (or a user's score between); None: not run (reason says
    why)."""

    value: float | None
    reason: str | None = None


class Answer(_Model):
    text: str | None
    error: str | None = None
    score: float | None = None
    correct: bool | None = None
    label: str | None = None
    latency_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    prompt: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    checks: dict[str, CheckOutcome] = Field(default_factory=dict)  # metric ("check:NAME", "json_fields") -> outcome
    mode: str | None = None  # generate | logprob: with the model, what a human label names
    contender: Contender | None = None  # whose answer this is (model, mode, prompt variant)


class CaseReport(_Model):
    """One case as a report shows it, with every row's answer (the case a run reads is `tasks.case.Case`)."""

    task: str
    id: str
    input: str
    reference: str | None = None
    answers: dict[str, Answer] = Field(default_factory=dict)  # model (variant: "MODEL · PROMPT") -> answer


class DiffRow(_Model):
    """Run B against run A for one task and one model, paired on their common cases: diff = b - a."""

    task: str
    model: str
    metric: str
    n: int
    a_value: float
    b_value: float
    diff: float
    lo: float
    hi: float
    p_value: float
    test: str

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05


class RunDiff(_Model):
    a: str  # run id A
    b: str  # run id B
    rows: list[DiffRow] = Field(default_factory=list)


class LocalModelUsage(_Model):
    """What an in-process model cost on this machine in the run: what someone choosing a model for their hardware
    asks. Prompt and generation rates are the tokens llama.cpp read and generated over the time each took (a
    forward pass that mixes both charges each token an equal share)."""

    model: str
    load_s: float | None = None
    memory_bytes: int | None = None  # resident memory the model added when it loaded
    peak_rss_bytes: int | None = None  # the whole process's peak
    prompt_tokens: int = 0
    prompt_tokens_per_s: float | None = None
    generated_tokens: int = 0
    generated_tokens_per_s: float | None = None


class Report(_Model):
    title: str
    run: RunInfo
    generated_at: str
    tasks: list[TaskSummary]
    cases: list[CaseReport] = Field(default_factory=list)
    diff: RunDiff | None = None
    local: list[LocalModelUsage] = Field(default_factory=list)  # in-process models only

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types (NaN and infinities become null)."""
        return self.model_dump(mode="json")
