"""Statistics against scipy references, hand-computed values and their own consistency rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy import stats as sps

from llamacompare.scoring.stats import (
    Interval,
    PairComparison,
    _tango_z,
    bootstrap_ci,
    cases_needed,
    cases_needed_from_counts,
    compare_all,
    holm_adjust,
    mcnemar_exact,
    paired_bootstrap,
    paired_diff_ci_binary,
    proportion_ci,
    tied_from_pairs,
    tied_with_best,
)


def _pairs(only_a: int, only_b: int, both: int = 0, neither: int = 0) -> tuple[list[bool], list[bool]]:
    a = [True] * only_a + [False] * only_b + [True] * both + [False] * neither
    b = [False] * only_a + [True] * only_b + [True] * both + [False] * neither
    return a, b


# ---------------------------------------------------------------- bootstrap_ci


@pytest.mark.parametrize(("method", "scipy_method"), [("bca", "BCa"), ("percentile", "percentile")])
def test_bootstrap_ci_matches_scipy(method: str, scipy_method: str) -> None:
    x = np.random.default_rng(1).gamma(2.0, size=150)  # skewed, where BCa and percentile differ
    ours = bootstrap_ci(x, n_resamples=20_000, method=method)  # type: ignore[arg-type]
    ref = sps.bootstrap((x,), np.mean, n_resamples=20_000, method=scipy_method, random_state=7)
    width = ref.confidence_interval.high - ref.confidence_interval.low
    assert ours.value == pytest.approx(x.mean())
    assert ours.lo == pytest.approx(ref.confidence_interval.low, abs=0.03 * width)
    assert ours.hi == pytest.approx(ref.confidence_interval.high, abs=0.03 * width)


def test_bootstrap_ci_binary_matches_scipy() -> None:
    x = (np.random.default_rng(2).random(300) < 0.85).astype(float)  # the multinomial path
    ours = bootstrap_ci(x, n_resamples=20_000)
    ref = sps.bootstrap((x,), np.mean, n_resamples=20_000, method="BCa", random_state=3).confidence_interval
    assert ours.lo == pytest.approx(ref.low, abs=0.006)
    assert ours.hi == pytest.approx(ref.high, abs=0.006)


def test_bootstrap_ci_edge_cases() -> None:
    empty = bootstrap_ci([])
    assert all(math.isnan(v) for v in (empty.value, empty.lo, empty.hi))
    assert bootstrap_ci([0.7] * 20) == Interval(0.7, 0.7, 0.7)
    assert bootstrap_ci([3.0]) == Interval(3.0, 3.0, 3.0)
    x = [0.1, 0.5, 0.9, 0.3, 0.35]
    assert bootstrap_ci(x, seed=5) == bootstrap_ci(x, seed=5)  # seeded: reproducible
    ci = bootstrap_ci(x)
    assert ci.lo < ci.value < ci.hi
    assert bootstrap_ci(x, confidence=0.99).lo < bootstrap_ci(x, confidence=0.8).lo
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, math.nan])
    with pytest.raises(ValueError):
        bootstrap_ci(x, confidence=1.5)


def test_proportion_ci_is_wilson() -> None:
    ours = proportion_ci([True] * 8 + [False] * 2)
    ref = sps.binomtest(8, 10).proportion_ci(confidence_level=0.95, method="wilson")
    assert (ours.value, ours.lo, ours.hi) == pytest.approx((0.8, ref.low, ref.high))
    perfect = proportion_ci([True] * 10)
    assert perfect.hi == 1.0 and perfect.lo == pytest.approx(0.7225, abs=1e-4)


# ---------------------------------------------------------------- McNemar


@pytest.mark.parametrize(("b", "c"), [(0, 0), (5, 0), (10, 2), (9, 2), (7, 7), (30, 45), (1000, 1100), (12000, 12400)])
def test_mcnemar_matches_scipy_binomtest(b: int, c: int) -> None:
    a_correct, b_correct = _pairs(b, c, both=17, neither=4)
    res = mcnemar_exact(a_correct, b_correct)
    ref = sps.binomtest(b, b + c, 0.5).pvalue if b + c else 1.0
    assert (res.b, res.c) == (b, c)
    assert res.p_value == pytest.approx(ref, rel=1e-9)


def test_mcnemar_above_exact_integer_range_matches_scipy() -> None:
    p = mcnemar_exact(*_pairs(10_300, 10_000)).p_value
    assert p == pytest.approx(sps.binomtest(10_300, 20_300, 0.5).pvalue, rel=1e-7)


@settings(max_examples=50, deadline=None, database=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), max_size=60))
def test_mcnemar_property(cases: list[tuple[bool, bool]]) -> None:
    a = [x for x, _ in cases]
    b = [y for _, y in cases]
    res = mcnemar_exact(a, b)
    ref = sps.binomtest(res.b, res.b + res.c, 0.5).pvalue if res.b + res.c else 1.0
    assert res.p_value == pytest.approx(ref, rel=1e-9)
    assert mcnemar_exact(b, a).p_value == pytest.approx(res.p_value)


def test_mcnemar_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        mcnemar_exact([True], [True, False])
    with pytest.raises(ValueError):
        mcnemar_exact([0.5], [1])


# ---------------------------------------------------------------- binary difference interval


def _brute_tango_z(delta: float, b: int, c: int, n: int) -> float:
    """Tango's score statistic with the restricted MLE found numerically, not by the closed form."""
    concordant = n - b - c

    def nll(p21: float) -> float:
        p12, rest = p21 + delta, 1 - 2 * p21 - delta
        if min(p12, p21, rest) <= 0:
            return 1e18
        return -(b * math.log(p12) + c * math.log(p21) + concordant * math.log(rest))

    r = optimize.minimize_scalar(
        nll, bounds=(max(0.0, -delta) + 1e-12, (1 - delta) / 2 - 1e-12), method="bounded", options={"xatol": 1e-13}
    )
    return (b - c - n * delta) / math.sqrt(n * (2 * r.x + delta * (1 - delta)))


