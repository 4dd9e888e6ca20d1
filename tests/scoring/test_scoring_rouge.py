"""ROUGE with a Unicode-aware tokenizer: Turkish words stay whole."""

from __future__ import annotations

import math

import pytest
from rouge_score.rouge_scorer import RougeScorer

from llamacompare.scoring import rouge
from llamacompare.scoring.rouge import length_stats, rouge_scores, tokenize

REF = "Büyük dil modelleri artık açık kaynaklı"
PRED = "Dil modelleri açık kaynaklı oldu"


def test_turkish_hand_computed() -> None:
    # unigrams: 4 shared of 5 predicted and 6 reference -> P 4/5, R 4/6, F 8/11
    # bigrams: "dil modelleri", "açık kaynaklı" shared, of 4 and 5 -> F 4/9; LCS: 4 words -> 8/11
    s = rouge_scores(PRED, REF)
    assert s == {"rouge1": pytest.approx(8 / 11), "rouge2": pytest.approx(4 / 9), "rougeL": pytest.approx(8 / 11)}


def test_default_rouge_score_tokenizer_is_wrong_for_turkish() -> None:
    default = RougeScorer(["rouge1", "rouge2"])
    assert default.score(REF, PRED)["rouge1"].fmeasure != pytest.approx(8 / 11)
    # "büyük" (big) and "bıyık" (moustache) both fall apart into b, y, k for the default tokenizer
    assert default.score("büyük", "bıyık")["rouge1"].fmeasure == 1.0
    assert rouge_scores("bıyık", "büyük")["rouge1"] == 0.0


def test_tokenizer() -> None:
    assert tokenize("İSTANBUL'DA, ışık: Çığ! snake_case 2024") == [
        "istanbul", "da", "işik", "çiğ", "snake", "case", "2024",
    ]  # fmt: skip


def test_case_insensitive_in_turkish() -> None:
    assert rouge_scores("İSTANBUL'DA IŞIK VAR", "İstanbul'da ışık var")["rougeL"] == 1.0
    assert rouge_scores("aynı", "aynı") == {"rouge1": 1.0, "rouge2": 0.0, "rougeL": 1.0}
    assert rouge_scores("", REF)["rouge1"] == 0.0
    assert rouge_scores("tamamen farklı", REF)["rouge1"] == 0.0


def test_stemming_only_for_english() -> None:
    plain = rouge_scores("The cats are running", "the cat runs")
    stemmed = rouge_scores("The cats are running", "the cat runs", language="en")
    assert plain["rouge1"] == pytest.approx(2 * (1 / 4) * (1 / 3) / (1 / 4 + 1 / 3))
    assert stemmed["rouge1"] == pytest.approx(6 / 7)  # cats->cat, running/runs->run
    assert rouge_scores("The cats are running", "the cat runs", language="tr") == plain
    with pytest.raises(ValueError, match="English"):
        rouge_scores("a", "b", language="tr", stem=True)


def test_scorer_is_built_once() -> None:
    rouge_scores("a b", "a b")
    assert rouge._scorer(False) is rouge._scorer(False)
    assert rouge._scorer.cache_info().currsize >= 1


def test_length_stats() -> None:
    assert length_stats("Dil modelleri açık.", REF) == {"words": 3, "compression": 0.5}
    stats = length_stats("bir şey", "")
    assert stats["words"] == 2 and math.isnan(stats["compression"])
