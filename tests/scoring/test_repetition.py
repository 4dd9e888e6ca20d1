"""The repetition figure of a generated text (1 - distinct word 4-grams / all word 4-grams), Turkish and English,
and the diagnosis rules beside it."""

from __future__ import annotations

import pytest

from llamacompare.scoring.diagnostics import excerpt, matters, usual
from llamacompare.scoring.judge import asked_verdict, pairwise_prompt, rubric_prompt
from llamacompare.scoring.repetition import LOOPING, is_looping, repetition

TR_LOOP = "Bu tatil bizim için " + "daha iyi bir yolculuktan " * 50
TR_CLEAN = ("Ankara, Türkiye'nin başkentidir ve İç Anadolu Bölgesi'nde yer alır. Şehir, Cumhuriyet'in ilk yıllarında "
            "planlı olarak büyüdü; bugün üniversiteleri, müzeleri ve geniş parklarıyla bilinir. Kışları soğuk ve "
            "karlı, yazları ise sıcak ve kurak geçer.")
EN_LOOP = "The answer is that " + "we need to go back to the start and " * 25
EN_CLEAN = ("The committee met on Tuesday to review the budget. After a long discussion, members agreed to fund the "
            "new library wing, postpone the road repairs until spring, and ask the city for a second estimate.")


def test_a_looping_turkish_text_repeats_almost_all_its_4_grams() -> None:
    value = repetition(TR_LOOP)
    # 204 words, 201 4-grams: the 4 that start in the intro and the loop's own 4 are the only distinct ones
    assert value == pytest.approx(1 - 8 / 201)
    assert is_looping(value)


def test_a_clean_turkish_text_repeats_nothing() -> None:
    assert repetition(TR_CLEAN) == 0.0
    assert not is_looping(repetition(TR_CLEAN))


def test_a_looping_english_text_and_a_clean_one() -> None:
    assert repetition(EN_LOOP) > 0.9 and is_looping(repetition(EN_LOOP))
    assert repetition(EN_CLEAN) == 0.0


def test_the_definition_exactly() -> None:
    assert repetition("a b c d a b c d") == pytest.approx(1 - 4 / 5)  # 5 grams, 4 distinct
    assert repetition("one two three") == 0.0  # no 4-gram at all
    assert repetition("") == 0.0
    assert repetition("x x x x x x", n=1) == pytest.approx(1 - 1 / 6)


def test_words_are_compared_turkish_casefolded_and_without_punctuation() -> None:
    # "İyi" and "iyi", "YOLCULUK" and "yolculuk" are the same word; the comma and full stop are not words
    assert repetition("İyi bir YOLCULUK oldu, iyi bir yolculuk oldu.") == pytest.approx(1 - 4 / 5)
    # I, İ, ı and i are one letter whichever language's rule wrote them; other diacritics count ("güzel" ≠ "guzel")
    assert repetition("IŞIK çok güzel oldu ışık çok güzel oldu") == pytest.approx(1 - 4 / 5)
    assert repetition("çok güzel bir gün cok guzel bir gun") == 0.0


def test_half_a_text_spent_on_a_loop_is_flagged_and_a_sentence_said_twice_in_a_long_text_is_not() -> None:
    half = EN_CLEAN + " " + "so much better than before " * 7
    assert is_looping(repetition(half))
    twice = EN_CLEAN + " " + TR_CLEAN + " " + EN_CLEAN.split(".")[0] + "."
    assert 0 < repetition(twice) < LOOPING


def test_a_diagnosis_is_said_from_one_answer_in_twenty() -> None:
    assert matters(1, 20) and matters(5, 6)
    assert not matters(1, 21) and not matters(0, 5) and not matters(0, 0)


def test_the_usual_max_tokens_and_excerpts() -> None:
    assert usual([2, 2, None, 4]) == 2 and usual([None]) is None
    assert excerpt("  a\n\n b  ") == "a b"
    long = "start " + "x" * 300 + " the end"
    short = excerpt(long, 60)
    assert len(short) <= 60 and short.startswith("start") and short.endswith("the end") and " … " in short


def test_the_verdict_line_a_judge_prompt_asks_for() -> None:
    assert asked_verdict(rubric_prompt("x", source="y")) == "Score: N (1-5)"
    assert asked_verdict(rubric_prompt("x", language="tr")) == "Puan: N (1-5)"
    assert asked_verdict(pairwise_prompt("a", "b")) == "Winner: A | Winner: B | Winner: tie"
    assert asked_verdict(pairwise_prompt("a", "b", language="tr")) == "Kazanan: A | Kazanan: B | Kazanan: berabere"
    assert asked_verdict("Rate this answer.") is None
