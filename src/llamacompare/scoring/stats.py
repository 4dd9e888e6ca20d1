"""Confidence intervals and paired significance tests for comparing models on the same cases.

Choices, and why:

* Intervals of a mean: BCa bootstrap by default (Efron 1987). It corrects the percentile interval for
  bias and skew, which matters for accuracies near 0 or 1, ROUGE and latency; for the mean the
  jackknife acceleration has a closed form, so it costs no more than the percentile bootstrap.
  `method="percentile"` is available. Resampling draws multinomial counts over the distinct values
  when there are few (binary scores: two), which is exactly the case resampling distribution and far
  faster than drawing indices.
* Paired continuous scores: BCa bootstrap of the mean difference over cases; the p-value is the BCa
  achieved significance level (the smallest alpha whose interval excludes 0), so the interval and the
  p-value always agree.
* Paired binary scores (right/wrong): exact McNemar test (two-sided binomial on the discordant pairs),
  with Tango's (1998) score interval for the difference in accuracy, which has close to nominal
  coverage even with few discordant pairs (Fagerland et al. 2014). The exact test is slightly
  conservative, so in rare borderline cases the interval just excludes 0 while p is just above alpha.
* Several models: every model is compared with the best one and the p-values are Holm-adjusted, so
  the claims "X is significantly worse than the best" hold together at the family-wise level alpha.
  Holm is uniformly more powerful than Bonferroni and needs no independence assumption.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from statistics import NormalDist
from typing import Any, Literal

import numpy as np

__all__ = [
    "Interval",
    "McNemarResult",
    "PairComparison",
    "PairedTest",
    "bootstrap_ci",
    "cases_needed",
    "cases_needed_from_counts",
    "compare_all",
    "compare_pair",
    "holm_adjust",
    "mcnemar_exact",
    "paired_bootstrap",
    "paired_diff_ci_binary",
    "proportion_ci",
    "tied_from_pairs",
    "tied_with_best",
]

Method = Literal["bca", "percentile"]
_N = NormalDist()
_CHUNK = 2_000_000  # resampled values held in memory at once by the index-gathering path


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with its confidence interval."""

    value: float
    lo: float
    hi: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class McNemarResult:
    """b: cases only the first model got right; c: only the second; exact two-sided p-value."""

    b: int
    c: int
    p_value: float


@dataclass(frozen=True, slots=True)
class PairedTest:
    """What a paired test gives: diff = mean(a - b), its confidence interval, the two-sided p-value for diff == 0."""

    diff: float
    lo: float
    hi: float
    p_value: float
    method: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class PairComparison:
    """Model `a` against model `b` on the same `n` cases. diff = mean_a - mean_b.

    `a_only`/`b_only`: cases only a (only b) got right, for binary scores. `needed_cases`: roughly
    how many cases would separate the two at this observed difference (None when it is 0).
    `p_value` is not adjusted for multiple comparisons (see `holm_adjust`).
    """

    a: str
    b: str
    n: int
    mean_a: float
    mean_b: float
    diff: float
    lo: float
    hi: float
    p_value: float
    method: str
    higher_is_better: bool = True
    a_only: int | None = None
    b_only: int | None = None
    needed_cases: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def oriented(self, first: str) -> PairComparison:
        """The same comparison with `first` as model a (diff, interval and counts flipped)."""
        if first == self.a:
            return self
        if first != self.b:
            raise KeyError(first)
        return PairComparison(
            self.b,
            self.a,
            self.n,
            self.mean_b,
            self.mean_a,
            -self.diff,
            -self.hi,
            -self.lo,
            self.p_value,
            self.method,
            self.higher_is_better,
            self.b_only,
            self.a_only,
            self.needed_cases,
        )


# ---------------------------------------------------------------- helpers


def _array(values: Sequence[float] | np.ndarray, name: str = "values") -> np.ndarray:
    x = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contain NaN or infinite scores; score failed cases explicitly")
    return x


