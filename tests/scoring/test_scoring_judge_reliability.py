"""The judge-reliability statistics against values worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math
import random

import pytest

from llamacompare.scoring.judge_reliability import (
    cohen_kappa,
    first_position_share,
    flip_rate,
    longer_wins,
    self_preference,
    spearman,
)


def test_flip_rate_counts_verdicts_that_change_when_the_order_is_swapped() -> None:
    pairs = [
        ("A", "B"),  # A first, then (swapped) B: the same answer both times -> kept
        ("A", "A"),  # the first position both times -> flip
        ("tie", "tie"),  # kept
        ("B", "tie"),  # a preference against a tie -> flip
    ]
    s = flip_rate(pairs)  # type: ignore[arg-type]
    assert (s.k, s.n, s.value) == (2, 4, 0.5)
    # Wilson, z = 1.959964, p = 1/2, n = 4: centre (0.5 + z²/8) / (1 + z²/4) = 0.5,
    # half = z / (1 + z²/4) * sqrt(0.25/4 + z²/64) = 0.349961
    assert s.lo == pytest.approx(0.150039, abs=1e-6) and s.hi == pytest.approx(0.849961, abs=1e-6)


def test_position_bias_is_the_share_of_decisive_verdicts_for_the_first_answer() -> None:
    s = first_position_share(["A", "A", "B", "tie", "A"])
    assert (s.k, s.n, s.value) == (3, 4, 0.75)  # the tie is left out
    # Wilson for 3 of 4: centre (0.75 + z²/8) / (1 + z²/4) = 0.627392, half = 0.326749
    assert s.lo == pytest.approx(0.300642, abs=1e-6) and s.hi == pytest.approx(0.954413, abs=1e-6)


def test_longer_wins_skips_ties_and_answers_of_equal_length() -> None:
    s = longer_wins([("A", 10, 5), ("B", 10, 5), ("A", 3, 3), ("tie", 1, 9), ("B", 2, 8)])
    assert (s.k, s.n) == (2, 3)  # won by the longer: 1st and 5th; the 3rd is equal length, the 4th a tie


def test_spearman_without_ties() -> None:
    # ranks 1..5 against 2,1,4,3,5: d = -1,1,-1,1,0, sum d² = 4, rho = 1 - 6*4 / (5*24) = 0.8
    c = spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])
    assert c.rho == pytest.approx(0.8) and c.n == 5
    # Fisher z = atanh(0.8) = 1.098612; Bonett-Wright se = sqrt((1 + 0.32) / 2) = 0.812404; +- 1.959964 se
    assert c.lo == pytest.approx(-0.457124, abs=1e-6) and c.hi == pytest.approx(0.990843, abs=1e-6)
    # p = 2 (1 - Phi(1.098612 * sqrt(2)))
    assert c.p_value == pytest.approx(0.120263, abs=1e-6)


def test_spearman_with_ties_uses_average_ranks() -> None:
    # x ranks 1, 2.5, 2.5, 4; y ranks 1..4: sum dx dy = 4.5, sum dx² = 4.5, sum dy² = 5 -> 4.5 / sqrt(22.5)
    c = spearman([1, 2, 2, 3], [1, 2, 3, 4])
    assert c.rho == pytest.approx(4.5 / math.sqrt(22.5))


def test_spearman_agrees_with_scipy_on_random_data() -> None:
    from scipy.stats import spearmanr

    rng = random.Random(7)
    x = [rng.randint(0, 20) for _ in range(60)]
    y = [xi + rng.gauss(0, 8) for xi in x]
    assert spearman(x, y).rho == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)


def test_spearman_is_undefined_for_a_constant_side_or_few_pairs() -> None:
    assert math.isnan(spearman([1, 1, 1, 1, 1], [1, 2, 3, 4, 5]).rho)
    assert math.isnan(spearman([1, 2, 3], [1, 2, 3]).rho)


def test_cohen_kappa_on_a_worked_example() -> None:
    # 50 items: both yes 20, A yes / B no 5, A no / B yes 10, both no 15.
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    k = cohen_kappa(a, b)
    # p_o = 35/50 = 0.7; A says yes 25/50, B 30/50: p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.2 / 0.5 = 0.4
    assert k.observed == pytest.approx(0.7) and k.expected == pytest.approx(0.5) and k.kappa == pytest.approx(0.4)
    # se = sqrt(0.7 * 0.3 / (50 * 0.25)) = 0.129615; 0.4 +- 1.959964 se
    assert k.lo == pytest.approx(0.145960, abs=1e-6) and k.hi == pytest.approx(0.654040, abs=1e-6)


def test_cohen_kappa_with_three_categories() -> None:
    a = ["A", "A", "B", "B", "tie", "tie"]
    b = ["A", "B", "B", "B", "tie", "A"]
    # p_o = 4/6; p_e = (2*2 + 2*3 + 2*1) / 36 = 1/3; kappa = (2/3 - 1/3) / (2/3) = 0.5
    assert cohen_kappa(a, b).kappa == pytest.approx(0.5)


def test_cohen_kappa_perfect_and_undefined() -> None:
    k = cohen_kappa(["x", "y", "x"], ["x", "y", "x"])
    assert (k.kappa, k.lo, k.hi) == (1.0, 1.0, 1.0)
    assert math.isnan(cohen_kappa(["x", "x"], ["x", "x"]).kappa)  # chance alone agrees on everything
    assert cohen_kappa([], []).n == 0
    with pytest.raises(ValueError):
        cohen_kappa(["x"], ["x", "y"])


def test_self_preference_pairs_the_judges_own_answer_with_the_others_on_each_case() -> None:
    p = self_preference({"c1": 5.0, "c2": 4.0, "c3": 3.0}, {"c1": [3.0, 2.0], "c2": [4.0]})
    # c3 has no other answer; own mean (5 + 4) / 2 = 4.5; others (2.5 + 4) / 2 = 3.25; differences 2.5, 0
    assert (p.own, p.others, p.diff, p.n) == (4.5, 3.25, 1.25, 2)
    assert p.lo <= p.diff <= p.hi
