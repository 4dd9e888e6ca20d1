"""Which model to choose: the cheapest (or fastest) one not significantly worse than the best.

"Not significantly worse" uses the paired comparisons with the best model, Holm-adjusted across
them (see `stats`). Only a model significantly better than every other is "chosen"; when the cases
cannot separate the best from others, the line says so, about how many cases would, and which of the
tied models is the cheapest (fastest). A model whose cost is unknown sorts after every model with a
known cost, and the line says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from llamacompare.formatting import estimate_parts, short, whole_pct
from llamacompare.scoring.stats import Interval, PairComparison, tied_from_pairs

__all__ = ["Choice", "ModelSummary", "Prefer", "label_caveat", "recommend", "recommend_within_margin"]

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
class Choice:
    """The model to choose (None when there is nothing to choose from) and the evidence in one line.

    `tied`: the other models not significantly worse than the best (closest first). `needed_cases`:
    about how many cases would separate the best from its closest rival (None: not applicable). `caveat`: one
    line where the models ranked mix approximate label scores with exact ones.
    """

    model: str | None
    line: str
    tied: list[str]
    needed_cases: int | None = None
    caveat: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _p(p: float) -> str:
    if p < 0.001:
        return "<0.001"
    return f"={p:.3f}" if p < 0.01 else f"={p:.2f}"


def _ratio(chosen: float, best: float, what: str) -> str:
    if best <= 0 or chosen >= best:
        return f"at the same {what}" if chosen == best else ""
    if chosen == 0:
        return "at no cost" if what == "cost" else ""
    r = chosen / best
    return f"at 1/{round(1 / r)} of the {what}" if r <= 0.5 else f"at {r:.0%} of the {what}"


def label_caveat(ranked: Sequence[ModelSummary]) -> str | None:
    """The line a ranking owes its reader when it puts approximate label scores beside exact ones: the two are not
    the same measurement of log P(label | prompt), so it is never said silently."""
    approximate = [s for s in ranked if s.label_scores == "approximate"]
    exact = [s.model for s in ranked if s.label_scores == "exact"]
    if not approximate or not exact:
        return None
    named = ", ".join(s.model + ("" if s.label_coverage is None else f" (coverage {whole_pct(s.label_coverage)})")
                      for s in approximate)
    return (f"label scores approximate (top log-probs) for {named}, exact for {', '.join(exact)}: the ranking "
            "mixes two measures of log P(label | prompt)")


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
    rec = _recommend(summaries, pairs, prefer=prefer, metric_name=metric_name, higher_is_better=higher_is_better,
                     alpha=alpha, correction=correction)
    ranked = [s for s in summaries if s.n > 0 and _finite(s.metric.value)]
    return replace(rec, caveat=label_caveat(ranked)) if len(ranked) > 1 else rec


def _recommend(
    summaries: Sequence[ModelSummary],
    pairs: Sequence[PairComparison],
    *,
    prefer: Prefer = "cost",
    metric_name: str,
    higher_is_better: bool = True,
    alpha: float = 0.05,
    correction: Literal["holm", "none"] = "holm",
) -> Choice:
    if prefer not in ("cost", "latency"):
        raise ValueError(f"prefer must be 'cost' or 'latency', not {prefer!r}")
    valid = [s for s in summaries if s.n > 0 and _finite(s.metric.value)]
    if not valid:
        return Choice(None, f"no model has a {metric_name} score to compare", [], None)
    by_name = {s.model: s for s in valid}
    sign = -1.0 if higher_is_better else 1.0

    def pref(s: ModelSummary) -> float | None:
        return s.cost_usd if prefer == "cost" else s.latency_s

    def then(s: ModelSummary) -> float | None:  # the other rule breaks a tie in the user's (e.g. all local: $0)
        return s.latency_s if prefer == "cost" else s.cost_usd

    def order(s: ModelSummary) -> tuple[bool, float, float, float]:
        v, w = pref(s), then(s)
        return (v is None, v if v is not None else 0.0, w if w is not None else math.inf, sign * s.metric.value)

    def metric(s: ModelSummary) -> str:
        value, lo, hi = estimate_parts(s.metric.value, s.metric.lo, s.metric.hi)
        return f"{metric_name} {value} [{lo}, {hi}]"

    best = min(valid, key=lambda s: (sign * s.metric.value, order(s)))
    if len(valid) == 1:
        return Choice(best.model, f"choose {best.model}: {metric(best)} (the only model scored)", [])

    usable = [p for p in pairs if p.a in by_name and p.b in by_name]
    tied, against, p_adj = tied_from_pairs(best.model, usable, alpha=alpha, correction=correction)
    p_label = "adj. p" if correction == "holm" and len(against) > 1 else "p"
    candidates = sorted([best, *(by_name[t] for t in tied)], key=order)
    chosen = candidates[0]

    def evidence(other: str, first: str | None = None) -> str:
        # diff = first - the other one; by default from `other`'s side ("-0.02": it is worse)
        o = against[other].oriented(first or other)
        diff, lo, hi = estimate_parts(o.diff, o.lo, o.hi)
        if not diff.startswith("-") and float(diff) != 0:
            diff = "+" + diff
        return f"diff {diff} [{lo}, {hi}], {p_label}{_p(p_adj[other])}"

    if not tied:
        others = sorted((by_name[k] for k in against), key=lambda s: sign * s.metric.value)
        if not others:
            line = (f"{best.model} scores best: {metric(best)}, but there is no paired comparison with the other "
                    "models (no cases in common) to say whether it is better")
            return Choice(best.model, line, tied, None)
        nxt = others[0]
        line = (
            f"choose {best.model}: {metric(best)}, significantly better than every other model "
            f"(next: {nxt.model} {short(nxt.metric.value)}; {evidence(nxt.model, best.model)})"
        )
        return Choice(best.model, line, tied, None)

    # No model is significantly better than the rest: say so, how many cases would tell, and which of the tied
    # models the user's rule (cheapest or fastest) picks. Never "choose": these cases cannot justify it.
    rival = chosen.model if chosen is not best else tied[0]
    pair = against[rival]
    needed, have = pair.needed_cases, pair.n
    values = f"{metric_name} {short(best.metric.value)} vs {short(by_name[rival].metric.value)}"
    evid = f"{values} ({evidence(rival, best.model)})"
    these = "this one case" if have == 1 else f"these {have:,} cases"
    if needed is None:
        line = f"{best.model} and {rival} scored the same on {these} ({values})"
    elif needed > have:
        line = f"{these} cannot separate {best.model} and {rival} yet: {evid}; about {needed:,} cases would"
    else:
        line = f"no significant difference between {best.model} and {rival} on {these}: {evid}"
    also = [t for t in tied if t != rival]
    if also:
        line += f"; {', '.join(also)} also not significantly worse than {best.model}"
    rule, other = ("cheapest", "fastest") if prefer == "cost" else ("fastest", "cheapest")
    same = len({pref(c) for c in candidates}) == 1
    if pref(chosen) is None:  # known values sort first: none of the tied has one
        line += f"; no {prefer} is known to choose between them"
    elif same and then(chosen) is not None and len({then(c) for c in candidates}) > 1:
        line += f"; at the same {prefer}, the {other} of them: {chosen.model}"
    else:
        line += f"; the {rule} of them: {chosen.model}"
        notes = []
        if chosen is not best and pref(best) is not None:
            notes.append(_ratio(pref(chosen), pref(best), prefer))  # type: ignore[arg-type]
        unknown = [s.model for s in candidates if pref(s) is None]
        if unknown:
            notes.append(f"{prefer} unknown for {', '.join(unknown)}")
        if any(notes):
            line += f" ({'; '.join(n for n in notes if n)})"
    return Choice(chosen.model, line, tied, needed)


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
        return Choice(None, f"no model has a {metric_name} score to compare", [], None)

    def pref(s: ModelSummary) -> float | None:
        return s.cost_usd if prefer == "cost" else s.latency_s

    def then(s: ModelSummary) -> float | None:
        return s.latency_s if prefer == "cost" else s.cost_usd

    def order(s: ModelSummary) -> tuple[bool, float, float]:
        v, w = pref(s), then(s)
        return (v is None, v if v is not None else 0.0, w if w is not None else math.inf)

    ranked = [s for s in summaries if s.n > 0 and _finite(s.metric.value)]
    caveat = label_caveat(ranked) if len(ranked) > 1 else None
    within = [m for m, lo in lower_bounds.items() if m in by_name and m != best and lo > -margin]
    candidates = sorted([by_name[best], *(by_name[m] for m in within)], key=order)
    chosen = candidates[0]
    points = f"{margin:g}"
    rule = "cheapest" if prefer == "cost" else "fastest"
    if chosen.model == best:
        others = f"; also within it: {', '.join(within)}" if within else ""
        line = (f"choose {best}: the best on {metric_name} ({short(by_name[best].metric.value)}) and the {rule} "
                f"of the models shown within {points} of it{others}")
        if not within:
            line = (f"choose {best}: the best on {metric_name} ({short(by_name[best].metric.value)}); no other model "
                    f"is shown within {points} of it (one-sided {confidence} bound)")
        return Choice(best, line, within, None, caveat)
    bound = lower_bounds[chosen.model]
    line = (f"choose {chosen.model}: the {rule} model within {points} of the best ({best}): {metric_name} "
            f"{short(chosen.metric.value)} vs {short(by_name[best].metric.value)}, one-sided {confidence} lower "
            f"bound of the difference {bound:+.3f} > -{points}")
    if pref(chosen) is not None and pref(by_name[best]) is not None:
        ratio = _ratio(pref(chosen), pref(by_name[best]), prefer)  # type: ignore[arg-type]
        if ratio:
            line += f" ({ratio})"
    return Choice(chosen.model, line, within, None, caveat)
