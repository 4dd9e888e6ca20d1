"""Stability across repeats: agreement, flips, pass^k, and intervals that count a case's repeats once."""

from __future__ import annotations

import numpy as np
import pytest

from llamacompare.scoring.stability import naive_ci, repeat_stability


def test_agreement_flips_and_pass_k_by_hand() -> None:
    values = [[1, 1, 1], [1, 0, 1], [0, 0, 0], [0, 1, 0]]
    answers = [["Pozitif"] * 3, ["Pozitif", "Negatif", "Pozitif"], ["Nötr", "Negatif", "Negatif"],
               ["Negatif", "Pozitif", "Nötr"]]
    s = repeat_stability(values, answers)
    assert s is not None
    assert s.repeats == 3 and s.cases == 4
    assert s.flipped == 2
    assert s.pass_k.value == pytest.approx(0.25)
    # most common answer per case: 3/3, 2/3, 2/3, 1/3 (three wrong answers that disagree with each other)
    assert s.agreement.value == pytest.approx((1 + 2 / 3 + 2 / 3 + 1 / 3) / 4)
    assert s.mean.value == pytest.approx(6 / 12)
    # without the answers, agreement is on right/wrong: case 3 then agrees fully
    assert repeat_stability(values).agreement.value == pytest.approx((1 + 2 / 3 + 1 + 2 / 3) / 4)


def test_one_repeat_has_no_stability_and_short_cases_are_left_out() -> None:
    assert repeat_stability([[1], [0]]) is None
    s = repeat_stability([[1, 1], [0], [1, 0]])
    assert s is not None and s.cases == 2 and s.flipped == 1


def test_the_clustered_interval_is_as_wide_as_the_cases_allow() -> None:
    """A model that answers each case the same way five times: 100 cases of information, not 500. The
    clustered interval has the width of 100 cases; counting every repeat would make it about sqrt(5) narrower."""
    rng = np.random.default_rng(0)
    per_case = rng.random(100) < 0.7
    values = [[float(x)] * 5 for x in per_case]
    s = repeat_stability(values)
    assert s is not None
    clustered = s.mean.hi - s.mean.lo
    naive = naive_ci(values)
    assert naive.hi - naive.lo < clustered / 2  # the naive one pretends to know far more
    assert clustered == pytest.approx(0.18, abs=0.03)  # about 2 x 1.96 x sqrt(0.21 / 100)
    assert s.flipped == 0 and s.agreement.value == 1.0
