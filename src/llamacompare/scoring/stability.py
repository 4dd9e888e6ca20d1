"""Stability across repeats (`run --repeats k` at temperature > 0): how often a model's k answers to the same case
agree, which cases flip between right and wrong, and pass^k, the share of cases it gets right every time.

The k answers to one case are not k independent cases: intervals resample cases with all their repeats (a cluster
bootstrap over cases, Field & Welsh 2007), so a model asked 5 times about 100 cases gets the interval of 100
cases, not of 500. pass^k is a proportion over cases (Wilson).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from llamacompare.scoring.stats import Interval, bootstrap_ci, proportion_ci

__all__ = ["RepeatStability", "naive_ci", "repeat_stability"]


@dataclass(frozen=True, slots=True)
class RepeatStability:
    repeats: int  # k: the most repeats any case has; cases with fewer are left out
    cases: int  # cases with all k repeats
    agreement: Interval  # mean share of a case's repeats that give its most common answer
    flipped: int  # cases right in some repeats and wrong in others
    pass_k: Interval  # share of cases right in all k repeats
    mean: Interval  # the metric over every answer, cases resampled with their repeats


def repeat_stability(values: Sequence[Sequence[float]], answers: Sequence[Sequence[str | None]] | None = None,
                     *, n_resamples: int = 5000) -> RepeatStability | None:
    """`values[i]`: case i's scores (1 right, 0 wrong) over its repeats; `answers[i]`: what each repeat answered
    (its label), for agreement (by default agreement on right/wrong). None with fewer than two repeats."""
    k = max((len(v) for v in values), default=0)
    if k < 2:
        return None
    full = [i for i, v in enumerate(values) if len(v) == k]
    if not full:
        return None
    agree = []
    for i in full:
        said = answers[i] if answers is not None and len(answers[i]) == k else [str(x) for x in values[i]]
        agree.append(Counter(said).most_common(1)[0][1] / k)
    right = [sum(values[i]) for i in full]
    flipped = sum(1 for r in right if 0 < r < k)
    all_right = [r == k for r in right]
    means = [r / k for r in right]
    return RepeatStability(
        repeats=k,
        cases=len(full),
        agreement=bootstrap_ci(agree, n_resamples=n_resamples),
        flipped=flipped,
        pass_k=proportion_ci(all_right),
        mean=bootstrap_ci(means, n_resamples=n_resamples),
    )


def naive_ci(values: Sequence[Sequence[float]]) -> Interval:
    """The interval that wrongly counts every repeat as a case of its own (Wilson over all answers): for showing
    how much narrower it is than the clustered one, never for decisions."""
    flat = [bool(x) for v in values for x in v]
    if not flat:
        return Interval(math.nan, math.nan, math.nan)
    return proportion_ci(np.array(flat, dtype=bool).tolist())
