"""Scoring and statistics: labels from answers, metrics, intervals, paired tests, judges, recommendation.

Heavy or optional imports (rouge-score, nltk) happen inside the functions that need them.
"""

from llamacompare.scoring.calibration import batch_calibrate, content_free_calibrate, predict
from llamacompare.scoring.classification import (
    NO_LABEL,
    ClassificationReport,
    ClassMetrics,
    classification_report,
    majority_baseline,
)
from llamacompare.scoring.judge import (
    combine_swapped,
    pairwise_prompt,
    parse_preference,
    parse_score,
    rubric_prompt,
)
from llamacompare.scoring.labels import (
    LabelMatch,
    LabelSet,
    ascii_fold,
    casefold_tr,
    extract_label,
    lower_tr,
    words,
)
from llamacompare.scoring.recommend import Choice, ModelSummary, recommend
from llamacompare.scoring.rouge import ROUGE_TYPES, length_stats, rouge_scores, tokenize
from llamacompare.scoring.stats import (
    Interval,
    McNemarResult,
    PairComparison,
    PairedTest,
    bootstrap_ci,
    cases_needed,
    cases_needed_from_counts,
    compare_all,
    compare_pair,
    holm_adjust,
    mcnemar_exact,
    paired_bootstrap,
    paired_diff_ci_binary,
    proportion_ci,
    tied_from_pairs,
    tied_with_best,
)

__all__ = [
    "NO_LABEL",
    "ROUGE_TYPES",
    "Choice",
    "ClassMetrics",
    "ClassificationReport",
    "Interval",
    "LabelMatch",
    "LabelSet",
    "McNemarResult",
    "ModelSummary",
    "PairComparison",
    "PairedTest",
    "ascii_fold",
    "batch_calibrate",
    "bootstrap_ci",
    "cases_needed",
    "cases_needed_from_counts",
    "casefold_tr",
    "classification_report",
    "combine_swapped",
    "compare_all",
    "compare_pair",
    "content_free_calibrate",
    "extract_label",
    "holm_adjust",
    "length_stats",
    "lower_tr",
    "majority_baseline",
    "mcnemar_exact",
    "paired_bootstrap",
    "paired_diff_ci_binary",
    "pairwise_prompt",
    "parse_preference",
    "parse_score",
    "predict",
    "proportion_ci",
    "recommend",
    "rouge_scores",
    "rubric_prompt",
    "tied_from_pairs",
    "tied_with_best",
    "tokenize",
    "words",
]