def _bools(values: Sequence[bool] | Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(values)
    if x.dtype != np.bool_:
        if not np.all(np.isin(x, (0, 1))):
            raise ValueError(f"{name} must be booleans (or 0/1)")
        x = x.astype(bool)
    return x.ravel()


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")


def _resample_means(x: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Means of `n_resamples` bootstrap resamples of x (drawn with replacement, same size)."""
    n = x.size
    uniq, counts = np.unique(x, return_counts=True)
    if uniq.size <= 64:
        # Same distribution as resampling indices: only how often each distinct value is drawn matters.
        draws = rng.multinomial(n, counts / n, size=n_resamples)
        return draws @ uniq / n
    out = np.empty(n_resamples)
    step = max(1, _CHUNK // n)
    for start in range(0, n_resamples, step):
        stop = min(start + step, n_resamples)
        idx = rng.integers(0, n, size=(stop - start, n), dtype=np.int32 if n < 2**31 else np.int64)
        out[start:stop] = x[idx].mean(axis=1)
    return out


def _bca_constants(x: np.ndarray, theta: float, boot: np.ndarray) -> tuple[float, float]:
    """Bias correction z0 and acceleration a of the BCa interval for the mean of x."""
    tol = 1e-12 * max(1.0, abs(theta))
    below = np.count_nonzero(boot < theta - tol) + 0.5 * np.count_nonzero(np.abs(boot - theta) <= tol)
    b = boot.size
    z0 = _N.inv_cdf(min(max(below / b, 0.5 / b), 1 - 0.5 / b))
    # Jackknife acceleration; for the mean, theta_(i) - theta_(.) = -(x_i - mean) / (n - 1), and the
    # (n - 1) factors cancel.
    d = x - x.mean()
    ss = float(np.sum(d * d))
    a = float(np.sum(d**3)) / (6.0 * ss**1.5) if ss > 0 else 0.0
    return z0, a


def _bca_level(alpha: float, z0: float, a: float) -> float:
    z = z0 + _N.inv_cdf(alpha)
    denom = 1 - a * z
    if denom <= 0:  # beyond what BCa can reach: the most extreme level
        return 1.0 if z > 0 else 0.0
    return _N.cdf(z0 + z / denom)


def _interval(x: np.ndarray, boot: np.ndarray, confidence: float, method: Method) -> tuple[float, float, float, float]:
    """(lo, hi, z0, a) of the bootstrap interval; z0 = a = 0 for the percentile method."""
    tail = (1 - confidence) / 2
    if method == "bca":
        z0, a = _bca_constants(x, float(x.mean()), boot)
        levels = [_bca_level(tail, z0, a), _bca_level(1 - tail, z0, a)]
    elif method == "percentile":
        z0 = a = 0.0
        levels = [tail, 1 - tail]
    else:
        raise ValueError(f"unknown bootstrap method {method!r}: use 'bca' or 'percentile'")
    lo, hi = np.percentile(boot, [100 * lv for lv in levels])
    return float(lo), float(hi), z0, a


def _bootstrap_p(boot: np.ndarray, z0: float, a: float) -> float:
    """Two-sided p-value for mean == 0: the smallest 1 - confidence whose interval excludes 0."""
    b = boot.size
    below = np.count_nonzero(boot < 0) + 0.5 * np.count_nonzero(boot == 0)
    q0 = min(max(below / b, 1 / (b + 1)), b / (b + 1))
    w = _N.inv_cdf(q0) - z0
    # invert level = cdf(z0 + (z0 + z) / (1 - a (z0 + z))) for z
    denom = 1 + a * w
    tail = 0.0 if denom <= 0 else _N.cdf(w / denom - z0)
    return float(min(1.0, max(2 * min(tail, 1 - tail), 1 / (b + 1))))


# ---------------------------------------------------------------- intervals


def bootstrap_ci(
    values: Sequence[float],
    *,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
    method: Method = "bca",
) -> Interval:
    """Bootstrap confidence interval of the mean (BCa by default; see the module doc).

    No values: NaNs. All values equal (or a single value): lo == hi == value, since resampling
    cannot show any spread; for right/wrong scores `proportion_ci` is more honest on small samples.
    """
    _check_confidence(confidence)
    x = _array(values)
    if x.size == 0:
        return Interval(math.nan, math.nan, math.nan)
    if np.all(x == x[0]):  # (x[0], not the mean: 20 x 0.7 sums to 13.999999999999998)
        return Interval(float(x[0]), float(x[0]), float(x[0]))
    value = float(x.mean())
    boot = _resample_means(x, n_resamples, np.random.default_rng(seed))
    lo, hi, _, _ = _interval(x, boot, confidence, method)
    return Interval(value, lo, hi)


def proportion_ci(correct: Sequence[bool], *, confidence: float = 0.95) -> Interval:
    """Wilson score interval for a proportion (accuracy): sensible even at 0 or 100% on few cases."""
    _check_confidence(confidence)
    x = _bools(correct, "correct")
    n = x.size
    if n == 0:
        return Interval(math.nan, math.nan, math.nan)
    p = float(x.mean())
    z = _N.inv_cdf(1 - (1 - confidence) / 2)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


# ---------------------------------------------------------------- paired tests


def _binom_half_cdf(k: int, m: int) -> float:
    """P(X <= k) for X ~ Binomial(m, 1/2)."""
    if k >= m:
        return 1.0
    if m <= 20_000:  # exact integers: no rounding at all
        term, total = 1, 1
        for i in range(k):
            term = term * (m - i) // (i + 1)
            total += term
        return total / (1 << m)
    steps = np.arange(1, k + 1, dtype=np.float64)
    logs = np.concatenate(([0.0], np.cumsum(np.log(m - steps + 1) - np.log(steps)))) - m * math.log(2)
    top = logs.max()
    return float(math.exp(top) * np.sum(np.exp(logs - top)))


def mcnemar_exact(a_correct: Sequence[bool] | np.ndarray, b_correct: Sequence[bool] | np.ndarray) -> McNemarResult:
    """Exact McNemar test: two-sided binomial test (p = 1/2) on the cases where the models disagree."""
    a = _bools(a_correct, "a_correct")
    b = _bools(b_correct, "b_correct")
    if a.size != b.size:
        raise ValueError(f"paired scores need equal lengths, got {a.size} and {b.size}")
    only_a = int(np.count_nonzero(a & ~b))
    only_b = int(np.count_nonzero(~a & b))
    return McNemarResult(only_a, only_b, _mcnemar_p(only_a, only_b))


def _mcnemar_p(b: int, c: int) -> float:
    # Binomial(m, 1/2) is symmetric, so doubling the smaller tail equals scipy's "minlike" p-value.
    return min(1.0, 2.0 * _binom_half_cdf(min(b, c), b + c))


def _tango_z(delta: float, b: int, c: int, n: int) -> float:
    """Tango's score statistic for H0: p_b - p_c = delta (b, c: discordant counts of n pairs)."""
    qa = 2.0 * n
    qb = -b - c + (2.0 * n - b + c) * delta
    qc = -c * delta * (1 - delta)
    p21 = (math.sqrt(max(qb * qb - 4 * qa * qc, 0.0)) - qb) / (2 * qa)  # restricted MLE of p_c
    var = n * (2 * p21 + delta * (1 - delta))
    num = b - c - n * delta
    if var <= 0:
        return 0.0 if num == 0 else math.copysign(math.inf, num)
    return num / math.sqrt(var)


def _tango_interval(b: int, c: int, n: int, confidence: float) -> tuple[float, float]:
    z = _N.inv_cdf(1 - (1 - confidence) / 2)
    est = (b - c) / n

    def solve(lo: float, hi: float, inside_is_lo: bool) -> float:
        # Z(delta) decreases in delta; find where |Z| crosses z by bisection.
        for _ in range(100):
            mid = (lo + hi) / 2
            if (abs(_tango_z(mid, b, c, n)) <= z) == inside_is_lo:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    lower = -1.0 if abs(_tango_z(-1.0, b, c, n)) <= z else solve(-1.0, est, inside_is_lo=False)
    upper = 1.0 if abs(_tango_z(1.0, b, c, n)) <= z else solve(est, 1.0, inside_is_lo=True)
    return lower, upper


def paired_diff_ci_binary(
    a_correct: Sequence[bool] | np.ndarray, b_correct: Sequence[bool] | np.ndarray, *, confidence: float = 0.95
) -> PairedTest:
    """Difference in accuracy (a - b) with Tango's score interval and the exact McNemar p-value."""
    _check_confidence(confidence)
    res = mcnemar_exact(a_correct, b_correct)
    n = len(a_correct)
    if n == 0:
        return PairedTest(math.nan, math.nan, math.nan, math.nan, "mcnemar-exact/tango")
    lo, hi = _tango_interval(res.b, res.c, n, confidence)
    return PairedTest((res.b - res.c) / n, lo, hi, res.p_value, "mcnemar-exact/tango")


def paired_bootstrap(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
    method: Method = "bca",
) -> PairedTest:
    """Mean of a - b over cases, its bootstrap interval (resampling cases) and two-sided p-value.

    The p-value inverts the same bootstrap interval, so p < 1 - confidence exactly when the interval
    excludes 0. When every case has the same difference the bootstrap shows no spread; the p-value is
    then the exact sign-flip one, 2 / 2**n (1 when the difference is 0).
    """
    _check_confidence(confidence)
    x, y = _array(a, "a"), _array(b, "b")
    if x.size != y.size:
        raise ValueError(f"paired scores need equal lengths, got {x.size} and {y.size}")
    d = x - y
    name = f"bootstrap-{method}"
    if d.size == 0:
        return PairedTest(math.nan, math.nan, math.nan, math.nan, name)
    diff = float(d[0]) if np.all(d == d[0]) else float(d.mean())
    if np.all(d == d[0]):
        return PairedTest(diff, diff, diff, 1.0 if diff == 0 else min(1.0, 2.0 ** (1 - d.size)), name)
    boot = _resample_means(d, n_resamples, np.random.default_rng(seed))
    lo, hi, z0, acc = _interval(d, boot, confidence, method)
    return PairedTest(diff, lo, hi, _bootstrap_p(boot, z0, acc), name)


# ---------------------------------------------------------------- sample size


def cases_needed_from_counts(
    n: int, only_a: int, only_b: int, *, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """Paired cases needed for McNemar's test to detect the observed difference (Connor 1987).

    n = (z_{1-alpha/2} sqrt(psi) + z_power sqrt(psi - delta^2))^2 / delta^2 with psi the share of
    discordant cases and delta the difference in accuracy. None when the observed difference is 0.
    """
    if n <= 0 or only_a == only_b:
        return None
    psi = (only_a + only_b) / n
    delta = (only_a - only_b) / n
    za = _N.inv_cdf(1 - alpha / 2)
    zb = _N.inv_cdf(power)
    need = (za * math.sqrt(psi) + zb * math.sqrt(max(psi - delta * delta, 0.0))) ** 2 / (delta * delta)
    return math.ceil(need - 1e-9)


def cases_needed(
    a_correct: Sequence[bool], b_correct: Sequence[bool], *, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """How many paired cases would separate the two models at this observed discordance and difference."""
    res = mcnemar_exact(a_correct, b_correct)
    return cases_needed_from_counts(len(a_correct), res.b, res.c, alpha=alpha, power=power)


def _cases_needed_continuous(d: np.ndarray, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Normal-approximation sample size for a paired mean difference."""
    if d.size < 2:
        return None
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if mean == 0 or sd == 0:
        return None
    z = _N.inv_cdf(1 - alpha / 2) + _N.inv_cdf(power)
    return math.ceil((z * sd / mean) ** 2 - 1e-9)


# ---------------------------------------------------------------- several models


def compare_pair(
    name_a: str,
    a: Sequence[float],
    name_b: str,
    b: Sequence[float],
    *,
    binary: bool,
    higher_is_better: bool = True,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> PairComparison:
    """One paired comparison: McNemar + Tango for binary scores, bootstrap otherwise."""
    if len(a) != len(b):
        raise ValueError(f"{name_a} has {len(a)} scores and {name_b} {len(b)}: compare on the same cases")
    n = len(a)
    if binary:
        xa, xb = _bools(a, name_a), _bools(b, name_b)
        res = paired_diff_ci_binary(xa, xb, confidence=confidence)
        only_a, only_b = int(np.count_nonzero(xa & ~xb)), int(np.count_nonzero(~xa & xb))
        ma = float(xa.mean()) if n else math.nan
        mb = float(xb.mean()) if n else math.nan
        need = cases_needed_from_counts(n, only_a, only_b, alpha=1 - confidence)
        return PairComparison(
            name_a,
            name_b,
            n,
            ma,
            mb,
            res.diff,
            res.lo,
            res.hi,
            res.p_value,
            res.method,
            higher_is_better,
            only_a,
            only_b,
            need,
        )
    xa, xb = _array(a, name_a), _array(b, name_b)
    res = paired_bootstrap(xa, xb, confidence=confidence, n_resamples=n_resamples, seed=seed)
    ma = float(xa.mean()) if n else math.nan
    mb = float(xb.mean()) if n else math.nan
    need = _cases_needed_continuous(xa - xb, alpha=1 - confidence)
    return PairComparison(
        name_a,
        name_b,
        n,
        ma,
        mb,
        res.diff,
        res.lo,
        res.hi,
        res.p_value,
        res.method,
        higher_is_better,
        needed_cases=need,
    )


def compare_all(
    scores: Mapping[str, Sequence[float]],
    *,
    binary: bool,
    higher_is_better: bool = True,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> list[PairComparison]:
    """Every pair of models (in the order given), scored on the same cases (lists aligned by case)."""
    return [
        compare_pair(
            na,
            scores[na],
            nb,
            scores[nb],
            binary=binary,
            higher_is_better=higher_is_better,
            confidence=confidence,
            n_resamples=n_resamples,
            seed=seed,
        )
        for na, nb in combinations(scores, 2)
    ]


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (same order as given)."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = stepped
    return out.tolist()


def _better(x: float, y: float, higher_is_better: bool) -> bool:
    return x > y if higher_is_better else x < y


def tied_from_pairs(
    best: str,
    pairs: Sequence[PairComparison],
    *,
    alpha: float = 0.05,
    correction: Literal["holm", "none"] = "holm",
) -> tuple[list[str], dict[str, PairComparison], dict[str, float]]:
    """Models not significantly worse than `best`, from the comparisons that involve it.

    Returns (tied, pair by model oriented with best as `a`, adjusted p-value by model). `tied` is
    sorted from closest to the best to furthest. Models without a comparison with `best` are left out.
    """
    against = {}
    for pair in pairs:
        if best in (pair.a, pair.b):
            o = pair.oriented(best)
            against[o.b] = o
    names = list(against)
    raw = [against[k].p_value for k in names]
    if correction == "holm":
        adjusted = holm_adjust(raw)
    elif correction == "none":
        adjusted = raw
    else:
        raise ValueError(f"unknown correction {correction!r}: use 'holm' or 'none'")
    p_adj = dict(zip(names, adjusted, strict=True))
    worse = {k for k in names if p_adj[k] < alpha and _better(against[k].diff, 0, against[k].higher_is_better)}
    tied = [k for k in names if k not in worse]
    tied.sort(key=lambda k: abs(against[k].diff))
    return tied, against, p_adj


def tied_with_best(
    scores: Mapping[str, Sequence[float]],
    *,
    binary: bool,
    alpha: float = 0.05,
    higher_is_better: bool = True,
    correction: Literal["holm", "none"] = "holm",
    n_resamples: int = 10_000,
    seed: int = 0,
) -> tuple[str, list[str]]:
    """The best model by mean, and the others not significantly worse than it (Holm-adjusted).

    Ties on the mean go to the model listed first. `tied` excludes the best itself, closest first.
    """
    if not scores:
        raise ValueError("no models to compare")
    means = {k: float(np.mean(_array(v, k))) if len(v) else math.nan for k, v in scores.items()}
    best = next(iter(scores))
    for k, m in means.items():
        if not math.isnan(m) and (math.isnan(means[best]) or _better(m, means[best], higher_is_better)):
            best = k
    pairs = [
        compare_pair(
            best,
            scores[best],
            k,
            scores[k],
            binary=binary,
            higher_is_better=higher_is_better,
            confidence=1 - alpha,
            n_resamples=n_resamples,
            seed=seed,
        )
        for k in scores
        if k != best
    ]
    tied, _, _ = tied_from_pairs(best, pairs, alpha=alpha, correction=correction)
    return best, tied
