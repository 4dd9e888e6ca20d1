"""Summarise a scored run into the typed Report that the terminal, Jupyter, JSON, HTML and Markdown views share:
per model the metric with its 95% confidence interval, paired tests between every two models on the same cases,
which models are tied with the best, and a recommendation."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from llamacompare import formatting as fmt
from llamacompare.analysis.checks import add_check_metrics, is_check_metric, reason_of
from llamacompare.analysis.contract import (
    Answer,
    Calibration,
    CallShown,
    CaseReport,
    CheckOutcome,
    Confusion,
    LabelScoring,
    LocalModelUsage,
    Looping,
    MaxTokensStop,
    Metric,
    ModelRow,
    PairwiseRow,
    PromptTau,
    RankStability,
    RankSwap,
    Recommendation,
    RepeatStability,
    Report,
    RunInfo,
    StopDecision,
    TaskSummary,
    ToolVerdict,
)
from llamacompare.analysis.reliability import task_judges
from llamacompare.formatting import variant_label
from llamacompare.identity import Contender
from llamacompare.models.base import ModelUsage
from llamacompare.models.capabilities import APPROXIMATE_LABEL_METHODS, EXACT_LABEL_METHODS
from llamacompare.models.registry import resolve
from llamacompare.scorers import averaged_metrics, higher_is_better, is_binary, source
from llamacompare.scorers import primary_metric as preferred_metric
from llamacompare.scoring.calibration import FEW_CASES
from llamacompare.scoring.classification import classification_report, majority_baseline
from llamacompare.scoring.diagnostics import matters, usual
from llamacompare.scoring.rank_stability import rank_stability
from llamacompare.scoring.recommend import Choice, ModelSummary, Prefer, recommend, recommend_within_margin
from llamacompare.scoring.repetition import LOOPING, is_looping
from llamacompare.scoring.stability import repeat_stability
from llamacompare.scoring.stats import Interval, bootstrap_ci, compare_all, compare_pair, proportion_ci, tied_from_pairs
from llamacompare.store.db import Store
from llamacompare.store.rows import ScoreRow
from llamacompare.tasks.prompt_template import input_text
from llamacompare.tasks.schema import ParamsSpec, Suite, Task
from llamacompare.toolcall import TOOL_METRICS, load_calls, load_expected


@dataclass
class _ContenderStats:
    """One model (in one mode, with one prompt variant) on one task, kept compact: a summary must not hold every
    answer in memory."""

    name: str
    model: str
    mode: str
    prompt: str = ""
    base: str = ""  # the model's name with its mode where the run holds several
    setting: str = ""
    ok: list[tuple[float | None, float | None, int]] = field(default_factory=list)  # latency, cost, tokens
    cases: set[str] = field(default_factory=set)
    scores: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # case -> scorer -> values
    details: dict[str, tuple[str | None, bool, str | None]] = field(default_factory=dict)  # label, compliant, gold
    labels: dict[str, list[str | None]] = field(default_factory=dict)  # case -> the label of each repeat
    failed: int = 0
    # case -> check metric -> (value, reason), first repeat only: shown per answer
    checks: dict[str, dict[str, tuple[float | None, str | None]]] = field(default_factory=dict)
    answered: int = 0  # answers with a label (classify) or word count (generate) row: what `stops` is out of
    stops: list[int | None] = field(default_factory=list)  # max_tokens of each answer cut there before a label/end
    stops_looping: int = 0  # of those, the answers that loop (more tokens would not end them)
    # label scores, first repeat: cases per method (None: stored before methods were), and those with every label
    # among the listed alternatives
    label_methods: dict[str | None, int] = field(default_factory=dict)
    label_covered: int = 0
    # case -> tool_call metric -> (value, reason), first repeat only: shown per answer
    tool: dict[str, dict[str, tuple[float | None, str | None]]] = field(default_factory=dict)


def build_report(
    store: Store, run_id: str, suite: Suite, *, prefer: Prefer = "cost", include_cases: bool = True,
    max_cases: int | None = None, scores: Iterable[ScoreRow] | None = None, margin: float | None = None,
) -> Report:
    """`scores`: rows of the scores table to use instead of the stored ones (a run not finished yet). `margin`:
    recommend the cheapest (fastest) model within it of the best (default: the run's own `--margin`, if any)."""
    run = store.get_run(run_id)
    cfg = run.config
    if margin is None:
        margin = cfg.get("options", {}).get("margin") or None
    model_order = [m.get("label") or _model_name(m["name"], cfg) for m in cfg["models"]]
    tasks_by_id = {t.id: t for t in suite.tasks}
    model_params = {name: m.params for m in suite.models for name in (m.name, m.display)}
    variants: dict[str, dict[Contender, _ContenderStats]] = defaultdict(dict)  # task -> its rows
    case_info: dict[str, dict[str, tuple[int, str | None]]] = defaultdict(dict)
    modes_by_task = store.modes_by_task(run.id)

    def variant_name(task_id: str, model: str, mode: str, prompt: str = "", setting: str = "") -> str:
        return variant_label(model, prompt, None if len(modes_by_task.get(task_id, ())) == 1 else mode, setting)

    for r in store.result_stats(run.id):
        tid = r.task_id
        if tid not in tasks_by_id:
            continue
        c = r.answer.contender
        v = variants[tid].get(c) or variants[tid].setdefault(
            c, _ContenderStats(variant_name(tid, r.model, r.mode, r.prompt, r.setting), r.model, r.mode, r.prompt,
                               variant_name(tid, r.model, r.mode), r.setting))
        case_info[tid].setdefault(r.case_id, (r.seq, r.reference))
        v.cases.add(r.case_id)
        if r.status != "ok":
            v.failed += 1
        else:
            v.ok.append((r.latency_s, r.cost_usd, (r.prompt_tokens or 0) + (r.completion_tokens or 0)))
            if r.mode == "logprob" and r.rep == 0:
                v.label_methods[r.label_method] = v.label_methods.get(r.label_method, 0) + 1
                v.label_covered += bool(r.label_covered)
    for s in store.scores(run.id) if scores is None else scores:
        tid = s.task_id
        if tid not in variants:
            continue
        scored = variants[tid].get(s.answer.contender)
        if scored is None:
            continue
        if s.value is not None:
            scored.scores.setdefault(s.case_id, {}).setdefault(s.scorer, []).append(s.value)
        if s.rep == 0 and is_check_metric(s.scorer):
            scored.checks.setdefault(s.case_id, {})[s.scorer] = (s.value, reason_of(s.detail))
        if s.rep == 0 and s.scorer in TOOL_METRICS:
            scored.tool.setdefault(s.case_id, {})[s.scorer] = (s.value, reason_of(s.detail))
        if s.scorer == "label" and s.detail:
            d = json.loads(s.detail)
            scored.labels.setdefault(s.case_id, []).append(d.get("label"))
            if s.rep == 0:
                scored.details[s.case_id] = (d.get("label"), bool(d.get("compliant")), d.get("gold"))
            scored.answered += 1
            if d.get("stopped") and d.get("label") is None:
                scored.stops.append(d.get("max_tokens"))
                scored.stops_looping += bool(d.get("loops"))
        elif s.scorer == "words":
            scored.answered += 1
            if s.detail and (d := json.loads(s.detail)).get("stopped"):
                scored.stops.append(d.get("max_tokens"))
                scored.stops_looping += bool(d.get("loops"))

    def order(v: _ContenderStats, prompts: list[str]) -> tuple[int, str, int, str]:
        at = model_order.index(v.model) if v.model in model_order else len(model_order)
        return (at, v.mode, prompts.index(v.prompt) if v.prompt in prompts else len(prompts), v.name)

    summaries = []
    labels = store.human_labels(run.id)
    decided: dict[str, list[StopDecision]] = defaultdict(list)
    for d in store.decisions(run.id):
        decided[d.task_id].append(StopDecision(model=variant_name(d.task_id, d.model, d.mode), verdict=d.verdict,
                                               cases=d.cases, saved=d.saved, line=d.line))
    for task in suite.tasks:
        prompt_ids = [p.id for p in task.variants()]
        vs = sorted(variants[task.id].values(), key=lambda v: order(v, prompt_ids))
        summary = _task_summary(task, vs, case_info[task.id], prefer, margin, model_params)
        summary.judges = task_judges(store, run.id, task, labels)
        summary.decided = decided.get(task.id, [])
        summaries.append(summary)
    cases = _cases(store, run.id, suite, variants, variant_name, max_cases) if include_cases else []
    n_cases = sum(len(case_info[t.id]) for t in suite.tasks)
    return Report(
        title=f"llamacompare run {run.id} — suite {run.suite}",
        run=RunInfo(id=run.id, suite=run.suite, created_at=run.created_at, status=run.status,
                    n_cases=n_cases, models=model_order),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        tasks=summaries,
        cases=cases,
        local=[_local_usage(name, u) for name, u in store.model_usage(run.id).items()],
    )


def _local_usage(model: str, u: ModelUsage) -> LocalModelUsage:
    def rate(tokens: int, seconds: float) -> float | None:
        return tokens / seconds if tokens and seconds > 0 else None

    return LocalModelUsage(
        model=model, load_s=u.load_s, memory_bytes=u.memory_bytes, peak_rss_bytes=u.peak_rss_bytes,
        prompt_tokens=u.prompt_tokens, prompt_tokens_per_s=rate(u.prompt_tokens, u.prompt_s),
        generated_tokens=u.generated_tokens, generated_tokens_per_s=rate(u.generated_tokens, u.generation_s),
    )


def _model_name(name: str, cfg: dict[str, Any]) -> str:
    try:
        return resolve(name, base_url=cfg.get("options", {}).get("base_url")).name
    except Exception:  # noqa: BLE001 - a renamed provider must not break showing an old run
        return name


def primary_metric(task: Task, variants: list[_ContenderStats]) -> str:
    """The most preferred metric (the scorers registry ranks them) that the task has scores of."""
    return preferred_metric(task.type, {s for v in variants for case in v.scores.values() for s in case})


def _response_format(task: Task, v: _ContenderStats, models: dict[str, ParamsSpec] | None) -> str | None:
    """What a row's answers were held to (generate answers only: label scores are not generated text)."""
    if v.mode != "generate":
        return None
    spec = task.response_format(v.setting, (models or {}).get(v.model))
    return spec.label() if spec is not None else None


def _per_case(v: _ContenderStats, scorer: str) -> dict[str, float]:
    return {c: sum(vals) / len(vals) for c, s in v.scores.items() if (vals := s.get(scorer))}


def _task_summary(task: Task, variants: list[_ContenderStats], cases: dict[str, Any], prefer: Prefer,
                  margin: float | None = None, models: dict[str, ParamsSpec] | None = None) -> TaskSummary:
    metric = primary_metric(task, variants)
    scorer = source(metric)
    binary = task.type == "classify"
    binary_metric = is_binary(metric)  # right/wrong per answer
    higher_better = higher_is_better(metric)
    rows: list[ModelRow] = []
    per_case: dict[str, dict[str, float]] = {}
    confusion: dict[str, Confusion] = {}
    for v in variants:
        values = _per_case(v, scorer)
        per_case[v.name] = values
        xs = list(values.values())
        if binary_metric and all(x in (0.0, 1.0) for x in xs):
            ci = proportion_ci([x == 1.0 for x in xs])
        else:
            ci = bootstrap_ci(xs)
        metrics = {metric: _mv(ci.value, ci.lo, ci.hi)}
        compliance = None
        if binary:
            extra, compliance, conf = _classify_extras(task, v)
            metrics.update(extra)
            if conf is not None:
                confusion[v.name] = conf
        for m in averaged_metrics(task.type):
            if m != metric and (vals := list(_per_case(v, source(m)).values())):
                ci_m = bootstrap_ci(vals, n_resamples=2000)
                metrics[m] = _mv(ci_m.value, ci_m.lo, ci_m.hi)
        if metric != "human" and (marked := list(_per_case(v, "human").values())):
            ci_h = proportion_ci([x == 1.0 for x in marked]) if all(x in (0.0, 1.0) for x in marked) \
                else bootstrap_ci(marked, n_resamples=2000)
            metrics["human"] = _mv(ci_h.value, ci_h.lo, ci_h.hi)
        variant = ({"prompt": v.prompt or None, "setting": v.setting or None, "base_model": v.base}
                   if v.prompt or v.setting else {})
        rows.append(ModelRow(model=v.name, n=len(values), failed=v.failed, metrics=metrics, compliance=compliance,
                             label_scores=_label_scoring(v), calibration=_calibration(task, v, metrics, len(values)),
                             response_format=_response_format(task, v, models), **variant, **_latency_cost(v.ok)))
    pairs_out: list[PairwiseRow] = []
    recommendation = None
    common = set.intersection(*(set(p) for p in per_case.values())) if per_case else set()
    if len(variants) >= 2 and common:
        ids = sorted(common, key=lambda c: cases[c][0])
        aligned = {name: [vals[c] for c in ids] for name, vals in per_case.items()}
        all_binary = binary_metric and all(x in (0.0, 1.0) for xs in aligned.values() for x in xs)  # repeats average
        pairs = compare_all(aligned, binary=all_binary, higher_is_better=higher_better, n_resamples=5000)
        by_name = {v.name: v for v in variants}
        for p in pairs:
            agree = _agreement(by_name[p.a], by_name[p.b], ids) if binary else None
            pairs_out.append(PairwiseRow(a=p.a, b=p.b, metric=metric, diff=p.diff, lo=p.lo, hi=p.hi,
                                         p_value=p.p_value, test=p.method, n=p.n, needed_cases=p.needed_cases,
                                         agree=agree))
        means = {name: sum(x) / len(x) for name, x in aligned.items()}
        best = (max if higher_better else min)(means, key=means.__getitem__)
        tied, _, _ = tied_from_pairs(best, pairs)  # Holm-adjusted across the comparisons with the best
        for row in rows:
            row.tied_with_best = row.model == best or row.model in tied
        recommendation = _recommend(rows, pairs, metric, prefer, higher_better)
        if margin:
            bounds = _noninferiority_bounds(aligned, best, binary=all_binary, higher_is_better=higher_better)
            recommendation = _recommend_margin(rows, best, bounds, metric, prefer, margin)
    elif len(variants) == 1 and rows:
        rows[0].tied_with_best = True
        recommendation = Recommendation(model=rows[0].model, line=f"only one model: {rows[0].model}")
    pairs_out += add_check_metrics(rows, {v.name: v.scores for v in variants}, lambda c: cases[c][0], skip=metric)
    pairs_out += _human_pairs(variants, cases)
    stability = [s for v in variants if binary and (s := _stability(v, scorer)) is not None]
    prompt_of = {v.name: v.prompt for v in variants}
    if recommendation is not None and recommendation.model is not None:
        recommendation.prompt = prompt_of.get(recommendation.model) or None
    prompts = [p.id for p in task.variants()] if task.prompts else []
    base_of = {v.name: v.base for v in variants}
    axes_of = {v.name: (v.prompt, v.setting) for v in variants}
    # a model under two prompts (or settings): paired on the same cases like two models
    prompt_pairs = [p for p in pairs_out if any(axes_of.get(p.a, ("", ""))) and axes_of.get(p.a) != axes_of.get(p.b)
                    and base_of.get(p.a) == base_of.get(p.b)]
    settings = task.setting_ids() if task.settings else []
    rank = _rank_stability(variants, per_case, common, prompts, higher_better) if prompts and not settings else None
    if binary:
        rows.append(_baseline_row(task, cases))
    stops, looping = _diagnoses(task, variants)
    return TaskSummary(id=task.id, type=task.type, mode=task.classify_mode if binary else None,
                       primary_metric=metric, models=rows, pairwise=pairs_out, recommendation=recommendation,
                       confusion=confusion or None, stability=stability, prompts=prompts, settings=settings,
                       prompt_pairs=prompt_pairs, rank_stability=rank, max_tokens_stops=stops, looping=looping)


def _calibration(task: Task, v: _ContenderStats, metrics: dict[str, Metric], n: int) -> Calibration | None:
    """A label-scored row's accuracy before and after calibration, and what the calibration rests on."""
    raw, calibrated = metrics.get("accuracy_uncalibrated"), metrics.get("accuracy")
    if v.mode != "logprob" or raw is None or calibrated is None or raw.value is None or calibrated.value is None:
        return None
    how = task.calibration if task.calibration != "batch" or n > 1 else "none"  # one answer: left as scored
    cases = 1 if how == "content_free" else n
    return Calibration(how=how, cases=cases, uncalibrated=raw.value, calibrated=calibrated.value,
                       few=how == "batch" and n < FEW_CASES)


def _label_scoring(v: _ContenderStats) -> LabelScoring | None:
    """Exact, approximate (some case read off top log-probs) or unknown (stored before methods were recorded), with
    the share of cases where every label was listed."""
    if not v.label_methods:
        return None
    known = {m: k for m, k in v.label_methods.items() if m is not None}
    n, unknown = sum(known.values()), v.label_methods.get(None, 0)
    exactness: Literal["exact", "approximate", "unknown"]
    if any(m in APPROXIMATE_LABEL_METHODS for m in known):
        exactness = "approximate"
    elif known and not unknown and all(m in EXACT_LABEL_METHODS for m in known):
        exactness = "exact"
    else:
        exactness = "unknown"
    return LabelScoring(exactness=exactness, methods=sorted(known, key=lambda m: -known[m]), n=n,
                        covered=v.label_covered, coverage=v.label_covered / n if n else None, unknown=unknown)


def _diagnoses(task: Task, variants: list[_ContenderStats]) -> tuple[list[MaxTokensStop], list[Looping]]:
    """The models whose answers often stopped at max_tokens before a label (or before their end), and those whose
    answers often loop: only where `scoring.diagnostics.matters`."""

    stops: list[MaxTokensStop] = []
    looping: list[Looping] = []
    for v in variants:
        k, n = len(v.stops), v.answered
        if matters(k, n):
            stops.append(MaxTokensStop(model=v.name, max_tokens=usual(v.stops), k=k, n=n, share=k / n,
                                       before="label" if task.type == "classify" else "end",
                                       looping=v.stops_looping))
        values = [x for case in v.scores.values() for x in case.get("repetition", ())]
        k = sum(is_looping(x) for x in values)
        if matters(k, len(values)):
            looping.append(Looping(model=v.name, threshold=LOOPING, k=k, n=len(values), share=k / len(values)))
    return stops, looping


def _stability(v: _ContenderStats, scorer: str) -> RepeatStability | None:
    """Agreement, flips and pass^k over a model's repeats (None with one answer per case)."""

    cases = [c for c, s in v.scores.items() if s.get(scorer)]
    if not cases or max(len(v.scores[c][scorer]) for c in cases) < 2:
        return None
    values = [v.scores[c][scorer] for c in cases]
    answers: list[list[str | None]] = [v.labels.get(c, []) for c in cases]
    st = repeat_stability(values, answers)
    if st is None:
        return None
    return RepeatStability(model=v.name, repeats=st.repeats, cases=st.cases,
                           agreement=_mv(st.agreement.value, st.agreement.lo, st.agreement.hi), flipped=st.flipped,
                           pass_k=_mv(st.pass_k.value, st.pass_k.lo, st.pass_k.hi),
                           mean=_mv(st.mean.value, st.mean.lo, st.mean.hi))


def _rank_stability(variants: list[_ContenderStats], per_case: dict[str, dict[str, float]], common: set[str],
                    prompts: list[str], higher_is_better: bool) -> RankStability | None:
    """The models' order under each prompt (means over the cases every variant answered, as the paired tests
    use), Kendall's τ between every two prompts, and the pairs that swap."""

    means: dict[str, dict[str, float]] = {p: {} for p in prompts}
    models: list[str] = []
    for v in variants:
        values = [per_case[v.name][c] for c in common if c in per_case[v.name]]
        if values and v.prompt in means:
            means[v.prompt][v.base] = sum(values) / len(values)
            if v.base not in models:
                models.append(v.base)
    found = rank_stability(means, models, higher_is_better=higher_is_better)
    if found is None:
        return None
    taus = [PromptTau(a=t.a, b=t.b, tau=t.tau, n_models=t.n_models) for t in found.taus]
    swaps = [RankSwap(a=w.a, b=w.b, a_ahead=list(w.a_ahead), b_ahead=list(w.b_ahead)) for w in found.swaps]
    shown = ", ".join(f"{t.a} vs {t.b} {fmt.tau(t.tau)}" for t in taus) if len(taus) > 1 else fmt.tau(taus[0].tau)
    if found.stable:
        line = f"rank stability: the models keep their order under every prompt (Kendall τ {shown})"
    else:
        swapped = "; ".join(f"{w.a} ahead under {', '.join(w.a_ahead)}, {w.b} under {', '.join(w.b_ahead)}"
                            for w in swaps)
        line = f"rank stability: the models' order changes with the prompt (Kendall τ {shown}): {swapped}"
    return RankStability(stable=found.stable, rankings=found.rankings, taus=taus, swaps=swaps, line=line)


def _human_pairs(variants: list[_ContenderStats], cases: dict[str, Any]) -> list[PairwiseRow]:
    """Paired comparisons on the share marked correct by people, over the cases people marked for every model."""
    marked = {v.name: h for v in variants if (h := _per_case(v, "human"))}
    common = set.intersection(*(set(h) for h in marked.values())) if len(marked) >= 2 else set()
    if not common:
        return []
    ids = sorted(common, key=lambda c: cases[c][0])
    aligned = {name: [h[c] for c in ids] for name, h in marked.items()}
    binary = all(x in (0.0, 1.0) for xs in aligned.values() for x in xs)
    return [PairwiseRow(a=p.a, b=p.b, metric="human", diff=p.diff, lo=p.lo, hi=p.hi, p_value=p.p_value,
                        test=p.method, n=p.n, needed_cases=p.needed_cases)
            for p in compare_all(aligned, binary=binary, n_resamples=5000)]


def _agreement(a: _ContenderStats, b: _ContenderStats, ids: list[str]) -> float | None:
    """The share of cases where both gave the same label, first repeat (a label score's label is its best label)."""
    both = [c for c in ids if a.labels.get(c) and b.labels.get(c)]
    if not both:
        return None
    return sum(a.labels[c][0] == b.labels[c][0] for c in both) / len(both)


def _mv(value: float, lo: float | None, hi: float | None) -> Metric:
    def clean(x: float | None) -> float | None:
        return None if x is None or math.isnan(x) else x

    return Metric(value=clean(value), lo=clean(lo), hi=clean(hi))


def _classify_extras(task: Task, v: _ContenderStats) -> tuple[dict[str, Metric], float | None, Confusion | None]:
    golds, preds, compliant = [], [], []
    for label, ok, gold in v.details.values():
        if gold is None:
            continue
        golds.append(gold)
        preds.append(label)
        compliant.append(ok)
    if not golds:
        return {}, None, None
    rep = classification_report(golds, preds, task.label_names(), compliant)
    extra = {"macro_f1": _mv(rep.macro_f1, None, None)}
    if rep.no_label:
        extra["no_label"] = _mv(float(rep.no_label), None, None)
    uncal = _per_case(v, "label_uncalibrated")
    if uncal:
        extra["accuracy_uncalibrated"] = _mv(sum(uncal.values()) / len(uncal), None, None)
    compliance = rep.compliance if v.mode == "generate" else None
    return extra, compliance, Confusion(labels=rep.columns, matrix=rep.confusion)


def _baseline_row(task: Task, cases: dict[str, Any]) -> ModelRow:
    golds = [ref for (_, ref) in cases.values() if ref is not None]
    label, _ = majority_baseline(golds)
    ci = proportion_ci([g == label for g in golds])
    return ModelRow(model=f"baseline: always {label}", n=len(golds), metrics={"accuracy": _mv(ci.value, ci.lo, ci.hi)},
                    is_baseline=True)


def _latency_cost(ok: list[tuple[float | None, float | None, int]]) -> dict[str, Any]:
    import numpy as np  # numpy: only where numbers are computed, not at start-up

    lat = [x[0] for x in ok if x[0] is not None]
    costs = [x[1] for x in ok]
    known = [c for c in costs if c is not None]
    return {
        "latency_p50_s": float(np.percentile(lat, 50)) if lat else None,
        "latency_p95_s": float(np.percentile(lat, 95)) if lat else None,
        "cost_usd": float(sum(known)) if costs and len(known) == len(costs) else None,
        "tokens": int(sum(x[2] for x in ok)) if ok else None,
    }


def _recommend(
    rows: list[ModelRow], pairs: list[Any], metric: str, prefer: Prefer, higher_is_better: bool
) -> Recommendation:
    summaries = []
    for row in rows:
        m = row.metrics[metric]
        value = m.value if m.value is not None else math.nan
        summaries.append(ModelSummary(
            row.model, row.n, Interval(value, m.lo if m.lo is not None else value, m.hi if m.hi is not None else value),
            row.cost_usd, row.latency_p50_s, *_label_kind(row),
        ))
    rec = recommend(summaries, pairs, prefer=prefer, metric_name=metric, higher_is_better=higher_is_better)
    return _worded(rec)


def _label_kind(row: ModelRow) -> tuple[Literal["exact", "approximate"] | None, float | None]:
    """What the recommendation needs of a row's label scores: exact or approximate (None: neither is known)."""
    ls = row.label_scores
    if ls is None or ls.exactness == "unknown":
        return None, None
    return ls.exactness, ls.coverage


NONINFERIORITY_ALPHA = 0.05


def _noninferiority_bounds(aligned: dict[str, list[float]], best: str, *, binary: bool,
                           higher_is_better: bool) -> dict[str, float]:
    """One-sided lower bounds of (model - best), positive = better, at alpha / (models - 1) each (Bonferroni):
    the lower end of the two-sided (1 - 2 alpha') interval of the same paired comparison."""
    others = [m for m in aligned if m != best]
    if not others:
        return {}
    confidence = 1 - 2 * NONINFERIORITY_ALPHA / len(others)
    out = {}
    for m in others:
        p = compare_pair(m, aligned[m], best, aligned[best], binary=binary, confidence=confidence, n_resamples=5000)
        out[m] = p.lo if higher_is_better else -p.hi
    return out


def _recommend_margin(rows: list[ModelRow], best: str, bounds: dict[str, float], metric: str, prefer: Prefer,
                      margin: float) -> Recommendation:
    summaries = []
    for row in rows:
        value = row.metrics[metric].value
        v = value if value is not None else math.nan
        summaries.append(ModelSummary(row.model, row.n, Interval(v, v, v), row.cost_usd, row.latency_p50_s,
                                      *_label_kind(row)))
    rec = recommend_within_margin(summaries, best, bounds, margin=margin, prefer=prefer, metric_name=metric)
    return _worded(rec)


def _worded(rec: Choice) -> Recommendation:
    """The scoring's choice as the report says it (the sentences are `formatting`'s)."""

    return Recommendation(model=rec.model, line=fmt.choice_line(rec), caveat=fmt.label_caveat(rec.caveat))


def _cases(store: Store, run_id: str, suite: Suite, variants: dict[str, dict[Contender, _ContenderStats]],
           variant_name: Any, max_cases: int | None) -> list[CaseReport]:
    """The side-by-side rows, read again from the store for just the cases shown."""
    out: list[CaseReport] = []
    by_key: dict[tuple[str, str], CaseReport] = {}
    seqs: dict[tuple[str, str], int] = {}

    tasks = {t.id: t for t in suite.tasks}
    task_order = {t.id: i for i, t in enumerate(suite.tasks)}
    for r in store.results(run_id, max_seq=max_cases):
        task = tasks.get(r.task_id)
        if task is None or r.rep != 0 or r.mode == "calibration":
            continue
        key = (task.id, r.case_id)
        case = by_key.get(key)
        if case is None:
            fields = json.loads(r.input_json)
            expected = ([CallShown(name=c.name, arguments=json.dumps(dict(c.arguments), ensure_ascii=False))
                         for c in load_expected(r.reference)] if task.type == "tool_call" and r.reference else None)
            case = by_key[key] = CaseReport(task=task.id, id=r.case_id, input=input_text(task, fields),
                                      reference=r.reference, expected_calls=expected)
            out.append(case)
            seqs[key] = r.seq
        v = variants[task.id].get(r.answer.contender)
        name = v.name if v else variant_name(task.id, r.model, r.mode, r.prompt, r.setting)
        detail = v.details.get(r.case_id) if v else None
        sc = v.scores.get(r.case_id, {}) if v else {}
        values = (sc.get("label") if task.type == "classify" else sc.get("tool_call") if task.type == "tool_call"
                  else (sc.get("judge") or sc.get("rougeL")))
        score = values[0] if values else None
        calls = load_calls(r.tool_calls)
        verdict, reason = _tool_verdict(v.tool.get(r.case_id, {}), bool(calls)) if v and task.type == "tool_call" \
            else (None, None)
        request = json.loads(r.request_json) if r.request_json else {}
        outcomes = v.checks.get(r.case_id, {}) if v else {}
        case.answers[name] = Answer(
            text=r.text, error=r.error, score=score,
            correct=None if score is None or task.type == "generate" else score == 1.0,
            label=detail[0] if detail else None, latency_s=r.latency_s,
            prompt_tokens=r.prompt_tokens, completion_tokens=r.completion_tokens,
            cost_usd=r.cost_usd, prompt=_prompt_text(request), params=request.get("params", {}),
            checks={m: CheckOutcome(value=x, reason=why) for m, (x, why) in outcomes.items()}, mode=r.mode,
            contender=r.answer.contender,
            calls=[CallShown(name=c.name, arguments=c.arguments) for c in calls], verdict=verdict, reason=reason,
        )
    out.sort(key=lambda c: (task_order[c.task], seqs[(c.task, c.id)]))
    return out


def _tool_verdict(outcomes: dict[str, tuple[float | None, str | None]], called: bool
                  ) -> tuple[ToolVerdict | None, str | None]:
    """How a tool_call answer went, and the reason of the first metric that failed (the function before the
    arguments: a wrong function's arguments are not compared)."""
    name, call = outcomes.get("tool_name"), outcomes.get("tool_call")
    if name is None or call is None:
        return None, None
    if not name[0]:
        return ("wrong function" if called else "no call"), name[1]
    if not call[0]:
        return "wrong arguments", call[1]
    valid = outcomes.get("tool_args_valid")
    return "right", valid[1] if valid is not None and not valid[0] else None


def _prompt_text(request: dict[str, Any]) -> str:
    if "prompt" in request:
        return request["prompt"]
    return "\n".join(f"[{m['role']}] {m['content']}" for m in request.get("messages", []))


def per_case_primary(store: Store, run_id: str, suite: Suite) -> dict[tuple[str, str], tuple[str, dict[str, float]]]:
    """(task, model variant) -> (primary metric, case id -> value), for comparing runs."""
    report = build_report(store, run_id, suite, include_cases=False)
    metric_of = {t.id: t.primary_metric for t in report.tasks}
    modes = store.modes_by_task(run_id)
    out: dict[tuple[str, str], tuple[str, dict[str, float]]] = {}
    values: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for s in store.scores(run_id):
        metric = metric_of.get(s.task_id)
        scorer = source(metric) if metric else None
        if s.scorer != scorer or s.value is None:
            continue
        name = variant_label(s.model, s.prompt, None if len(modes[s.task_id]) == 1 else s.mode, s.setting)
        values[(s.task_id, name)][s.case_id].append(s.value)
    for key, cases in values.items():
        out[key] = (metric_of[key[0]], {c: sum(v) / len(v) for c, v in cases.items()})
    return out
