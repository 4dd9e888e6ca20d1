"""How far a judge's verdicts can be trusted: pure statistics over verdicts already read from the judge's answers.

* Order-swap flip rate (pairwise): each pair is judged both ways round; a verdict "flips" when the two
  judgments disagree once the swap is undone (A then A again: the judge followed the position, not the answer).
  Zheng et al. 2023 (MT-Bench, FastChat) report this as (in)consistency.
* Position bias (pairwise): the share of decisive verdicts that pick the answer shown first; 0.5 is unbiased.
* Length: the share of decisive (swap-combined) verdicts won by the longer answer, and Spearman's rank
  correlation between verdict and length (difference); a rubric judge's scores against the answer's length.
* Self-preference: when the judge is also a candidate, what it gives its own answers against the others'.
* Agreement with people: Cohen's kappa between the judge and human labels.

Shares carry a Wilson interval (`stats.proportion_ci`). Kappa's interval uses Cohen's (1960) standard error
sqrt(p_o (1 - p_o) / (n (1 - p_e)^2)). Spearman's interval is Fisher's z with Bonett & Wright's (2000) standard
error sqrt((1 + rho^2 / 2) / (n - 3)); its p-value is the same normal approximation at rho = 0.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np

from llamacompare.scoring.stats import bootstrap_ci, proportion_ci

__all__ = [
    "Correlation",
    "Kappa",
    "SelfPreference",
    "Share",
    "cohen_kappa",
    "first_position_share",
    "flip_rate",
    "longer_wins",
    "self_preference",
    "spearman",
]

Preference = Literal["A", "B", "tie"]
_SWAP: dict[str, str] = {"A": "B", "B": "A", "tie": "tie"}
_N = NormalDist()


@dataclass(frozen=True, slots=True)
class Share:
    """k of n, as a share with its 95% Wilson interval (NaN when n is 0)."""

    value: float
    lo: float
    hi: float
    k: int
    n: int


@dataclass(frozen=True, slots=True)
class Correlation:
    rho: float
    lo: float
    hi: float
    p_value: float
    n: int


@dataclass(frozen=True, slots=True)
class Kappa:
    kappa: float
    lo: float
    hi: float
    observed: float  # p_o, the share of items both raters put in the same category
    expected: float  # p_e, the agreement expected by chance from each rater's own category shares
    n: int


@dataclass(frozen=True, slots=True)
class SelfPreference:
    """The judge's mean verdict for its own answers and for the other candidates' on the same cases, and the
    paired difference (own - others) with its bootstrap interval."""

    own: float
    others: float
    diff: float
    lo: float
    hi: float
    n: int  # cases with both


def _z(confidence: float) -> float:
    return _N.inv_cdf(1 - (1 - confidence) / 2)


def share(hits: Sequence[bool]) -> Share:
    ci = proportion_ci(list(hits))
    return Share(ci.value, ci.lo, ci.hi, int(sum(hits)), len(hits))


def flip_rate(pairs: Sequence[tuple[Preference, Preference]]) -> Share:
    """`pairs`: (verdict with the answers in one order, verdict with them swapped, as the judge gave it). A flip:
    the two disagree once the swap is undone (a preference against a tie counts as a flip)."""
    return share([first != _SWAP[second] for first, second in pairs])


def first_position_share(verdicts: Sequence[Preference]) -> Share:
    """Of the decisive verdicts (ties left out), the share for the answer shown first."""
    return share([v == "A" for v in verdicts if v != "tie"])


def longer_wins(verdicts: Sequence[tuple[Preference, float, float]]) -> Share:
    """`verdicts`: (preference between A and B, length of A, length of B). Of the decisive ones between answers
    of different length, the share the longer answer won."""
    return share([(v == "A") == (la > lb) for v, la, lb in verdicts if v != "tie" and la != lb])


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties given their average rank."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=float)
    ranks[order] = np.arange(1, len(x) + 1)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return np.asarray(sums[inverse] / counts[inverse], dtype=float)


def spearman(x: Sequence[float], y: Sequence[float], *, confidence: float = 0.95) -> Correlation:
    """Spearman's rho (Pearson's correlation of the ranks, ties averaged) with its interval and p-value. NaN when
    fewer than 4 pairs, or when either side is constant (no ranking to correlate)."""
    if len(x) != len(y):
        raise ValueError(f"spearman needs as many x as y, got {len(x)} and {len(y)}")
    n = len(x)
    nan = Correlation(math.nan, math.nan, math.nan, math.nan, n)
    if n < 4:
        return nan
    rx, ry = _ranks(np.asarray(x, dtype=float)), _ranks(np.asarray(y, dtype=float))
    dx, dy = rx - rx.mean(), ry - ry.mean()
    denominator = math.sqrt(float((dx * dx).sum()) * float((dy * dy).sum()))
    if denominator == 0:
        return nan
    rho = max(-1.0, min(1.0, float((dx * dy).sum()) / denominator))
    if abs(rho) == 1.0:
        return Correlation(rho, rho, rho, 0.0, n)
    zr = math.atanh(rho)
    half = _z(confidence) * math.sqrt((1 + rho * rho / 2) / (n - 3))
    p = 2 * (1 - _N.cdf(abs(zr) * math.sqrt(n - 3)))
    return Correlation(rho, math.tanh(zr - half), math.tanh(zr + half), p, n)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable], *, confidence: float = 0.95) -> Kappa:
    """Cohen's kappa between two raters' categories for the same items: (p_o - p_e) / (1 - p_e), with its
    interval from Cohen's standard error, clipped to [-1, 1]. NaN when there are no items, or when chance alone
    would agree on all of them (both raters always gave one and the same category)."""
    if len(a) != len(b):
        raise ValueError(f"kappa needs the same items rated twice, got {len(a)} and {len(b)} ratings")
    n = len(a)
    if n == 0:
        return Kappa(math.nan, math.nan, math.nan, math.nan, math.nan, 0)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb.get(k, 0) for k in ca) / (n * n)
    if pe >= 1.0:
        return Kappa(math.nan, math.nan, math.nan, po, pe, n)
    kappa = (po - pe) / (1 - pe)
    se = math.sqrt(po * (1 - po) / (n * (1 - pe) ** 2))
    half = _z(confidence) * se
    return Kappa(kappa, max(-1.0, kappa - half), min(1.0, kappa + half), po, pe, n)


def self_preference(own: Mapping[str, float], others: Mapping[str, Sequence[float]]) -> SelfPreference:
    """`own`: case -> the judge's verdict (a score, or a win share) for its own answer; `others`: case -> its
    verdicts for the other candidates' answers. Paired over the cases that have both."""
    cases = [c for c in own if others.get(c)]
    if not cases:
        return SelfPreference(math.nan, math.nan, math.nan, math.nan, math.nan, 0)
    mine = [own[c] for c in cases]
    theirs = [sum(others[c]) / len(others[c]) for c in cases]
    ci = bootstrap_ci([m - t for m, t in zip(mine, theirs, strict=True)], n_resamples=2000)
    return SelfPreference(sum(mine) / len(mine), sum(theirs) / len(theirs), ci.value, ci.lo, ci.hi, len(cases))
