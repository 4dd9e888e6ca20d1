"""Label scoring by log-probability and its two calibrations, on hand-made numbers."""

from __future__ import annotations

import math

import pytest

from llamacompare.scoring.calibration import batch_calibrate, content_free_calibrate, predict

L = math.log
# The model leans towards "a" whatever the input: raw argmax says "a" three times.
SCORES = [{"a": L(0.9), "b": L(0.1)}, {"a": L(0.6), "b": L(0.4)}, {"a": L(0.7), "b": L(0.3)}]


def test_predict() -> None:
    assert predict(SCORES) == ["a", "a", "a"]
    assert predict([{"x": -1.0, "y": -1.0}]) == ["x"]  # ties: the label listed first
    assert predict([{"olumlu": -3.2, "olumsuz": -0.4, "nötr": -2.0}]) == ["olumsuz"]
    assert predict([]) == []


def test_batch_calibration_hand_computed() -> None:
    mean_a = (L(0.9) + L(0.6) + L(0.7)) / 3  # -0.32429
    mean_b = (L(0.1) + L(0.4) + L(0.3)) / 3  # -1.47428
    out = batch_calibrate(SCORES)
    assert predict(out) == ["a", "b", "b"]
    for case, raw in zip(out, SCORES, strict=True):
        expected_margin = (raw["a"] - mean_a) - (raw["b"] - mean_b)
        assert case["a"] - case["b"] == pytest.approx(expected_margin)
        assert math.exp(case["a"]) + math.exp(case["b"]) == pytest.approx(1.0)  # log-probabilities
    assert out[1]["a"] - out[1]["b"] == pytest.approx(-0.74453, abs=1e-5)


def test_batch_calibration_ignores_per_case_constants() -> None:
    # Unnormalised whole-sequence log-probs: adding a constant to every label of a case changes nothing.
    shifted = [{k: v - 7.5 * i for k, v in case.items()} for i, case in enumerate(SCORES)]
    for x, y in zip(batch_calibrate(shifted), batch_calibrate(SCORES), strict=True):
        assert x == pytest.approx(y)


def test_content_free_calibration_hand_computed() -> None:
    cf = {"a": L(0.8), "b": L(0.2)}
    out = content_free_calibrate(SCORES, cf)
    # Zhao et al.: q proportional to p / p_cf. Case 2: a 0.6/0.8 = 0.75, b 0.4/0.2 = 2 -> b = 2/2.75
    assert math.exp(out[1]["b"]) == pytest.approx(2 / 2.75)
    assert math.exp(out[0]["a"]) == pytest.approx((0.9 / 0.8) / (0.9 / 0.8 + 0.1 / 0.2))
    assert predict(out) == ["a", "b", "b"]
    # unnormalised content-free scores give the same answer
    again = content_free_calibrate(SCORES, {"a": L(0.8) - 3, "b": L(0.2) - 3})
    for x, y in zip(again, out, strict=True):
        assert x == pytest.approx(y)


def test_errors() -> None:
    with pytest.raises(ValueError, match="expected"):
        predict([{"a": -1.0, "b": -2.0}, {"a": -1.0}])
    with pytest.raises(ValueError, match="finite"):
        batch_calibrate([{"a": -math.inf, "b": -1.0}])
    with pytest.raises(ValueError, match="content-free"):
        content_free_calibrate(SCORES, {"a": -1.0, "c": -1.0})
    assert batch_calibrate([]) == [] and content_free_calibrate([], {"a": 0.0}) == []
