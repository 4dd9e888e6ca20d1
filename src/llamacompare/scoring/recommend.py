"""Which model to choose: the cheapest (or fastest) one not significantly worse than the best.

"Not significantly worse" uses the paired comparisons with the best model, Holm-adjusted across
them (see `stats`). Only a model significantly better than every other is "chosen"; when the cases
cannot separate the best from others, the choice says so, about how many cases would, and which of the
tied models is the cheapest (fastest). A model whose cost is unknown sorts after every model with a
known cost, and the choice says so. A `Choice` holds facts (who, why, the numbers); the sentence a view shows is
made from them by `formatting.choice_line`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from llamacompare.scoring.stats import Interval, PairComparison, tied_from_pairs

__all__ = [
    "Better",
    "Choice",
    "Evidence",
    "LabelMix",
    "ModelSummary",
    "NoScores",
    "OnlyOne",
    "Prefer",
    "Tied",
    "Unpaired",
    "Why",
    "WithinMargin",
    "label_mix",
    "recommend",
    "recommend_within_margin",
]

Prefer = Literal["cost", "latency"]


@dataclass(frozen=True, slots=True)
class ModelSummary:
    """One model's headline: its metric with interval, total cost (None: unknown) and mean latency; for a model
    scored by label log-probs, whether they are exact or approximate, with the share of cases where every label was
    among the listed alternatives (None: not label scores, or not known)."""

    model: str
    n: int
    metric: Interval
    cost_usd: float | None = None
    latency_s: float | None = None
    label_scores: Literal["exact", "approximate"] | None = None
    label_coverage: float | None = None


@dataclass(frozen=True, slots=True)
class LabelMix:
    """Models ranked together whose label scores are of two kinds: `approximate` (model, coverage; None: unknown),
    made of top log-probs, beside `exact`. The two are not the same measurement, so a view always says so."""

    approximate: list[tuple[str, float | None]]
    exact: list[str]


@dataclass(frozen=True, slots=True)
class NoScores:
    """No model has a score of the metric."""


@dataclass(frozen=True, slots=True)
class OnlyOne:
    """One model was scored: `best`."""

    best: ModelSummary


@dataclass(frozen=True, slots=True)
class Unpaired:
    """`best` scores best, but it shares no case with the others: nothing says whether it is better."""

    best: ModelSummary


@dataclass(frozen=True, slots=True)
class Evidence:
    """The paired comparison of `best` with one other model, oriented with `best` as model a, and its p-value
    (`adjusted`: Holm-adjusted across the comparisons with the best)."""

    pair: PairComparison
    p_value: float
    adjusted: bool


@dataclass(frozen=True, slots=True)
class Better:
    """`best` is significantly better than every other model; `next` is the closest, `evidence` against it."""

    best: ModelSummary
    next: ModelSummary
    evidence: Evidence


TieBreak = Literal["rule", "then", "unknown"]


@dataclass(frozen=True, slots=True)
class Tied:
    """The cases cannot separate `best` from `rival` (and from the models in `also`); among them the user's rule
    (`prefer`) picks `chosen`. `tie_break`: "rule" (its cost or latency), "then" (the same cost or latency: the
    other one decided), "unknown" (no tied model has a known one). `unknown`: the tied models whose is unknown."""

    best: ModelSummary
    rival: ModelSummary
    evidence: Evidence
    cases: int
    needed_cases: int | None
    also: list[str]
    chosen: ModelSummary
    prefer: Prefer
    tie_break: TieBreak
    unknown: list[str]


@dataclass(frozen=True, slots=True)
class WithinMargin:
    """The `--margin` rule: `chosen` is the preferred of `best` and the models `within` `margin` of it, each by a
    one-sided `confidence` lower bound of its difference from the best (`bound`: the chosen one's; None when the
    best is chosen)."""

    best: ModelSummary
    chosen: ModelSummary
    within: list[str]
    margin: float
    bound: float | None
    confidence: str
    prefer: Prefer


Why = NoScores | OnlyOne | Unpaired | Better | Tied | WithinMargin


@dataclass(frozen=True, slots=True)
class Choice:
    """The model to choose (None when there is nothing to choose from) and why, as facts: the sentence is the
    views' (`formatting.choice_line`).

    `tied`: the other models not significantly worse than the best (closest first). `needed_cases`:
    about how many cases would separate the best from its closest rival (None: not applicable). `caveat`: where the
    models ranked mix approximate label scores with exact ones.
    """

    model: str | None
    metric: str
    why: Why
    tied: list[str]
    needed_cases: int | None = None
    caveat: LabelMix | None = None


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def label_mix(ranked: Sequence[ModelSummary]) -> LabelMix | None:
    """What a ranking owes its reader when it puts approximate label scores beside exact ones (None: it does not)."""
    approximate = [(s.model, s.label_coverage) for s in ranked if s.label_scores == "approximate"]
    exact = [s.model for s in ranked if s.label_scores == "exact"]
    return LabelMix(approximate, exact) if approximate and exact else None


def recommend(
    summaries: Sequence[ModelSummary],
    pairs: Sequence[PairComparison],
    *,
    prefer: Prefer = "cost",
    metric_name: str,
    higher_is_better: bool = True,
    alpha: float = 0.05,
    correction: Literal["holm", "none"] = "holm",
) -> Choice:
    """Recommend the cheapest (`prefer="cost"`) or fastest model not significantly worse than the best; with a
    caveat where the models it ranks mix approximate and exact label scores."""
    if prefer not in ("cost", "latency"):
        raise ValueError(f"prefer must be 'cost' or 'latency', not {prefer!r}")
    valid = [s for s in summaries if s.n > 0 and _finite(s.metric.value)]
    if not valid:
        return Choice(None, metric_name, NoScores(), [])
    caveat = label_mix(valid)  # None for one model: a mix needs two
    by_name = {s.model: s for s in valid}
    sign = -1.0 if higher_is_better else 1.0

    def pref(s: ModelSummary) -> float | None:
        return s.cost_usd if prefer == "cost" else s.latency_s

    def then(s: ModelSummary) -> float | None:  # the other rule breaks a tie in the user's (e.g. all local: $0)
        return s.latency_s if prefer == "cost" else s.cost_usd

    def order(s: ModelSummary) -> tuple[bool, float, float, float]:
        v, w = pref(s), then(s)
        return (v is None, v if v is not None else 0.0, w if w is not None else math.inf, sign * s.metric.value)

    best = min(valid, key=lambda s: (sign * s.metric.value, order(s)))
    if len(valid) == 1:
        return Choice(best.model, metric_name, OnlyOne(best), [])

    usable = [p for p in pairs if p.a in by_name and p.b in by_name]
    tied, against, p_adj = tied_from_pairs(best.model, usable, alpha=alpha, correction=correction)
    adjusted = correction == "holm" and len(against) > 1
    candidates = sorted([best, *(by_name[t] for t in tied)], key=order)
    chosen = candidates[0]

    def evidence(other: str) -> Evidence:
        return Evidence(against[other].oriented(best.model), p_adj[other], adjusted)

    if not tied:
        others = sorted((by_name[k] for k in against), key=lambda s: sign * s.metric.value)
        if not others:
            return Choice(best.model, metric_name, Unpaired(best), tied, caveat=caveat)
        nxt = others[0]
        return Choice(best.model, metric_name, Better(best, nxt, evidence(nxt.model)), tied, caveat=caveat)

    # No model is significantly better than the rest: the view says so, how many cases would tell, and which of
    # the tied models the user's rule (cheapest or fastest) picks. Never "choose": these cases cannot justify it.
    rival = chosen.model if chosen is not best else tied[0]
    pair = against[rival]
    needed = pair.needed_cases
    same = len({pref(c) for c in candidates}) == 1
    tie_break: TieBreak
    if pref(chosen) is None:  # known values sort first: none of the tied has one
        tie_break = "unknown"
    elif same and then(chosen) is not None and len({then(c) for c in candidates}) > 1:
        tie_break = "then"
    else:
        tie_break = "rule"
    why = Tied(best, by_name[rival], evidence(rival), pair.n, needed, [t for t in tied if t != rival], chosen, prefer,
               tie_break, [s.model for s in candidates if pref(s) is None])
    return Choice(chosen.model, metric_name, why, tied, needed, caveat)


def recommend_within_margin(
    summaries: Sequence[ModelSummary],
    best: str,
    lower_bounds: Mapping[str, float],
    *,
    margin: float,
    prefer: Prefer = "cost",
    metric_name: str,
    confidence: str = "95%",
) -> Choice:
    """The cheapest (`prefer="cost"`) or fastest model shown within `margin` of the best: a non-inferiority rule.

    `lower_bounds[m]`: a one-sided lower confidence bound of (m - best), oriented so that positive is better,
    each at a level that holds across the comparisons (the caller divides alpha among them). A model qualifies
    when its bound lies above -margin; the best always qualifies. Among those, the preferred one is chosen.
    """
    by_name = {s.model: s for s in summaries}
    if best not in by_name:
        return Choice(None, metric_name, NoScores(), [])

    def pref(s: ModelSummary) -> float | None:
        return s.cost_usd if prefer == "cost" else s.latency_s

    def then(s: ModelSummary) -> float | None:
        return s.latency_s if prefer == "cost" else s.cost_usd

    def order(s: ModelSummary) -> tuple[bool, float, float]:
        v, w = pref(s), then(s)
        return (v is None, v if v is not None else 0.0, w if w is not None else math.inf)

    caveat = label_mix([s for s in summaries if s.n > 0 and _finite(s.metric.value)])
    within = [m for m, lo in lower_bounds.items() if m in by_name and m != best and lo > -margin]
    candidates = sorted([by_name[best], *(by_name[m] for m in within)], key=order)
    chosen = candidates[0]
    bound = None if chosen.model == best else lower_bounds[chosen.model]
    why = WithinMargin(by_name[best], chosen, within, margin, bound, confidence, prefer)
    return Choice(chosen.model, metric_name, why, within, None, caveat)
