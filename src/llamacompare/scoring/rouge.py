"""ROUGE that works for Turkish (and any other language with non-ASCII letters).

rouge-score's default tokenizer lowercases with str.lower() and then replaces every character outside
[a-z0-9] with a space, so "Büyük" becomes the tokens "b", "y", "k" and Turkish scores are noise. We
keep rouge-score's scoring (n-gram and LCS F-measures, well tested) and give it our own tokenizer:
words are runs of Unicode letters and digits, compared with the Turkish-aware `casefold_tr` key.
The Porter stemmer is English-only, so it is used only when the language is English.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from typing import TYPE_CHECKING, Any

from llamacompare.scoring.labels import casefold_tr

if TYPE_CHECKING:
    from rouge_score.rouge_scorer import RougeScorer

__all__ = ["ROUGE_TYPES", "UnicodeTokenizer", "length_stats", "rouge_scores", "tokenize"]

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
_WORD_RE = re.compile(r"[^\W_](?:[^\W_]|[\u0300-\u036f])*")


def tokenize(text: str) -> list[str]:
    """Lowercased (Turkish-aware) words: runs of Unicode letters and digits."""
    return _WORD_RE.findall(casefold_tr(unicodedata.normalize("NFC", text)))


class UnicodeTokenizer:
    """A tokenizer with the interface rouge-score expects (`tokenize(text) -> list[str]`)."""

    def __init__(self, stem: bool = False) -> None:
        self._stemmer: Any = None
        if stem:
            from nltk.stem import porter  # imported only when English stemming is asked for

            self._stemmer = porter.PorterStemmer()

    def tokenize(self, text: str) -> list[str]:
        toks = tokenize(text)
        if self._stemmer is not None:  # as rouge-score does: short words are left alone
            toks = [self._stemmer.stem(t) if len(t) > 3 else t for t in toks]
        return toks


@functools.cache
def _scorer(stem: bool) -> RougeScorer:
    # Built once per process: scoring runs over thousands of cases.
    from rouge_score.rouge_scorer import RougeScorer

    return RougeScorer(list(ROUGE_TYPES), tokenizer=UnicodeTokenizer(stem=stem))


def _is_english(language: str | None) -> bool:
    return language is not None and language.lower().replace("_", "-").split("-")[0] in {"en", "english"}


def rouge_scores(
    prediction: str, reference: str, *, language: str | None = None, stem: bool | None = None
) -> dict[str, float]:
    """ROUGE-1, ROUGE-2 and ROUGE-L F-measures of `prediction` against `reference` (0..1).

    `stem`: Porter stemming; by default on exactly when `language` is English ("en", "en-US"...).
    Asking for it with another language is a ValueError (it would mangle the words). An empty
    prediction or reference scores 0.
    """
    if stem is None:
        stem = _is_english(language)
    elif stem and language is not None and not _is_english(language):
        raise ValueError(f"stemming is only available for English, not {language!r}")
    scores = _scorer(bool(stem)).score(reference, prediction)
    return {name: float(scores[name].fmeasure) for name in ROUGE_TYPES}


def length_stats(prediction: str, source: str) -> dict[str, float]:
    """Words in the prediction, and compression = prediction words / source words (NaN for no source).

    Below 1 the prediction is shorter than its source (what a summary should be).
    """
    n_pred = len(tokenize(prediction))
    n_src = len(tokenize(source))
    return {"words": n_pred, "compression": n_pred / n_src if n_src else math.nan}