@pytest.mark.parametrize(("b", "c", "n"), [(10, 2, 50), (3, 8, 40), (20, 20, 100), (7, 1, 30)])
@pytest.mark.parametrize("delta", [-0.2, -0.05, 0.0, 0.1, 0.3])
def test_tango_statistic_matches_numerical_mle(b: int, c: int, n: int, delta: float) -> None:
    assert _tango_z(delta, b, c, n) == pytest.approx(_brute_tango_z(delta, b, c, n), rel=1e-5, abs=1e-6)


def test_tango_at_zero_is_mcnemar_statistic() -> None:
    assert _tango_z(0.0, 10, 2, 50) == pytest.approx(8 / math.sqrt(12))


def test_paired_diff_ci_binary() -> None:
    res = paired_diff_ci_binary(*_pairs(10, 2, both=30, neither=8))
    assert res.diff == pytest.approx(8 / 50)
    assert res.p_value == pytest.approx(sps.binomtest(10, 12, 0.5).pvalue)
    z = sps.norm.ppf(0.975)
    for bound in (res.lo, res.hi):  # the bounds are where the score statistic crosses +-z
        assert abs(_brute_tango_z(bound, 10, 2, 50)) == pytest.approx(z, abs=1e-4)
    assert res.lo < res.diff < res.hi
    # no discordant pairs: the interval is not [0, 0]; Tango's closed form is z^2 / (n + z^2)
    same = paired_diff_ci_binary(*_pairs(0, 0, both=60, neither=40))
    assert same.diff == 0 and same.p_value == 1.0
    assert same.hi == pytest.approx(z * z / (100 + z * z), abs=1e-6)
    assert same.lo == pytest.approx(-same.hi, abs=1e-6)


def test_tango_coverage_is_close_to_nominal() -> None:
    rng = np.random.default_rng(11)
    p12, p21, n, reps = 0.2, 0.05, 60, 800
    hits = 0
    for counts in rng.multinomial(n, [p12, p21, 1 - p12 - p21], size=reps):
        res = paired_diff_ci_binary(*_pairs(int(counts[0]), int(counts[1]), neither=int(counts[2])))
        hits += res.lo <= p12 - p21 <= res.hi
    assert 0.92 <= hits / reps <= 0.98


# ---------------------------------------------------------------- paired bootstrap


def test_paired_bootstrap_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(0.6, 0.2, 200)
    b = a - rng.normal(0.03, 0.1, 200)
    ours = paired_bootstrap(a, b, n_resamples=20_000)
    ref = sps.bootstrap(
        (a, b), lambda x, y: np.mean(x - y), paired=True, n_resamples=20_000, method="BCa", random_state=5
    ).confidence_interval
    width = ref.high - ref.low
    assert ours.diff == pytest.approx(np.mean(a - b))
    assert ours.lo == pytest.approx(ref.low, abs=0.03 * width)
    assert ours.hi == pytest.approx(ref.high, abs=0.03 * width)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_paired_p_value_agrees_with_interval(seed: int, method: str) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(15, 80))
    a = rng.gamma(2.0, size=n)
    b = a - rng.normal(float(rng.uniform(-0.3, 0.3)), 0.5, n)
    res = paired_bootstrap(a, b, n_resamples=4000, seed=seed, method=method)  # type: ignore[arg-type]
    if min(abs(res.lo), abs(res.hi)) > 1e-3 * (res.hi - res.lo):  # not right on the boundary
        assert (res.p_value < 0.05) == (not res.lo <= 0 <= res.hi), res
    assert res.lo <= res.diff <= res.hi


