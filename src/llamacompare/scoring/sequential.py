"""Anytime-valid comparisons of paired scores, and the rule `run --until-decided` stops models by.

A confidence sequence (CS) covers the true mean at every sample size at once: P(exists t: mu not in CS_t) <= alpha.
The data may therefore be looked at after every batch and a model stopped the moment its interval decides, and the
chance of a wrong decision stays at most alpha. A fixed-n interval checked after every batch does not keep that
promise (`tests/scoring/test_sequential.py` simulates both).

The CS is the predictable plug-in empirical-Bernstein one (PrPl-EB) of Waudby-Smith & Ramdas (2024), "Estimating
means of bounded random variables by betting", JRSS B 86(1), Theorem 2, an instance of the empirical-Bernstein
supermartingale of Howard, Ramdas, McAuliffe & Sekhon (2021), "Time-uniform, nonparametric, nonasymptotic
confidence sequences", Ann. Statist. 49(2), Theorem 4. For X_i in [0, 1] and predictable bets lambda_i in [0, 1):

    CS_t = ( sum lambda_i X_i  +-  (log(2/alpha) + sum v_i psi(lambda_i)) ) / sum lambda_i
    v_i = (X_i - mu_{i-1})^2,   psi(l) = -log(1 - l) - l
    lambda_t = min(1/2, sqrt(2 log(2/alpha) / (sigma2_{t-1} t log(1 + t))))
    mu_t = (1/2 + sum_{i<=t} X_i) / (t + 1),   sigma2_t = (1/4 + sum_{i<=t} (X_i - mu_i)^2) / (t + 1)

(each side at alpha/2; both sides share lambda and the penalty, so the CS is centre +- half-width), intersected
with the CS of earlier t, which keeps the guarantee. It adapts to the variance: two models that mostly agree give
paired differences near 0 and a narrow sequence. A paired difference D in [-1, 1] is mapped to X = (D + 1) / 2.

Assumption, as for the fixed-n intervals elsewhere: cases are exchangeable draws from the population the dataset
stands for, taken in a random order (`run --until-decided` shuffles them with a seed).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Generic, Literal, TypeVar

import numpy as np

__all__ = ["Decision", "PairSequence", "Race", "cs_paths", "diff_cs_paths"]

_TRUNCATION = 0.5


def cs_paths(x: np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the two-sided (1 - alpha) CS for the mean of `x` (values in [0, 1]) after each
    observation, along the last axis; leading axes are independent sequences (vectorised simulations)."""
    x = np.asarray(x, dtype=float)
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError("confidence sequence values must lie in [0, 1]")
    n = x.shape[-1]
    t = np.arange(1, n + 1, dtype=float)
    log_term = math.log(2 / alpha)
    mu = (0.5 + np.cumsum(x, axis=-1)) / (t + 1)
    sigma2 = (0.25 + np.cumsum((x - mu) ** 2, axis=-1)) / (t + 1)
    pad = [(0, 0)] * (x.ndim - 1) + [(1, 0)]
    mu_prev = np.pad(mu[..., :-1], pad, constant_values=0.5)
    sigma2_prev = np.pad(sigma2[..., :-1], pad, constant_values=0.25)
    lam = np.minimum(_TRUNCATION, np.sqrt(2 * log_term / (sigma2_prev * t * np.log1p(t))))
    psi = -np.log1p(-lam) - lam
    penalty = log_term + np.cumsum((x - mu_prev) ** 2 * psi, axis=-1)
    weight = np.cumsum(lam, axis=-1)
    centre = np.cumsum(lam * x, axis=-1) / weight
    lo = np.maximum.accumulate(np.maximum(centre - penalty / weight, 0.0), axis=-1)
    hi = np.minimum.accumulate(np.minimum(centre + penalty / weight, 1.0), axis=-1)
    return lo, hi


