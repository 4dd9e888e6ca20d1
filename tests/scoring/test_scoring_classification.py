"""Classification metrics against hand-computed values and an independent brute-force count."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llamacompare.errors import UsageError
from llamacompare.scoring.classification import NO_LABEL, classification_report, majority_baseline

GOLDS = ["pos", "pos", "pos", "neg", "neg", "neu"]
PREDS = ["pos", "neg", None, "neg", "neg", "pos"]


def test_hand_computed_report() -> None:
    r = classification_report(GOLDS, PREDS, ["pos", "neg", "neu"], compliant=[True, False, False, True, True, True])
    assert r.n == 6
    assert r.accuracy == pytest.approx(3 / 6)
    assert r.no_label == 1
    assert r.columns == ["pos", "neg", "neu", NO_LABEL]
    assert r.confusion == [[1, 1, 0, 1], [0, 2, 0, 0], [1, 0, 0, 0]]
    # pos: tp 1, predicted 2, support 3; neg: tp 2, predicted 3, support 2; neu: never predicted
    assert r.per_class["pos"].precision == pytest.approx(1 / 2)
    assert r.per_class["pos"].recall == pytest.approx(1 / 3)
    assert r.per_class["pos"].f1 == pytest.approx(0.4)
    assert r.per_class["neg"].precision == pytest.approx(2 / 3)
    assert r.per_class["neg"].recall == pytest.approx(1.0)
    assert r.per_class["neg"].f1 == pytest.approx(0.8)
    assert (r.per_class["neu"].precision, r.per_class["neu"].recall, r.per_class["neu"].f1) == (0, 0, 0)
    assert [r.per_class[k].support for k in ("pos", "neg", "neu")] == [3, 2, 1]
    assert r.macro_f1 == pytest.approx((0.4 + 0.8 + 0.0) / 3)
    assert r.compliance == pytest.approx(4 / 6)
    assert (r.majority_label, r.majority_accuracy) == ("pos", 0.5)
    d = json.loads(json.dumps(r.to_dict()))
    assert d["confusion"][0] == [1, 1, 0, 1] and d["columns"][-1] == NO_LABEL


def test_absent_label_does_not_drag_macro_f1_down() -> None:
    r = classification_report(GOLDS, PREDS, ["pos", "neg", "neu", "mixed"])
    assert r.macro_f1 == pytest.approx(0.4)
    assert r.per_class["mixed"].support == 0
    assert r.compliance is None


def test_no_label_is_wrong_not_dropped() -> None:
    r = classification_report(["a", "a", "b", "b"], [None, None, None, "b"], ["a", "b"])
    assert r.accuracy == 0.25 and r.no_label == 3
    assert r.confusion == [[0, 0, 2], [0, 1, 1]]


def test_empty_and_errors() -> None:
    r = classification_report([], [], ["a", "b"])
    assert r.n == 0 and math.isnan(r.accuracy) and math.isnan(r.macro_f1)
    with pytest.raises(UsageError, match="'c'"):
        classification_report(["c"], ["a"], ["a", "b"])
    with pytest.raises(ValueError):
        classification_report(["a"], ["a", "b"], ["a", "b"])
    with pytest.raises(ValueError):
        classification_report(["a"], ["z"], ["a", "b"])


def test_majority_baseline() -> None:
    assert majority_baseline(["olumlu", "olumsuz", "olumlu"]) == ("olumlu", pytest.approx(2 / 3))
    assert majority_baseline(["b", "a"]) == ("a", 0.5)  # ties: alphabetical
    label, acc = majority_baseline([])
    assert label is None and math.isnan(acc)


_LABELS = ["olumlu", "olumsuz", "nötr"]


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_LABELS), st.one_of(st.none(), st.sampled_from(_LABELS))), min_size=1, max_size=40
    )
)
def test_matches_brute_force_counts(pairs: list[tuple[str, str | None]]) -> None:
    golds = [g for g, _ in pairs]
    preds = [p for _, p in pairs]
    r = classification_report(golds, preds, _LABELS)
    assert r.accuracy == pytest.approx(np.mean([g == p for g, p in pairs]))
    f1s = []
    for label in _LABELS:
        tp = sum(g == p == label for g, p in pairs)
        fp = sum(p == label != g for g, p in pairs)
        fn = sum(g == label != p for g, p in pairs)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        assert r.per_class[label].f1 == pytest.approx(f1)
        if tp + fp + fn:
            f1s.append(f1)
    assert r.macro_f1 == pytest.approx(np.mean(f1s))
    assert sum(map(sum, r.confusion)) == len(pairs)
    assert r.no_label == preds.count(None)