def test_paired_bootstrap_edge_cases() -> None:
    same = paired_bootstrap([0.2, 0.4, 0.9], [0.2, 0.4, 0.9])
    assert (same.diff, same.lo, same.hi, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    shifted = paired_bootstrap([1.0] * 5, [0.0] * 5)  # no spread: exact sign-flip p = 2 / 2^5
    assert (shifted.diff, shifted.lo, shifted.hi) == (1.0, 1.0, 1.0)
    assert shifted.p_value == pytest.approx(1 / 16)
    empty = paired_bootstrap([], [])
    assert math.isnan(empty.diff) and math.isnan(empty.p_value)
    with pytest.raises(ValueError):
        paired_bootstrap([1.0], [1.0, 2.0])


def test_paired_bootstrap_type_one_error() -> None:
    rng = np.random.default_rng(4)
    reps = 200
    rejections = sum(
        paired_bootstrap(d, np.zeros(40), n_resamples=1000, seed=i).p_value < 0.05
        for i, d in enumerate(rng.exponential(1.0, size=(reps, 40)) - 1.0)  # skewed, mean 0
    )
    assert rejections / reps < 0.10


# ---------------------------------------------------------------- sample size


def test_cases_needed_connor_hand_computed() -> None:
    # psi = 0.2, delta = 0.1: (1.959964 sqrt(0.2) + 0.841621 sqrt(0.19))^2 / 0.01 = 154.6
    assert cases_needed_from_counts(100, 15, 5) == 155
    assert cases_needed(*_pairs(15, 5, both=70, neither=10)) == 155
    assert cases_needed_from_counts(100, 15, 5, power=0.9) > 155
    assert cases_needed_from_counts(100, 15, 5, alpha=0.01) > 155
    assert cases_needed_from_counts(100, 8, 8) is None
    assert cases_needed_from_counts(0, 0, 0) is None


def test_cases_needed_gives_about_the_promised_power() -> None:
    need = cases_needed_from_counts(100, 15, 5)
    assert need is not None
    rng = np.random.default_rng(9)
    draws = rng.multinomial(need, [0.15, 0.05, 0.8], size=1500)
    power = np.mean([mcnemar_exact(*_pairs(int(x), int(y), neither=int(z))).p_value < 0.05 for x, y, z in draws])
    assert 0.7 <= power <= 0.9  # the exact test is a little conservative


# ---------------------------------------------------------------- several models


def test_holm_adjust() -> None:
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjust([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm_adjust([]) == []


def _binary_scores() -> dict[str, list[bool]]:
    # 200 cases: big 0.93, small 0.91 (discordant 9 vs 5), weak 0.60
    big, small = _pairs(9, 5, both=177, neither=9)
    weak = [i % 10 < 6 for i in range(200)]
    return {"big": big, "small": small, "weak": weak}


def test_compare_all_binary() -> None:
    scores = _binary_scores()
    pairs = compare_all(scores, binary=True)
    assert [(p.a, p.b) for p in pairs] == [("big", "small"), ("big", "weak"), ("small", "weak")]
    first = pairs[0]
    assert (first.n, first.a_only, first.b_only) == (200, 9, 5)
    assert first.mean_a == pytest.approx(0.93) and first.mean_b == pytest.approx(0.91)
    assert first.diff == pytest.approx(0.02)
    assert first.p_value == pytest.approx(sps.binomtest(9, 14, 0.5).pvalue)
    assert first.needed_cases == cases_needed_from_counts(200, 9, 5)
    flipped = first.oriented("small")
    assert (flipped.a, flipped.diff, flipped.lo, flipped.hi) == ("small", -first.diff, -first.hi, -first.lo)
    assert (flipped.a_only, flipped.b_only) == (5, 9)
    with pytest.raises(ValueError, match="same cases"):
        compare_all({"x": [True], "y": [True, False]}, binary=True)


def test_tied_with_best_binary() -> None:
    assert tied_with_best(_binary_scores(), binary=True) == ("big", ["small"])


def test_tied_with_best_lower_is_better() -> None:
    rng = np.random.default_rng(5)
    fast = rng.gamma(2.0, 0.5, 120)
    scores = {"slow": fast + 2.0, "fast": fast, "also-fast": fast + rng.normal(0.0, 0.05, 120)}
    best, tied = tied_with_best(scores, binary=False, higher_is_better=False)
    assert best in ("fast", "also-fast") and "slow" not in tied and len(tied) == 1


def test_holm_changes_the_decision() -> None:
    # Three comparisons with raw p-values 0.01, 0.03, 0.04: uncorrected all worse, Holm keeps two tied.
    def pair(other: str, p: float) -> PairComparison:
        return PairComparison("best", other, 100, 0.9, 0.8, 0.1, 0.01, 0.2, p, "test")

    pairs = [pair("x", 0.01), pair("y", 0.03), pair("z", 0.04)]
    tied, _, p_adj = tied_from_pairs("best", pairs, correction="holm")
    assert sorted(tied) == ["y", "z"] and p_adj["x"] == pytest.approx(0.03)
    assert tied_from_pairs("best", pairs, correction="none")[0] == []
