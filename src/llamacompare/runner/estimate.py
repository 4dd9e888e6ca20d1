"""`run --plan`: what a run would send, cost and take, and what it could detect, without sending anything.

Per model: the requests, the prompt tokens (counted by the model's own tokenizer where it is known offline, a GGUF
file's; otherwise estimated as characters / 4 and said so), the output tokens (the mean of the model's stored
answers where the store has some, else `max_tokens`, an upper bound), the cost from the dated price table (in-process
models cost nothing; a server's own prices are read only when a run starts), and the time from the stored latency
of the model's answers at its concurrency, bounded below by its request and token rate limits. Per task: the
smallest difference in the primary metric its cases detect with 80% power in a paired comparison (scoring/power.py),
or the cases a difference given with `--detect` needs. Nothing here opens a connection.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

from llamacompare.models.catalog import PRICES_AS_OF
from llamacompare.models.plugins import get
from llamacompare.models.registry import resolve
from llamacompare.runner.engine import iter_task_cases, modes_of, needs_content_free
from llamacompare.runner.plan import PlannedModel, RunPlan
from llamacompare.scorers import primary_metric, running, source
from llamacompare.scoring.judge import pairwise_prompt, rubric_prompt
from llamacompare.scoring.power import DEFAULT_DIFF_SD, DEFAULT_DISCORDANCE, cases_for, detectable
from llamacompare.store.db import Store
from llamacompare.tasks.prompt_template import input_text, render_case, render_few_shot
from llamacompare.tasks.schema import Task

__all__ = ["ModelEstimate", "PlanEstimate", "TaskPower", "estimate"]

CHARS_PER_TOKEN = 4
MIN_PAIRED = 20  # stored paired cases needed before their discordance replaces the assumed one


@dataclass(slots=True)
class ModelEstimate:
    model: str
    requests: int
    prompt_tokens: int
    prompt_tokens_exact: bool  # False: characters / 4
    output_tokens: int
    output_observed: int  # stored answers the output estimate rests on (0: max_tokens, an upper bound)
    cost_usd: float | None  # None: unknown
    cost_basis: str
    time_s: float | None  # None: unknown
    time_basis: str
    #: what the same requests cost through the provider's batch API, and the window its answers come within (None:
    #: the provider has no batch API); `batched`: this run sends them so (--batch)
    batch_cost_usd: float | None = None
    batch_window: str | None = None
    batched: bool = False


@dataclass(slots=True)
class TaskPower:
    task: str
    cases: int
    metric: str
    binary: bool
    spread: float  # discordance (binary) or sd of the per-case differences
    spread_basis: str
    detectable: float | None  # with 80% power at alpha 0.05, two-sided, paired
    detect: float | None = None  # the difference asked about (--detect)
    cases_needed: int | None = None


@dataclass(slots=True)
class PlanEstimate:
    suite: str
    models: list[ModelEstimate]
    tasks: list[TaskPower]
    repeats: int
    alpha: float = 0.05
    power: float = 0.8
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def estimate(plan: RunPlan, store: Store, *, detect: float | None = None, alpha: float = 0.05,
             power: float = 0.8) -> PlanEstimate:
    counts = plan.loaded.counts()
    texts: dict[str, list[str]] = {}
    for task in plan.suite.tasks:  # every case under every prompt variant: each is sent
        cases = [case for _, case in iter_task_cases(plan, task)]  # the data read once, not once per variant
        texts[task.id] = []
        for variant in task.variants():
            prefix = render_few_shot(task, variant)
            texts[task.id] += [render_case(task, case, prefix, variant).text for case in cases]
    models = []
    for m in plan.models:
        facts = get(m.spec.provider).offline_facts(m.spec)
        models.append(_model_estimate(plan, m, facts, texts, counts, store))
    models += _judge_estimates(plan, store, models)
    tasks = [_task_power(plan, t, counts.get(t.id, 0), store, detect, alpha, power) for t in plan.suite.tasks]
    notes = []
    if any(not e.prompt_tokens_exact for e in models):
        notes.append(f"prompt tokens marked ~ are estimated as characters / {CHARS_PER_TOKEN}; the model's own "
                     "tokenizer is known offline only for local GGUF models")
    if any(e.output_observed == 0 for e in models):
        notes.append("output tokens marked <= are max_tokens, an upper bound: the store has no answers of that model")
    return PlanEstimate(plan.suite.name or plan.suite_ref, models, tasks, plan.options.repeats, alpha, power, notes)


def _model_estimate(plan: RunPlan, m: PlannedModel, facts: Any, texts: dict[str, list[str]],
                    counts: dict[str, int], store: Store) -> ModelEstimate:
    reps = plan.options.repeats
    history = store.answer_history(m.spec.name)
    requests = prompt = output = 0
    exact = facts.count_tokens is not None
    for task in plan.suite.tasks:
        modes = modes_of(task)
        passes = len(task.variants()) * len(task.setting_ids())  # each prompt x setting is a pass over the cases
        n = counts.get(task.id, 0) * passes
        per_case = len(modes) * reps
        requests += n * per_case + int(needs_content_free(task)) * passes
        if exact:
            task_prompt = sum(facts.count_tokens(t) for t in texts[task.id])
        else:
            task_prompt = math.ceil(sum(len(t) for t in texts[task.id]) / CHARS_PER_TOKEN)
        prompt += task_prompt * per_case * len(task.setting_ids())  # the texts hold every prompt variant
        max_tokens = task.generation_params(m.config.params.apply()).max_tokens
        mean_out = min(history.completion_tokens, max_tokens) if history.n and history.completion_tokens else None
        per_answer = max_tokens if mean_out is None else mean_out
        output += math.ceil(n * reps * ("generate" in modes) * per_answer) + n * reps * ("logprob" in modes)
    if facts.free:
        cost, cost_basis = 0.0, "$0 in-process"
    elif m.spec.price_in is not None and m.spec.price_out is not None:
        cost = (prompt * m.spec.price_in + output * m.spec.price_out) / 1e6
        cost_basis = f"from the price table of {m.spec.prices_as_of or PRICES_AS_OF}"
    else:
        cost, cost_basis = None, "unknown (no price known without asking the server)"
    time_s, time_basis = _time(plan, m, facts, history, requests, prompt + output)
    limits = facts.batch
    batch_cost = cost * limits.discount_for(m.spec.id) if limits is not None and cost is not None else None
    batched = limits is not None and m.batched(plan.options)
    if batched and limits is not None:
        time_s, time_basis = None, f"one batch: answers within {limits.window} (most sooner)"
    return ModelEstimate(m.name, requests, prompt, exact, output, history.n if history.completion_tokens else 0,
                         cost, cost_basis, time_s, time_basis, batch_cost,
                         limits.window if limits is not None else None, batched)


def _judge_estimates(plan: RunPlan, store: Store, answering: list[ModelEstimate]) -> list[ModelEstimate]:
    """A judged task's judge, as one more row: a verdict per answer (`judge`), and per case and two models both
    ways round (`pairwise`). Its prompt is the judge's template around the case and answers of the expected
    length (the longest expected of the models), so its tokens are an estimate even for a local judge."""
    out = []
    k = len(plan.models)
    for task in plan.suite.tasks:
        scorers = set(task.scorers or [])
        if task.type != "generate" or task.judge is None or not {"judge", "pairwise"} & scorers:
            continue
        spec = resolve(task.judge.model)
        facts = get(spec.provider).offline_facts(spec)
        per_model = [e.output_tokens / max(1, e.requests) for e in answering]
        answer = "x" * (CHARS_PER_TOKEN * math.ceil(max(per_model, default=0)))
        requests = chars = 0
        for _, case in iter_task_cases(plan, task):
            source = input_text(task, case.fields)
            if "judge" in scorers:
                size = len(rubric_prompt(answer, source=source, reference=case.reference, rubric=task.judge.rubric))
                requests += k * plan.options.repeats
                chars += size * k * plan.options.repeats
            if "pairwise" in scorers and k > 1:
                pairs = k * (k - 1)  # both orders
                requests += pairs
                chars += pairs * len(pairwise_prompt(answer, answer, source=source, rubric=task.judge.rubric))
        prompt = math.ceil(chars / CHARS_PER_TOKEN)
        history = store.answer_history(spec.name, kind="judge")
        mean_out = history.completion_tokens if history.n and history.completion_tokens else None
        output = math.ceil(requests * (min(mean_out, task.judge.max_tokens) if mean_out else task.judge.max_tokens))
        if facts.free:
            cost, basis = 0.0, "$0 in-process"
        elif spec.price_in is not None and spec.price_out is not None:
            cost = (prompt * spec.price_in + output * spec.price_out) / 1e6
            basis = f"from the price table of {spec.prices_as_of or PRICES_AS_OF}"
        else:
            cost, basis = None, "unknown (no price known without asking the server)"
        width = facts.parallel or plan.options.default_concurrency
        if history.n and history.latency_s is not None:
            time_s: float | None = requests * history.latency_s / width
            time_basis = f"from {history.latency_s:.2f} s a verdict ({history.n:,} stored), {width} at once"
        else:
            time_s, time_basis = None, "unknown (no stored verdicts of this judge to time)"
        out.append(ModelEstimate(f"judge {spec.name} ({task.id})", requests, prompt, False, output,
                                 history.n if mean_out else 0, cost, basis, time_s, time_basis))
    return out


def _time(plan: RunPlan, m: PlannedModel, facts: Any, history: Any, requests: int,
          tokens: int) -> tuple[float | None, str]:
    width = m.config.concurrency or facts.parallel or plan.options.default_concurrency
    bounds = []
    if m.config.rpm:
        bounds.append((requests / m.config.rpm * 60, f"{m.config.rpm:g} requests/min"))
    if m.config.tpm:
        bounds.append((tokens / m.config.tpm * 60, f"{m.config.tpm:,} tokens/min"))
    limit = max(bounds, default=None)
    if history.n and history.latency_s is not None:
        t = requests * history.latency_s / width
        basis = f"from {history.latency_s:.2f} s a request ({history.n:,} stored answers), {width} at once"
        if limit is not None and limit[0] > t:
            return limit[0], f"limited by {limit[1]} (latency alone: {t:.0f} s)"
        return t, basis
    if limit is not None:
        return limit[0], f"at least, limited by {limit[1]} (no stored latency)"
    return None, "unknown (no stored answers of this model to time)"


def _task_power(plan: RunPlan, task: Task, n: int, store: Store, detect: float | None, alpha: float,
                power: float) -> TaskPower:
    binary = task.type == "classify"
    # the metric the summary will lead with: the most preferred of those the task's scorers make
    metric = primary_metric(task.type, {m.source for s in running(task.type, task.scorers or ()) for m in s.metrics})
    scorer = source(metric)
    spread, basis = _stored_spread(store, task, scorer, [m.spec.name for m in plan.models], binary)
    if spread is None:
        spread = DEFAULT_DISCORDANCE if binary else DEFAULT_DIFF_SD
        what = "discordance (share of cases two models answer differently)" if binary else "sd of differences"
        basis = f"assumed {what} {spread:g}: no stored run of two of these models on task {task.id}"
    mde = detectable(n, binary=binary, spread=spread, alpha=alpha, power=power)
    needed = cases_for(detect, binary=binary, spread=spread, alpha=alpha, power=power) if detect else None
    return TaskPower(task.id, n, metric, binary, spread, basis, mde, detect, needed)


def _stored_spread(store: Store, task: Task, scorer: str, models: list[str],
                   binary: bool) -> tuple[float | None, str]:
    """The largest discordance (or sd of differences) between two of these models on cases they both answered in
    an earlier run of this task: the conservative choice among the pairs."""
    if len(models) < 2:
        return None, ""
    by_run: dict[str, dict[str, dict[str, float]]] = {}
    for run, case, model, value in store.task_scores(task.id, scorer, models):
        by_run.setdefault(run, {}).setdefault(model, {})[case] = value
    best: tuple[float, int] | None = None
    for per_model in by_run.values():
        for a, b in combinations(sorted(per_model), 2):
            common = per_model[a].keys() & per_model[b].keys()
            if len(common) < MIN_PAIRED:
                continue
            d = [per_model[a][c] - per_model[b][c] for c in common]
            if binary:
                s = sum(1 for x in d if x != 0) / len(d)
            else:
                mean = sum(d) / len(d)
                s = math.sqrt(sum((x - mean) ** 2 for x in d) / (len(d) - 1))
            if s > 0 and (best is None or s > best[0]):
                best = (s, len(d))
    if best is None:
        return None, ""
    what = "discordance" if binary else "sd of differences"
    return best[0], f"{what} {best[0]:.3f} observed on {best[1]:,} stored paired cases (the largest of the pairs)"