def diff_cs_paths(d: np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """The CS for the mean of paired differences `d` in [-1, 1], after each pair."""
    lo, hi = cs_paths((np.asarray(d, dtype=float) + 1) / 2, alpha)
    return 2 * lo - 1, 2 * hi - 1


class PairSequence:
    """The same CS as `diff_cs_paths`, fed one paired difference at a time (O(1) each), for the runner."""

    __slots__ = ("_log", "_sum", "_sq", "_w", "_wx", "_pen", "n", "lo", "hi")

    def __init__(self, alpha: float) -> None:
        self._log = math.log(2 / alpha)
        self._sum, self._sq = 0.0, 0.0  # sum of x, and of squared deviations from the running mean
        self._w = self._wx = 0.0
        self._pen = self._log
        self.n = 0
        self.lo, self.hi = -1.0, 1.0  # of the difference, in [-1, 1]

    def push(self, d: float) -> None:
        if not -1.0 <= d <= 1.0:
            raise ValueError(f"a paired difference must lie in [-1, 1], not {d}")
        x = (d + 1) / 2
        t = self.n + 1
        mu_prev, sigma2_prev = (0.5 + self._sum) / t, (0.25 + self._sq) / t
        lam = min(_TRUNCATION, math.sqrt(2 * self._log / (sigma2_prev * t * math.log1p(t))))
        self._pen += (x - mu_prev) ** 2 * (-math.log1p(-lam) - lam)
        self._w += lam
        self._wx += lam * x
        self._sum += x
        self._sq += (x - (0.5 + self._sum) / (t + 1)) ** 2
        self.n = t
        centre, half = self._wx / self._w, self._pen / self._w
        self.lo = max(self.lo, 2 * max(centre - half, 0.0) - 1)
        self.hi = min(self.hi, 2 * min(centre + half, 1.0) - 1)


Verdict = Literal["best", "within margin", "worse", "undecided"]
#: what a race compares: any hashable name (the runner races `identity.Contender`s)
M = TypeVar("M", bound=Hashable)


@dataclass(slots=True)
class Decision(Generic[M]):
    """Why a model stopped: `verdict`, after `n` cases, against `other` with the CS of (this - other). Facts only:
    `formatting.decision_line` words them."""

    verdict: Verdict
    n: int
    other: M | None = None
    lo: float | None = None
    hi: float | None = None


@dataclass
class Race(Generic[M]):
    """Models answering the same cases in the same order, compared pair by pair with confidence sequences.

    A model is decided, and is sent no more cases, once it is
    * worse: another model is better by more than `margin` (the CS of other - this lies above `margin`), or
    * within the margin (with margin 0: better than): for every other model not decided worse, the CS of
      this - other lies above -margin (one-sided), so whatever the rest do, it stays within `margin` of the best.
      Such models stop together, once every model still racing is one: until then the others are still being
      compared with them.
    Every pair's CS is at level alpha / (number of pairs) (Bonferroni), so all decisions of a race are right
    together with probability at least 1 - alpha. A pair is fed the differences of the positions both models
    have answered, in order; a stopped model's pairs keep their last interval. Checked every `batch` cases.
    """

    models: Sequence[M]
    alpha: float = 0.05
    margin: float = 0.0
    higher_is_better: bool = True
    batch: int = 10
    decisions: dict[M, Decision[M]] = field(default_factory=dict)
    _values: dict[M, dict[int, float | None]] = field(default_factory=dict)
    _frontier: dict[M, int] = field(default_factory=dict)
    _pairs: dict[tuple[M, M], PairSequence] = field(default_factory=dict)
    _fed: dict[tuple[M, M], int] = field(default_factory=dict)
    _stop: dict[M, int] = field(default_factory=dict)  # a decided model's pairs end where it was decided
    _looked: int = 0

    def __post_init__(self) -> None:
        if len(set(self.models)) != len(self.models):
            raise ValueError("a race needs distinct model names")
        if not 0 <= self.margin < 1:
            raise ValueError("the margin must lie in [0, 1)")
        n_pairs = max(1, len(self.models) * (len(self.models) - 1) // 2)
        self._values = {m: {} for m in self.models}
        self._frontier = dict.fromkeys(self.models, 0)
        self._pairs = {p: PairSequence(self.alpha / n_pairs) for p in combinations(self.models, 2)}
        self._fed = dict.fromkeys(self._pairs, 0)

    @property
    def active(self) -> list[M]:
        return [m for m in self.models if m not in self.decisions]

    def frontier(self, model: M) -> int:
        """How many cases from the start of the order `model` has answered without a gap."""
        return self._frontier[model]

    def add(self, model: M, position: int, value: float | None) -> None:
        """The score (in [0, 1]) of `model` on the case at `position` of the shared order (None: no score, e.g. a
        failed request; that position is left out of its pairs). Looks at every multiple of `batch` that all the
        models still racing have reached, each on the first that-many cases only: the decisions do not depend on
        the order answers arrive in, so a resumed run decides exactly as the first did."""
        if model in self.decisions:
            return  # an answer that was already in flight when the model stopped: kept, not counted
        vals = self._values[model]
        vals[position] = value
        f = self._frontier[model]
        while f in vals:
            f += 1
        self._frontier[model] = f
        while self.active and min(self._frontier[m] for m in self.active) >= self._looked + self.batch:
            self.look(self._looked + self.batch)

    def look(self, upto: int) -> None:
        """Feed every pair the differences on the first `upto` cases (those both have), then decide."""
        self._looked = upto
        if len(self.models) < 2:
            return  # nothing to compare: a lone model answers every case
        sign = 1.0 if self.higher_is_better else -1.0
        for (a, b), cs in self._pairs.items():
            end = min(upto, self._frontier[a], self._frontier[b], self._stop.get(a, upto), self._stop.get(b, upto))
            va, vb = self._values[a], self._values[b]
            for i in range(self._fed[(a, b)], end):
                x, y = va[i], vb[i]
                if x is not None and y is not None:
                    cs.push(sign * (x - y))
            self._fed[(a, b)] = max(end, self._fed[(a, b)])
        active = self.active
        worse: dict[M, Decision[M]] = {}
        for m in active:
            for other in self.models:
                if other == m:
                    continue
                lo, hi, n = self._diff(other, m)
                if n and lo > self.margin:
                    worse[m] = Decision("worse", upto, other, -hi, -lo)
                    break
        self._decide(worse, upto)
        standing = [m for m in self.models if not (m in self.decisions and self.decisions[m].verdict == "worse")]
        qualified: dict[M, Decision[M]] = {}
        for m in self.active:
            rivals = [o for o in standing if o != m]
            if not rivals:
                qualified[m] = Decision("best", upto)
                continue
            bounds = [(o, *self._diff(m, o)) for o in rivals]
            if all(n and lo > -self.margin for _, lo, _, n in bounds):
                closest = min(bounds, key=lambda b: b[1])
                verdict: Verdict = "best" if all(lo > 0 for _, lo, _, _ in bounds) else "within margin"
                qualified[m] = Decision(verdict, upto, closest[0], closest[1], closest[2])
        if set(qualified) == set(self.active):  # stop together: the others are still compared against them
            self._decide(qualified, upto)

    def finish(self) -> None:
        """The cases ran out: a last look at what every model still racing has, and they are undecided."""
        if self.active:
            common = min(self._frontier[m] for m in self.active)
            if common > self._looked:
                self.look(common)
        for m in self.active:
            self.decisions[m] = Decision("undecided", self._frontier[m])

    def _decide(self, decisions: dict[M, Decision[M]], upto: int) -> None:
        self.decisions.update(decisions)
        for m in decisions:
            self._stop[m] = upto

    def _diff(self, a: M, b: M) -> tuple[float, float, int]:
        """CS of (a - b) in the direction of better, and the pairs it rests on."""
        if (a, b) in self._pairs:
            cs = self._pairs[(a, b)]
            return cs.lo, cs.hi, cs.n
        cs = self._pairs[(b, a)]
        return -cs.hi, -cs.lo, cs.n
