"""Does the models' order hold across prompts? Kendall's τ between the models' rankings under every two prompt
variants, and the pairs of models whose order differs between prompts.

A different wording can change which model wins (a Hugging Face study of 8 MMLU prompt formats saw rankings
change; lm-evaluation-harness #1388): a choice made under one prompt is safer when the order holds under others.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations


@dataclass(frozen=True, slots=True)
class PromptTau:
    """Kendall's τ-b between the models' scores under prompt `a` and under prompt `b` (None: undefined, e.g.
    every model scored the same under one of them)."""

    a: str
    b: str
    tau: float | None
    n_models: int


@dataclass(frozen=True, slots=True)
class Swap:
    """Two models whose order differs between prompts: `a` is ahead under `a_ahead`, `b` under `b_ahead`."""

    a: str
    b: str
    a_ahead: tuple[str, ...]
    b_ahead: tuple[str, ...]


@dataclass(slots=True)
class Stability:
    rankings: dict[str, list[str]]  # prompt -> models, best first
    taus: list[PromptTau] = field(default_factory=list)
    swaps: list[Swap] = field(default_factory=list)

    @property
    def stable(self) -> bool:
        return not self.swaps


def rank_stability(
    means: Mapping[str, Mapping[str, float]], models: Sequence[str], *, higher_is_better: bool = True
) -> Stability | None:
    """`means`: prompt -> model -> mean score, `models` in the order to report them. None when there is nothing
    to compare (fewer than two prompts, or two models scored under both of some two prompts)."""
    from scipy.stats import kendalltau  # scipy (about 0.3 s): only for rank stability

    prompts = [p for p in means if sum(m in means[p] for m in models) >= 2]
    if len(prompts) < 2:
        return None
    sign = 1.0 if higher_is_better else -1.0
    rankings = {p: sorted((m for m in models if m in means[p]), key=lambda m: (-sign * means[p][m], models.index(m)))
                for p in prompts}
    out = Stability(rankings)
    for pa, pb in combinations(prompts, 2):
        common = [m for m in models if m in means[pa] and m in means[pb]]
        if len(common) < 2:
            continue
        tau = kendalltau([means[pa][m] for m in common], [means[pb][m] for m in common]).statistic
        out.taus.append(PromptTau(pa, pb, None if tau is None or math.isnan(tau) else float(tau), len(common)))
    for a, b in combinations(models, 2):
        both = [p for p in prompts if a in means[p] and b in means[p]]
        a_ahead = tuple(p for p in both if sign * (means[p][a] - means[p][b]) > 0)
        b_ahead = tuple(p for p in both if sign * (means[p][b] - means[p][a]) > 0)
        if a_ahead and b_ahead:
            out.swaps.append(Swap(a, b, a_ahead, b_ahead))
    if not out.taus:
        return None
    return out
