"""Checks in a run's summary: each check (and `json_fields`, `all_checks`) as a metric per model with its 95%
interval, and paired tests between every two models on the cases both answered, like the primary metric."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping

from llamacompare.analysis.contract import Metric, ModelRow, PairwiseRow, TaskSummary

CHECK_PREFIX = "check:"
FIELDS_METRIC = "json_fields"  # share of the reference's fields the answer's JSON has equal (json_schema tasks)
ALL_METRIC = "all_checks"  # 1 when every check on the answer passed


def is_check_metric(name: str) -> bool:
    return name.startswith(CHECK_PREFIX) or name in (FIELDS_METRIC, ALL_METRIC)


def check_label(metric: str) -> str:
    """How a check metric is named in tables: 'check:regex:\\d{4}' -> 'regex:\\d{4}'."""
    return metric.removeprefix(CHECK_PREFIX)


def ordered_check_metrics(task: TaskSummary) -> list[tuple[str, str]]:
    """(metric, shown name) of the task's check metrics, in the suite's order, `all_checks` and `json_fields`
    last: what the checks tables of the views list."""
    names = check_metric_names([{"": dict.fromkeys(r.metrics)} for r in task.models if not r.is_baseline])
    shown = {ALL_METRIC: "all checks passed", FIELDS_METRIC: "fields equal to the reference"}
    return [(m, shown.get(m) or check_label(m)) for m in names]


def reason_of(detail: str | None) -> str | None:
    """The failure reason a check's score row carries."""
    if not detail:
        return None
    reason = json.loads(detail).get("reason")
    return str(reason) if reason is not None else None


Scores = Mapping[str, Mapping[str, list[float]]]  # case -> scorer -> values (repeats)


def check_metric_names(scores: Iterable[Mapping[str, Mapping[str, object]]]) -> list[str]:
    """The check metrics present, in the order they first appear (the suite's order of checks), aggregates last."""
    names: dict[str, None] = {}
    for cases in scores:
        for by_scorer in cases.values():
            names.update(dict.fromkeys(s for s in by_scorer if is_check_metric(s)))
    return sorted(names, key=lambda m: (m in (ALL_METRIC, FIELDS_METRIC), m == FIELDS_METRIC))


def add_check_metrics(rows: list[ModelRow], scores: Mapping[str, Scores], case_order: Callable[[str], int],
                      skip: str | None = None) -> list[PairwiseRow]:
    """Adds each check metric (its pass rate, or mean score) with its 95% interval to the rows of the models in
    `scores` (model -> its scores), and returns the paired comparisons of every two models on each metric, on the
    cases both answered. `skip`: a metric already summarised as the task's primary."""
    # start-up: the views read this module's names; only the summary computes (numpy, scipy)
    from llamacompare.scoring.stats import bootstrap_ci, compare_all, proportion_ci

    pairs: list[PairwiseRow] = []
    by_model = {r.model: r for r in rows}
    for metric in check_metric_names(scores.values()):
        if metric == skip:
            continue
        values = {m: _per_case(s, metric) for m, s in scores.items()}
        for model, vals in values.items():
            xs = list(vals.values())
            if xs and model in by_model:
                ci = proportion_ci([x == 1.0 for x in xs]) if _binary(xs) else bootstrap_ci(xs, n_resamples=2000)
                by_model[model].metrics[metric] = Metric(value=ci.value, lo=ci.lo, hi=ci.hi)
        answered = {m: v for m, v in values.items() if v}
        common = set.intersection(*(set(v) for v in answered.values())) if len(answered) >= 2 else set()
        if not common:
            continue
        ids = sorted(common, key=case_order)
        aligned = {m: [v[c] for c in ids] for m, v in answered.items()}
        binary = all(_binary(xs) for xs in aligned.values())
        for p in compare_all(aligned, binary=binary, higher_is_better=True, n_resamples=5000):
            pairs.append(PairwiseRow(a=p.a, b=p.b, metric=metric, diff=p.diff, lo=p.lo, hi=p.hi, p_value=p.p_value,
                                     test=p.method, n=p.n, needed_cases=p.needed_cases))
    return pairs


def _per_case(scores: Scores, metric: str) -> dict[str, float]:
    return {c: sum(vals) / len(vals) for c, s in scores.items() if (vals := s.get(metric))}


def _binary(xs: list[float]) -> bool:
    return all(x in (0.0, 1.0) for x in xs)
