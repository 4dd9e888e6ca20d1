"""Label scoring by log-probability, with two calibrations that need no gold labels.

Input: one dict per case, label -> log-probability of the label's whole token sequence after the
prompt. Raw argmax favours labels the prompt makes likely whatever the input ("contextual bias"), and
short labels over long ones (fewer tokens to pay for). Both calibrations remove a per-label offset:

* Batch calibration (Zhou et al. 2023): the offset is each label's mean score over the run's inputs,
  so no extra model call and no gold label is needed. It needs a batch whose labels are not all the
  same, and it assumes the classes are roughly balanced in it (it removes any prior, real or not).
* Content-free calibration (Zhao et al. 2021, "Calibrate Before Use"): the offset is the label's
  score for a content-free input such as "N/A". Zhao et al. rescale probabilities by the inverse of
  the content-free probabilities, p'(y|x) ∝ p(y|x) / p_cf(y); in log space that is
  log p(y|x) - log p_cf(y), which is what we compute.

Scores are first normalised over the labels of each case (log-softmax), which changes no decision
(a per-case constant), and the calibrated scores are normalised again so that they are
log-probabilities over the labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: batch calibration's offsets are means over the answers: below this many, they are a rough correction
FEW_CASES = 50

__all__ = ["FEW_CASES", "batch_calibrate", "batch_offsets", "content_free_calibrate", "content_free_offsets", "predict",
           "predict_with"]


def _matrix(scores: Sequence[Mapping[str, float]]) -> tuple[list[str], np.ndarray]:
    if not scores:
        return [], np.zeros((0, 0))
    labels = list(scores[0])
    if not labels:
        raise ValueError("a case has no label scores")
    rows = []
    for i, case in enumerate(scores):
        if set(case) != set(labels):
            raise ValueError(f"case {i} scores labels {sorted(case)}, expected {sorted(labels)}")
        rows.append([case[label] for label in labels])
    m = np.asarray(rows, dtype=np.float64)
    bad = ~np.isfinite(m)
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise ValueError(f"case {i}: log-probability of {labels[j]!r} is {m[i, j]} (must be finite)")
    return labels, m


def _log_softmax(m: np.ndarray) -> np.ndarray:
    top = m.max(axis=1, keepdims=True)
    return m - top - np.log(np.exp(m - top).sum(axis=1, keepdims=True))


def _dicts(labels: list[str], m: np.ndarray) -> list[dict[str, float]]:
    return [dict(zip(labels, row.tolist(), strict=True)) for row in m]


def predict(scores: Sequence[Mapping[str, float]]) -> list[str]:
    """The highest-scoring label of each case (ties: the label listed first)."""
    labels, m = _matrix(scores)
    if m.size == 0:
        return []
    return [labels[j] for j in np.argmax(m, axis=1)]


def batch_calibrate(scores: Sequence[Mapping[str, float]]) -> list[dict[str, float]]:
    """Batch calibration: subtract each label's mean (normalised) log-probability over all cases."""
    labels, m = _matrix(scores)
    if m.size == 0:
        return []
    norm = _log_softmax(m)
    return _dicts(labels, _log_softmax(norm - norm.mean(axis=0, keepdims=True)))


def content_free_calibrate(
    scores: Sequence[Mapping[str, float]], cf_scores: Mapping[str, float]
) -> list[dict[str, float]]:
    """Content-free calibration: subtract the content-free input's normalised log-probability per label."""
    labels, m = _matrix(scores)
    if m.size == 0:
        return []
    _matrix([cf_scores])  # same checks: finite, non-empty
    if set(cf_scores) != set(labels):
        raise ValueError(f"content-free scores cover {sorted(cf_scores)}, expected {sorted(labels)}")
    cf_row = np.asarray([[cf_scores[label] for label in labels]])
    return _dicts(labels, _log_softmax(_log_softmax(m) - _log_softmax(cf_row)))


def batch_offsets(scores: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Each label's mean normalised log-probability over `scores`: batch calibration's offsets, to be fixed on some
    cases and applied to others (`predict_with`)."""
    labels, m = _matrix(scores)
    if m.size == 0:
        return {}
    return dict(zip(labels, _log_softmax(m).mean(axis=0).tolist(), strict=True))


def content_free_offsets(cf_scores: Mapping[str, float]) -> dict[str, float]:
    """Content-free calibration's offsets: the content-free input's normalised log-probability per label."""
    labels, m = _matrix([cf_scores])
    return dict(zip(labels, _log_softmax(m)[0].tolist(), strict=True))


def predict_with(scores: Mapping[str, float], offsets: Mapping[str, float]) -> str:
    """The label one case predicts once `offsets` are taken off its normalised scores (the same label that
    batch_calibrate or content_free_calibrate would give it with those offsets; ties: the label listed first)."""
    labels, m = _matrix([scores])
    if set(offsets) != set(labels):
        raise ValueError(f"offsets cover {sorted(offsets)}, expected {sorted(labels)}")
    shifted = _log_softmax(m)[0] - np.asarray([offsets[label] for label in labels])
    return labels[int(np.argmax(shifted))]
