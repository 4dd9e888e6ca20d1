"""Classification metrics: accuracy, macro-F1, per-class scores and a confusion matrix.

An answer with no recognisable label (pred None) is wrong: it is counted in its own "(no label)"
column and in `no_label`, never dropped, so a model that dodges the question cannot look better than
one that answers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from llamacompare.errors import UsageError

__all__ = ["NO_LABEL", "ClassMetrics", "ClassificationReport", "classification_report", "majority_baseline"]

NO_LABEL = "(no label)"


@dataclass(frozen=True, slots=True)
class ClassMetrics:
    precision: float
    recall: float
    f1: float
    support: int  # gold cases of this class


@dataclass(frozen=True, slots=True)
class ClassificationReport:
    """Scores of one model on one labelled data set.

    `confusion[i][j]`: gold `labels[i]` predicted as `columns[j]`; the last column is "(no label)".
    `macro_f1` averages F1 over the labels that occur in the gold data or in the predictions (a label
    that never occurs has no defined F1 and is left out rather than counted as 0). Precision of a
    label never predicted, and recall of a label with no gold cases, are 0.
    """

    n: int
    accuracy: float
    macro_f1: float
    labels: list[str]
    per_class: dict[str, ClassMetrics]
    confusion: list[list[int]]
    no_label: int
    compliance: float | None
    majority_label: str | None
    majority_accuracy: float

    @property
    def columns(self) -> list[str]:
        return [*self.labels, NO_LABEL]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["columns"] = self.columns
        return d


def majority_baseline(golds: Sequence[str]) -> tuple[str | None, float]:
    """The accuracy of always answering the most frequent gold label (ties: alphabetically first)."""
    if not golds:
        return None, math.nan
    counts = Counter(golds)
    label = min(counts, key=lambda k: (-counts[k], k))
    return label, counts[label] / len(golds)


def classification_report(
    golds: Sequence[str],
    preds: Sequence[str | None],
    labels: Sequence[str],
    compliant: Sequence[bool] | None = None,
) -> ClassificationReport:
    """Score predictions against gold labels. `preds` may hold None for "no label found".

    `compliant` (optional, one flag per case) gives the rate of answers that obeyed the format.
    Raises UsageError for a gold label outside `labels` (a data set / suite mismatch) and ValueError
    for mismatched lengths or a prediction outside `labels`.
    """
    labels = list(dict.fromkeys(labels))
    if len(golds) != len(preds):
        raise ValueError(f"{len(golds)} gold labels but {len(preds)} predictions")
    if compliant is not None and len(compliant) != len(golds):
        raise ValueError(f"{len(golds)} gold labels but {len(compliant)} compliance flags")
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    for g in golds:
        if g not in index:
            raise UsageError(f"gold label {g!r} is not one of the labels {labels}")
    for p in preds:
        if p is not None and p not in index:
            raise ValueError(f"prediction {p!r} is not one of the labels {labels}")

    n = len(golds)
    confusion = np.zeros((k, k + 1), dtype=np.int64)
    if n:
        rows = np.fromiter((index[g] for g in golds), dtype=np.int64, count=n)
        cols = np.fromiter((k if p is None else index[p] for p in preds), dtype=np.int64, count=n)
        np.add.at(confusion, (rows, cols), 1)

    tp = np.diag(confusion[:, :k]).astype(float)
    support = confusion.sum(axis=1)
    predicted = confusion[:, :k].sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        denom = precision + recall
        f1 = np.where(denom > 0, 2 * precision * recall / denom, 0.0)
    present = (support > 0) | (predicted > 0)

    per_class = {
        label: ClassMetrics(float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]))
        for i, label in enumerate(labels)
    }
    majority_label, majority_acc = majority_baseline(golds)
    return ClassificationReport(
        n=n,
        accuracy=float(tp.sum() / n) if n else math.nan,
        macro_f1=float(f1[present].mean()) if present.any() else math.nan,
        labels=labels,
        per_class=per_class,
        confusion=confusion.tolist(),
        no_label=int(confusion[:, k].sum()),
        compliance=(float(np.mean(np.asarray(compliant, dtype=bool))) if n else math.nan)
        if compliant is not None
        else None,
        majority_label=majority_label,
        majority_accuracy=majority_acc,
    )
